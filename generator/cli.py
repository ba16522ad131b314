"""The command line: the only place that prints or exits.

Exit status: 0 success, 1 invalid spec (one line naming file:line:col and the field), 2 usage error,
3 `generate --check` found the output folder out of date, 4 `diff` found a change in alerting behaviour;
`test`: 1 when a generated test fails; 5 `validate --prometheus`, `report`, `timeline` or `backtest` could not
query a server (Prometheus, or Alertmanager with `--alertmanager`).
"""
from __future__ import annotations

import json
import shlex
import sys
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import click

from . import incidents, live_buckets, pagerduty, prometheus_api, proof, silences as am_silences
from . import backtest as oncall_backtest
from . import report as oncall_report
from .backtest_html import html as backtest_html
from .report_html import html as report_html
from . import timeline as oncall_timeline
from .printable import printable
from .diff import diff_files
from .diff.report import FORMATS
from .diff.sources import SourceError, folder_files, git_files, where
from .diff.state import StateError
from .pipeline import Result, Run, alert_count, build, recording_count
from .spec.errors import SpecError
from .spec.units import duration
from .spec import reference
from .spec.documents import spec_schema
from . import conventions as c
from .spec import deploy
from .targets import TARGETS, mimir, thanos
from .targets.files import (MANIFEST, OutputError, differences, recorded_shards, recorded_targets, unsafe_output,
                            write_tree)

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_STALE = 3
EXIT_CHANGED = 4
EXIT_UNREACHABLE = 5  # `validate --prometheus`: the server did not answer (the specs may be fine)
STALE_LISTED = 20  # `--check` names this many out-of-date files, then counts the rest
PAGE_FORMATS = ("markdown", "html")  # what `report` and `backtest` print


def _say(kind: str, text: str) -> None:
    """`error: ...`, `warning: ...` on stderr: one line each, whatever the text quotes (see printable)."""
    click.echo(f"{kind}: {printable(str(text))}", err=True)


def _paths(specs: tuple[str, ...]) -> list[Path]:
    return [Path(s) for s in specs] or [Path("specs")]


def _run(specs: tuple[str, ...], targets: tuple[str, ...] = (), shards: int = 1, given: bool = True) -> Result:
    try:
        result = build(_paths(specs), targets, shards)
    except SpecError as exc:
        _say("error", exc)
        sys.exit(EXIT_INVALID)
    _check_shards(shards, targets, result.services, given)
    _warn(result.warnings)
    return result


_SHARDS_HELP = (f"Split the Thanos Ruler files across this many rulers (1 to {c.THANOS_MAX_SHARDS}; 1: not split): "
                "thanos/shard-<i>/, a service's files all in one shard, each shard's flags in its flags.txt. Without "
                f"--shards: the shards recorded in OUTPUT/{MANIFEST}, else 1.")


def _shard_count(text: str | None) -> int:
    """`--shards` as a number of rulers; anything else is one line and exit 1, before any spec is read."""
    if text is None:
        return 1
    value = text.strip()
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= c.THANOS_MAX_SHARDS:
        _say("error", f"--shards: expected a whole number of Thanos rulers from 1 to {c.THANOS_MAX_SHARDS}, "
                      f'got "{text}"')
        sys.exit(EXIT_INVALID)
    return int(value)


def _check_shards(shards: int, targets: tuple[str, ...], services: tuple, given: bool = True) -> int:
    """The shards the run splits the thanos target's files into. Asking for them with no service on it is a
    mistake, not a no-op; shards recorded by an earlier run lapse with the thanos target (--target none)."""
    if shards > 1 and deploy.THANOS not in targets and not any(deploy.THANOS in s.deploy.targets for s in services):
        if not given:
            return 1
        _say("error", f"--shards {shards}: no service is on the thanos target (add --target thanos, or "
                      "spec.deploy.targets: [thanos] to a spec)")
        sys.exit(EXIT_INVALID)
    return shards


def _recorded_shards(output: Path, given: str | None) -> int | None:
    """The shards the output folder's manifest records (1: none; None: no manifest). A shards line that cannot be
    read exits 1 when the run would use it; a run given --shards does not need it (and is how the line is
    rewritten)."""
    try:
        return recorded_shards(output, c.THANOS_MAX_SHARDS)
    except OutputError as exc:
        if given is not None:
            return None
        _say("error", exc)
        sys.exit(EXIT_INVALID)


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        _say("warning", warning)


def _start(specs: tuple[str, ...], targets: tuple[str, ...] = (), shards: int = 1, given: bool = True) -> Run:
    """A streamed run (nothing is kept in memory but the compiled rules): load and validate now, compile and render
    while the files are consumed."""
    try:
        run = Run(_paths(specs), targets, thanos_shards=shards)
    except SpecError as exc:
        _say("error", exc)
        sys.exit(EXIT_INVALID)
    run.thanos_shards = _check_shards(shards, targets, run.services, given)
    return run


NO_TARGETS = "none"  # `--target none`: package for no extra target, dropping those the output folder records
PACKAGED = tuple(t for t in TARGETS if t != "prometheus")  # prometheus' rule files are always written


def _recorded(output: Path, given: tuple[str, ...]) -> tuple[str, ...] | None:
    """The targets the output folder's manifest records (None: no manifest). A targets line that cannot be read
    exits 1 when the run would use it; a run given --target does not need it (and is how the line is rewritten)."""
    try:
        return recorded_targets(output, PACKAGED)
    except OutputError as exc:
        if given:
            return None
        _say("error", exc)
        sys.exit(EXIT_INVALID)


def _targets(given: tuple[str, ...], recorded: tuple[str, ...] | None) -> tuple[str, ...]:
    """The run's targets: those given with --target (`none`: no target), else those the output folder records."""
    if not given:
        return recorded or ()
    if NO_TARGETS in given and set(given) != {NO_TARGETS}:
        _say("error", f"--target {NO_TARGETS} drops every target: give it alone, or name the targets to keep")
        sys.exit(EXIT_USAGE)
    return tuple(sorted(set(given) - {NO_TARGETS}))


def _generate_command(specs: tuple[str, ...], output: str, targets: tuple[str, ...],
                      recorded: tuple[str, ...] | None, shards: int = 1, recorded_shards: int | None = None) -> str:
    """The command that writes the output folder as `generate --check` compared it: the same specs, folder,
    targets (`--target none` when the folder records targets the run has not) and Thanos shards (`--shards 1`
    when the folder records shards the run has not)."""
    words = ["oncallgen", "generate", *specs] + (["-o", output] if output != "output" else [])
    for name in targets or ((NO_TARGETS,) if recorded else ()):
        words += ["--target", name]
    if shards > 1 or (recorded_shards or 1) > 1:
        words += ["--shards", str(shards)]
    return printable(shlex.join(words))


@contextmanager
def _server_reads() -> Iterator[None]:
    """Reads from a live Prometheus or Alertmanager: a URL that cannot be used is a usage error (exit 2), a server that
    does not answer in time, or answers what it should not, exit 5 (the specs may be fine)."""
    try:
        yield
    except prometheus_api.UsageError as exc:
        _say("error", exc)
        sys.exit(EXIT_USAGE)
    except prometheus_api.ServerError as exc:
        _say("error", exc)
        sys.exit(EXIT_UNREACHABLE)


def _stream_failed(exc: SpecError) -> None:
    _say("error", exc)
    sys.exit(EXIT_INVALID)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="oncallgen", prog_name="oncallgen")
def main() -> None:
    """Compile AI-workload signal specs into Prometheus rules, Alertmanager routing and runbooks."""


@main.command()
@click.argument("specs", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--output", "output", default="output", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write, all at once and only when every spec is valid.")
@click.option("--check", is_flag=True, help="Write nothing; exit 3 if the output folder is not up to date.")
@click.option("-t", "--target", "targets", multiple=True, type=click.Choice([*PACKAGED, NO_TARGETS]),
              help="Also package every service's rules for this target (repeatable); specs can ask per service "
                   "with spec.deploy.targets. Plain rule files are always written. Without --target: the targets "
                   f"recorded in OUTPUT/{MANIFEST} by the run that wrote it; --target {NO_TARGETS}: no target "
                   "(drops the recorded ones). "
                   + "; ".join(f"{name}: {t.DESCRIPTION}" for name, t in TARGETS.items() if name != "prometheus"))
@click.option("--shards", "shards", metavar="N", help=_SHARDS_HELP)
def generate(specs: tuple[str, ...], output: str, check: bool, targets: tuple[str, ...], shards: str | None) -> None:
    """Compile SPECS (files or folders; default: specs/) into the output folder.

    Only the files oncallgen generated (listed in OUTPUT/.oncallgen-manifest) are rewritten or removed;
    other files in the folder are left alone. The manifest records the run's --target, which a run without
    --target uses again.
    """
    out = Path(output)
    count = _shard_count(shards)  # a bad value is refused before anything is read
    recorded = _recorded(out, targets)
    chosen = _targets(targets, recorded)
    recorded_count = _recorded_shards(out, shards)
    run = _start(specs, chosen, count if shards is not None else recorded_count or 1, shards is not None)
    reused = "; ".join(([f"targets {' '.join(chosen)}"] if chosen and not targets else [])
                       + ([f"{run.thanos_shards} Thanos shards"] if run.thanos_shards > 1 and shards is None else []))
    reused = f"; {reused} as recorded in {printable(output)}/{MANIFEST}" if reused else ""
    if check:
        try:
            stale = differences(out, run.files())  # compared file by file as they are rendered
        except SpecError as exc:
            _stream_failed(exc)
        except OutputError as exc:
            _say("error", exc)
            sys.exit(EXIT_INVALID)
        _warn(run.warnings)
        if stale:
            shown = [printable(p) for p in stale[:STALE_LISTED]]
            shown += [f"... {len(stale) - STALE_LISTED} more"] if len(stale) > STALE_LISTED else []
            command = _generate_command(specs, output, chosen, recorded, run.thanos_shards, recorded_count)
            click.echo(f"error: {printable(output)}/ is out of date: {len(stale)} generated files differ from what the "
                       f"specs compile to (run `{command}`):\n  " + "\n  ".join(shown), err=True)
            sys.exit(EXIT_STALE)
        click.echo(f"{output}/ is up to date ({run.file_count} files{reused})")
        _budget(run)
        return
    unsafe = unsafe_output(out, _paths(specs))
    if unsafe:
        _say("error", unsafe)
        sys.exit(EXIT_INVALID)
    try:
        write_tree(out, run.files())  # each file goes to the staging folder as it is rendered
    except SpecError as exc:
        _stream_failed(exc)
    except OutputError as exc:
        _say("error", exc)
        sys.exit(EXIT_INVALID)
    except OSError as exc:
        _say("error", f"cannot write {output}/: {exc}")
        sys.exit(EXIT_INVALID)
    _warn(run.warnings)
    click.echo(f"wrote {run.file_count} files to {output}/ from {len(run.services)} services: "
               f"{alert_count(run.plan)} alerts, {recording_count(run.plan)} recording rules{reused}")
    _budget(run)


def _budget(run: Run) -> None:
    """Per Mimir tenant: its rule groups and the largest, against the ruler's limits; per Thanos shard, its
    services, groups and rules."""
    services = run.plan.placement.get(mimir.NAME, ())
    for tenant in mimir.tenants(run.plan, services) if services else ():
        click.echo(tenant.report())
    services = run.plan.placement.get(thanos.NAME, ())
    for shard in thanos.shards(run.plan, services) if services else ():
        click.echo(shard.report())


@main.command()
@click.argument("specs", nargs=-1, type=click.Path(exists=True))
@click.option("--prometheus", "prometheus_url", metavar="URL",
              help="Also check each histogram's declared buckets against this Prometheus' series.")
def validate(specs: tuple[str, ...], prometheus_url: str | None) -> None:
    """Check SPECS without writing anything."""
    with _server_reads():  # a URL that cannot be used is a usage error before anything is checked (an empty one too)
        query = prometheus_api.http_query(prometheus_url) if prometheus_url is not None else None
    run = _start(specs)
    try:
        for _ in run.files():  # every check a generate would make, nothing kept
            pass
    except SpecError as exc:
        _stream_failed(exc)
    _warn(run.warnings)
    if query is not None:
        _check_live_buckets(run.services, query)
    click.echo(f"{len(run.services)} services valid")


def _check_live_buckets(services: tuple, query: prometheus_api.Query) -> None:
    """Exit 1 when a histogram's buckets on the server are not the ones the spec declares."""
    with _server_reads():
        mismatches = live_buckets.check(list(services), query)
        generations = live_buckets.generations(list(services), query)
    for found in generations:  # which generation of names each service emits; a warning when the spec reads another
        if found.unread:
            _say("warning", found)
        else:
            click.echo(f"note: {printable(str(found))}")
    for mismatch in mismatches:
        _say("error", mismatch)
    if mismatches:
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("specs", nargs=-1, type=click.Path(exists=True))
@click.option("--prometheus", "prometheus_url", metavar="URL", required=True,
              help="The Prometheus whose ALERTS history to read.")
@click.option("--week", metavar="YYYY-Www", help="The ISO week to report, e.g. 2026-W49: each team's shift that "
                                                   "contains its Monday 00:00 UTC.")
@click.option("--at", "at", metavar="TIME", help="Or the shift that contains this time (ISO 8601, UTC if no zone).")
@click.option("--step", default=60.0, show_default=True, help="Seconds between the samples read (the rule "
                                                               "evaluation interval).")
@click.option("--alertmanager", "alertmanager_url", metavar="URL",
              help="Read acknowledgements from this Alertmanager's silences: a page is acknowledged by the first "
                   "ack silence matching it created while it fired.")
@click.option("--ack-prefix", metavar="TEXT",
              help=f"With --alertmanager: a silence is an ack when its comment starts with this, in any case "
                   f"(default: {oncall_report.ACK_PREFIX}); \"\" counts every silence.")
@click.option("--pagerduty", "pagerduty_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="Also read acknowledgements from a PagerDuty Analytics raw-incidents export (JSON): an incident "
                   "of the page's service or team created while it fired.")
@click.option("--format", "fmt", type=click.Choice(PAGE_FORMATS), default="markdown", show_default=True,
              help="html: one self-contained page with charts (no script, nothing fetched).")
def report(specs: tuple[str, ...], prometheus_url: str, week: str | None, at: str | None, step: float,
           alertmanager_url: str | None, ack_prefix: str | None, pagerduty_file: str | None, fmt: str) -> None:
    """Each team's on-call shift: pages, escalations, off-hours and night pages, time to acknowledge and to
    mitigate, the noisiest alerts, and the trend against the four shifts before, from Prometheus' ALERTS, and
    acknowledgements from Alertmanager's silences or a PagerDuty export (Markdown or HTML on stdout)."""
    if (week is None) == (at is None):
        click.echo("error: give --week or --at", err=True)
        sys.exit(EXIT_USAGE)
    if ack_prefix is not None and alertmanager_url is None:
        click.echo("error: --ack-prefix chooses among Alertmanager's silences: give --alertmanager too", err=True)
        sys.exit(EXIT_USAGE)
    ack_prefix = oncall_report.ACK_PREFIX if ack_prefix is None else ack_prefix
    try:
        start = oncall_report.iso_week(week) if week else datetime.fromisoformat(at)
    except ValueError as exc:
        click.echo(f"error: {printable(str(exc))}", err=True)
        sys.exit(EXIT_USAGE)
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    result = _run(specs)
    incidents = None
    if pagerduty_file is not None:
        try:
            incidents = pagerduty.load(Path(pagerduty_file))
        except SpecError as exc:
            _say("error", exc)
            sys.exit(EXIT_INVALID)
    with _server_reads():
        query = prometheus_api.http_range_query(prometheus_url, deadline=600)
        shown = prometheus_api.endpoint(alertmanager_url, am_silences.OPTION).shown if alertmanager_url is not None \
            else None
        silences = am_silences.http_silences(alertmanager_url) if alertmanager_url is not None else None
        found = oncall_report.report(result.plan.specs, result.plan.routing, query, start, step,
                                     oncall_report.AckSources(silences, ack_prefix, incidents))
    acks = oncall_report.ack_source(shown, ack_prefix, printable(pagerduty_file) if pagerduty_file else None)
    figures = oncall_report.figures(found, step, acks)
    click.echo(report_html(figures) if fmt == "html" else oncall_report.markdown(figures), nl=False)


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        click.echo(f"error: {option}: {printable(text)!s} is not a time like 2026-12-07T14:00:00Z", err=True)
        sys.exit(EXIT_USAGE)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@main.command()
@click.option("--prometheus", "prometheus_url", metavar="URL", required=True,
              help="The Prometheus whose ALERTS history to read.")
@click.option("--from", "start", metavar="TIME", required=True, help="Start (ISO 8601, UTC if no zone).")
@click.option("--to", "end", metavar="TIME", required=True, help="End (ISO 8601, UTC if no zone).")
@click.option("--service", metavar="NAME", help="Only this service's alerts.")
@click.option("--step", default=60.0, show_default=True, help="Seconds between the samples read.")
@click.option("--alertmanager", "alertmanager_url", metavar="URL",
              help="Also list the silences created in the window, by whom, with their comment and matchers.")
def timeline(prometheus_url: str, start: str, end: str, service: str | None, step: float,
             alertmanager_url: str | None) -> None:
    """A postmortem draft: every alert transition between two times with the service's key values at each, and the
    silences created then, followed by the blameless postmortem's sections (Markdown on stdout)."""
    begin, finish = _moment(start, "--from"), _moment(end, "--to")
    if finish <= begin:
        click.echo("error: --to must be after --from", err=True)
        sys.exit(EXIT_USAGE)
    with _server_reads():
        query = prometheus_api.http_range_query(prometheus_url, deadline=600)
        silences = am_silences.http_silences(alertmanager_url) if alertmanager_url is not None else None
        text = oncall_timeline.markdown(query, begin.timestamp(), finish.timestamp(), step, service, silences)
    click.echo(text, nl=False)


@main.command()
@click.argument("specs", nargs=-1, type=click.Path(exists=True))
@click.option("--prometheus", "prometheus_url", metavar="URL", required=True, help="The Prometheus whose history to use.")
@click.option("--from", "start", metavar="TIME", help="Start (ISO 8601, UTC if no zone).")
@click.option("--to", "end", metavar="TIME", help="End (ISO 8601, UTC if no zone; default: now).")
@click.option("--last", metavar="DURATION", help="Or the last DURATION up to --to, e.g. 14d.")
@click.option("--incidents", "incidents_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False),
              help="Known incidents (YAML: incidents: [{name, service, start, end, pages}]): each detected or "
                   "missed, and how soon.")
@click.option("--format", "fmt", type=click.Choice(PAGE_FORMATS), default="markdown", show_default=True,
              help="html: one self-contained page with charts (no script, nothing fetched).")
def backtest(specs: tuple[str, ...], prometheus_url: str, start: str | None, end: str | None, last: str | None,
             incidents_file: str | None, fmt: str) -> None:
    """What the compiled alerts would have done over a Prometheus' history: episodes, who would have been paged,
    pages per week and off hours, and the known incidents they would have caught (Markdown or HTML on stdout)."""
    finish = _moment(end, "--to") if end else datetime.now(timezone.utc)
    if (start is None) == (last is None):
        click.echo("error: give --from or --last", err=True)
        sys.exit(EXIT_USAGE)
    if last is not None:
        try:
            begin = finish - timedelta(seconds=duration(last))
        except ValueError as exc:
            click.echo(f"error: --last: {printable(str(exc))}", err=True)
            sys.exit(EXIT_USAGE)
    else:
        begin = _moment(start, "--from")
    if finish <= begin:
        click.echo("error: the window ends before it starts", err=True)
        sys.exit(EXIT_USAGE)
    result = _run(specs)
    known = None
    if incidents_file is not None:
        try:
            known = incidents.load(Path(incidents_file), (s.name for s in result.plan.services))
        except SpecError as exc:
            _say("error", exc)
            sys.exit(EXIT_INVALID)
    with _server_reads():
        query = prometheus_api.http_range_query(prometheus_url, deadline=1800)
        fired = oncall_backtest.evaluate(result.plan, query, begin.timestamp(), finish.timestamp())
        missing = oncall_backtest.missing_series(result.plan, query, begin.timestamp(), finish.timestamp())
        traced = (oncall_backtest.traces(result.plan, query, fired, begin.timestamp(), finish.timestamp())
                  if fmt == "html" else [])   # only the page draws them
    outcome = oncall_backtest.outcome(result.plan, fired, missing, begin.timestamp(), finish.timestamp(), known,
                                      traced)
    click.echo(backtest_html(outcome) if fmt == "html" else oncall_backtest.markdown(outcome), nl=False)


@main.command()
@click.option("--markdown", is_flag=True, help="Print the field reference as Markdown tables instead.")
def schema(markdown: bool) -> None:
    """Print the JSON Schema of specs (for editors and yaml-language-server)."""
    if markdown:
        click.echo(reference.markdown(), nl=False)
        return
    click.echo(json.dumps(spec_schema(), indent=2, sort_keys=False))


@main.command()
@click.argument("specs", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--output", "output", default="output", show_default=True, type=click.Path(file_okay=False),
              help="The output folder whose committed state is the base.")
@click.option("--base", "base_ref", default="HEAD", show_default=True, metavar="REF",
              help="Git ref of the base: the output folder as committed there (e.g. origin/main in a pull request).")
@click.option("--base-dir", type=click.Path(file_okay=False, exists=True),
              help="Compare with this output folder on disk instead of a git ref.")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="markdown: for a pull-request comment.")
@click.option("-t", "--target", "targets", multiple=True, type=click.Choice([*PACKAGED, NO_TARGETS]),
              help="The targets to compile for (as for generate; repeatable), so their packaged objects are "
                   f"compared. Without --target: those recorded in OUTPUT/{MANIFEST} (or, when it has none, "
                   "in the --base-dir folder's).")
@click.option("--shards", "shards", metavar="N", help="The Thanos Ruler shards to compile for (as for generate), so "
                                                      "a service that moves shard is reported. Without --shards: "
                                                      "those recorded as for --target.")
def diff(specs: tuple[str, ...], output: str, base_ref: str, base_dir: str | None, fmt: str,
         targets: tuple[str, ...], shards: str | None) -> None:
    """What the specs change in alerting: alerts, thresholds, routing, inhibitions, runbooks, and the namespace,
    tenant and labels of the targets' packaged objects.

    Compares the output folder at the base (default: as committed at HEAD) with a fresh compile of SPECS
    (default: specs/). Exit status 0: no change in alerting behaviour; 4: alerting behaviour changes.
    """
    recorded = _recorded(Path(output), targets)
    if recorded is None and base_dir and not targets:
        recorded = _recorded(Path(base_dir), targets)
    count = _shard_count(shards)
    if shards is None:  # as for targets: those of the output folder, else those of the --base-dir folder
        found = _recorded_shards(Path(output), shards)
        if found is None and base_dir:
            found = _recorded_shards(Path(base_dir), shards)
        count = found or 1
    result = _run(specs, _targets(targets, recorded), count, shards is not None)
    # A base is a tree anyone may have edited: a file that is not what oncallgen writes is one located line.
    base = where(Path(base_dir)) if base_dir else where(Path(output), base_ref)
    try:
        before = folder_files(Path(base_dir)) if base_dir else git_files(base_ref, Path(output))
    except SourceError as exc:
        _say("error", exc)
        sys.exit(EXIT_USAGE)
    except SpecError as exc:
        _say("error", exc)
        sys.exit(EXIT_INVALID)
    try:
        changes = diff_files(before, result.files, base)
    except (SpecError, StateError) as exc:
        _say("error", exc)
        sys.exit(EXIT_INVALID)
    click.echo(FORMATS[fmt](changes), nl=False)
    if changes.behaviour_changed:
        sys.exit(EXIT_CHANGED)


@main.command("test")
@click.argument("output", default="output", type=click.Path(file_okay=False))
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Runs at a time.  [default: one per core]")
@click.option("-s", "--service", "services", multiple=True, metavar="NAME",
              help="Prove only this service's tests (repeatable); routing cases run only without it.")
def test(output: str, jobs: int | None, services: tuple[str, ...]) -> None:
    """Run the generated proof of OUTPUT: every promtool unit test and amtool routing case, in parallel.

    Test files that are the same for services that differ only in their names run once. Exit status 0: all pass;
    1: a test fails (one line per failing file); 2: no proof found, or promtool/amtool missing.
    """
    out = Path(output)
    if not proof.unit_test_files(out) and not (out / proof.ROUTE_TESTS).is_file():
        _say("error", f"{output}/ holds no generated tests (run `oncallgen generate -o {output}` first)")
        sys.exit(EXIT_USAGE)
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            click.echo(f"\r{done}/{total} runs", nl=done == total, err=True)
        elif done == total or done % max(1, total // 10) == 0:
            click.echo(f"{done}/{total} runs", err=True)

    try:
        report = proof.run(out, jobs, progress, services or None)
    except FileNotFoundError as exc:
        _say("error", exc)
        sys.exit(EXIT_USAGE)
    for failure in report.failures:
        click.echo(f"FAIL {printable(str(failure.path))}: {printable(failure.summary)}")
    shared = f", {report.files - report.runs} shared by services that differ only in names" \
        if report.files > report.runs else ""
    verdict = f"{len(report.failures)} failed" if report.failures else "all passed"
    click.echo(f"{report.files} proofs ({report.runs} runs{shared}): {verdict}")
    if report.failures:
        sys.exit(EXIT_INVALID)

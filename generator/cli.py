"""The command line: the only place that prints or exits.

Exit status: 0 success, 1 invalid spec (one line naming file:line:col and the field), 2 usage error,
3 `generate --check` found the output folder out of date.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import live_buckets
from .pipeline import Result, build
from .spec.errors import SpecError
from .spec import reference
from .spec.documents import spec_schema
from .targets.files import differences, unsafe_output, write_tree

EXIT_INVALID = 1
EXIT_STALE = 3


def _paths(specs: tuple[str, ...]) -> list[Path]:
    return [Path(s) for s in specs] or [Path("specs")]


def _run(specs: tuple[str, ...]) -> Result:
    try:
        result = build(_paths(specs))
    except SpecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    return result


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Compile AI-workload signal specs into Prometheus rules, Alertmanager routing and runbooks."""


@main.command()
@click.argument("specs", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--output", "output", default="output", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write; replaced as a whole, and only when every spec is valid.")
@click.option("--check", is_flag=True, help="Write nothing; exit 3 if the output folder is not up to date.")
def generate(specs: tuple[str, ...], output: str, check: bool) -> None:
    """Compile SPECS (files or folders; default: specs/) into the output folder."""
    result = _run(specs)
    out = Path(output)
    if check:
        stale = differences(out, result.files)
        if stale:
            click.echo(f"error: {output}/ is out of date ({len(stale)} files, e.g. {stale[0]}); run `make generate`",
                       err=True)
            sys.exit(EXIT_STALE)
        click.echo(f"{output}/ is up to date ({len(result.files)} files)")
        return
    unsafe = unsafe_output(out, _paths(specs))
    if unsafe:
        click.echo(f"error: {unsafe}", err=True)
        sys.exit(EXIT_INVALID)
    try:
        write_tree(out, result.files)
    except OSError as exc:
        click.echo(f"error: cannot write {output}/: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    click.echo(f"wrote {len(result.files)} files to {output}/ from {len(result.services)} services: "
               f"{result.alert_count} alerts, {result.recording_count} recording rules")


@main.command()
@click.argument("specs", nargs=-1, type=click.Path(exists=True))
@click.option("--prometheus", "prometheus_url", metavar="URL",
              help="Also check each histogram's declared buckets against this Prometheus' series.")
def validate(specs: tuple[str, ...], prometheus_url: str | None) -> None:
    """Check SPECS without writing anything."""
    result = _run(specs)
    if prometheus_url:
        _check_live_buckets(result, prometheus_url)
    click.echo(f"{len(result.services)} services valid")


def _check_live_buckets(result: Result, url: str) -> None:
    """Exit 1 when a histogram's buckets on the server are not the ones the spec declares."""
    try:
        mismatches = live_buckets.check(list(result.services), live_buckets.http_query(url))
    except (OSError, ValueError, KeyError) as exc:
        click.echo(f"error: cannot query {url}: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    for mismatch in mismatches:
        click.echo(f"error: {mismatch}", err=True)
    if mismatches:
        sys.exit(EXIT_INVALID)


@main.command()
@click.option("--markdown", is_flag=True, help="Print the field reference as Markdown tables instead.")
def schema(markdown: bool) -> None:
    """Print the JSON Schema of specs (for editors and yaml-language-server)."""
    if markdown:
        click.echo(reference.markdown(), nl=False)
        return
    click.echo(json.dumps(spec_schema(), indent=2, sort_keys=False))

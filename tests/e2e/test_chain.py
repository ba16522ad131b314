"""The whole chain, for real: the CLI compiles the e2e spec; Prometheus 2.42 and Alertmanager 0.25 (Debian's) load
the output the way the README says; an exporter serves OpenTelemetry GenAI metrics that the test steers, and a
webhook sink stands in for every receiver. One story, asserted in order:

1. cold start, healthy traffic for 3 minutes from an empty TSDB: only the heartbeat arrives;
2. one failed request among many: nothing;
3. the primary provider fails: the failover webhook, then the primary page;
4. an Alertmanager reload and a Prometheus restart (same TSDB) during the escalation: the secondary page still
   arrives `secondary_after` after the primary (within SLACK);
5. the provider recovers: every notification that fired is resolved, and no page or ticket starts after it;
6. the heartbeat keeps arriving, and a receiver whose secret file is missing raises the pipeline alert.

Run with `make e2e` (about 8 minutes, bounded at 10). On failure the work folder (generated output, configurations,
both servers' logs) is kept and named in the message. `E2E_KEEP_GOING=1` records a failed step and goes on with the
story, failing at the end with every broken step (for comparing two versions of the compiler);
`E2E_DEFAULT_FLAGS=1` runs Prometheus without the generated flags.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import subprocess
import sys
import time
import urllib.error
import urllib.parse
from pathlib import Path

import pytest
import yaml

from .harness import GENERATIONS, Exporter, Notification, Server, Sink, free_port

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
SERVICE = "e2e-chat"
PRIMARY, PRIMARY_MODEL = "anthropic", "claude-sonnet-4-5"
CALLS_PER_S = 5.0
COLD_START = 180          # seconds of healthy traffic from an empty TSDB
SECONDARY_AFTER = 60      # the team's escalation.secondary_after in spec.yaml.in
SLACK = 25                # seconds either side of when the spec says the secondary page arrives
BUDGET = 600              # the whole story, start to finish
SCRAPE, EVALUATE = "2s", "5s"
PIPELINE = "  pipeline: {receiver: pipeline, team: e2e}"
QUIET_RECEIVERS = {"heartbeat"}


class Story:
    """The running chain and what its receivers got; `fail` explains with the timeline and the servers' logs."""

    def __init__(self, workdir: Path, generation: str) -> None:
        self.workdir = workdir
        self.generation = generation
        self.t0 = time.monotonic()
        self.servers: list[Server] = []
        self.sink: Sink | None = None
        self.exporter: Exporter | None = None
        self.failures: list[str] = []
        self.keep_going = os.environ.get("E2E_KEEP_GOING") == "1"

    def now(self) -> float:
        return time.monotonic() - self.t0

    def timeline(self) -> str:
        return "\n".join(n.show() for n in self.sink.snapshot()) or "(no notification arrived)"

    def fail(self, message: str, fatal: bool = False) -> None:
        if self.keep_going and not fatal:
            self.failures.append(f"{message} (at t={self.now():.1f}s)")
            return
        self.explain("\n\n".join(self.failures + [message]))

    def explain(self, message: str) -> None:
        logs = "\n".join(s.tail() for s in self.servers)
        pytest.fail(f"{message}\n\nat t={self.now():.1f}s; notifications so far:\n{self.timeline()}\n\n{logs}\n\n"
                    f"work folder (output, configs, logs), kept: {self.workdir}", pytrace=False)

    def sleep_until(self, t: float) -> None:
        if t > BUDGET:
            self.fail(f"the story would run past its budget of {BUDGET}s", fatal=True)
        time.sleep(max(0.0, t - self.now()))

    def wait_for(self, what: str, match, deadline: float, fatal: bool = True) -> Notification | None:
        """The first notification `match` accepts, waiting until `deadline` (story seconds)."""
        while True:
            for n in self.sink.snapshot():
                if match(n):
                    return n
            if self.now() > min(deadline, BUDGET):
                self.fail(f"waited until t={deadline:.0f}s for {what}", fatal=fatal)
                return None
            time.sleep(0.5)

    def start_fakes(self) -> None:
        self.sink = Sink(self.now)
        self.exporter = Exporter(self.generation)

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        if self.exporter:
            self.exporter.close()
        if self.sink:
            self.sink.close()


def _compile(workdir: Path, story: Story) -> Path:
    """The e2e spec with this run's addresses, compiled by the CLI into workdir/output."""
    specs = workdir / "specs"
    specs.mkdir()
    text = (HERE / "spec.yaml.in").read_text()
    text = text.replace("@SINK@", f"127.0.0.1:{story.sink.port}").replace("@MISSING@", str(workdir / "no-such-key"))
    text = text.replace("@PIPELINE@", PIPELINE)
    (specs / "e2e.yaml").write_text(text)
    cli = Path(sys.executable).parent / "oncallgen"
    out = workdir / "output"
    run = subprocess.run([str(cli), "generate", str(specs), "-o", str(out)], capture_output=True, text=True,
                         timeout=120)
    if run.returncode != 0:
        pytest.fail(f"oncallgen generate failed:\n{run.stdout}{run.stderr}", pytrace=False)
    return out


def _prometheus_flags(out: Path) -> list[str]:
    """The flags the generated output recommends (none when it recommends none)."""
    path = out / "prometheus" / "flags.txt"
    if not path.exists() or os.environ.get("E2E_DEFAULT_FLAGS") == "1":  # to see what Prometheus' defaults do
        return []
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


# Once under each generation of OTel GenAI names, from the same spec (its default `semconv: both` reads either).
@pytest.fixture(params=GENERATIONS, ids=[f"otel-{g}" for g in GENERATIONS])
def story(request):
    for binary in ("prometheus", "prometheus-alertmanager"):
        if shutil.which(binary) is None:
            pytest.fail(f"{binary} is not installed: run `make tools` (Debian packages prometheus, "
                        "prometheus-alertmanager)", pytrace=False)
    tmp_path = Path(tempfile.mkdtemp(prefix="oncallgen-e2e-"))
    s = Story(tmp_path, request.param)
    passed = False
    try:
        s.start_fakes()
        out = _compile(tmp_path, s)
        am_port, prom_port = free_port(), free_port()
        am = Server("alertmanager", [
            "prometheus-alertmanager", f"--config.file={out / 'alertmanager' / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}", f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=", "--log.level=debug"], am_port, tmp_path / "alertmanager.log")
        config = {
            "global": {"scrape_interval": SCRAPE, "evaluation_interval": EVALUATE},
            # The one entry the README tells users to write: every generated rule file, present and future.
            "rule_files": [str(out / "rules" / "*.rules.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "scrape_configs": [
                {"job_name": SERVICE, "static_configs": [{"targets": [f"127.0.0.1:{s.exporter.port}"]}]},
                {"job_name": "alertmanager", "static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]},
                {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{prom_port}"]}]},
            ],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        check = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                               capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stdout + check.stderr
        prom = Server("prometheus", [
            "prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}", "--web.enable-lifecycle",
            *_prometheus_flags(out)], prom_port, tmp_path / "prometheus.log")
        s.servers += [am, prom]
        s.exporter.set(PRIMARY, PRIMARY_MODEL, ok_per_s=CALLS_PER_S)
        am.start()
        prom.start()
        s.t0 = time.monotonic()
        yield s
        passed = not getattr(request.node, "e2e_failed", True)
    finally:
        s.stop()
        if passed:
            shutil.rmtree(tmp_path, ignore_errors=True)


def _key(n: Notification) -> tuple:
    return (n.receiver, tuple(sorted(n.labels.items())))


def _is_service_page_or_ticket(n: Notification) -> bool:
    return n.labels.get("service") == SERVICE and n.labels.get("severity") in ("critical", "warning")


# Panels of the service's dashboard that must show data after the story, written from the story: healthy calls, an
# outage of the primary (errors, pages), a recovery.
MUST_SHOW = (f'count by (alertname, escalation) (ALERTS{{service="{SERVICE}", alertstate="firing"}})',
             f'service:ai_requests:rate5m{{service="{SERVICE}"}}',
             f'service:ai_errors:ratio_rate5m{{service="{SERVICE}"}}',
             f'service_provider:ai_errors:ratio_rate5m{{service="{SERVICE}"}}',
             f'service:ai_request_duration_seconds:p95_rate5m{{service="{SERVICE}"}}')


def _check_dashboards(s: Story, prom: Server) -> None:
    folder = s.workdir / "output" / "dashboards"
    end = time.time()
    start = end - s.now()
    shown: dict[str, bool] = {}
    for path in sorted(folder.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", ()):
                query = urllib.parse.urlencode({"query": target["expr"], "start": f"{start:.0f}", "end": f"{end:.0f}",
                                                "step": "15"})
                try:
                    answer = prom.get_json(f"/api/v1/query_range?{query}")
                except urllib.error.HTTPError as exc:
                    s.fail(f"7. {path.name}: panel {panel['title']!r}: Prometheus refused {target['expr']}: "
                           f"{exc.read().decode(errors='replace')}")
                    continue
                shown[target["expr"]] = bool(answer["data"]["result"])
    empty = [e for e in MUST_SHOW if not shown.get(e)]
    if empty:
        s.fail("7. these panels of the generated dashboard are missing or show no data over the story:\n"
               + "\n".join(empty))


def test_the_whole_chain(story: Story) -> None:
    s = story
    am, prom = s.servers

    # 1. Cold start: healthy traffic from an empty TSDB. Only the heartbeat may arrive.
    # The Watchdog lives in a 1m group whose first evaluation falls anywhere in its first minute, and Prometheus sends
    # a firing alert again only at the group's next evaluation: one lost first send (a run dropped one before
    # Alertmanager was discovered) costs a minute. Two evaluations and some slack, within the cold start.
    s.wait_for("the first heartbeat", lambda n: n.receiver == "heartbeat", COLD_START - 5)
    s.sleep_until(COLD_START)
    noise = [n for n in s.sink.snapshot() if n.receiver not in QUIET_RECEIVERS]
    if noise:
        s.fail("1. cold start: healthy traffic from an empty TSDB must not notify anyone but the heartbeat; got:\n"
               + "\n".join(n.show() for n in noise))

    # 2. One failed request among hundreds a minute: nothing.
    s.exporter.fail_once(PRIMARY, PRIMARY_MODEL)
    s.sleep_until(COLD_START + 45)
    noise = [n for n in s.sink.snapshot() if n.receiver not in QUIET_RECEIVERS]
    if noise:
        s.fail("2. one failed request among many must notify nobody; got:\n" + "\n".join(n.show() for n in noise))

    # 3. The primary provider fails: automation hears first, then the primary on-call.
    outage = s.now()
    s.exporter.set(PRIMARY, PRIMARY_MODEL, ok_per_s=0, errors_per_s=CALLS_PER_S, error_type="503")
    failover = s.wait_for("the failover webhook (firing AIProviderFailover, provider=anthropic) at receiver "
                          "remediation", lambda n: n.receiver == "remediation" and n.status == "firing"
                          and n.labels.get("alertname") == "AIProviderFailover", outage + 90)
    page = s.wait_for("the primary page (firing AIProviderDown, provider=anthropic) at receiver primary",
                      lambda n: n.receiver == "primary" and n.status == "firing"
                      and n.labels.get("alertname") == "AIProviderDown"
                      and n.labels.get("escalation", "primary") == "primary", outage + 150)
    if failover.at > page.at:
        s.fail("3. automation first: the failover webhook must arrive before the primary page")

    # 4. During the escalation, reload Alertmanager and restart Prometheus on the same TSDB.
    if am.post("/-/reload") != 200:
        s.fail("4. Alertmanager refused the reload")
    s.sleep_until(page.at + 10)
    down = s.now()
    prom.stop()
    prom.start()
    downtime = s.now() - down
    # Restored `for` state resumes where it was: the wait grows by the time Prometheus was away, no more.
    due = page.at + SECONDARY_AFTER + downtime
    secondary = s.wait_for(f"the secondary page (firing AIProviderDown, escalation=secondary) at receiver "
                           f"secondary by t={due + SLACK:.0f}s ({SECONDARY_AFTER}s after the primary, plus "
                           f"{downtime:.0f}s of restart, ± {SLACK}s)",
                           lambda n: n.receiver == "secondary" and n.status == "firing"
                           and n.labels.get("alertname") == "AIProviderDown", due + SLACK, fatal=False)
    if secondary is None:
        secondary = s.wait_for("the late secondary page", lambda n: n.receiver == "secondary"
                               and n.labels.get("alertname") == "AIProviderDown", due + 180)
    if secondary.at < due - SLACK:
        s.fail(f"4. the secondary page came at t={secondary.at:.0f}s, before the spec's {SECONDARY_AFTER}s "
               f"after the primary plus the restart (due t={due:.0f}s ± {SLACK}s)")

    # 5. The provider recovers. Meanwhile an alert of no team goes to the fallback receiver, whose secret file is
    #    missing: Alertmanager fails to notify it, and the pipeline must say so.
    recovery = s.now()
    s.exporter.set(PRIMARY, PRIMARY_MODEL, ok_per_s=CALLS_PER_S, errors_per_s=0)
    alert = [{"labels": {"alertname": "E2EUnroutedAlert", "team": "no-such-team", "severity": "critical"},
              "annotations": {"summary": "An alert no team route matches."}}]
    if am.post("/api/v2/alerts", json.dumps(alert).encode()) != 200:
        s.fail("could not post the unrouted alert to Alertmanager")
    before = {_key(n) for n in s.sink.snapshot() if n.status == "firing" and n.at < recovery}
    fired = {k for k in before if k[0] not in QUIET_RECEIVERS and dict(k[1]).get("service") == SERVICE}

    def all_resolved() -> bool:
        return fired <= {_key(n) for n in s.sink.snapshot() if n.status == "resolved"}

    deadline = recovery + 180
    while not all_resolved():
        if s.now() > deadline:
            open_ = sorted(fired - {_key(n) for n in s.sink.snapshot() if n.status == "resolved"})
            s.fail("5. after the recovery every notification that fired must be resolved; still open:\n"
                   + "\n".join(f"{r}: {dict(l).get('alertname')} {dict(l)}" for r, l in open_))
            break
        time.sleep(1)
    s.sleep_until(max(s.now(), recovery + 120) + 5)  # the storm came 35-75 s after recovery: watch past it
    # A page or ticket starts after the recovery when it is new, or when it fires again after it was resolved.
    resolved_at: dict[tuple, float] = {}
    for n in s.sink.snapshot():
        if n.status == "resolved":
            resolved_at.setdefault(_key(n), n.at)
    started = [n for n in s.sink.snapshot() if n.at >= recovery and n.status == "firing"
               and _is_service_page_or_ticket(n)
               and (_key(n) not in before or n.at > resolved_at.get(_key(n), float("inf")))]
    if started:
        s.fail("5. no page or ticket may start after the provider recovered; got:\n"
               + "\n".join(n.show() for n in started))

    # 6. The heartbeat kept arriving through the restart, and the missing secret raised the pipeline alert.
    beats = [n.at for n in s.sink.snapshot() if n.receiver == "heartbeat"]
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    if not beats or beats[-1] < recovery or max(gaps, default=0) > 150:
        s.fail(f"6. the heartbeat must keep arriving (at least every 150 s); arrivals at {beats}")
    s.wait_for("6. the pipeline alert AIAlertmanagerNotificationsFailing (integration=pagerduty) at receiver "
               "pipeline", lambda n: n.receiver == "pipeline" and n.status == "firing"
               and n.labels.get("alertname") == "AIAlertmanagerNotificationsFailing"
               and n.labels.get("integration") == "pagerduty", recovery + 240, fatal=False)
    s.wait_for("6. the pipeline alert at the owning team's primary receiver",
               lambda n: n.receiver == "primary" and n.status == "firing"
               and n.labels.get("alertname") == "AIAlertmanagerNotificationsFailing", recovery + 240, fatal=False)
    # 7. The generated dashboards graph what happened: every panel's query runs on this Prometheus over the story,
    # and the service's core panels hold data (the calls, errors, latency and pages the story made).
    _check_dashboards(s, prom)
    if s.failures:
        s.explain("the story broke in these steps:\n" + "\n\n".join(s.failures))
    print(f"\ne2e timeline (seconds from start):\n{s.timeline()}\n"
          f"outage at {outage:.1f}s: failover webhook +{failover.at - outage:.1f}s, primary page "
          f"+{page.at - outage:.1f}s, secondary page +{secondary.at - outage:.1f}s "
          f"({secondary.at - page.at:.1f}s after the primary; the spec says {SECONDARY_AFTER}s, plus "
          f"{downtime:.1f}s of restart); recovery at "
          f"{recovery:.1f}s; pages or tickets started after recovery: none")

"""Rule-evaluation benchmark: what the generated rules cost the real Prometheus that evaluates them.

Run from the repository root: `python -m tests.bench_eval` (or `make bench-eval`). Options: `--sizes 25,50,100`,
`--settle 180` and `--measure 300` (seconds), `--keep DIR`.

For each size N it:
1. synthesises N services like the compile benchmark (`tests.bench`: the example specs' shapes, one per preset, vLLM
   included, on-call teams with secondary tiers), each reading series of its own (the LiteLLM ones get a selector
   of their own, `team_alias="<service>"`), and compiles them with `oncallgen generate`;
2. makes each service's calm traffic with the scenario builder (`synth.call_series`: calls, errors, latency
   histograms, tokens or spend, on every provider and its first model), serves it live from a loopback exporter
   (counters grow at their per-minute rates) and backfills its last 2 hours (`promtool tsdb create-blocks-from
   openmetrics`), so the rules' windows over raw series (5m to 1h) are full from the start;
3. runs Prometheus with the rules for a warm-up, reads back every recorded series that some rule reads with a range
   or an offset (a baseline `[1d]`, the same hour `offset 1d`..`7d`, the SLO group's `[30d]`), and backfills each
   with its warm-up value at its group's interval over the longest range plus offset any rule reads it with (30
   days for the hourly SLO series): the history whose samples those reads touch. Older samples are never read by
   any rule, so they change neither evaluation cost nor the head's memory;
4. restarts Prometheus on that history, lets it settle, then samples its own metrics over the measurement window:
   rule-evaluation cores (each group's `prometheus_rule_group_last_duration_seconds` over its
   `prometheus_rule_group_interval_seconds`, summed over groups and averaged over the window), the process's CPU
   (`process_cpu_seconds_total`: scraping, compaction and the rest included), the slowest groups, missed iterations
   (`prometheus_rule_group_iterations_missed_total`) and memory (resident set, Go heap in use, head series).

The growth from the measured sizes is fitted as a power law (cost = a * N^b on the two largest) and extrapolated to
1,000 services. Everything listens on 127.0.0.1 on a free port; processes are stopped by pid, also on failure. The
machine is shared and noisy: evaluation durations are wall times Prometheus measures, so read them as an upper
bound, and compare sizes measured in the same run. This is a benchmark, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from tests import bench
from tests.e2e.harness import Server, free_port

REPO = Path(__file__).resolve().parent.parent
SIZES = (25, 50, 100)
SCRAPE = 30               # seconds between scrapes of the exporter
RAW_HISTORY = 2 * 3600    # seconds of raw series backfilled: the longest raw window a rule reads is 1h
WARMUP = 150              # seconds the first run evaluates before its recorded series are read back
TEMPLATES = {**bench.TEMPLATES, "vllm": "internal-chat.yaml"}
RECORDED = re.compile(r"\b([a-z_]+:[a-zA-Z0-9_]+:[a-zA-Z0-9_]+)(?:\{[^}]*\})?(?:\[(\w+)\])?(?:\s+offset\s+(\w+))?")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def seconds(text: str | None) -> int:
    """A Prometheus duration in seconds: `1d1h` -> 90000."""
    return sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([smhdw])", text or ""))


# --- specs -------------------------------------------------------------------------------------------------------

def on_call_team(team: str, services: list[str]) -> dict:
    """The compile benchmark's team, whose remediation webhook also takes vLLM's scale-out requests."""
    doc = bench.on_call_team(team, services)
    doc["spec"]["routes"]["remediation"]["scale_out"] = "remediator"
    return doc


def synthesise(n: int, root: Path) -> None:
    """`n` services over the example specs' shapes, each reading its own series, with on-call teams and routing."""
    bench.TEMPLATES.clear()
    bench.TEMPLATES.update(TEMPLATES)
    templates = bench.load_templates()
    litellm = templates["litellm"]["spec"]["metrics"]
    bench.TEAM_KINDS[:] = [on_call_team]
    bench.GLOBAL_KINDS[:] = [bench.alert_routing]
    bench.synthesise(n, root, templates)
    for path in root.rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if doc.get("kind") == "AIService" and doc["spec"]["metrics"].get("preset") == "litellm":
            name = doc["metadata"]["name"]
            doc["spec"]["metrics"]["selector"] = litellm["selector"].replace('team_alias="search"',
                                                                             f'team_alias="{name}"')
            path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


# --- raw series --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Raw:
    """One raw series: its exposition text (`name{labels}`), and per-minute increase (counter) or value (gauge)."""

    text: str
    counter: bool
    value: float
    clock: bool = False   # a timestamp that follows the clock (an eval suite's last run, runs arriving)

    def at(self, t: float, epoch: float) -> float:
        if self.clock:
            return t
        return self.value * (t - epoch) / 60 if self.counter else self.value


def _exposition(series: str) -> str:
    """promtool's series notation (`name{a="x", b="y"}`) as exposition text (`name{a="x",b="y"}`)."""
    return re.sub(r'",\s+(?=[A-Za-z_]+=")', '",', series)


def raw_series(spec_root: Path) -> list[Raw]:
    """Every service's calm traffic on each provider's first model, as the scenario builder writes it."""
    from generator import synth
    from generator.rules import EvalRun, Phase, Stream
    from generator.spec.build import load_specs

    out: dict[str, Raw] = {}
    for service in load_specs([spec_root]).services:
        slo = service.slo.latency_p95 or 1.0
        for provider in service.providers:
            model = provider.models[0] if provider.models else "default"
            phase = Phase(10, ok=60, errors=0.6, provider_errors=0.3, rate_limited=0.1, latency=slo / 2,
                          input_tokens=60 * 400, output_tokens=60 * 150, spend_usd=0.05)
            made = synth.call_series(service, Stream(provider.name, model, (phase,)), latency=True)
            if "eval_regression" in service.active_signals and provider is service.providers[0]:
                made += synth.eval_series(service, EvalRun(service.signals["eval_regression"]["suite"], model,
                                                           ((10, 95, 5, True),)))
            clock = service.source.eval.last_run.metric if service.source.eval else None
            for s in made:
                first = s.values.split()[0]
                counter = "+" in first
                value = float(first.split("+")[1].split("x")[0]) if counter else float(first.split("x")[0])
                out.setdefault(s.series, Raw(_exposition(s.series), counter, value,
                                             clock=clock is not None and s.series.startswith(clock + "{")))
    return list(out.values())


class Exporter:
    """The raw series, live on loopback: counters grow at their rates from `epoch`."""

    def __init__(self, series: list[Raw], epoch: float) -> None:
        self.series, self.epoch = series, epoch
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                now = time.time()
                body = "".join(f"{s.text} {s.at(now, exporter.epoch):.6f}\n" for s in exporter.series).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- history -----------------------------------------------------------------------------------------------------

def backfill(lines, data: Path, work: Path, name: str) -> int:
    """Write OpenMetrics `lines` (grouped by series, each in time order) and turn them into blocks in `data`."""
    path = work / f"{name}.om"
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line)
            count += 1
        fh.write("# EOF\n")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(path), str(data)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    path.unlink()
    return count


def raw_history(series: list[Raw], epoch: float, start: float):
    for s in series:
        t = epoch
        while t < start:
            yield f"{s.text} {s.at(t, epoch):.6f} {t:.3f}\n"
            t += SCRAPE


def history_needs(rules_dir: Path) -> tuple[dict[str, int], dict[str, int], dict[str, list[dict]]]:
    """For each recorded series name some rule reads with a range or an offset: the longest range plus offset (s);
    the evaluation interval of the group recording each name; and the recording rules of each name."""
    needs: dict[str, int] = {}
    interval: dict[str, int] = {}
    recording: dict[str, list[dict]] = {}
    for path in sorted(rules_dir.glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            every = seconds(group.get("interval")) or 60
            for rule in group["rules"]:
                if "record" in rule:
                    interval[rule["record"]] = every
                    recording.setdefault(rule["record"], []).append(rule)
                for name, rng, offset in RECORDED.findall(rule["expr"]):
                    lookback = seconds(rng) + seconds(offset)
                    if lookback:
                        needs[name] = max(needs.get(name, 0), lookback)
    return {k: v for k, v in needs.items() if k in interval}, interval, recording


def recorded_history(found: list[tuple[str, float]], names: dict[str, str], needs: dict[str, int],
                     interval: dict[str, int], end: float):
    """Each recorded series at its warm-up value, every interval, over what its readers look back (and an hour)."""
    for text, value in found:
        name = names[text]
        step = interval[name]
        t = end - needs[name] - 3600
        t -= t % step
        while t < end:
            yield f"{text} {value:.6g} {t:.3f}\n"
            t += step


# --- Prometheus --------------------------------------------------------------------------------------------------

def prometheus(work: Path, data: Path, rules: Path | None, exporter: Exporter) -> Server:
    config = {"global": {"scrape_interval": f"{SCRAPE}s", "evaluation_interval": "1m"},
              "rule_files": [str(rules / "*.rules.yml")] if rules else [],
              "scrape_configs": [{"job_name": "bench", "honor_labels": True,
                                  "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"]}]},
                                 {"job_name": "self", "static_configs": [{"targets": ["127.0.0.1:PORT"]}]}]}
    port = free_port()
    text = json.dumps(config).replace("127.0.0.1:PORT", f"127.0.0.1:{port}")
    (work / "prometheus.yml").write_text(text, encoding="utf-8")
    server = Server("prometheus", ["prometheus", f"--config.file={work / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}",
                                   "--storage.tsdb.retention.time=60d", "--web.enable-lifecycle"],
                    port, work / "prometheus.log")
    server.start()
    server.wait_ready(300)
    return server


def query(server: Server, expr: str) -> list[dict]:
    url = server.url("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=120) as r:
        return json.load(r)["data"]["result"]


def series_text(metric: dict) -> str:
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{metric['__name__']}{{{labels}}}"


@dataclass
class Figures:
    services: int
    groups: int
    rules: int
    rule_cores: float
    process_cores: float
    missed: float
    rss_mib: float
    heap_mib: float
    head_series: float
    backfilled: int
    slowest: list[tuple[str, float]]
    costliest: list[tuple[str, float]]   # (signal / rule, cores summed over services)


def rule_costs(server: Server) -> dict[str, float]:
    """Each rule's last evaluation time over its group's interval (cores), summed over services by signal and rule:
    Prometheus' rules API times every rule (`evaluationTime`), the group metrics only whole groups."""
    with urllib.request.urlopen(server.url("/api/v1/rules"), timeout=30) as response:
        groups = json.load(response)["data"]["groups"]
    out: dict[str, float] = {}
    for group in groups:
        signal = Path(group["file"]).name.split(".")[-3]  # <service>.<signal>.rules.yml
        for rule in group["rules"]:
            key = f"{signal} / {rule['name']}"
            out[key] = out.get(key, 0.0) + float(rule.get("evaluationTime", 0)) / float(group["interval"])
    return out


def measure(server: Server, settle: float, window: float) -> tuple[float, float, float, float, float, float,
                                                                   list[tuple[str, float]], list[tuple[str, float]]]:
    time.sleep(settle)
    cost = "prometheus_rule_group_last_duration_seconds / prometheus_rule_group_interval_seconds"
    samples: list[float] = []
    per_group: dict[str, list[float]] = {}
    missed0 = sum(float(r["value"][1]) for r in query(server, "prometheus_rule_group_iterations_missed_total"))
    cpu0 = float(query(server, 'process_cpu_seconds_total{job="self"}')[0]["value"][1])
    t0 = time.monotonic()
    rss = heap = head = 0.0
    per_rule: dict[str, list[float]] = {}
    while time.monotonic() - t0 < window:
        for key, value in rule_costs(server).items():
            per_rule.setdefault(key, []).append(value)
        result = query(server, cost)
        samples.append(sum(float(r["value"][1]) for r in result))
        for r in result:
            per_group.setdefault(r["metric"]["rule_group"].rsplit(";", 1)[-1], []).append(float(r["value"][1]))
        rss = max(rss, float(query(server, 'process_resident_memory_bytes{job="self"}')[0]["value"][1]))
        heap = max(heap, float(query(server, 'go_memstats_heap_inuse_bytes{job="self"}')[0]["value"][1]))
        head = max(head, float(query(server, "prometheus_tsdb_head_series")[0]["value"][1]))
        time.sleep(15)
    elapsed = time.monotonic() - t0
    cpu = float(query(server, 'process_cpu_seconds_total{job="self"}')[0]["value"][1]) - cpu0
    missed = sum(float(r["value"][1]) for r in query(server, "prometheus_rule_group_iterations_missed_total")) - missed0
    slowest = sorted(((g, sum(v) / len(v)) for g, v in per_group.items()), key=lambda x: -x[1])[:5]
    costliest = sorted(((r, sum(v) / len(v)) for r, v in per_rule.items()), key=lambda x: -x[1])[:12]
    return (sum(samples) / len(samples), cpu / elapsed, missed, rss / 2**20, heap / 2**20, head, slowest, costliest)


def quiesce(server: Server, limit: float = 1800) -> float:
    """Wait until the TSDB stops loading and compacting blocks (the backfill's 2h blocks are compacted into larger
    ones after start-up) for a minute; returns the seconds it took."""
    t0 = time.monotonic()
    last, stable = None, time.monotonic()
    while time.monotonic() - t0 < limit:
        state = (query(server, "prometheus_tsdb_blocks_loaded"), query(server, "prometheus_tsdb_compactions_total"))
        state = tuple(x[0]["value"][1] for x in state if x) or None  # None: Prometheus has not scraped itself yet
        if state is None or state != last:
            last, stable = state, time.monotonic()
        elif time.monotonic() - stable >= 60:
            break
        time.sleep(10)
    return time.monotonic() - t0


def run_size(n: int, work: Path, settle: float, window: float) -> Figures:
    specs, out, data = work / "specs", work / "output", work / "data"
    synthesise(n, specs)
    subprocess.run([sys.executable, "-m", "generator", "generate", str(specs), "-o", str(out)], check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rules = out / "rules"
    counts = [len(g["rules"]) for p in rules.glob("*.rules.yml")
              for g in yaml.safe_load(p.read_text(encoding="utf-8"))["groups"]]
    series = raw_series(specs)
    needs, interval, recording = history_needs(rules)
    epoch = time.time() - RAW_HISTORY
    exporter = Exporter(series, epoch)
    # Warm-up on an empty TSDB: which recorded series the rules write, and their values.
    server = prometheus(work, work / "warmup", rules, exporter)
    try:
        time.sleep(WARMUP)
        found: list[tuple[str, float]] = []
        names: dict[str, str] = {}
        for name in sorted(needs):
            results = query(server, name)
            if not results:  # a group that has not run yet (the hourly SLO group): its rules' expressions, now
                results = [{"metric": {**x["metric"], **rule.get("labels", {}), "__name__": name}, "value": x["value"]}
                           for rule in recording[name] for x in query(server, rule["expr"])]
            for r in results:
                text = series_text(r["metric"])
                names[text] = name
                found.append((text, float(r["value"][1])))
    finally:
        server.stop()
    shutil.rmtree(work / "warmup")
    missing = sorted(set(needs) - set(names.values()))
    if missing:
        print(f"       not written during the warm-up, so backfilled with no history: {', '.join(missing)}",
              flush=True)
    # One backfill of the raw series' last 2 hours and the recorded series' history, ending now.
    end = time.time()
    end -= end % SCRAPE
    data.mkdir(parents=True)

    def lines():
        yield from raw_history(series, epoch, end)
        yield from recorded_history(found, names, needs, interval, end)

    backfilled = backfill(lines(), data, work, "history")
    server = prometheus(work, data, rules, exporter)
    try:
        waited = quiesce(server)
        print(f"       TSDB quiet after {waited:.0f}s", flush=True)
        figures = measure(server, settle, window)
    finally:
        server.stop()
        exporter.close()
    return Figures(n, len(counts), sum(counts), figures[0], figures[1], figures[2], figures[3], figures[4],
                   figures[5], backfilled, figures[6], figures[7])


def extrapolate(points: list[tuple[int, float]], target: int = 1000) -> tuple[float, float]:
    """(value at `target`, exponent b) of cost = a * N^b through the two largest sizes."""
    (n1, v1), (n2, v2) = sorted(points)[-2:]
    b = math.log(v2 / v1) / math.log(n2 / n1) if v1 > 0 and v2 > 0 else 1.0
    return v2 * (target / n2) ** b, b


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--settle", type=float, default=180)
    parser.add_argument("--measure", type=float, default=300)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args(argv)
    for tool in ("prometheus", "promtool"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: run `make tools`")
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix=f"bench-eval-{n}-", dir=args.keep))
        try:
            t0 = time.monotonic()
            f = run_size(n, work, args.settle, args.measure)
            results.append(f)
            print(f"{n:5d} services: {f.groups} groups, {f.rules} rules; rule evaluation {f.rule_cores:.4f} cores, "
                  f"process {f.process_cores:.4f} cores; missed iterations {f.missed:.0f}; RSS {f.rss_mib:.0f} MiB, "
                  f"heap {f.heap_mib:.0f} MiB, head series {f.head_series:.0f}; {f.backfilled} samples backfilled "
                  f"({time.monotonic() - t0:.0f}s)", flush=True)
            print("       slowest groups: " + ", ".join(f"{g} {c * 1000:.2f}m" for g, c in f.slowest), flush=True)
            total = f.rule_cores or 1.0
            print("       costliest rules (signal / rule, all services): " + ", ".join(
                f"{r} {c * 1000:.2f}m ({c / total:.0%})" for r, c in f.costliest), flush=True)
        finally:
            if args.keep is None:
                shutil.rmtree(work, ignore_errors=True)
    if len(results) >= 2:
        for label, attr in (("rule evaluation cores", "rule_cores"), ("process cores", "process_cores"),
                            ("RSS MiB", "rss_mib")):
            value, b = extrapolate([(r.services, getattr(r, attr)) for r in results])
            print(f"1000 services (extrapolated, exponent {b:.2f}): {label} {value:.3f}")


if __name__ == "__main__":
    main()

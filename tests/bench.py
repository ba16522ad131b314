"""Compile-time benchmark: synthesise N AIService specs and time the whole pipeline on them.

Run from the repository root: `python -m tests.bench` (or `make bench`). Options:
`--sizes 10,100,1000` (the service counts), `--oncall` (add on-call routing specs), `--profile N` (cProfile one in-process run of N services and print
the hotspots instead of the table), `--keep DIR` (leave the synthesised specs and output under DIR).

Each size runs in a fresh interpreter, so its peak RSS is its own. The child times
what `oncallgen generate` does: `generator.pipeline.Run` (load -> validate) and `generator.targets.files.write_tree`
consuming `Run.files()` (compile -> render -> check, each file written to the staging folder as it is rendered);
wall time is their sum (interpreter start-up and imports excluded, reported apart). The floor's input is the tree
generate wrote, read back after the timing.
This is a benchmark, not a test: it asserts nothing about timings.

The specs are the shapes of the repository's three example specs (one per preset) with a new name per
service, spread over ~N/10 teams, one file per service under `specs/<team>/`. Documents are made by one
function per kind: a per-team kind is a function of the team and its services in `TEAM_KINDS` (written to
`specs/<team>/_team.yaml`), a once-per-set kind a function in `GLOBAL_KINDS` (`specs/_global.yaml`).
`--oncall` adds an `OnCallTeam` per team and one `AlertRouting`, for Alertmanager routing.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import yaml

REPO = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1000)

# preset -> the example spec whose shape it copies
TEMPLATES = {
    "otel-genai": "support-assistant.yaml",
    "litellm": "search-answers.yaml",
    "custom": "contract-review.yaml",
}

Doc = dict[str, Any]


# --- spec synthesis: one function per document kind ------------------------------------------------------------

def load_templates() -> dict[str, Doc]:
    """The AIService document of each template spec, by preset."""
    out = {}
    for preset, file in TEMPLATES.items():
        docs = [d for d in yaml.safe_load_all((REPO / "specs" / file).read_text(encoding="utf-8"))
                if d and d.get("kind") == "AIService"]
        assert docs, f"specs/{file} has no AIService document"
        out[preset] = docs[0]
    return out


def _rename(value: Any, old: str, new: str) -> Any:
    """`value` with every occurrence of the service name `old` in its strings replaced (selectors name it)."""
    if isinstance(value, dict):
        return {k: _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    if isinstance(value, str):
        return value.replace(old, new)
    return value


def ai_service(template: Doc, name: str, team: str) -> Doc:
    """An AIService named `name`, owned by `team`, shaped like `template`."""
    old = template["metadata"]["name"]
    doc = _rename(copy.deepcopy(template), old, name)
    doc["metadata"]["name"] = name
    doc["metadata"]["team"] = team
    return doc


def on_call_team(team: str, services: list[str]) -> Doc:
    """The team's OnCallTeam: PagerDuty primary and secondary, Slack tickets, a remediation webhook."""
    secret = f"/etc/alertmanager/secrets/{team}"
    return {
        "apiVersion": "oncallgen/v1", "kind": "OnCallTeam", "metadata": {"name": team},
        "spec": {
            "receivers": {
                "pd-primary": {"pagerduty": {"routing_key_file": f"{secret}-pd-primary"}},
                "pd-secondary": {"pagerduty": {"routing_key_file": f"{secret}-pd-secondary"}},
                "slack": {"slack": {"api_url_file": f"{secret}-slack", "channel": f"#{team}-ops"}},
                "remediator": {"webhook": {"url": "http://ai-remediator.ml-platform.svc:8080/v1/alerts"}},
            },
            "routes": {"primary": "pd-primary", "secondary": "pd-secondary", "ticket": "slack",
                       "remediation": {a: "remediator" for a in ("failover", "rate_limit", "cache_warming",
                                                                 "model_routing")}},
            "escalation": {"secondary_after": "30m"},
        },
    }


def alert_routing() -> Doc:
    """The one AlertRouting every routed spec set needs: the fallback and heartbeat receivers."""
    return {
        "apiVersion": "oncallgen/v1", "kind": "AlertRouting", "metadata": {"name": "platform"},
        "spec": {
            "receivers": {
                "catchall": {"slack": {"api_url_file": "/etc/alertmanager/secrets/sre-slack", "channel": "#sre"}},
                "deadmans-switch": {"webhook": {"url": "https://hc-ping.example.com/oncallgen", "send_resolved": False}},
            },
            "fallback": "catchall", "heartbeat": "deadmans-switch",
        },
    }


# Per-team document kinds, f(team, [service names]) -> document, written to specs/<team>/_team.yaml, and the
# documents the whole set needs once, written to specs/_global.yaml. Off unless `--oncall` (see main()).
TEAM_KINDS: list[Callable[[str, list[str]], Doc]] = []
GLOBAL_KINDS: list[Callable[[], Doc]] = []


def team_name(i: int) -> str:
    return f"team-{i:03d}"  # matches ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$


def synthesise(n: int, root: Path, templates: dict[str, Doc]) -> int:
    """Write `n` services (presets rotated, over max(1, n // 10) teams) under `root`; returns the file count."""
    presets = list(TEMPLATES)
    teams: dict[str, list[str]] = {}
    files = 0
    for i in range(n):
        preset = presets[i % len(presets)]
        team = team_name(i % max(1, n // 10))
        name = f"{preset.replace('-', '')}-svc-{i:04d}"
        doc = ai_service(templates[preset], name, team)
        path = root / team / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        teams.setdefault(team, []).append(name)
        files += 1
    if TEAM_KINDS:
        for team, services in teams.items():
            docs = [kind(team, services) for kind in TEAM_KINDS]
            (root / team / "_team.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
            files += 1
    if GLOBAL_KINDS:
        (root / "_global.yaml").write_text(yaml.safe_dump_all([kind() for kind in GLOBAL_KINDS], sort_keys=False),
                                           encoding="utf-8")
        files += 1
    return files


# --- measurement ---------------------------------------------------------------------------------------------

def _maxrss_mib(ru_maxrss: int) -> float:
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024  # bytes on macOS, KiB elsewhere


def _floor(files: dict[str, str], out: Path) -> float:
    """CPU seconds of the least any generator must do for this output: LibYAML dumping the same YAML data (parsed
    back from what was generated, untimed) and writing every file's bytes. Measured in the same process and run."""
    import yaml as _yaml

    loader = getattr(_yaml, "CSafeLoader", _yaml.SafeLoader)
    dumper = getattr(_yaml, "CSafeDumper", _yaml.SafeDumper)
    data = {p: _yaml.load(t, Loader=loader) if p.endswith((".yml", ".yaml")) else t for p, t in files.items()}
    start = time.process_time()
    for rel, value in data.items():
        text = value if isinstance(value, str) else _yaml.dump(value, Dumper=dumper, sort_keys=False,
                                                               default_flow_style=False, width=1 << 30,
                                                               allow_unicode=True)
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return time.process_time() - start


def _read_tree(out: Path) -> dict[str, str]:
    """Every file under `out` (what generate wrote), relative path -> text."""
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*")) if p.is_file()}


def child(workdir: Path) -> None:
    """Inside the fresh interpreter: compile `workdir/specs` into `workdir/output` as `oncallgen generate` does
    (files streamed into the staging folder as they are rendered), print one JSON line."""
    t0 = time.perf_counter()
    from generator.pipeline import Run, alert_count, recording_count
    from generator.targets.files import write_tree
    imported = time.perf_counter()
    os.chdir(workdir)  # header paths read specs/<team>/<file>.yaml, as in a real repository
    cpu0 = time.process_time()
    start = time.perf_counter()
    run = Run([Path("specs")])
    built = time.perf_counter()  # loaded and validated: compile, render and write are one stream
    write_tree(Path("output"), run.files())
    warnings = run.warnings
    written = time.perf_counter()
    cpu = time.process_time() - cpu0
    rss = _maxrss_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # before the floor adds its own
    files = _read_tree(Path("output"))  # what was generated, read back untimed: the floor's input
    floor = _floor(files, Path("floor"))
    print(json.dumps({
        "services": len(run.services),
        "alerts": alert_count(run.plan),
        "recording": recording_count(run.plan),
        "files": len(files),
        "bytes": sum(len(t.encode("utf-8")) for t in files.values()),
        "warnings": len(warnings),
        "import_s": imported - t0,
        "build_s": built - start,
        "write_s": written - built,
        "cpu_s": cpu,
        "floor_cpu_s": floor,
        "rss_mib": rss,
    }))


def measure(n: int, base: Path, templates: dict[str, Doc], runs: int = 1) -> dict:
    """The best of `runs` fresh-interpreter runs (minimum CPU time: the least disturbed by other load)."""
    work = base / f"n{n}"
    spec_files = synthesise(n, work / "specs", templates)
    best = None
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-m", "tests.bench", "--child", str(work)], cwd=REPO,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"N={n}: the compile failed:\n{proc.stderr}")
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or row["cpu_s"] < best["cpu_s"]:
            best = row
        best["floor_cpu_s"] = min(best["floor_cpu_s"], row["floor_cpu_s"])
        best["rss_mib"] = min(best["rss_mib"], row["rss_mib"])
    best["spec_files"] = spec_files
    return best


def table(rows: list[dict]) -> str:
    head = ("| services | spec files | rules emitted (alerts + recording) | files | MB written | "
            "generate CPU (s) | floor CPU (s) | ratio | wall (s) | peak RSS (MiB) |")
    lines = [head, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['services']} | {r['spec_files']} | {r['alerts'] + r['recording']} "
                     f"({r['alerts']} + {r['recording']}) | {r['files']} | {r['bytes'] / 1e6:.1f} | {r['cpu_s']:.2f} | "
                     f"{r['floor_cpu_s']:.2f} | {r['cpu_s'] / r['floor_cpu_s']:.2f} | "
                     f"{r['build_s'] + r['write_s']:.2f} | {r['rss_mib']:.1f} |")
    return "\n".join(lines)


def scaling(rows: list[dict]) -> str:
    """Growth of generate and floor CPU time between consecutive sizes: linear work grows as the floor does."""
    out = []
    for a, b in zip(rows, rows[1:]):
        out.append(f"{a['services']} -> {b['services']} services: generate x{b['cpu_s'] / a['cpu_s']:.2f}, "
                   f"floor x{b['floor_cpu_s'] / a['floor_cpu_s']:.2f}, output x{b['bytes'] / a['bytes']:.2f}")
    return "\n".join(out)


def profile(n: int, base: Path, templates: dict[str, Doc], top: int = 30) -> None:
    """cProfile one in-process compile of `n` services; print the hotspots by cumulative and own time."""
    import cProfile
    import pstats

    from generator.pipeline import Run
    from generator.targets.files import write_tree
    work = base / f"profile-n{n}"
    synthesise(n, work / "specs", templates)
    os.chdir(work)
    prof = cProfile.Profile()
    prof.enable()
    write_tree(Path("output"), Run([Path("specs")]).files())
    prof.disable()
    os.chdir(REPO)
    stats = pstats.Stats(prof, stream=sys.stdout).strip_dirs()
    print(f"## cProfile of generate (Run + write_tree) on {n} services, by cumulative time")
    stats.sort_stats("cumulative").print_stats(top)
    print(f"## by own time")
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="service counts, comma-separated")
    ap.add_argument("--profile", type=int, metavar="N", help="cProfile an in-process run of N services instead")
    ap.add_argument("--oncall", action="store_true",
                    help="also write an OnCallTeam per team and one AlertRouting (Alertmanager routing)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="synthesise into DIR and keep it")
    ap.add_argument("--runs", type=int, default=3, help="fresh-interpreter runs per size; the minimum is reported")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return
    if args.oncall:
        TEAM_KINDS.append(on_call_team)
        GLOBAL_KINDS.append(alert_routing)
    templates = load_templates()
    with tempfile.TemporaryDirectory(prefix="oncallgen-bench-") as tmp:
        base = args.keep.resolve() if args.keep else Path(tmp)
        if args.profile:
            profile(args.profile, base, templates)
            return
        print(f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}, "
              f"{platform.machine()}, {os.cpu_count()} CPUs, LibYAML {'yes' if yaml.__with_libyaml__ else 'no'}")
        print("generate = generator.pipeline.Run (load -> validate) + generator.targets.files.write_tree of its "
              "streamed files (compile -> render -> check -> write), in a fresh interpreter per size (start-up and "
              "imports excluded), "
              "as CPU time (process_time, the minimum of --runs); floor = LibYAML re-dumping the same YAML data plus "
              "writing every file's bytes, measured in the same process; peak RSS is that interpreter's ru_maxrss "
              "before the floor runs.\n")
        rows = []
        for n in (int(s) for s in args.sizes.split(",")):
            rows.append(measure(n, base, templates, args.runs))
        print(table(rows))
        print("\nscaling (CPU time):\n" + scaling(rows))
        imports = ", ".join(f"{r['import_s']:.2f}" for r in rows)
        warnings = ", ".join(str(r["warnings"]) for r in rows)
        print(f"\nimports per run (s): {imports}; spec warnings per run: {warnings}")


if __name__ == "__main__":
    main()

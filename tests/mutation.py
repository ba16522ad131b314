"""Mutation testing of the compiled rules: do the tests notice a wrong threshold, comparison or `for`?

Each mutant changes one thing in one alerting or recording rule of a compiled rule file: a threshold literal (the
number a comparison compares against, or its coefficient) times 1.5 or times 0.67, a comparison direction flipped,
or an alert's `for` times 1.5 or 0.67. The promtool tests that load the file run against the mutant (the generated
ones in output/tests and the hand-written ones in tests/handwritten), cheapest first; the mutant is killed when one
fails. A changed alerting rule changes only its own alert, so only the tests that check that alert (or read ALERTS)
judge it; a changed recording rule is judged by every test that loads its file.

    python -m tests.mutation [--jobs N] [--signal NAME] [--list]

Prints killed/total per signal and overall, and the mutants that survived.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.spec.units import duration, format_duration, format_number

ROOT = Path(__file__).resolve().parent.parent
HANDWRITTEN = ROOT / "tests" / "handwritten"
FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "!=", "!=": "=="}
FACTORS = (1.5, 0.67)
_COMPARISON = re.compile(r"(?<![=!<>~])(<=|>=|==|!=|<|>)(?![=~])")
_NUMBER = re.compile(r"\s*(?:bool\s+)?(-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?)(?![0-9a-zA-Z_:.])")


@dataclass(frozen=True)
class Mutant:
    """One change to one rule of one rule file."""

    tree: str        # "output" or a hand-written test's folder name
    rule_file: str   # path relative to the tree
    group: int
    rule: int
    what: str        # "expr" or "for"
    new: str
    label: str       # human-readable: the rule and the change
    alert: str = ""  # the alert's name when the mutated rule is an alerting rule

    @property
    def signal(self) -> str:
        return Path(self.rule_file).name.split(".")[1]


def _masked(expr: str) -> str:
    """`expr` with label matchers, strings and range/offset brackets blanked, so their `=`, `!=` are not comparisons."""
    out, depth, quote = [], 0, None
    for ch in expr:
        if quote:
            out.append(" ")
            if ch == quote:
                quote = None
            continue
        if ch in "\"'`":
            quote = ch
            out.append(" ")
        elif ch in "{[":
            depth += 1
            out.append(" ")
        elif ch in "}]":
            depth -= 1
            out.append(" ")
        else:
            out.append(" " if depth else ch)
    return "".join(out)


def expr_mutants(expr: str) -> list[tuple[str, str]]:
    """(mutated expression, description) for every comparison in `expr`: flipped, and its literal scaled."""
    masked = _masked(expr)
    out = []
    for m in _COMPARISON.finditer(masked):
        op, start, end = m.group(1), m.start(1), m.end(1)
        out.append((expr[:start] + FLIP[op] + expr[end:], f"'{op}' flipped to '{FLIP[op]}' at {start}"))
        num = _NUMBER.match(masked, end)
        if num and float(num.group(1)) != 0:
            value = float(num.group(1))
            ns, ne = num.start(1), num.end(1)
            for f in FACTORS:
                out.append((expr[:ns] + format_number(value * f) + expr[ne:],
                            f"{op} {num.group(1)} -> {format_number(value * f)}"))
    return out


def mutants_of(tree: str, root: Path, rule_file: str) -> list[Mutant]:
    """Every mutant of one compiled rule file."""
    data = yaml.safe_load((root / rule_file).read_text())
    out = []
    for gi, group in enumerate(data["groups"]):
        for ri, rule in enumerate(group["rules"]):
            name = rule.get("alert") or rule.get("record")
            tier = f" ({rule['labels']['escalation']})" if rule.get("labels", {}).get("escalation") else ""
            for new, what in expr_mutants(rule["expr"]):
                out.append(Mutant(tree, rule_file, gi, ri, "expr", new, f"{name}{tier}: {what}", rule.get("alert", "")))
            if "alert" in rule and rule.get("for") and duration(rule["for"]) > 0:
                seconds = duration(rule["for"])
                for f in FACTORS:
                    changed = format_duration(max(1, round(seconds * f)))
                    out.append(Mutant(tree, rule_file, gi, ri, "for", changed, f"{name}{tier}: for {rule['for']} -> {changed}",
                                      rule["alert"]))
    return out


@dataclass(frozen=True)
class TestFacts:
    """What one (split) test file can notice: the alerts it checks, and whether anything it loads or queries reads
    ALERTS (then a change to any alert may show, so it judges every alert mutant of the files it loads)."""

    alerts: frozenset[str]
    reads_alerts: bool


def test_facts(root: Path) -> dict[str, TestFacts]:
    """Test file (relative to `root`) -> its facts."""
    out = {}
    for test in sorted(root.rglob("*.test.yml")):
        data = yaml.safe_load(test.read_text())
        if not isinstance(data, dict) or "rule_files" not in data:
            continue
        alerts = frozenset(c["alertname"] for t in data["tests"] for c in t.get("alert_rule_test") or [])
        reads = any("ALERTS" in c["expr"] for t in data["tests"] for c in t.get("promql_expr_test") or [])
        reads = reads or any("ALERTS" in (test.parent / rf).read_text() for rf in data["rule_files"])
        out[test.relative_to(root).as_posix()] = TestFacts(alerts, reads)
    return out


def relevant(m: "Mutant", tests: list[str], facts: dict[str, TestFacts]) -> list[str]:
    """The tests that can tell mutant `m` from the original: a changed alerting rule changes only its own alert (and
    ALERTS), so only tests checking that alert, or reading ALERTS, can fail on it; a changed recording rule may show
    anywhere downstream, so every test loading the file judges it."""
    if not m.alert:
        return tests
    return [t for t in tests if m.alert in facts[t].alerts or facts[t].reads_alerts]


def rule_file_tests(root: Path) -> dict[str, list[str]]:
    """Rule file (relative to `root`) -> the test files (relative to `root`) that load it."""
    out: dict[str, list[str]] = defaultdict(list)
    for test in sorted(root.rglob("*.test.yml")):
        data = yaml.safe_load(test.read_text())
        for rf in data.get("rule_files", []):
            rel = os.path.relpath((test.parent / rf).resolve(), root.resolve())
            out[rel].append(test.relative_to(root).as_posix())
    return out


def compile_trees(work: Path) -> dict[str, Path]:
    """output/ as committed, and each hand-written test's spec compiled by the CLI next to its tests; every test
    file split into one file per test, so a mutant is judged by its cheapest failing test first."""
    trees = {"output": work / "output"}
    shutil.copytree(ROOT / "output", trees["output"])
    for case in sorted(p for p in HANDWRITTEN.iterdir() if p.is_dir()) if HANDWRITTEN.is_dir() else []:
        dest = work / "handwritten" / case.name
        compile_handwritten(case, dest)
        trees[case.name] = dest
    for root in trees.values():
        split_tests(root)
    return trees


def split_tests(root: Path) -> None:
    """Replace each test file under `root` by one file per test, named with its evaluation count (its cost)."""
    for path in sorted(root.rglob("*.test.yml")):
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, dict) or "rule_files" not in data:
            continue  # not a promtool test (the Alertmanager routing cases)
        step = duration(data.get("evaluation_interval", "1m"))
        for i, test in enumerate(data["tests"]):
            times = [duration(c["eval_time"]) for c in test.get("alert_rule_test", []) + test.get("promql_expr_test", [])]
            cost = int(max(times, default=0) // step)
            one = {**data, "tests": [test]}
            path.with_name(f"{path.name[:-len('.test.yml')]}.{i}.{cost:06d}.test.yml").write_text(
                yaml.safe_dump(one, sort_keys=False, width=1 << 20))
        path.unlink()


def compile_handwritten(case: Path, dest: Path) -> None:
    """Compile `case/spec.yaml` with the CLI into `dest` and put the case's own tests under `dest/handwritten/`."""
    subprocess.run([sys.executable, "-m", "generator", "generate", str(case / "spec.yaml"), "-o", str(dest)],
                   check=True, capture_output=True, text=True)
    shutil.rmtree(dest / "tests")  # only the hand-written tests judge these rules
    (dest / "handwritten").mkdir()
    for test in case.glob("*.test.yml"):
        shutil.copy(test, dest / "handwritten" / test.name)


def _run_tests(root: Path, tests: list[str]) -> bool:
    """True when every test file passes; the cheapest first (fewest evaluations), since one failure settles it."""
    for t in sorted(tests, key=lambda t: (t.rsplit(".", 3)[-3], t)):
        path = root / t
        proc = subprocess.run(["promtool", "test", "rules", path.name], cwd=path.parent, capture_output=True, timeout=600)
        if proc.returncode != 0:
            return False
    return True


def _apply(root: Path, m: Mutant) -> str:
    path = root / m.rule_file
    original = path.read_text()
    data = yaml.safe_load(original)
    rule = data["groups"][m.group]["rules"][m.rule]
    rule[m.what] = m.new
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=1 << 20))
    return original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--signal", action="append", help="only this signal (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--service", action="append", help="only rule files of this service (repeatable)")
    parser.add_argument("--part", metavar="FROM:TO", help="only mutants FROM to TO (1-based, inclusive, in the order "
                        "a full run judges them): split a run across processes or machines and add up the logs")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="oncallgen-mutation-") as tmp:
        base = Path(tmp) / "base"
        trees = compile_trees(base)
        mutants: list[tuple[Mutant, list[str]]] = []
        for tree, root in trees.items():
            loading = rule_file_tests(root)
            facts = test_facts(root)
            for rule_file in sorted(loading):
                if Path(rule_file).name.split(".")[1] == "sli":
                    continue  # the shared SLI series hold no thresholds
                for m in mutants_of(tree, root, rule_file):
                    service = Path(rule_file).name.split(".")[0]
                    if (not args.signal or m.signal in args.signal) and (not args.service or service in args.service):
                        mutants.append((m, relevant(m, loading[rule_file], facts)))
        # Round-robin over signals, so a run cut short still scores every signal.
        by_signal: dict[str, list] = defaultdict(list)
        for item in mutants:
            by_signal[item[0].signal].append(item)
        mutants = [item for i in range(max(map(len, by_signal.values()), default=0))
                   for sig in sorted(by_signal) if i < len(by_signal[sig]) for item in [by_signal[sig][i]]]
        if args.part:
            lo, _, hi = args.part.partition(":")
            mutants = mutants[int(lo or 1) - 1:int(hi) if hi else None]
        if args.list:
            for m, tests in mutants:
                print(f"{m.tree}/{m.rule_file}: {m.label}  [{len(tests)} test files]")
            return 0
        # One copy of the trees per worker: a mutant is written, tested and undone in its worker's copy.
        copies = []
        for i in range(args.jobs):
            dest = Path(tmp) / f"worker{i}"
            shutil.copytree(base, dest)
            copies.append(dest)
        free = list(range(args.jobs))
        import threading
        lock = threading.Lock()

        def judge(item: tuple[Mutant, list[str]]) -> tuple[Mutant, bool]:
            m, tests = item
            with lock:
                slot = free.pop()
            try:
                root = copies[slot] / ("output" if m.tree == "output" else f"handwritten/{m.tree}")
                original = _apply(root, m)
                try:
                    return m, not _run_tests(root, tests)
                finally:
                    (root / m.rule_file).write_text(original)
            finally:
                with lock:
                    free.append(slot)

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = []
            for i, result in enumerate(pool.map(judge, mutants), 1):
                results.append(result)
                m, killed = result
                print(f"{i}/{len(mutants)} {'killed  ' if killed else 'SURVIVED'} {m.tree}/{m.rule_file}: {m.label}",
                      file=sys.stderr, flush=True)
            print(file=sys.stderr)
    report(results, time.monotonic() - started)
    return 0


def report(results: list[tuple[Mutant, bool]], seconds: float) -> None:
    """The score table per signal, then every survivor."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for m, killed in results:
        per[m.signal][0] += killed
        per[m.signal][1] += 1
    print("| signal | killed / total | score |")
    print("|---|---:|---:|")
    for signal in sorted(per):
        k, t = per[signal]
        print(f"| {signal} | {k} / {t} | {100 * k / t:.0f}% |")
    k = sum(v[0] for v in per.values())
    t = sum(v[1] for v in per.values())
    print(f"| **all** | **{k} / {t}** | **{100 * k / max(t, 1):.1f}%** |")
    survivors = [m for m, killed in results if not killed]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}):")
        for m in survivors:
            print(f"  {m.tree}/{m.rule_file}: {m.label}")
    print(f"\n{len(results)} mutants in {seconds:.0f}s")


if __name__ == "__main__":
    sys.exit(main())

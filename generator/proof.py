"""Running an output folder's generated proof: every promtool unit-test file and the amtool routing cases.

Services that differ only in their names and teams (a fleet stamped from one template) compile to test files that
are the same text once the owning service's name and its team's are taken out, and so do the rule files they load:
such a file is run once and its verdict stands for every service that shares it. The comparison is on the exact
text, so any other difference (a threshold, a selector, a window) runs its own proof.
"""
from __future__ import annotations

import hashlib
import os
import re
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yaml

from . import amtool, promtool
from .tools import Run

TESTS = "tests"
ROUTE_TESTS = Path("alertmanager") / "routes.test.yml"
NAME_HOLE = "\x00service\x00"  # stands for the owning service's name; never in a generated file
TEAM_HOLE = "\x00team\x00"      # ...and for its team's
_FAILED_NAME = re.compile(r"^\s+name: (.*?),?\s*$")
_FAILED_EXPR = re.compile(r'^\s+expr: "(.*)", time: (\S+?),?\s*$')


@dataclass(frozen=True)
class Failure:
    """One failing proof file, and what failed in it (in one line)."""

    path: str
    summary: str
    detail: str


@dataclass(frozen=True)
class Report:
    files: int      # unit-test files and routing cases proved
    runs: int       # promtool and amtool runs it took (files shared by services run once)
    failures: tuple[Failure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def unit_test_files(out: Path) -> list[Path]:
    """Every promtool unit-test file in `out`, in a stable order."""
    return sorted((out / TESTS).rglob("*.test.yml")) if (out / TESTS).is_dir() else []


def _owner(test_file: Path, out: Path) -> str | None:
    """The service a test file belongs to: its folder under tests/ (None for the rules of no service)."""
    parts = test_file.relative_to(out / TESTS).parts
    return parts[0] if len(parts) > 1 else None


def proof_key(test_file: Path, out: Path) -> str:
    """The text of a test file and of every rule file it loads, with its owning service's name taken out: equal keys
    are the same proof."""
    text = test_file.read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    parts = [text]
    for rel in doc.get("rule_files") or ():
        parts.append((test_file.parent / rel).read_text(encoding="utf-8"))
    owner = _owner(test_file, out)
    joined = "\x00".join(parts)
    if owner:
        # The team as the service's recorded series carry it (`service: x` then `team: y` in their labels).
        team = re.search(rf"\bservice: {re.escape(owner)}\n\s+team: (\S+)\n", joined)
        joined = joined.replace(owner, NAME_HOLE)
        if team:
            joined = joined.replace(team.group(1), TEAM_HOLE)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def failed_scenarios(output: str) -> list[str]:
    """The names of the scenarios promtool reports as failed, in order, each once."""
    names: list[str] = []
    failed = False
    for line in output.splitlines():
        if line.strip() == "FAILED:":
            failed = True
            continue
        if not failed:
            continue
        match = _FAILED_NAME.match(line)
        expr = _FAILED_EXPR.match(line)
        name = match.group(1) if match else (
            f"PromQL check at {expr.group(2)}: {_short(expr.group(1).replace(chr(92) + chr(34), chr(34)))}"
            if expr else None)
        if name and name not in names:
            names.append(name)
    return names


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _summary(run: Run) -> str:
    names = failed_scenarios(run.output)
    if names:
        more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
        return names[0] + more
    lines = [line.strip() for line in run.output.splitlines() if line.strip()]
    return lines[-1] if lines else "failed without output"


def _route_cases(out: Path) -> list[tuple[str, dict, list[str]]]:
    path = out / ROUTE_TESTS
    if not path.is_file():
        return []
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(case["name"], case["labels"], case["receivers"]) for case in doc.get("cases") or ()]


def run(out: Path, jobs: int | None = None, progress: Callable[[int, int], None] | None = None,
        only: Iterable[str] | None = None) -> Report:
    """Run the proof of `out` on `jobs` processes at a time (default: one per core); `progress(done, total)` is
    called as runs finish. `only`: service folders to prove (default: all, routing cases included)."""
    wanted = set(only) if only is not None else None
    files = [f for f in unit_test_files(out) if wanted is None or _owner(f, out) in wanted]
    shared: dict[str, list[Path]] = {}
    for f in files:
        shared.setdefault(proof_key(f, out), []).append(f)
    cases = _route_cases(out) if wanted is None else []
    config = out / ROUTE_TESTS.parent / yaml.safe_load((out / ROUTE_TESTS).read_text(encoding="utf-8"))["config"] \
        if cases else None
    work: list[tuple[str, Callable[[], Run], list[str]]] = [
        (str(group[0]), (lambda f=group[0]: promtool.test_rules(f)), [str(f.relative_to(out)) for f in group])
        for group in shared.values()]
    work += [(name, (lambda labels=labels, receivers=receivers: amtool.route(config, labels, receivers)),
              [f"{ROUTE_TESTS}: {name}"]) for name, labels, receivers in cases]
    failures: list[Failure] = []
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = {pool.submit(item[1]): item[2] for item in work}
        for done, future in enumerate(as_completed(futures), 1):
            if progress:
                progress(done, len(work))
            result = future.result()
            if not result.ok:
                failures += [Failure(p, _summary(result), result.output) for p in futures[future]]
    return Report(len(files) + len(cases), len(work), tuple(sorted(failures, key=lambda f: f.path)))

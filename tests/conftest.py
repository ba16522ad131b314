"""Shared fixtures (the example specs compiled once per session, written to a temp folder) and the test tiers.

Tiers (pyproject.toml declares the markers):
- fast (no marker): compiled objects, schema, loader, errors, the CLI; no promtool, amtool or server.
  `make test-fast` runs them alone (`pytest --fast`), with promtool, amtool, prometheus, alertmanager and chromium
  replaced on PATH by a stub that fails the test, so a test that needs them and lacks `proof` fails loudly there.
- slow: no real tool, but seconds each (fresh interpreters, `make`, hypothesis over the schema, year-long time-zone
  walks): left out of `make test-fast` to keep it under a minute.
- proof: runs the real promtool, amtool, prometheus, alertmanager or chromium (the HTML reports' screenshots).
  `make test` runs all three, on every core.
- e2e, mutation: their own make targets, never in `make test`.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from generator.pipeline import Result, build
from generator.spec.build import load_specs
from generator.targets.files import write_tree

from . import proofs

ROOT = Path(__file__).resolve().parent.parent
_PROOF_FOLDER = pytest.StashKey[str]()
REAL_TOOLS = ("promtool", "amtool", "prometheus", "prometheus-alertmanager", "alertmanager", "chromium")
_STUB = """#!/bin/sh
echo "$(basename "$0")" >> "$ONCALLGEN_FAST_TIER_CALLS"
echo "oncallgen fast tier: $(basename "$0") is not run by make test-fast; mark the test @pytest.mark.proof" >&2
exit 70
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true",
                     help="the fast tier only: deselect tests marked proof or slow, and fail any test that starts "
                          + ", ".join(REAL_TOOLS))


def pytest_configure(config: pytest.Config) -> None:
    # promtool, amtool and prometheus are Go programs: collecting garbage at 4x the live heap instead of 2x spends
    # 15-25% less CPU on the long promtool tests, for some 50 MB more per process. The verdicts are the same binary's
    # on the same input; a GOGC already set wins.
    os.environ.setdefault("GOGC", "400")
    if not hasattr(config, "workerinput") and not os.environ.get(proofs.ENV):
        # The controller (or the only process) makes the folder the xdist workers share proof verdicts through.
        os.environ[proofs.ENV] = tempfile.mkdtemp(prefix="oncallgen-proofs-")
        config.stash[_PROOF_FOLDER] = os.environ[proofs.ENV]
    if config.getoption("fast"):
        # A stub that fails, never one that passes: it only makes a mis-tiered test visible.
        stubs = Path(config.rootpath / ".pytest_cache" / "fast-tier-stubs")
        stubs.mkdir(parents=True, exist_ok=True)
        for tool in REAL_TOOLS:
            path = stubs / tool
            path.write_text(_STUB, encoding="utf-8")
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        os.environ["PATH"] = f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}"
        # Every call is logged: a test that expects a tool to fail would otherwise pass on the stub.
        calls = stubs / f"calls-{os.getpid()}"
        calls.write_text("", encoding="utf-8")
        os.environ["ONCALLGEN_FAST_TIER_CALLS"] = str(calls)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    proof = [i for i in items if i.get_closest_marker("proof") is not None]
    slow = [i for i in items if i.get_closest_marker("proof") is None and i.get_closest_marker("slow") is not None]
    fast = [i for i in items if i.get_closest_marker("proof") is None and i.get_closest_marker("slow") is None]
    if config.getoption("fast"):
        if proof or slow:
            config.hook.pytest_deselected(items=proof + slow)
        items[:] = fast
    else:
        # The proofs first (seconds to a minute each), the fast tests last: under xdist they fill the cores while
        # the last proofs finish, instead of one core waiting on a long proof at the end.
        items[:] = proof + slow + fast


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if _PROOF_FOLDER not in config.stash:
        return
    entries = proofs.log()
    runs = sum(e["what"] == "run" for e in entries)
    reused = [e for e in entries if e["what"] == "reuse"]
    if entries:
        terminalreporter.write_line(f"proofs through tests/proofs.py: {runs} run, {len(reused)} asked again and "
                                    "reused (the same bytes, proved earlier in this session)")
    if reused and config.getoption("verbose") > 0:
        for e in reused:
            terminalreporter.write_line(f"  {e['proof']}: {e['test']} reused the run of {e['first']}")


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_PROOF_FOLDER, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(proofs.ENV, None)


def _stub_calls() -> list[str]:
    path = os.environ.get("ONCALLGEN_FAST_TIER_CALLS")
    return Path(path).read_text(encoding="utf-8").split() if path else []


_CALLS_BEFORE = pytest.StashKey[int]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    if item.config.getoption("fast"):
        item.stash[_CALLS_BEFORE] = len(_stub_calls())
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In the fast tier, a test (or a fixture it set up) that started a real tool fails at its teardown."""
    outcome = yield
    report = outcome.get_result()
    if item.config.getoption("fast") and call.when == "teardown":
        started = _stub_calls()[item.stash.get(_CALLS_BEFORE, 0):]
        if started:
            report.outcome = "failed"
            report.longrepr = (f"{item.nodeid} started {', '.join(sorted(set(started)))} in the fast tier: "
                               "mark it @pytest.mark.proof")


@pytest.fixture(scope="session")
def compiled() -> Result:
    """The repository's example specs, compiled (paths in headers relative to the repo root)."""
    import os
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return build([Path("specs")])
    finally:
        os.chdir(old)


@pytest.fixture(scope="session")
def out_dir(compiled: Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled example output on disk."""
    out = tmp_path_factory.mktemp("generated") / "output"
    write_tree(out, compiled.files)
    return out


@pytest.fixture(scope="module")
def services():
    """The example specs' services by name, loaded from the repository root as `make generate` does."""
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return {s.name: s for s in load_specs([Path("specs")]).services}
    finally:
        os.chdir(old)


ALL_TARGETS = ("operator", "mimir", "thanos")


@pytest.fixture(scope="session")
def everywhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example service on every target (as `make generate TARGETS="operator mimir thanos"`)."""
    import shutil
    base = tmp_path_factory.mktemp("targets")
    shutil.copytree(ROOT / "specs", base / "specs")
    old = os.getcwd()
    os.chdir(base)
    try:
        result = build([Path("specs")], ALL_TARGETS)
    finally:
        os.chdir(old)
    write_tree(base / "output", result.files)
    return base / "output"


@pytest.fixture(scope="session", params=["examples", "everywhere"])
def tree(request: pytest.FixtureRequest, out_dir: Path) -> Path:
    """Both target trees: the committed examples, and every service on every target."""
    return out_dir if request.param == "examples" else request.getfixturevalue("everywhere")

"""The signal registry is the only place a signal's facts live, and data flows one way (no import cycle)."""
from __future__ import annotations

import ast
from pathlib import Path

from generator.signals import REMEDIATION_ACTIONS, SIGNALS
from generator.spec.documents import kind_schema

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generator"


def test_remediation_actions_come_from_the_signals() -> None:
    assert REMEDIATION_ACTIONS == ("failover", "rate_limit", "cache_warming", "model_routing", "scale_out")
    routes = kind_schema("OnCallTeam")["properties"]["spec"]["properties"]["routes"]["properties"]
    assert tuple(routes["remediation"]["properties"]) == REMEDIATION_ACTIONS


def test_the_outage_inhibition_targets_the_signals_an_outage_explains(compiled) -> None:
    explained = [name for name, s in SIGNALS.items() if s.explained_by_outage]
    assert explained == ["traffic_stopped", "latency", "first_token_latency", "error_spike", "failover",
                         "model_routing"]
    rules = compiled.plan.routing.inhibitions()
    targets = {m for r in rules for m in r["target_matchers"] if m.startswith("signal=~")}
    assert targets == {'signal=~"' + "|".join(explained) + '"'}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> tuple[set[str], list[int]]:
    """Modules `path` imports at its top level (with the packages each import initialises), and the lines of
    imports deferred into functions."""
    tree = ast.parse(path.read_text())
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    top, deferred = set(), []

    def targets(node) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = package
        for _ in range(node.level - 1):
            base = base.rsplit(".", 1)[0]
        mod = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
        # `from . import x` imports the submodule x when there is one.
        return [f"{mod}.{a.name}" if (PACKAGE.parent / f"{mod}.{a.name}".replace(".", "/")).with_suffix(".py").exists()
                or (PACKAGE.parent / f"{mod}.{a.name}".replace(".", "/")).is_dir() else mod for a in node.names]

    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for name in targets(node):
                parts = name.split(".")
                top.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            deferred += [n.lineno for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
    # The importer's own packages are initialised before it runs: importing a sibling through them is no cycle.
    ancestors = {".".join(here.split(".")[:i]) for i in range(1, here.count(".") + 2)}
    return {m for m in top if m.startswith("generator")} - ancestors, deferred


def test_no_import_is_deferred_and_no_module_imports_itself_back() -> None:
    graph, deferred = {}, {}
    for path in sorted(PACKAGE.rglob("*.py")):
        graph[_module(path)], lines = _imports(path)
        if lines:
            deferred[str(path.relative_to(ROOT))] = lines
    assert deferred == {}
    # Depth-first search for a cycle.
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return trail + [node, nxt]
            if nxt not in state and (cycle := visit(nxt, trail + [node])):
                return cycle
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            assert visit(module, []) is None


# The runbook renderer: the page assembly and its sections. Signals write content (`runbooks/content.py`) and may
# build links (`runbooks/links.py`, `runbooks/markdown.py`); they never reach the renderer.
RENDERER = {"generator.compile"} | {f"generator.runbooks.{m}" for m in (
    "pages", "collect", "environment", "page_context", "thresholds", "escalation_path", "remediation", "provider")}


def test_signals_never_import_the_runbook_renderer() -> None:
    for path in (PACKAGE / "signals").rglob("*.py"):
        imported, _ = _imports(path)
        assert not RENDERER & imported, path


def test_the_runbook_renderer_never_imports_the_signal_registry() -> None:
    """Signal facts reach the pages through the plan; the renderer never asks the registry back."""
    for module in RENDERER - {"generator.compile"}:
        imported, _ = _imports(PACKAGE / "runbooks" / (module.rsplit(".", 1)[1] + ".py"))
        assert not {m for m in imported if m.startswith("generator.signals")}, module

"""The import layering of the generator: data flows one way (load -> validate -> model -> compile -> render -> write),
and a module imports only modules of its own layer or of the layers below it.

The layers, bottom first, are listed here and nowhere else. A package name stands for every module in it that is not
listed on its own. Renderers sit *below* the signals and compile: they read the plan, plain data, and cannot ask a
signal or the compiler anything back.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from generator import conventions as c
from generator.signals import SIGNALS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "generator"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("text: units, errors, escaping, YAML, Markdown, tool runs, a live server's API",
     ("spec.units", "spec.errors", "spec.urls", "spec.objects", "printable", "promql_fragments", "templating",
      "yamltext", "tools", "prometheus_api", "silences", "content.markdown", "content.html", "content.runbook",
      "targets.utc_hours")),
    ("names: every generated name, PromQL, the spec's loader and schemas",
     ("conventions", "promql", "spec.loader", "spec.schema", "spec.validate", "spec.deploy", "spec.oncall_schema",
      "presets.source")),
    ("model: the spec model, metric presets, compiled forms, the plan and what makes its test series",
     ("presets", "spec.model", "rules", "content", "plan", "alertmanager.receivers", "synth", "boundaries",
      "live_buckets", "prometheus_setup")),
    ("render: plan in, file text out; the real tools that prove it",
     ("render", "runbooks", "dashboards", "targets", "promtool", "amtool", "proof")),
    ("signal toolkit: what signals and the rules of no service are built with",
     ("sli", "outage", "escalation", "decision_proof", "signals.base", "signals.p95", "meta", "alerting_pipeline")),
    ("signals: one module per signal, and the registry", ("signals",)),
    ("spec: loading and validating specs against every signal's schema",
     ("spec.build", "spec.documents", "spec.services", "spec.oncall", "spec.reference", "spec")),
    ("compile: model in, plan out", ("compile", "alertmanager.config", "alertmanager")),
    ("pipeline: load -> compile -> render -> check, what reads output trees and live history",
     ("pipeline", "diff", "pagerduty", "report", "report_html", "timeline", "incidents", "backtest", "backtest_html")),
    ("command line", ("cli", "__main__", "")),  # "": generator/__init__.py itself
)


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = PACKAGE.joinpath(*name.split(".")) if name else PACKAGE
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path, here: str | None = None) -> set[str]:
    """The generator modules `path` (module `here`) imports (`from .x import y` counts as `x.y` when y is a
    module)."""
    here = _module(path) if here is None else here
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("generator"):
                target = node.module.removeprefix("generator").lstrip(".")
            else:
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}" if target else alias.name
                out.add(full if _is_module(full) else target)
        elif isinstance(node, ast.Import):
            out |= {a.name.removeprefix("generator").lstrip(".") for a in node.names if a.name.startswith("generator")}
    return out - {here}


def layer_of(module: str) -> int:
    """The layer of `module`: the one listing it, else the one listing its closest package."""
    parts = module.split(".") if module else [""]
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        for index, (_, members) in enumerate(LAYERS):
            if name in members:
                return index
    raise AssertionError(f"generator.{module} is in no layer: add it to LAYERS")


MODULES = sorted(_module(p) for p in PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_listed_names_are_modules() -> None:
    """A name left in LAYERS after its module went away would hide the next module of that name."""
    stale = [name for _, members in LAYERS for name in members if not _is_module(name)]
    assert stale == []


@pytest.mark.parametrize("module", MODULES)
def test_no_module_imports_a_higher_layer(module: str) -> None:
    path = PACKAGE.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    mine = layer_of(module)
    upward = sorted(f"generator.{m} ({LAYERS[layer_of(m)][0].split(':')[0]})"
                    for m in _imports(path) if layer_of(m) > mine)
    assert upward == [], f"generator.{module} ({LAYERS[mine][0].split(':')[0]}) imports a higher layer"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The check itself: a renderer importing compile, relatively or absolutely, is caught; a sibling is not."""
    fake = tmp_path / "fake.py"
    fake.write_text("from ..compile import finish\nfrom . import collect\nimport generator.signals.base\n")
    found = _imports(fake, "runbooks.fake")
    assert found == {"compile", "runbooks.collect", "signals.base"}
    mine = layer_of("runbooks.fake")
    assert sorted(m for m in found if layer_of(m) > mine) == ["compile", "signals.base"]
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("a_module_nobody_listed")


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module's code, docstrings left out (prose may name an alert as an example)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def _mentions(text: str, alertname: str) -> bool:
    """Whether code text uses an alert's name: the name itself, a matcher on it, or the words `alert_name` joins."""
    body = alertname.removeprefix(c.ALERT_PREFIX)
    return text in (alertname, body) or f'alertname="{alertname}"' in text or f"alertname={alertname}" in text


def _own_files(signal) -> Path:
    """Where a signal is written: the package (`signals/<name>/`, or the one a generic signal shares) or the module
    that defines its class."""
    path = Path(sys.modules[type(signal).__module__].__file__)
    return path.parent if path.name == "__init__.py" else path


def test_only_a_signal_names_its_alerts() -> None:
    """Outside `signals/<name>/`, a signal's alerts are reached through what it declares (`alerts`, `alert_of`,
    `alert_link`, `inhibitions`), never by their names."""
    found = []
    for name, signal in SIGNALS.items():
        own = _own_files(signal)
        assert own != PACKAGE / "signals", name
        for path in sorted(PACKAGE.rglob("*.py")):
            if path == own or own in path.parents:
                continue
            for line, text in _code_strings(path):
                for alertname in signal.alerts.values():
                    if _mentions(text, alertname):
                        found.append(f"{path.relative_to(ROOT)}:{line} names {alertname} of {name}")
    assert found == []


def test_the_name_check_sees_a_mention(tmp_path: Path) -> None:
    fake = tmp_path / "fake.py"
    fake.write_text('"""Mentions AIProviderDown in prose."""\nX = c.alert_name("ProviderDown")\n'
                    "Y = 'ALERTS{alertname=\"AIProviderDown\"}'\nZ = \"AIProviderDown\"\n")
    hits = sorted(line for line, text in _code_strings(fake) if _mentions(text, "AIProviderDown"))
    assert hits == [2, 3, 4]


# A recorded series name (`level:metric:operations`), or a piece of one an f-string splits: `service:ai_x:ratio_{w}`
# leaves `service:ai_x:ratio_`, `{level}:ai_x:rate` leaves `:ai_x:rate`, `service_le:{metric}` leaves `service_le:`.
RECORDED = re.compile(rf"(?<![\w:])({'|'.join(c.LEVEL_LABELS)}):(ai_\w*(:|$)|$)|:ai_\w+:")


def _recorded_literals(path: Path) -> list[int]:
    return [line for line, text in _code_strings(path) if RECORDED.search(text)]


def _builds_names(path: Path) -> list[int]:
    """Lines calling `conventions.record` (as `c.record` or `conventions.record`)."""
    return [n.lineno for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "record"
            and isinstance(n.func.value, ast.Name) and n.func.value.id in ("c", "conventions")]


def test_recorded_series_are_named_in_conventions() -> None:
    """Recorded series are named by `conventions.record`: in conventions.py, or, for a series only one signal records
    and reads, in that signal's rules.py; every other module reads the constant, never spells the name."""
    literals, built = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT)
        if path == PACKAGE / "conventions.py":
            continue
        literals += [f"{where}:{line}" for line in _recorded_literals(path)]
        if not (path.name == "rules.py" and path.parent.parent == PACKAGE / "signals"):
            built += [f"{where}:{line}" for line in _builds_names(path)]
    assert literals == [], "recorded series spelled outside conventions.py"
    assert built == [], "recorded series named outside conventions.py and the signals' rules.py"


def test_the_recorded_name_check_sees_a_literal(tmp_path: Path) -> None:
    fake = tmp_path / "fake.py"
    fake.write_text('"""Prose may name service:ai_requests:rate5m."""\n'
                    'A = "service:ai_requests:rate5m"\n'
                    'B = f"{own(\'service_provider:ai_errors:ratio_rate5m\', service)} > 0"\n'
                    'C = f"service:ai_availability:ratio_{w}"\n'
                    'D = f"{level}:ai_errors:rate{w}"\n'
                    'E = f"service_model_le:{metric}_bucket:rate5m"\n'
                    'F = c.record("service", "ai_errors", "rate5m")\n'
                    'G = "team: ml" + "vllm:num_requests_waiting" + "sum by (service, team)"\n'
                    'H = conventions.record(level, metric, "rate1h")\n'
                    'I = probe.record(due, True)\n')
    assert sorted(_recorded_literals(fake)) == [2, 3, 4, 5, 6]
    assert sorted(_builds_names(fake)) == [7, 9]


def test_every_alert_a_signal_emits_is_declared(compiled) -> None:
    undeclared = {(a.signal, a.alert) for g in compiled.plan.groups for a in g.alerts
                  if a.signal in SIGNALS and a.alert not in SIGNALS[a.signal].alerts.values()}
    assert undeclared == set()
    emitted = {a.alert for g in compiled.plan.groups for a in g.alerts}
    assert {"AIProviderDown", "AIErrorRateSpikeGrowing", "AILatencyP95High"} <= emitted  # the check saw alerts

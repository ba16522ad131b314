"""Plan in, file contents out: rule files (through the targets), promtool unit tests, Alertmanager (runbooks:
`runbooks.pages`). The pipeline asks for each file when it can hand it on, so nothing here returns the whole tree.

Output is diff-friendly and deterministic: keys in a fixed order, labels sorted, no timestamps, lines
never folded, one YAML document per file, and a header naming the source spec.
"""
from __future__ import annotations

import posixpath
from typing import Any, Callable, Iterator

from . import synth
from .plan import Plan, TestFile
from .rules import SAMPLE_SECONDS, Scenario, Series
from .spec.errors import SpecError
from .spec.units import format_duration, format_number
from .targets import render_targets
from .yamltext import dump, header


def _minutes(m: float) -> str:
    return format_duration(m * 60)


def scenario_series(s: Scenario, service) -> list[Series]:
    """A scenario's input series, made from the service's own selectors (`synth`)."""
    series = list(s.series)
    for stream in s.streams:
        series += synth.call_series(service, stream, s.latency)
    for run in s.eval_series:
        series += synth.eval_series(service, run)
    return series


SeriesOf = Callable[[Scenario, Any], list[Series]]


def scenario_test(s: Scenario, service, series_of: SeriesOf = scenario_series) -> dict:
    """One promtool test of a scenario; `series_of` makes its input series (tests pass series of a real exporter)."""
    series = series_of(s, service)
    test: dict = {"name": s.name, "interval": format_duration(SAMPLE_SECONDS),
                  "input_series": [{"series": x.series, "values": x.values} for x in series]}
    if s.checks:
        test["alert_rule_test"] = [
            {"eval_time": _minutes(ch.minute), "alertname": ch.alertname,
             "exp_alerts": [{"exp_labels": dict(a.labels), "exp_annotations": dict(a.annotations)} for a in ch.alerts]}
            for ch in s.checks
        ]
    if s.exprs:
        test["promql_expr_test"] = [
            {"expr": e.expr, "eval_time": _minutes(e.minute),
             "exp_samples": [{"labels": "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}",
                              "value": float(format_number(value))} for labels, value in e.samples]}
            for e in s.exprs
        ]
    return test


def render_test_file(f: TestFile, series_of: SeriesOf = scenario_series) -> str:
    """A promtool unit-test file; rule files are named relative to the test file, as promtool reads them."""
    here = posixpath.dirname(f.path)
    intervals = {s.evaluation_interval for s in f.scenarios}
    assert len(intervals) == 1, f"{f.path}: scenarios disagree on the evaluation interval"
    data = {
        "rule_files": [posixpath.relpath(p, here) for p in f.rule_files],
        "evaluation_interval": format_duration(intervals.pop()),
        "group_eval_order": list(f.group_order),
    }
    try:
        data["tests"] = [scenario_test(s, f.service, series_of) for s in f.scenarios]
    except synth.SynthError as exc:
        # The source's selectors contradict each other (say, errors no request selector matches).
        raise SpecError(f.service.locate(("spec", "metrics")), "spec.metrics", f"cannot build test series: {exc}") from None
    return header(f.source, "promtool unit tests") + dump(data)


ALERTMANAGER_CONFIG = "alertmanager/alertmanager.yml"
ROUTE_TESTS = "alertmanager/routes.test.yml"


def render_alertmanager(plan: Plan) -> dict[str, str]:
    """alertmanager.yml and its routing cases (labels -> exact ordered receivers, for amtool)."""
    if plan.routing is None:
        return {}
    config = header("all specs", "Alertmanager 0.25 configuration") + dump(plan.routing.config())
    cases = [{"name": rc.name, "labels": dict(sorted(rc.labels.items())), "receivers": list(rc.receivers)}
             for rc in plan.routing.cases]
    tests = (header("all specs", "routing cases checked with `amtool config routes test --verify.receivers`")
             + dump({"config": "alertmanager.yml", "cases": cases}))
    return {ALERTMANAGER_CONFIG: config, ROUTE_TESTS: tests}


def render_configuration(plan: Plan) -> Iterator[tuple[str, str]]:
    """Every generated file but the promtool tests and the runbooks, as (path, content), one at a time: rule files
    (and Prometheus' set-up), the plain ones and those of the targets the plan places services on, and
    Alertmanager's."""
    yield from render_targets(plan)
    yield from render_alertmanager(plan).items()


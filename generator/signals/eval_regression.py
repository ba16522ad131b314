"""Mass eval failure: the production eval suite's pass ratio drops far below its baseline or under a floor.

Stale results page too: an eval pipeline that stopped reporting hides every regression behind it.
Eval results have no standard metric; the oncallgen convention is two gauges, per suite and model:
`ai_eval_cases{service, suite, model, result="pass"|"fail"}` (cases of the latest run) and
`ai_eval_last_run_timestamp_seconds{service, suite, model}`. `spec.metrics.eval` maps other names.
"""
from __future__ import annotations

import math

from .. import conventions as c
from .. import promql_fragments as fragments
from ..promql import Matcher
from .. import boundaries
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, EvalRun, Group, Output, Recording, Scenario
from ..content.runbook import Query, RunbookContent, Step
from ..content.links import kubectl, percent, status_pages
from ..content.markdown import code
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from ..sli import with_history
from ..templating import literal
from .base import Config, Signal, expect, make_alert

NAME = "eval_regression"
ALERT = c.alert_name("EvalRegression")
STALE = c.alert_name("EvalResultsStale")
RATIO = "service_suite_model:ai_eval_pass:ratio"
CASES = "service_suite_model:ai_eval_cases:count"
AGE = "service_suite_model:ai_eval_last_run:age_seconds"


class EvalRegression(Signal):
    name = NAME
    alerts = {"page": ALERT, "stale": STALE}
    description = "Page when the production eval suite regresses, or stops reporting."
    auto_when = "on when `suite` is set"
    requires_sli = False
    schema = {
        "suite": {"type": "string", "description": "The production eval suite to watch (its `suite` label)."},
        "max_drop": unit("points", "Page when the pass ratio falls this far below its baseline.", "10pp"),
        "floor": unit("ratio", "Page when the pass ratio falls below this, whatever the baseline.", "80%"),
        "baseline": unit("duration", "Average the recorded pass ratio over this window.", "1d"),
        "min_cases": number("Cases a run needs before its ratio counts.", 20),
        "stale_after": unit("duration", "Page when the latest run is older than this.", "6h"),
        "for": unit("duration", "How long a regression must last before paging.", "5m"),
    }

    def auto(self, service):
        return bool(service.signals[NAME].get("suite"))

    def check(self, service, cfg):
        if not cfg.get("suite"):
            raise FieldError(("suite",), "the eval_regression signal needs the name of the production suite")
        if cfg["floor"] >= 1:
            raise FieldError(("floor",), "expected a floor below 100%")

    def history(self, service, cfg) -> float:
        return cfg["baseline"]

    def build(self, service, cfg: Config) -> Output:
        ev = service.source.eval
        labels = ((c.SERVICE, service.name), (c.TEAM, service.team))
        suite = Matcher(ev.suite_label, "=", cfg["suite"])
        cases = ev.cases.with_matchers(suite)

        def by_suite_model(expr: str) -> str:
            for target, label in (("suite", ev.suite_label), ("model", ev.model_label)):
                if label != target:
                    expr = fragments.copy_label(expr, target, label)
            return f"sum by (suite, model) ({expr})"

        passed = by_suite_model(str(cases.with_matchers(Matcher(ev.result_label, "=", ev.pass_value))))
        counted = by_suite_model(str(cases.with_matchers(Matcher(ev.result_label, "=~", fragments.alternatives(ev.pass_value, ev.fail_value)))))
        last_run = str(ev.last_run.with_matchers(suite))
        for target, label in (("suite", ev.suite_label), ("model", ev.model_label)):
            if label != target:
                last_run = fragments.copy_label(last_run, target, label)
        w = c.window(cfg["baseline"])
        own = c.selector(service=service.name)
        rules = [
            Recording(CASES, counted, labels),
            Recording(RATIO, f"{passed} / {counted}", labels),
            Recording(f"{RATIO}_avg{w}", f"avg_over_time({RATIO}{own}[{w}])"),
            Recording(AGE, f"time() - max by (suite, model) ({last_run})", labels),
        ]
        # Against the baseline only once the suite has a baseline's worth of runs; the floor holds from the first run.
        drop = with_history(f"{RATIO}{own} < {RATIO}_avg{w}{own} - {format_number(cfg['max_drop'])}", service,
                            cfg["baseline"], series=RATIO, on=(c.SERVICE, c.TEAM, "suite", "model"))
        regression = make_alert(
            service, NAME, ALERT,
            f"({drop} or {RATIO}{own} < "
            f"{format_number(cfg['floor'])}) and {CASES}{own} >= {format_number(cfg['min_cases'])}",
            cfg["for"], c.PAGE,
            summary="The production eval suite regressed.",
            description=("Eval suite {{ $labels.suite }} passes only {{ $value | humanizePercentage }} of cases on "
                         f"{{{{ $labels.model }}}}: more than {format_number(cfg['max_drop'] * 100)} points below its "
                         f"{w} baseline, or under the {format_number(cfg['floor'] * 100)}% floor."),
        )
        stale = make_alert(
            service, NAME, STALE, f"{AGE}{own} > {format_number(cfg['stale_after'])}", 0, c.PAGE,
            summary="Eval results stopped arriving.",
            description=("The latest run of eval suite {{ $labels.suite }} on {{ $labels.model }} is "
                         f"{{{{ $value | humanizeDuration }}}} old (limit {format_duration(cfg['stale_after'])}): "
                         "regressions would go unseen."),
        )
        # A dead exporter or pushgateway takes the series with it: their absence is as stale as an old run.
        gone_sel = ev.last_run.with_matchers(suite)
        gone = make_alert(
            service, NAME, STALE, f"absent({gone_sel})", cfg["stale_after"], c.PAGE,
            extra={"reason": "results_missing"},
            summary="Eval results stopped arriving.",
            description=(f"No results of eval suite {literal(cfg['suite'])} for {service.name} at all for "
                         f"{format_duration(cfg['stale_after'])}: the exporter or pushgateway may be gone, and "
                         "regressions would go unseen."),
        )
        # absent() returns the selector's equality matchers as labels.
        gone_labels = {m.name: m.value for m in gone_sel.matchers if m.op == "="}
        rules += [regression, stale, gone]
        group = Group(c.group_name(service.name, NAME), NAME, tuple(rules))
        scenarios = tuple(self._scenarios(service, cfg, regression, stale))
        # No series from the start: absent() holds from the first evaluation, so the page is due at `stale_after`.
        due = -(-int(cfg["stale_after"]) // 60)
        vanished = Scenario(
            f"{STALE} fires when the suite's results vanish altogether for {format_duration(cfg['stale_after'])}",
            checks=(Check(due - 1, STALE),
                    Check(due, STALE, (expect(gone, None, **gone_labels),), due=True)),
        )
        return Output(groups=(group,), scenarios=scenarios + (vanished,))

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        own = c.selector(service=service.name)
        w = c.window(cfg["baseline"])
        suite, floor = code(cfg["suite"]), percent(cfg["floor"])
        drop = f"{format_number(cfg['max_drop'] * 100)} points"
        history = Query(f"Pass ratio against its {w} baseline (negative: points lost)",
                        f"{RATIO}{own} - {RATIO}_avg{w}{own}")
        if alert.alert == STALE:
            return RunbookContent(
                meaning=(f"The latest run of eval suite {suite} on a model of `{service.name}` is older than "
                         f"{format_duration(cfg['stale_after'])}."),
                impact=("Nothing users see yet, but regressions go unseen: the eval alert cannot fire on results that "
                        "do not arrive."),
                steps=(
                    Step("How old are the latest results, per suite and model (seconds)?", f"{AGE}{own}",
                         branches=(("every model of the suite is stale", "the eval job stopped → step:jobs"),
                                   ("only one model is stale", "that model was removed or renamed: update "
                                    "spec.providers[].models and the suite's configuration"))),
                    Step("Is the eval job running?", key="jobs",
                         command=k("get cronjobs,jobs --sort-by=.metadata.creationTimestamp"),
                         branches=(("the last job failed", f"read its logs (`{k('logs job/<name>')}`) and rerun it"),
                                   ("no job is scheduled", "the schedule was suspended or deleted: restore it"))),
                ),
                queries=(Query("Cases of the latest run", f"{CASES}{own}"),),
            )
        return RunbookContent(
            meaning=(f"Eval suite {suite} passes more than {drop} fewer cases on a model than its {w} average, or "
                     f"less than {floor} of them (runs of at least {format_number(cfg['min_cases'])} cases), for "
                     f"{format_duration(cfg['for'])}."),
            impact=("Answers got worse in a way users notice before any metric: wrong, unsafe or badly formatted "
                    "output. Errors and latency can look perfectly normal."),
            steps=(
                Step("Which model regressed, and how far? Pass ratio per suite and model.", f"{RATIO}{own}",
                     branches=(("one model regressed", "did its provider change the model behind the same name? "
                                                       "→ step:provider"),
                               ("every model regressed", "our prompts, retrieval or tools changed → step:rollout"))),
                Step(f"Did the provider update the model? Its changelog and status page ({status_pages(service)}).",
                     key="provider",
                     branches=(("a new version shipped", "pin the previous version if the API allows it, or route the "
                                                        "model to its fallback; report the regression to the provider"),
                               ("nothing announced", "→ step:rollout"))),
                Step("Did a rollout change prompts, the retrieval index or tools before the drop?", command=k.history(),
                     key="rollout",
                     branches=(("yes", f"roll back: `{k.undo()}`, then rerun the suite"),
                               ("no", "→ step:cases"))),
                Step("Did the suite itself change? Cases per run.", f"{CASES}{own}", key="cases",
                     branches=(("the number of cases changed", "new or changed cases, not a product regression: "
                                                               "confirm with the suite's owners"),
                               ("same cases", f"read the failing cases in the eval tool; the page clears above {floor} "
                                              f"and within {drop} of the baseline"))),
            ),
            mitigation=("A regression that reaches users is an incident even when nothing errors: treat it like an "
                        "outage.",),
            queries=(history, Query("Age of the latest run (seconds)", f"{AGE}{own}")),
            history=(f"The comparison with the {w} baseline waits until the suite has {format_duration(cfg['baseline'])} "
                     f"of results on the model (a new suite, model or exporter has none); the {floor} floor applies "
                     "from the first run."),
        )

    def probe(self, service, cfg, regression) -> Probe:
        """The floor: the pass ratio below the spec's, in runs of at least `min_cases` cases, for `for`."""
        suite = cfg["suite"]
        model = service.models[0] if service.models else "default"
        minutes = int(cfg["for"] // 60) + 30

        def results(ratio: float, guard: float | None) -> Traffic:
            # Whole cases, on the same side of `min_cases` as the guard value asked for.
            total = (max(200, int(cfg["min_cases"]) * 10) if guard is None else
                     math.ceil(guard) if guard > cfg["min_cases"] else math.floor(guard))

            passed = math.floor(total * ratio) if ratio < cfg["floor"] else math.ceil(total * ratio)
            run = EvalRun(suite, model, ((minutes, passed, total - passed, True),))
            return Traffic(0, eval_series=(run,), value=passed / total if total else 0.0)

        return Probe(regression, Clause("pass ratio", "<", cfg["floor"]), cfg["for"], results,
                     lambda t: (expect(regression, t.value, suite=suite, model=model),),
                     guard=Clause("cases in the run", ">", cfg["min_cases"]))

    def _scenarios(self, service, cfg, regression, stale):
        yield from boundaries.scenarios(self.probe(service, cfg, regression))
        suite = cfg["suite"]
        model = service.models[0] if service.models else "default"
        total = max(1000, int(cfg["min_cases"]) * 2)  # fine enough to fall between the floor and the baseline
        # Healthy runs pass well above the floor; with a floor near 100% every case may have to pass.
        good = round(total * min(1.0, max(0.98, cfg["floor"] + cfg["max_drop"] + 0.03), cfg["floor"] + 0.15))
        fires_at = 120 + int(cfg["for"] // 60) + 3
        bad = round(total * cfg["floor"] * 0.75)
        yield Scenario(
            f"{ALERT} fires when {suite} drops from {good}/{total} to {bad}/{total} passed",
            eval_series=(EvalRun(suite, model, ((120, good, total - good, True), (30, bad, total - bad, True))),),
            checks=(Check(110, ALERT), Check(fires_at, ALERT, (expect(regression, bad / total, suite=suite, model=model),))),
        )
        # Above the floor, more than max_drop below the baseline: a regression only once the baseline exists.
        drop = round(total * (cfg["floor"] + (good / total - cfg["max_drop"] - cfg["floor"]) / 2))
        if cfg["floor"] < drop / total < good / total - cfg["max_drop"]:
            day = int(cfg["baseline"] // 60)
            due = day + 60 + 5 + -(-int(cfg["for"] // 60) // 5) * 5
            yield Scenario(
                f"{ALERT} fires when {suite} drops from {good}/{total} to {drop}/{total} passed (above the floor, below "
                f"its baseline) once the suite has {format_duration(cfg['baseline'])} of results",
                eval_series=(EvalRun(suite, model, ((day + 60, good, total - good, True), (60, drop, total - drop, True))),),
                checks=(Check(day + 55, ALERT),
                        Check(due, ALERT, (expect(regression, drop / total, suite=suite, model=model),))),
                evaluation_interval=300,
            )
            yield Scenario(
                f"{ALERT} can page on the drop at the earliest once the suite has {format_duration(cfg['baseline'])} "
                "of results: a drop 30 minutes earlier stays silent until then",
                eval_series=(EvalRun(suite, model, ((day - 30, good, total - good, True), (90, drop, total - drop, True))),),
                checks=(Check(day - 5, ALERT),
                        Check(due - 60, ALERT, (expect(regression, drop / total, suite=suite, model=model),),
                              lasts=False)),
                evaluation_interval=300,
            )
            yield Scenario(
                f"{ALERT} stays silent from an empty history: results start, then drop to {drop}/{total} before the "
                f"baseline holds {format_duration(cfg['baseline'])}",
                eval_series=(EvalRun(suite, model, ((120, good, total - good, True), (60, drop, total - drop, True))),),
                checks=tuple(Check(m, ALERT) for m in (5, 60, 130, 150, 175)),
            )
        yield Scenario(
            f"{ALERT} stays silent when one more case fails",
            eval_series=(EvalRun(suite, model, ((120, good, total - good, True), (30, good - 1, total - good + 1, True))),),
            checks=(Check(fires_at, ALERT), Check(140, ALERT)),
        )
        stop = 60
        stale_min = int(cfg["stale_after"] // 60)
        late = stop + stale_min + 5
        yield Scenario(
            f"{STALE} fires when runs stop arriving for longer than {format_duration(cfg['stale_after'])}",
            eval_series=(EvalRun(suite, model, ((stop, good, total - good, True), (late - stop, good, total - good, False))),),
            # The last run is at minute `stop`: its age passes `stale_after` one minute after stop + stale_after,
            # so the page is due then (it has no `for`) and its secondary tier exactly its delay later.
            checks=(Check(stop + stale_min - 5, STALE),
                    Check(stop + stale_min + 1, STALE, (expect(stale, (stale_min + 1) * 60, suite=suite, model=model),),
                          due=True, later=lambda n: (expect(stale, (stale_min + 1 + n) * 60, suite=suite, model=model),)),
                    Check(late, STALE, (expect(stale, (late - stop) * 60, suite=suite, model=model),),
                          # the age in its description keeps growing
                          later=lambda n: (expect(stale, (late - stop + n) * 60, suite=suite, model=model),))),
        )
        yield Scenario(
            f"{STALE} stays silent while runs keep arriving",
            eval_series=(EvalRun(suite, model, ((late, good, total - good, True),)),),
            checks=(Check(late, STALE),),
        )


SIGNAL = EvalRegression()

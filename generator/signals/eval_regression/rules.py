"""eval_regression: its names, settings, checks and rules."""
from __future__ import annotations

from ... import conventions as c, promql_fragments as fragments
from ...promql import Matcher
from ...rules import Group, Recording, Rules
from ...sli import with_history
from ...spec.errors import FieldError
from ...spec.schema import number, unit
from ...spec.units import format_duration, format_number
from ...templating import literal
from ..base import Config, Signal, make_alert

NAME = "eval_regression"
ALERT = c.alert_name("EvalRegression")
STALE = c.alert_name("EvalResultsStale")
# Per suite and model: the pass ratio of the latest run, the cases it counted, and how old it is.
RATIO = c.record("service_suite_model", "ai_eval_pass", "ratio")
CASES = c.record("service_suite_model", "ai_eval_cases", "count")
AGE = c.record("service_suite_model", "ai_eval_last_run", "age_seconds")


def baseline(seconds: float) -> str:
    """The pass ratio averaged over the baseline window."""
    return c.record("service_suite_model", "ai_eval_pass", f"ratio_avg{c.window(seconds)}")


class EvalRegression(Signal):
    name = NAME
    alerts = {"page": ALERT, "stale": STALE}
    description = "Page when the production eval suite regresses, or stops reporting."
    auto_when = "on when `suite` is set"
    requires_sli = False
    schema = {
        "suite": {"type": "string", "description": "The production eval suite to watch (its `suite` label)."},
        "max_drop": unit("points", "Page when the pass ratio falls this far below its baseline.", "10pp"),
        "floor": unit("ratio", "Page when the pass ratio falls below this, whatever the baseline.", "80%", crossed="below"),
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

    def gone_selector(self, service, cfg):
        """The suite's last-run series, whose absence means its results stopped arriving altogether."""
        return service.source.eval.last_run.with_matchers(Matcher(service.source.eval.suite_label, "=", cfg["suite"]))

    def rules(self, service, cfg: Config) -> Rules:
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
            Recording(baseline(cfg["baseline"]), f"avg_over_time({RATIO}{own}[{w}])"),
            Recording(AGE, f"time() - max by (suite, model) ({last_run})", labels),
        ]
        # Against the baseline only once the suite has a baseline's worth of runs; the floor holds from the first run.
        drop = with_history(f"{RATIO}{own} < {baseline(cfg['baseline'])}{own} - {format_number(cfg['max_drop'])}", service,
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
        gone_sel = self.gone_selector(service, cfg)
        gone = make_alert(
            service, NAME, STALE, f"absent({gone_sel})", cfg["stale_after"], c.PAGE,
            extra={"reason": "results_missing"},
            summary="Eval results stopped arriving.",
            description=(f"No results of eval suite {literal(cfg['suite'])} for {service.name} at all for "
                         f"{format_duration(cfg['stale_after'])}: the exporter or pushgateway may be gone, and "
                         "regressions would go unseen."),
        )
        rules += [regression, stale, gone]
        group = Group(c.group_name(service.name, NAME), NAME, tuple(rules))
        return Rules((group,))

"""Mass eval failure: the production eval suite's pass ratio drops far below its baseline or under a floor.

Stale results page too: an eval pipeline that stopped reporting hides every regression behind it.
Eval results have no standard metric; the oncallgen convention is two gauges, per suite and model:
`ai_eval_cases{service, suite, model, result="pass"|"fail"}` (cases of the latest run) and
`ai_eval_last_run_timestamp_seconds{service, suite, model}`. `spec.metrics.eval` maps other names.
"""
from __future__ import annotations

from . import runbook, scenarios
from .rules import EvalRegression


class EvalRegressionSignal(EvalRegression):
    """Its rules, the runbook content and the promtool scenarios they get."""

    runbook = runbook.runbook
    scenarios = scenarios.scenarios


SIGNAL = EvalRegressionSignal()

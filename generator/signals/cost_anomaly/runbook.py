"""What the runbooks of cost_anomaly's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import alert_ref, kubectl, times
from ...content.runbook import Query, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from ..base import alert_link
from .rules import ALERT, CostAnomaly, FORECAST, NAME, daily_forecast


def runbook(self: CostAnomaly, service, cfg, alert):
    k = kubectl(service)
    forecast = daily_forecast(cfg)
    source = ("a spend counter in the metrics" if service.source.spend is not None else
              "token counts priced with spec.pricing (stale prices give wrong figures)")
    if alert.alert == FORECAST:
        meaning = (f"At the rate of the last hour, `{service.name}` would spend more than {format_number(forecast)} "
                   f"USD a day, its forecast, and has for {format_duration(cfg['forecast_for'])}.")
        impact = ("The budget overruns if this lasts. Not urgent: a ticket, handled in working hours; it pages as "
                  + alert_ref(service, NAME, ALERT) + f" at {times(cfg['factor'])} the usual rate.")
    else:
        meaning = (f"`{service.name}` spends more than {times(cfg['factor'])} its usual rate at this time of day (the "
                   f"same hour on the previous days, up to a week) and more than "
                   f"{format_number(cfg['min_usd_per_hour'])} USD an hour"
                   + (f", beyond its forecast of {format_number(forecast)} USD a day" if forecast else "")
                   + f", for {format_duration(cfg['for'])}.")
        impact = ("Money, fast. The usual causes: a retry loop or runaway agent, abuse of a public endpoint, or a "
                  "rollout that switched to a pricier model or longer prompts.")
    steps = (
        Step("Which model spends? USD per hour per model.", f"3600 * {own(c.SPEND_RATE5M_BY_MODEL, service)}",
             branches=(("one model spends far more than usual", "→ step:per_call"),
                       ("every model spends more", "more calls overall → step:traffic"))),
        Step("Did each call get dearer? USD per call per model.",
             f"{own(c.SPEND_RATE5M_BY_MODEL, service)} / {own(c.REQUESTS_RATE5M_BY_MODEL, service)}",
             key="per_call",
             branches=(("USD per call jumped", "longer prompts or outputs, retries, or a pricier model → step:rollout"),
                       ("USD per call is flat", "more calls → step:traffic"))),
        Step("Did traffic jump? Calls per second against the daily average (1 = usual).",
             f"{own(c.REQUESTS_RATE5M, service)} / {own(c.REQUESTS_RATE1H_AVG1D, service)}",
             key="traffic",
             branches=(("far above 1", "a client loops or abuses the service: find it in the logs (`"
                        + k.logs("client|user|tenant|api.key", since="30m") + "`) and block it; "
                        + alert_link(service, "rate_limit", "signal") + " caps the rest"),
                       ("around 1", "→ step:rollout"))),
        Step("Did a rollout change models, prompts or retries?", command=k.history(), key="rollout",
             branches=(("a rollout lines up with the jump", f"roll back: `{k.undo()}`"),
                       ("no rollout", "check the provider's price list against "
                        + ("our spec.pricing" if service.source.spend is None else
                           "the prices the spend counter uses (LiteLLM: its model cost map, or `input_cost_per_token`"
                           " in the proxy's `model_info`)") + ": did a price change?"))),
    )
    history = "" if alert.alert == FORECAST else (
        f"Silent until the service has {format_duration(cfg['baseline'])} of spend history (a new service, a "
        "renamed job or a fresh Prometheus): the same hour the day before is its normal rate. The forecast ticket "
        "needs no history.")
    return RunbookContent(
        history=history,
        meaning=meaning + f" Spend comes from {source}.",
        impact=impact,
        steps=steps,
        mitigation=("Cap the damage before the root cause: lower the rate limit, or route the expensive model to a "
                    "cheaper one.",
                    "Provider billing dashboards lag by hours; the recorded spend here is the fast figure."),
        queries=(Query("USD per hour, whole service", f"3600 * {own(c.SPEND_RATE5M, service)}"),
                 Query("Usual USD per hour at this time of day", f"3600 * {own(c.SPEND_SAME_HOUR, service)}"),
                 Query("Projected USD per day", f"86400 * {own(c.SPEND_RATE1H, service)}")),
    )

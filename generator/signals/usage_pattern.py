"""New usage patterns: information to track, never a page. A model never seen in the past day, or
traffic far outside its usual shape, is reported at severity info.
"""
from __future__ import annotations

from .. import conventions as c
from .. import boundaries
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, Group, Output, Phase, Scenario, Stream
from ..content.runbook import Query, RunbookContent, Step
from ..content.links import kubectl, times
from ..sli import own, with_history
from ..spec.schema import unit
from ..spec.units import format_duration, format_number
from .base import Config, Signal, alert_link, expect, first_model, make_alert

NAME = "usage_pattern"
NEW_MODEL = c.alert_name("UsageNewModel")
TRAFFIC = c.alert_name("UsageTrafficUnusual")
DAY = 86400  # the daily average unusual traffic is measured against, and the history it needs first


class UsagePattern(Signal):
    name = NAME
    alerts = {"new_model": NEW_MODEL, "traffic": TRAFFIC}
    description = "Report new models and unusual traffic at severity info, for tracking."
    auto_when = "on"
    schema = {
        "lookback": unit("duration", "A model is new when it had no traffic in this window (ending 1h ago).", "1d"),
        "traffic_factor": unit("factor", "Traffic is unusual when the 1h rate is this far above its usual rate at this time of day (the same hour on the previous days, up to a week).", "3x"),
        "for": unit("duration", "How long a pattern must hold before it is reported.", "10m"),
    }

    def history(self, service, cfg) -> float:
        return max(cfg["lookback"] + 3600, DAY)

    def build(self, service, cfg: Config) -> Output:
        w = c.window(cfg["lookback"])
        rate = own("service_model:ai_requests:rate5m", service)
        new_model = make_alert(
            service, NAME, NEW_MODEL,
            with_history(f"{rate} > 0 unless on (service, model) (max_over_time({rate}[{w}] offset 1h) > 0)", service,
                         cfg["lookback"] + 3600), cfg["for"], c.INFO,
            summary="A new model is serving traffic.",
            description=("{{ $labels.service }} started calling {{ $labels.model }} ({{ printf \"%.2f\" $value }} calls/s), "
                         f"unseen in the {w} before."),
        )
        hourly, daily = own("service:ai_requests:rate1h", service), own(c.REQUESTS_SAME_HOUR, service)
        f = format_number(cfg["traffic_factor"])
        traffic = make_alert(
            service, NAME, TRAFFIC, with_history(f"{hourly} > {f} * {daily}", service, DAY), cfg["for"], c.INFO,
            summary="Traffic is far outside its usual shape.",
            description=("{{ $labels.service }} gets {{ printf \"%.2f\" $value }} calls/s over the last hour, "
                         f"more than {f}x its usual rate at this time of day."),
        )
        group = Group(c.group_name(service.name, NAME), NAME, (new_model, traffic))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, new_model, traffic)))

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        f = times(cfg["traffic_factor"])
        if alert.alert == NEW_MODEL:
            return RunbookContent(
                meaning=(f"`{service.name}` has called a model for {format_duration(cfg['for'])} that had no traffic in "
                         f"the {c.window(cfg['lookback'])} before (ending an hour ago). Information, never a page."),
                impact=("None directly. A model outside spec.providers has no price, no failover plan and no eval "
                        "coverage."),
                steps=(
                    Step("Which model, through which provider, and how much traffic? Calls per second.",
                         f"sum by ({c.PROVIDER}, {c.MODEL}) ({own('service_provider_model:ai_requests:rate5m', service)})",
                         branches=(("it was planned (a launch or migration)",
                                    "add it to spec.providers[].models, spec.pricing and the eval suite, then "
                                    "`make generate`"),
                                   ("nobody planned it", "a configuration change or a client choosing models freely "
                                                         "→ step:rollout"))),
                    Step("Did a rollout change the model configuration?", command=k.history(), key="rollout",
                         branches=(("yes", "confirm with its author; roll back if it was a mistake"),
                                   ("no", "a client picks the model: restrict models at the gateway"))),
                ),
                history=(f"Silent until the service has {format_duration(cfg['lookback'] + 3600)} of history "
                         "(a new service, a renamed job or a fresh Prometheus): before that every model looks new."),
            )
        ratio = f"{own('service:ai_requests:rate1h', service)} / {own(c.REQUESTS_SAME_HOUR, service)}"
        return RunbookContent(
            meaning=(f"The call rate of `{service.name}` over the last hour is more than {f} its usual rate at this time of day (the same hour on the previous days, up to a week), for "
                     f"{format_duration(cfg['for'])}. Information, never a page. (Traffic below it is not "
                     "reported.)"),
            impact="Cost and rate limits follow the traffic; the provider may start throttling.",
            steps=(Step("How far above usual? The last hour against the same hour on the previous days (1 = usual).", ratio,
                        branches=((f"above {format_number(cfg['traffic_factor'])} and one client dominates",
                                   "a retry loop or abuse: find the client in the gateway logs and watch "
                                   + alert_link(service, "rate_limit", "signal")),
                                  (f"above {format_number(cfg['traffic_factor'])} across clients",
                                   "a launch or a campaign: watch "
                                   + alert_link(service, "cost_anomaly", "page")
                                   + " and tell the team so the forecast is raised"))),),
            queries=(Query("Calls per second per model", own("service_model:ai_requests:rate5m", service)),),
            history=("Silent until the service has a day of history (a new service, a renamed job or a fresh "
                     "Prometheus): the same hour the day before is its baseline."),
        )

    def probe(self, service, cfg, traffic) -> Probe:
        """The unusual-traffic report: the last hour's calls/s against `traffic_factor` times the same hour the day
        before, after a day of steady traffic (5m evaluations)."""
        p, model = first_model(service)
        start = DAY // 60 + 120
        usual = 600.0

        def make(scale: float, guard: float | None) -> Traffic:
            # The 1h rate climbs as its window slides over the step: from when it holds enough of the new rate.
            try:
                onset, scale = boundaries.crossing(start, 1.0, scale, cfg["traffic_factor"], 60)
            except ValueError:
                onset = start + 60.0  # it never holds: a silent case
            phases = (Phase(start, ok=usual), Phase(int(onset) - start + int(cfg["for"] // 60) + 30, ok=usual * scale))
            return Traffic(onset, streams=(Stream(p.name, model, phases),),
                           value_at=lambda m: usual / 60 * boundaries.window_average(start, 1.0, scale, m, 60))

        return Probe(traffic, Clause("calls/s over 1h / the same hour the day before", ">", cfg["traffic_factor"]),
                     cfg["for"], make, lambda t: (expect(traffic, t.value),), step=5)

    def _scenarios(self, service, cfg, new_model, traffic):
        yield from boundaries.scenarios(self.probe(service, cfg, traffic))
        p, model = first_model(service)
        yield Scenario(
            f"{NEW_MODEL} and {TRAFFIC} stay silent from an empty history (a cold start: every model is new to a "
            "fresh Prometheus)",
            streams=(Stream(p.name, model, (Phase(180, ok=600),)), Stream(p.name, "second-model", (Phase(180, ok=60),))),
            checks=tuple(Check(m, a) for m in (15, 30, 60, 120, 175) for a in (NEW_MODEL, TRAFFIC)),
        )
        # Days of history, every five minutes.
        known = int((cfg["lookback"] + 3600) // 60)
        f = int(cfg["for"] // 60)
        at = known + 5 + -(-f // 5) * 5
        yield Scenario(
            f"{NEW_MODEL} reports a model that starts serving once {format_duration(cfg['lookback'] + 3600)} of "
            "history exist; known models and steady traffic stay silent",
            streams=(Stream(p.name, model, (Phase(at + 10, ok=600),)),
                     Stream(p.name, "brand-new-model", (Phase(known), Phase(at - known + 10, ok=60)))),
            checks=(Check(known - 5, NEW_MODEL), Check(at, NEW_MODEL, (expect(new_model, 1, model="brand-new-model"),)),
                    Check(at, TRAFFIC)),
            evaluation_interval=300,
        )
        # Its `for`, at a step fine enough to see it end: the new model's first calls arrive at the sample of minute
        # known + 1, the first evaluation from then on starts the `for`.
        fine = boundaries.for_step(300, cfg["for"])
        due = boundaries.on_grid(known + 1, fine) + boundaries.on_grid(cfg["for"] / 60, fine)
        yield Scenario(
            f"{NEW_MODEL} reports a new model {format_duration(cfg['for'])} after its first calls, not one evaluation "
            f"({format_duration(fine)}) earlier",
            streams=(Stream(p.name, model, (Phase(int(due) + 10, ok=600),)),
                     Stream(p.name, "brand-new-model", (Phase(known), Phase(int(due) - known + 10, ok=60)))),
            checks=(Check(due - fine / 60, NEW_MODEL),
                    Check(due, NEW_MODEL, (expect(new_model, 1, model="brand-new-model"),), lasts=False)),
            evaluation_interval=fine,
        )
        # A model that appears shortly before the history exists reports once it does, if its `for` ends before its
        # own first calls enter the lookback window (an hour after them): it then counts as known and stays silent.
        early = min(30, 60 - (at - known) - 5)
        if early >= 5:
            yield Scenario(
                f"{NEW_MODEL} can report at the earliest once {format_duration(cfg['lookback'] + 3600)} of history "
                f"exist: a model that appears {early} minutes earlier stays silent until then",
                streams=(Stream(p.name, model, (Phase(at + 10, ok=600),)),
                         Stream(p.name, "brand-new-model", (Phase(known - early), Phase(at - known + early + 10, ok=60)))),
                checks=(Check(known - 5, NEW_MODEL),
                        Check(at, NEW_MODEL, (expect(new_model, 1, model="brand-new-model"),), lasts=False)),
                evaluation_interval=300,
            )
        yield Scenario(
            f"{NEW_MODEL} stays silent when a model appears before {format_duration(cfg['lookback'] + 3600)} of "
            "history exist",
            streams=(Stream(p.name, model, (Phase(240, ok=600),)),
                     Stream(p.name, "brand-new-model", (Phase(120), Phase(120, ok=60)))),
            checks=(Check(120 + f + 10, NEW_MODEL), Check(235, NEW_MODEL)),
        )
        busy = 600 * cfg["traffic_factor"] * 4
        yield Scenario(
            f"{TRAFFIC} stays silent on traffic at {cfg['traffic_factor'] * 4:g}x its usual rate before the service "
            "has a day of history",
            streams=(Stream(p.name, model, (Phase(120, ok=600), Phase(120, ok=busy))),),
            checks=tuple(Check(m, TRAFFIC) for m in (150, 180, 200, 235)),
        )
        day = DAY // 60
        late = day + 60 + -(-f // 5) * 5 + 5
        yield Scenario(
            f"{TRAFFIC} reports traffic at {cfg['traffic_factor'] * 4:g}x its usual rate for an hour, once a day of "
            "history exists",
            streams=(Stream(p.name, model, (Phase(day, ok=600), Phase(late - day + 10, ok=busy))),),
            checks=(Check(day - 5, TRAFFIC), Check(late, TRAFFIC, (expect(traffic, busy / 60),))),
            evaluation_interval=300,
        )


SIGNAL = UsagePattern()

"""Rate limiting, automated first: a traffic spike or sustained 429s engage the rate limiter (which keeps
spend and provider throttling in check); a human is paged only if it stays engaged.
"""
from __future__ import annotations

import math

from .. import conventions as c
from .. import boundaries
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, Group, Output, Phase, Recording, Scenario, Stream
from ..content.runbook import Query, Remediation, RunbookContent, Step
from ..content.links import kubectl, percent, silence, times
from ..sli import days_ago_peak, own, with_history
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from .base import Config, Signal, expect, first_model, make_alert

NAME = "rate_limit"
SIGNAL_ALERT = c.alert_name("RateLimitEngaged")
PAGE_ALERT = c.alert_name("RateLimitSustained")
ACTION = "rate_limit"
BASELINE = 86400  # the daily average the traffic clause compares against, and the history it needs first


class RateLimit(Signal):
    name = NAME
    alerts = {"signal": SIGNAL_ALERT, "page": PAGE_ALERT}
    remediation = ACTION
    description = "Tell automation to rate limit on traffic spikes or 429s; page if it stays engaged."
    auto_when = "on"
    schema = {
        "rate_limited_ratio_above": unit("ratio", "Engage when this share of calls is rate limited (429).", "5%"),
        "traffic_factor": unit("factor", "Engage when traffic exceeds this multiple of its usual rate at this time of day (the busiest hour-long window starting within the hour from this time on the previous days, up to a week; the daily average while no previous day has the hour).", "3x"),
        "min_request_rate": number("Calls per second needed before either condition counts.", 0.2),
        "for": unit("duration", "How long before the rate-limit signal fires.", "2m"),
        "page_after": unit("duration", "Page when rate limiting stays engaged this long.", "30m"),
    }

    def check(self, service, cfg):
        if cfg["page_after"] <= cfg["for"]:
            raise FieldError(("page_after",), "expected longer than `for`: automation acts first")
        if cfg["traffic_factor"] <= 1:
            raise FieldError(("traffic_factor",), "expected a factor above 1x")

    def history(self, service, cfg) -> float:
        return BASELINE

    def build(self, service, cfg: Config) -> Output:
        traffic = f"{own('service:ai_requests:rate5m', service)} > {format_number(cfg['min_request_rate'])}"
        spike = with_history(f"{own('service:ai_requests:rate5m', service)} > {format_number(cfg['traffic_factor'])}"
                             f" * {own(c.REQUESTS_SAME_HOUR_PEAK, service)}", service, BASELINE)
        cond = (f"({own('service:ai_rate_limited:ratio_rate5m', service)} > {format_number(cfg['rate_limited_ratio_above'])}"
                f" or {spike}) and {traffic}")
        signal = make_alert(
            service, NAME, SIGNAL_ALERT, cond, cfg["for"], c.INFO, remediation=ACTION,
            summary="Rate limiting engaged.",
            description=("{{ $labels.service }} sees rate-limited calls above "
                         f"{format_number(cfg['rate_limited_ratio_above'] * 100)}% or traffic above "
                         f"{format_number(cfg['traffic_factor'])}x its usual rate at this time of day; automation throttles clients."),
        )
        page = make_alert(
            service, NAME, PAGE_ALERT, cond, cfg["page_after"], c.PAGE,
            summary="Rate limiting has stayed engaged.",
            description=(f"Rate limiting of {{{{ $labels.service }}}} has been engaged for "
                         f"{format_duration(cfg['page_after'])}: the spike is not passing."),
        )
        # The busiest hour from this time on the previous days, not the hour that ended now: a 5m rate against the
        # latter calls every morning ramp a spike for its first minutes.
        peak = Recording(c.REQUESTS_SAME_HOUR_PEAK, f"{days_ago_peak('service:ai_requests:rate1h', service)} or "
                                                    f"{own(c.REQUESTS_SAME_HOUR, service)}")
        group = Group(c.group_name(service.name, NAME), NAME, (peak, signal, page))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, signal, page)))

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        limited = percent(cfg["rate_limited_ratio_above"])
        factor = times(cfg["traffic_factor"])
        ratio = own("service:ai_rate_limited:ratio_rate5m", service)
        load = f"{own('service:ai_requests:rate5m', service)} / {own(c.REQUESTS_SAME_HOUR_PEAK, service)}"
        condition = (f"more than {limited} of the calls of `{service.name}` are rate limited (429), or its traffic is "
                     f"above {factor} its usual rate at this time of day (the busiest hour from this time on the previous days, up to a week) (while it gets more than "
                     f"{format_number(cfg['min_request_rate'])} calls/s)")
        why = Step("Why is it engaged: provider 429s, or our own traffic? Share of calls rate limited.", ratio,
                   branches=((f"above {limited}", "the provider's quota → step:quota"),
                             (f"below {limited}", "a traffic spike → step:traffic")))
        quota = Step("Which provider and model answer 429?",
                     f"{own('service_provider_model:ai_rate_limited:rate5m', service)} / "
                     f"{own('service_provider_model:ai_requests:rate5m', service)}", key="quota",
                     branches=(("one provider", "ask it for a higher quota tier, and shift traffic to another provider "
                                                "in the meantime"),
                               ("every provider", "our concurrency exceeds our quotas: lower it, or queue requests")))
        traffic = Step(f"Is the spike real demand or one client? Calls per second against the usual rate at this time of day "
                       f"({factor} engages).", load, key="traffic",
                       branches=(("a launch, a campaign or steady growth", "raise our limits and the provider quotas "
                                                                          "together"),
                                 ("one client, a bot or a retry loop",
                                  f"find it (`{k.logs('client|user|tenant|api.key', since='30m')}`) and block it at "
                                  "the edge")))
        if alert.alert == SIGNAL_ALERT:
            return RunbookContent(
                meaning=(f"For {format_duration(cfg['for'])}, {condition}. The alert tells the automation to throttle "
                         "clients."),
                impact=("Some clients get 429s from us, by design: it keeps spend and provider throttling in check "
                        "for everyone else."),
                steps=(why, quota, traffic),
                remediation=Remediation(
                    did=f"Alertmanager sent this alert to the remediation receiver, which throttles clients of `{service.name}`.",
                    verify=Step("Is throttling holding? Share of calls rate limited by the provider (should fall).",
                                ratio, branches=(("it falls", "throttling works; nothing to do"),
                                                 ("it stays high", "the throttle is too loose or not applied → step:quota"))),
                    rollback=("Throttling lifts when the alert resolves; nothing to undo by hand.",
                              f"To stop throttling now (a false alarm): "
                              f"`{silence(SIGNAL_ALERT, service.name, '1h', 'lift throttling: <your name>')}`."),
                    pages=PAGE_ALERT,
                ),
                queries=(Query("Calls per second against the usual rate at this time of day", load),),
                history=HISTORY,
            )
        return RunbookContent(
            meaning=(f"Rate limiting has been engaged for {format_duration(cfg['page_after'])}: {condition}. The spike "
                     "is not passing."),
            impact="Throttled clients have seen 429s for a long time: real users are being turned away.",
            steps=(why, quota, traffic),
            mitigation=("Real demand: raising the limits is the fix, and the provider quota has to rise with them.",),
            history=HISTORY,
            queries=(Query("Calls per second against the usual rate at this time of day", load),
                     Query("Error ratio of the service", own("service:ai_errors:ratio_rate5m", service))),
        )

    def probes(self, service, cfg, signal, page) -> list[Probe]:
        """The 429 clause of both alerts: the rate-limited share above the spec's, calls/s above the guard."""
        p, model = first_model(service)
        minutes = int(cfg["page_after"] // 60) + 30

        def limited(ratio: float, guard: float | None) -> Traffic:
            per_min = guard * 60 if guard is not None else max(600.0, cfg["min_request_rate"] * 600)
            bad = per_min * ratio
            phase = Phase(minutes, ok=per_min - bad, errors=bad, rate_limited=bad)
            return Traffic(boundaries.filling_onset(300, guard, cfg["min_request_rate"]),
                           streams=(Stream(p.name, model, (phase,)),), value=ratio)

        clause = Clause("share of calls rate limited", ">", cfg["rate_limited_ratio_above"])
        guard = Clause("calls/s", ">", cfg["min_request_rate"])
        start = int(BASELINE // 60) + 120

        def busy(scale: float, guard_value: float | None) -> Traffic:
            # A day of steady traffic, then `scale` times as much: the 5m rate climbs as its window slides over the step.
            usual = max(600.0, cfg["min_request_rate"] * 600)
            try:
                onset, now = boundaries.crossing(start, usual, usual * scale, cfg["traffic_factor"] * usual)
            except ValueError:
                onset, now = start + 5, usual * scale  # it never holds: a silent case
            phases = (Phase(start, ok=usual), Phase(int(cfg["page_after"] // 60) + 30, ok=now))
            return Traffic(onset, streams=(Stream(p.name, model, phases),), value=now / 60)

        spike = Clause("calls/s / the same hour the day before", ">", cfg["traffic_factor"])
        return [Probe(a, clause, f, limited, lambda t, a=a: (expect(a, t.value),), guard=guard)
                for a, f in ((signal, cfg["for"]), (page, cfg["page_after"]))] + [
                Probe(a, spike, f, busy, lambda t, a=a: (expect(a, t.value),), step=5)
                for a, f in ((signal, cfg["for"]), (page, cfg["page_after"]))]

    def _scenarios(self, service, cfg, signal, page):
        for probe in self.probes(service, cfg, signal, page):
            yield from boundaries.scenarios(probe)
        p, model = first_model(service)
        per_min = max(600.0, cfg["min_request_rate"] * 60 * 10)
        # The 429s start at minute 120; the 5m ratio crosses the threshold while its window fills.
        onset, share = boundaries.crossing(120, 0.0, min(0.5, cfg["rate_limited_ratio_above"] * 3),
                                           cfg["rate_limited_ratio_above"])
        limited = per_min * share
        fast = 120 + 5 + int(cfg["for"] // 60) + 1
        late = math.ceil(onset) + math.ceil(cfg["page_after"] / 60)  # its first evaluation past `page_after`
        stream = Stream(p.name, model, (Phase(120, ok=per_min),
                                        Phase(late - 120 + 5, ok=per_min - limited, errors=limited, rate_limited=limited)))
        yield Scenario(
            f"{SIGNAL_ALERT} fires on sustained 429s and {PAGE_ALERT} pages only after {format_duration(cfg['page_after'])}",
            streams=(stream,),
            checks=(Check(110, SIGNAL_ALERT), Check(fast, SIGNAL_ALERT, (expect(signal),)), Check(fast, PAGE_ALERT),
                    Check(late - 1, PAGE_ALERT), Check(late, PAGE_ALERT, (expect(page),), due=True)),
        )
        busy = per_min * cfg["traffic_factor"] * 2
        yield Scenario(
            f"{SIGNAL_ALERT} stays silent on healthy traffic from an empty history (a cold start)",
            streams=(Stream(p.name, model, (Phase(180, ok=per_min),)),),
            checks=tuple(Check(m, SIGNAL_ALERT) for m in (2, 5, 10, 30, 60, 120, 175)),
        )
        yield Scenario(
            f"{SIGNAL_ALERT} does not engage on a {cfg['traffic_factor'] * 2:g}x traffic spike before the service has "
            f"a day of history",
            streams=(Stream(p.name, model, (Phase(120, ok=per_min), Phase(30, ok=busy))),),
            checks=(Check(130, SIGNAL_ALERT), Check(145, SIGNAL_ALERT)),
        )
        day = BASELINE // 60
        # Every five minutes: a day of history at one-minute steps would make the test slow for nothing.
        yield Scenario(
            f"{SIGNAL_ALERT} engages on a {cfg['traffic_factor'] * 2:g}x traffic spike at the earliest once a day of history "
            "exists, and not before",
            streams=(Stream(p.name, model, (Phase(day - 30, ok=per_min), Phase(60, ok=busy))),),
            checks=(Check(day - 5, SIGNAL_ALERT), Check(day + 5 + _steps(cfg["for"], 5), SIGNAL_ALERT, (expect(signal),))),
            evaluation_interval=300,
        )
        yield Scenario(
            f"{SIGNAL_ALERT} stays silent on a single 429 among {per_min:g} calls a minute",
            streams=(Stream(p.name, model, (Phase(120, ok=per_min), Phase(1, ok=per_min - 1, errors=1, rate_limited=1),
                                            Phase(10, ok=per_min))),),
            checks=(Check(121, SIGNAL_ALERT), Check(125, SIGNAL_ALERT)),
        )


HISTORY = ("The traffic clause compares against the same hour on the previous days (up to a week), so it stays silent "
           "until the service has a day of history (a new service, a renamed job or a fresh Prometheus); the 429 clause works from the first minute.")


def _steps(seconds: float, step: int) -> int:
    """Minutes until a `for` of `seconds` has passed, on evaluations every `step` minutes."""
    return -(-int(seconds // 60) // step) * step


SIGNAL = RateLimit()

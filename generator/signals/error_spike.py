"""Error-rate spike: the error ratio several times its own baseline and above a floor; sooner if growing.

Baselines come from the recorded 1h ratio (an average over days, or the same hour last week), so no rule
reads more than an hour of raw series. A single failed request never pages: the floor and the minimum
traffic guard see to it.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

from .. import conventions as c
from .. import boundaries, outage
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, Group, Output, Phase, Recording, Scenario, Stream
from ..content.runbook import Query, RunbookContent, Step
from ..content.links import is_on, kubectl, percent, sibling, status_pages, times
from ..sli import days_ago_average, own, with_history
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from ..synth import Seen, window_sum
from .base import Config, Signal, alert_link, alert_of, expect, first_model, make_alert

NAME = "error_spike"
ALERT = c.alert_name("ErrorRateSpike")
GROWING = c.alert_name("ErrorRateSpikeGrowing")
RATIO = "service:ai_errors:ratio_rate5m"
GROWTH = 1.2  # the growing page: the error ratio above this multiple of itself 5 minutes earlier
RAMP_TOP = 0.9  # probe ramps stop growing at this share of failed calls


class ErrorSpike(Signal):
    name = NAME
    alerts = {"page": ALERT, "growing": GROWING}
    explained_by_outage = True
    description = "Page when the error ratio is several times its baseline and above a floor; sooner while it grows."
    auto_when = "on"
    schema = {
        "factor": unit("factor", "Page when the error ratio exceeds this multiple of its baseline.", "3x"),
        "baseline": unit("duration", "Average the recorded 1h error ratio over this window.", "1d"),
        "baseline_mode": {"enum": ["average", "last_week"], "default": "average",
                          "description": "average: the same hour on the previous days (up to a week), or the average over `baseline` while no previous day has it; last_week: the same hour one week earlier."},
        "min_error_ratio": unit("ratio", "Never page below this error ratio.", "2%"),
        "min_request_rate": number("Calls per second needed before the ratio counts.", 0.2),
        "for": unit("duration", "How long a steady spike must last before paging.", "10m"),
        "growing_for": unit("duration", "How long a growing spike must last before paging.", "3m"),
    }

    def shared_inhibitions(self) -> tuple[dict, ...]:
        """A growing spike is already paging sooner; the steady-spike page of the same tier adds nothing."""
        return ({"source_matchers": [c.am_matcher("alertname", GROWING)],
                 "target_matchers": [c.am_matcher("alertname", ALERT)],
                 "equal": [c.TEAM, c.SERVICE, c.ESCALATION]},)

    def check(self, service, cfg):
        if cfg["factor"] <= 1:
            raise FieldError(("factor",), f"expected a factor above 1x, got {format_number(cfg['factor'])}x")
        if cfg["growing_for"] > cfg["for"]:
            raise FieldError(("growing_for",), "expected at most `for`: a growing spike should page sooner")

    def baseline(self, service, cfg) -> tuple[str, str]:
        if cfg["baseline_mode"] == "last_week":
            # Without last week's data (a new service, a retention gap, an hour with no traffic: NaN) fall back to
            # the day's average, so the spike still pages.
            hourly = own('service:ai_errors:ratio_rate1h', service)
            return ("service:ai_errors:ratio_rate1h_offset1w",
                    f"({hourly} offset 1w >= 0) or avg_over_time({hourly}[1d])")
        w = c.window(cfg["baseline"])
        # Failures over calls of the same hours (weighted by calls); NaN, when those hours had no calls, is dropped.
        ratio = (f"{days_ago_average('service:ai_errors:rate1h', service)} / "
                 f"{days_ago_average('service:ai_requests:rate1h', service)}")
        return (c.ERRORS_SAME_HOUR,
                f"({ratio} >= 0) or avg_over_time({own('service:ai_errors:ratio_rate1h', service)}[{w}])")

    def history(self, service, cfg) -> float:
        """Seconds of history the baseline needs: its window, or for last week's hour the day it falls back to."""
        return 86400 if cfg["baseline_mode"] == "last_week" else cfg["baseline"]

    def build(self, service, cfg: Config) -> Output:
        name, expr = self.baseline(service, cfg)
        spike = with_history(
            f"{own(RATIO, service)} > {format_number(cfg['factor'])} * {own(name, service)}"
            f" and {own(RATIO, service)} > {format_number(cfg['min_error_ratio'])}"
            f" and {own('service:ai_requests:rate5m', service)} > {format_number(cfg['min_request_rate'])}",
            service, self.history(service, cfg))
        description = ("{{ $labels.service }} fails {{ $value | humanizePercentage }} of calls, more than "
                       f"{format_number(cfg['factor'])}x its baseline.")
        steady = make_alert(service, NAME, ALERT, spike, cfg["for"], c.PAGE,
                            summary="The error ratio is far above its baseline.", description=description)
        growing = make_alert(service, NAME, GROWING, f"{spike} and {own(RATIO, service)} > {format_number(GROWTH)} * ({own(RATIO, service)} offset 5m)",
                             cfg["growing_for"], c.PAGE,
                             summary="The error ratio is far above its baseline and still growing.",
                             description=description + f" It grew by more than {percent(GROWTH - 1)} in the last 5 minutes.")
        group = Group(c.group_name(service.name, NAME), NAME, (Recording(name, expr), steady, growing))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, steady, growing)))

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        name, _ = self.baseline(service, cfg)
        baseline = ("the same hour one week earlier" if cfg["baseline_mode"] == "last_week" else
                    f"its hourly ratio at this time of day (the same hour on the previous days, up to a week; "
                    f"averaged over {format_duration(cfg['baseline'])} while no previous day has the hour)")
        growing = alert.alert == GROWING
        secondary = service.provider("secondary")
        steps = (
            Step("Where do the errors come from? The error ratio by provider and model.",
                 f"{own('service_provider_model:ai_errors:rate5m', service)} / "
                 f"{own('service_provider_model:ai_requests:rate5m', service)}", key="which",
                 branches=(("one provider fails on all its models",
                            f"provider trouble: check its status page ({status_pages(service)}); "
                            + (sibling(alert_of("failover", "signal")) + " moves traffic away from the primary"
                               if is_on(service, "failover") else
                               "no automated failover here: route to another provider by hand")),
                           ("one model fails", "that model is degraded: "
                            + alert_link(service, "model_routing", "signal") + " routes it to its fallback"),
                           ("every provider and model fails", "the cause is ours → step:limits"))),
            Step("Are the errors rate limits (429)? Share of calls rate limited.",
                 own("service:ai_rate_limited:ratio_rate5m", service), key="limits",
                 branches=(("most errors are 429s", "quota: see " + alert_link(service, "rate_limit", "signal")
                            + (f", ask the provider for more, or shift traffic to {secondary.name}" if secondary else
                               ", ask the provider for more")),
                           ("few are", "→ step:rollout"))),
            Step("Did a rollout start shortly before the spike?", command=k.history(), key="rollout",
                 branches=(("yes", f"roll back: `{k.undo()}`, then watch step:which fall within 10 minutes"),
                           ("no", "→ step:logs"))),
            Step("Which errors do our calls get? The service's logs.",
                 command=k.logs("error|exception|40[0-9]|5[0-9][0-9]|timeout"), key="logs",
                 branches=(("401 or 403", f"an API key expired or was revoked: rotate the secret, then `{k.restart()}`"),
                           ("400, invalid request or context length exceeded",
                            "we send requests the model rejects (prompt too long, a new parameter): find the change "
                            "that sends them and revert it"),
                           ("timeouts or refused connections",
                            "network path or provider latency: check egress, and "
                            + alert_link(service, "latency", "page")))),
        )
        meaning = (f"The error ratio of `{service.name}` is above {times(cfg['factor'])} {baseline}, and above "
                   f"{percent(cfg['min_error_ratio'])} (while it gets more than "
                   f"{format_number(cfg['min_request_rate'])} calls/s)")
        meaning += (f"; it grew by more than {percent(GROWTH - 1)} in the last 5 minutes, for {format_duration(cfg['growing_for'])}."
                    if growing else f", for {format_duration(cfg['for'])}.")
        return RunbookContent(
            meaning=meaning,
            impact=("A share of user requests fail outright. Client retries hide part of it and add load."
                    + (" It is still growing: act before it doubles." if growing else "")),
            steps=steps,
            mitigation=("A bad rollout: roll back first, debug after.",
                        "One failing provider or model: route around it (failover, model fallback) before anything else."),
            queries=(Query("Error ratio of the service", own(RATIO, service)),
                     Query("Its baseline", own(name, service)),
                     Query("Calls per second per provider", own("service_provider:ai_requests:rate5m", service))),
            history=(f"Silent until the service has {format_duration(self.history(service, cfg))} of history (a new "
                     "service, a renamed job or a fresh Prometheus): until then there is no baseline to be far above."),
        )

    def probes(self, service, cfg, steady) -> list[Probe]:
        """The steady page's thresholds, after a day of history at a steady error ratio (5m evaluations): the ratio
        against `factor` times that baseline, against the floor `min_error_ratio`, and calls/s against the guard."""
        p, model = first_model(service)
        start = int(max(self.history(service, cfg), 86400) // 60) + 120   # the same hour a day ago, and the baseline's history
        minutes = start + int(cfg["for"] // 60) + 30

        def traffic(baseline: float) -> Callable[[float, float | None], Traffic]:
            def make(ratio: float, guard: float | None) -> Traffic:
                per_min = guard * 60 if guard is not None else max(1000.0, cfg["min_request_rate"] * 1200)
                # With the same-hour baseline, yesterday's hour runs at `baseline` and the rest of the day at twice it.
                shape = (((start, 1.0),) if cfg["baseline_mode"] == "last_week" else
                         boundaries.same_hour_history(start, cfg["factor"]))
                before = tuple(Phase(m, ok=per_min * (1 - baseline * k), errors=per_min * baseline * k) for m, k in shape)
                now = ratio * baseline if baseline else ratio
                # The 5m ratio moves from the last hour's level to the new one as the window slides over `start`.
                threshold = max(cfg["factor"] * baseline, cfg["min_error_ratio"])
                try:
                    onset, now = boundaries.crossing(start, baseline * shape[-1][1], now, threshold)
                except ValueError:
                    onset = start + 5  # it never holds: a silent case
                after = Phase(minutes - start, ok=per_min * (1 - now), errors=per_min * now)
                return Traffic(onset, streams=(Stream(p.name, model, (*before, after)),), value=now)
            return make

        expected = lambda t: (expect(steady, t.value),)  # noqa: E731
        guard = Clause("calls/s", ">", cfg["min_request_rate"])
        # A baseline whose multiple clears the floor with room to spare, so only the factor decides...
        usual = cfg["min_error_ratio"] * 1.5 / cfg["factor"]
        by_factor = Probe(steady, Clause("error ratio / its usual ratio", ">", cfg["factor"]), cfg["for"],
                          traffic(usual), expected, guard=guard, step=5)
        # ...and a clean history (no errors: any ratio is far above it), so only the floor decides.
        by_floor = Probe(steady, Clause("error ratio", ">", cfg["min_error_ratio"]), cfg["for"], traffic(0.0),
                         expected, step=5)
        return [by_factor, by_floor]

    def growing_probes(self, service, cfg, growing) -> list[Scenario]:
        """The growing page's thresholds on ramps. After a day of history at a steady ratio, the share of failed calls
        grows by a steady factor every 5 minutes, so the ratio crosses a threshold at a minute computed here from the
        spec's numbers; the page is due `growing_for` later and silent one evaluation before. One ramp's onset is
        decided by `factor` (traffic just above the guard, growing just faster than GROWTH), one by the floor; a ramp
        growing just slower than GROWTH, and the first ramp just below the guard, stay silent."""
        p, model = first_model(service)
        week = cfg["baseline_mode"] == "last_week"
        start = int(max(self.history(service, cfg), 86400) // 60) + 120
        # The same-hour baseline holds `usual` until 2 hours after `start` (boundaries.same_hour_history).
        horizon = start + 120
        factor, floor, guard = cfg["factor"], cfg["min_error_ratio"], cfg["min_request_rate"]
        # Ramps stop short of a provider outage, whose page would mute this one.
        top = min(RAMP_TOP, outage.error_ceiling(service) * 0.9)
        faster, slower = GROWTH * (1 + boundaries.MARGIN), GROWTH * (1 - boundaries.MARGIN)
        gf = cfg["growing_for"] / 60
        comfortable = max(1000.0, guard * 1200) / 60

        def ramp(usual: float, crossing: float, growth: float, rate: float, step: float):
            """The stream, and the alert's condition and error ratio at an evaluation time (minutes), as the spec
            defines them: ratio > factor x baseline, > floor, calls/s > guard, ratio > GROWTH x ratio 5m earlier."""
            per_min = rate * 60
            shape = ((start, 1.0),) if week else boundaries.same_hour_history(start, cfg["factor"])
            phases = [Phase(m, ok=per_min * (1 - usual * k), errors=per_min * usual * k) for m, k in shape]
            share = crossing / growth ** 2  # ten minutes of growth before the ratio crosses
            while share < top and len(phases) - len(shape) < horizon - start:
                phases.append(Phase(1, ok=per_min * (1 - share), errors=per_min * share))
                share *= growth ** (1 / 5)
            phases.append(Phase(horizon - start + 60, ok=phases[-1].ok, errors=phases[-1].errors))
            stream = Stream(p.name, model, tuple(phases))
            seen = Seen(stream)

            def ratio(t: float, minutes: int = 5) -> float:
                errors = seen("errors", t, minutes)
                return errors / (errors + seen("ok", t, minutes))

            # No week of history in `last_week` mode: the baseline is the day's average of the recorded 1h ratio, one
            # sample per evaluation. The history's hours all ran at `usual`; the ramp's add up from `start` on.
            hourly = [0.0]
            for k in range(1, int((horizon - start) / step) + 1 if week else 0):
                hourly.append(hourly[-1] + ratio(start + k * step, 60))
            count = int(1440 / step) + 1

            def baseline(t: float) -> float:
                if not week:
                    return usual  # the same hour a day earlier ran at `usual`
                k = round((t - start) / step)
                return (usual * (count - k) + hourly[k]) / count

            def holds(t: float, but: str = "") -> bool:
                """The condition at `t`; `but`: except this clause ("guard" or "growth")."""
                now = ratio(t)
                return (now > factor * baseline(t) and now > floor and (but == "guard" or rate > guard)
                        and (but == "growth" or now > GROWTH * ratio(t - 5)))

            return stream, ratio, holds

        def grid(step: float) -> list[float]:
            return [start + k * step for k in range(int((horizon - start) / step) + 1)]

        def fires(name: str, usual: float, crossing: float, rate: float, step_seconds: float) -> Scenario:
            step = step_seconds / 60
            stream, ratio, holds = ramp(usual, crossing, faster, rate, step)
            times = grid(step)
            onset = next(t for t in times if holds(t))
            due = boundaries.on_grid(onset + gf, step_seconds)
            assert all(holds(t) for t in times if onset <= t <= due), (service.name, name)
            last = next((t for t in times if t > due and not holds(t)), horizon + step) - step
            return Scenario(
                f"{GROWING} fires {name}: due {format_duration(cfg['growing_for'])} after it crosses, not one "
                f"evaluation ({format_duration(step_seconds)}) earlier",
                streams=(stream,),
                checks=(Check(due - step, GROWING),
                        Check(due, GROWING, (expect(growing, ratio(due)),), due=True, lasts_for=last - due,
                              later=lambda n: (expect(growing, ratio(due + n)),))),
                evaluation_interval=step_seconds)

        def silent(name: str, usual: float, crossing: float, growth: float, rate: float, but: str) -> Scenario:
            step = 5
            stream, _, holds = ramp(usual, crossing, growth, rate, step)
            times = grid(step)
            assert not any(holds(t) for t in times), (service.name, name)
            # Checked when it would be due but for the clause under test, and once settled.
            onset = next(t for t in times if holds(t, but))
            due = boundaries.on_grid(onset + gf, step * 60)
            return Scenario(f"{GROWING} stays silent {name}", streams=(stream,),
                            checks=(Check(due, GROWING), Check(due + 10, GROWING, settled=True)),
                            evaluation_interval=step * 60)

        by_factor = max(floor * 1.5, 0.01)  # the factor's threshold, clear of the floor: the factor decides
        usual = by_factor / factor
        fine = boundaries.for_step(60, cfg["growing_for"])
        out = []
        # A ramp needs room to grow past the threshold it probes (a floor of 60% leaves none).
        by_factor_fits = by_factor * faster ** 2 < top
        if by_factor_fits:
            calls = f"{format_number(round(guard * 1.1, 6))} calls/s" if guard else f"{comfortable:g} calls/s"
            out.append(fires(f"when the error ratio passes {format_number(factor)}x its usual {usual:.2%} (growing "
                             f"{faster:g}x every 5 minutes, {calls})", usual, by_factor,
                             guard * (1 + boundaries.MARGIN) if guard else comfortable, fine))
        if 0 < floor and floor * faster ** 2 < top:
            out.append(fires(f"when the error ratio passes the floor {floor:.2%} (from no errors, growing {faster:g}x "
                             "every 5 minutes)", 0.0, floor, comfortable, 60))
        if by_factor_fits:
            out.append(silent(f"while the error ratio grows only {slower:g}x every 5 minutes past "
                              f"{format_number(factor)}x its usual ratio", usual, by_factor, slower, comfortable,
                              "growth"))
            if guard:
                out.append(silent(f"at {format_number(round(guard * 0.9, 6))} calls/s, below the traffic guard, while "
                                  f"the error ratio grows {faster:g}x every 5 minutes past {format_number(factor)}x its "
                                  "usual ratio", usual, by_factor, faster, guard * (1 - boundaries.MARGIN), "guard"))
        return out

    def _scenarios(self, service, cfg, steady, growing):
        yield from self.growing_probes(service, cfg, growing)
        for probe in self.probes(service, cfg, steady):
            for s in boundaries.scenarios(probe):
                # The steady ratio does not grow: the growing page stays silent while the steady one fires, and
                # (settled) its secondary tier too once that would be due.
                yield replace(s, checks=s.checks + tuple(Check(ch.minute, GROWING, settled=True)
                                                         for ch in s.checks if ch.due))
        p, model = first_model(service)
        # The baseline needs its history (a day, or a week for "same hour last week"): evaluating every 5 minutes
        # keeps these tests quick.
        week = cfg["baseline_mode"] == "last_week"
        step = 5
        history = int(self.history(service, cfg) // 60)

        def at(minute: int) -> int:
            return -(-minute // step) * step

        t0 = 7 * 24 * 60 + 120 if week else at(history + 120)

        per_min = max(1000.0, cfg["min_request_rate"] * 60 * 20)
        base_err = per_min * cfg["min_error_ratio"] / 4
        # Far past the factor and the floor, short of a provider outage (whose page would mute this one).
        top = min(0.5, outage.error_ceiling(service) * 0.9)
        spike_err = min(per_min * top, max(per_min * cfg["min_error_ratio"] * 5, base_err * cfg["factor"] * 4))
        normal = Phase(t0, ok=per_min - base_err, errors=base_err)
        # The 5m ratio holds the whole jump at the first evaluation after it: pending then, firing `for` later.
        fires_at = t0 + step + at(math.ceil(cfg["for"] / 60))
        spike = Phase(fires_at - t0 + 5, ok=per_min - spike_err, errors=spike_err, provider_errors=spike_err)
        interval = step * 60
        yield Scenario(
            f"{ALERT} fires when errors jump from {base_err / per_min:.1%} to {spike_err / per_min:.1%} of calls",
            streams=(Stream(p.name, model, (normal, spike)),),
            checks=(Check(at(t0 - 10), ALERT), Check(fires_at - step, ALERT),
                    Check(fires_at, ALERT, (expect(steady, spike_err / per_min),), due=True), Check(fires_at, GROWING)),
            evaluation_interval=interval,
        )
        if week:
            start = history + 120
            short = at(start + 5 + int(cfg["for"] // 60) + 2)
            yield Scenario(
                f"{ALERT} still fires without last week's data: the baseline falls back to the day's average",
                streams=(Stream(p.name, model, (Phase(start, ok=per_min - base_err, errors=base_err),
                                                Phase(short - start + 5, ok=per_min - spike_err, errors=spike_err))),),
                checks=(Check(short, ALERT, (expect(steady, spike_err / per_min),)),),
                evaluation_interval=interval,
            )
            # Last week's hour, not the day's average: the hours around t0 a week earlier ran at `usual`, every other
            # hour at twice it. A spike to 1.5x `factor` x usual pages against last week's hour; against the day's
            # average (2x usual) it would not. With `factor` x usual at the floor, the other hours stay below it.
            usual = cfg["min_error_ratio"] / cfg["factor"]
            if cfg["factor"] > 2 and 1.5 * cfg["min_error_ratio"] < 0.5:
                week_ago = t0 - 7 * 24 * 60
                before = (Phase(week_ago - 60, ok=per_min * (1 - 2 * usual), errors=per_min * 2 * usual),
                          Phase(120, ok=per_min * (1 - usual), errors=per_min * usual),
                          Phase(t0 - week_ago - 60, ok=per_min * (1 - 2 * usual), errors=per_min * 2 * usual))
                jump = 1.5 * cfg["min_error_ratio"]
                due = at(t0 + 5 + int(cfg["for"] // 60))
                yield Scenario(
                    f"{ALERT} compares with the same hour last week, not the day's average: errors jump to "
                    f"{jump:.1%} of calls, 1.5x {format_number(cfg['factor'])} x last week's {usual:.2%} and under "
                    f"{format_number(cfg['factor'])} x the day's {2 * usual:.2%}",
                    streams=(Stream(p.name, model, (*before, Phase(due - t0 + 5, ok=per_min * (1 - jump),
                                                                   errors=per_min * jump))),),
                    checks=(Check(due, ALERT, (expect(steady, jump),)),),
                    evaluation_interval=interval,
                )
        # The earliest it can page: a spike that starts before the baseline has its history stays silent until the
        # history is there, then pages after `for`.
        h = int(self.history(service, cfg) // 60)
        yield Scenario(
            f"{ALERT} can page at the earliest once {format_duration(self.history(service, cfg))} of history exist: a "
            "spike that starts 30 minutes earlier stays silent until then",
            streams=(Stream(p.name, model, (Phase(h - 30, ok=per_min - base_err, errors=base_err),
                                            Phase(90, ok=per_min - spike_err, errors=spike_err))),),
            checks=(Check(at(h - 5), ALERT), Check(at(h + 5 + int(cfg["for"] // 60)), ALERT,
                                                    (expect(steady, spike_err / per_min),), lasts=False)),
            evaluation_interval=interval,
        )
        # A ramp: errors grow 5% a minute (28% every 5 minutes) for an hour, so the growing alert pages before the
        # steady one and is still growing when its secondary tier comes due.
        start = per_min * max(cfg["min_error_ratio"], cfg["factor"] * base_err / per_min) / 2
        ramp = [Phase(1, ok=per_min - e, errors=e) for e in (min(start * 1.05 ** k, per_min / 2) for k in range(60))]
        stream = Stream(p.name, model, (normal, *ramp))
        early = 120
        yield Scenario(
            f"{ALERT} and {GROWING} stay silent from an empty history: healthy traffic, then the growing ramp before "
            f"the baseline holds {format_duration(self.history(service, cfg))}",
            streams=(Stream(p.name, model, (Phase(early, ok=per_min - base_err, errors=base_err), *ramp)),),
            checks=tuple(Check(at(m), a) for m in (5, 30, 60, early + 20, early + 30, early + 50) for a in (ALERT, GROWING)),
            evaluation_interval=interval,
        )

        def ratio_at(minute: int) -> float:
            errors = window_sum(stream, "errors", minute, 5)
            return errors / (window_sum(stream, "ok", minute, 5) + errors)

        def grows(minute: int) -> bool:
            now = ratio_at(minute)
            return (now > max(cfg["min_error_ratio"], cfg["factor"] * base_err / per_min)
                    and now > GROWTH * ratio_at(minute - 5))

        onset = next((m for m in range(t0, t0 + 60, step) if grows(m)), None)
        if onset is not None:
            when = at(onset + int(cfg["growing_for"] // 60) + 1)
            last = next((m for m in range(when, t0 + 60, step) if not grows(m)), t0 + 60) - step  # the ramp's hour
            # The steady page waits its longer `for` (unless `growing_for` is as long).
            steady_silent = (Check(when, ALERT),) if when < onset + cfg["for"] / 60 else ()
            yield Scenario(
                f"{GROWING} pages sooner while the error ratio keeps growing",
                streams=(stream,),
                checks=(Check(when, GROWING, (expect(growing, ratio_at(when)),), lasts_for=last - when,
                              later=lambda n: (expect(growing, ratio_at(when + n)),)),) + steady_silent,
                evaluation_interval=interval,
            )
        yield Scenario(
            f"{ALERT} stays silent on one failed request among {per_min:g} a minute, and when a new model appears",
            streams=(Stream(p.name, model, (Phase(t0, ok=per_min), Phase(1, ok=per_min - 1, errors=1),
                                            Phase(30, ok=per_min))),
                     Stream(p.name, "new-model", (Phase(t0), Phase(31, ok=per_min / 10)))),
            checks=(Check(at(t0 + 2), ALERT), Check(at(t0 + 2), GROWING), Check(at(t0 + 20), ALERT),
                    Check(at(t0 + 20), GROWING)),
            evaluation_interval=interval,
        )
        yield Scenario(
            f"{ALERT} stays silent when a low-traffic service fails a few calls",
            streams=(Stream(p.name, model, (Phase(t0, ok=2), Phase(15, ok=1, errors=1))),),
            checks=(Check(at(t0 + 10), ALERT), Check(at(t0 + 10), GROWING)),
            evaluation_interval=interval,
        )


SIGNAL = ErrorSpike()

"""Provider failover, automated first: the primary provider's error ratio crosses a threshold, a
remediation alert tells the failover automation to route to the secondary, and a human is paged only
when the service still fails after the remediation window.
"""
from __future__ import annotations

from .. import conventions as c
from .. import boundaries, outage
from ..boundaries import Clause, Probe, Traffic
from ..rules import Check, ExprCheck, Group, Output, Phase, Recording, Scenario, Stream
from ..content.runbook import Query, Remediation, RunbookContent, Step
from ..content.links import kubectl, percent, silence
from ..sli import own, provider_rates
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from .base import Config, Signal, alert_link, expect, make_alert

NAME = "failover"
SIGNAL_ALERT = c.alert_name("ProviderFailover")
PAGE_ALERT = c.alert_name("ProviderFailoverIneffective")
ACTION = "failover"
NEEDED = "service_provider:ai_failover_needed:active"


class Failover(Signal):
    name = NAME
    alerts = {"signal": SIGNAL_ALERT, "page": PAGE_ALERT}
    explained_by_outage = True
    remediation = ACTION
    description = "Tell automation to fail over from the primary provider; page if errors persist anyway."
    auto_when = "on when the spec has a primary and a secondary provider"
    schema = {
        "error_ratio_above": unit("ratio", "Fail over when the primary's error ratio exceeds this.", "10%"),
        "window": {**unit("duration", "Rate window of the primary's error ratio: shorter fails over (and back) sooner.",
                          "5m"), "x-rate-window": True, "x-raw-window": True},
        "min_request_rate": number("Calls per second the primary needs before its ratio counts.", 0.05),
        "for": unit("duration", "How long before the failover signal fires.", "1m"),
        "remediation_window": unit("duration", "How long automation gets before a human is paged.", "10m"),
        "hold": unit("duration", "How long failover stays engaged once the primary's traffic has drained (no "
                                 "traffic, no error ratio); then it resolves and automation may try the primary again.",
                     "15m"),
    }

    def auto(self, service):
        return service.provider("primary") is not None and service.provider("secondary") is not None

    def check(self, service, cfg):
        if not self.auto(service):
            raise FieldError(("enabled",), "failover needs a provider with role primary and one with role secondary")

    def warnings(self, service, cfg):
        if self.outage_first(service, cfg):
            below = service.signals[outage.RECORDER]["success_ratio_below"]
            return [(("error_ratio_above",), f"{percent(cfg['error_ratio_above'])} of failed calls is already a provider "
                                             f"outage (provider_down pages below {percent(below)} success, and mutes "
                                             f"{PAGE_ALERT}): failover acts only after that page")]
        return []

    @staticmethod
    def failing_ratio(service, cfg) -> float | None:
        """An error ratio of a provider well past `error_ratio_above` that is no provider outage yet (that would
        mute the page); None: provider_down's threshold leaves no room."""
        thr = cfg["error_ratio_above"]
        ceiling = outage.error_ceiling(service)
        if min(0.5, thr * 4) < ceiling * 0.95:
            return min(0.5, thr * 4)
        between = (thr + ceiling) / 2
        return between if thr * 1.05 < between < ceiling * 0.97 else None

    @staticmethod
    def outage_first(service, cfg) -> bool:
        """Whether a primary failing just past `error_ratio_above`, with traffic just past the guard, is a provider
        outage already: the provider's own page fires and mutes this signal's page."""
        if outage.RECORDER not in service.active_signals:
            return False
        return (cfg["error_ratio_above"] * (1 + boundaries.MARGIN) > outage.error_ceiling(service)
                and cfg["min_request_rate"] * (1 + boundaries.MARGIN)
                > service.signals[outage.RECORDER]["min_request_rate"])

    def rate_windows(self, service, cfg):
        return (cfg["window"],)

    def build(self, service, cfg: Config) -> Output:
        primary, secondary = service.provider("primary"), service.provider("secondary")
        thr = format_number(cfg["error_ratio_above"])
        requests, errors = provider_rates(cfg["window"])
        cond = (f"{own(errors, service, provider=primary.name)} / {own(requests, service, provider=primary.name)}"
                f" > {thr}"
                f" and {own(requests, service, provider=primary.name)} > {format_number(cfg['min_request_rate'])}")
        needed = own(NEEDED, service)
        traffic = f"{own(requests, service, provider=primary.name)} > {format_number(cfg['min_request_rate'])}"
        # Once failover drains the primary, its ratio has no traffic to stand on: without the hold the alert
        # would resolve, automation would route back, and failover would flap.
        engaged = (f"{needed} or (max_over_time({needed}[{c.window(cfg['hold'])}]) unless on (service, team, provider) "
                   f"({traffic}))")
        signal = make_alert(
            service, NAME, SIGNAL_ALERT, engaged,
            cfg["for"], c.INFO, remediation=ACTION,
            summary="Failing over from the primary provider.",
            description=(f"{{{{ $labels.provider }}}} fails more than {format_number(cfg['error_ratio_above'] * 100)}% "
                         f"of calls from {{{{ $labels.service }}}} (or did until its traffic drained, within "
                         f"{format_duration(cfg['hold'])}); automation routes traffic to {secondary.name}."),
        )
        # The page: the service still fails while failover is engaged, whether traffic never moved (the primary still
        # fails) or moved to a secondary that fails too (the primary drained, failover held).
        page = make_alert(
            service, NAME, PAGE_ALERT,
            f"{own('service:ai_errors:ratio_rate5m', service)} > {thr} and on (service, team) ({engaged})",
            cfg["for"] + cfg["remediation_window"], c.PAGE,
            summary="Failover did not stop the errors.",
            description=(f"{{{{ $labels.service }}}} still fails {{{{ $value | humanizePercentage }}}} of calls "
                         f"{format_duration(cfg['remediation_window'])} after failover from {primary.name} to "
                         f"{secondary.name} began."),
        )
        group = Group(c.group_name(service.name, NAME), NAME,
                      (Recording(NEEDED, f"({cond}) * 0 + 1"), signal, page))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, signal, page)))

    def runbook(self, service, cfg, alert):
        primary, secondary = service.provider("primary"), service.provider("secondary")
        k = kubectl(service)
        thr = percent(cfg["error_ratio_above"])
        traffic = own("service_provider:ai_requests:rate5m", service)
        errors = own("service_provider:ai_errors:ratio_rate5m", service)
        moved = Step("Has traffic moved? Calls per second per provider.", traffic, key="moved",
                     branches=((f"{secondary.name} rises and {primary.name} falls towards 0",
                                "failover worked: watch the error ratio fall; how badly does it fail → step:down"),
                               (f"traffic stays on {primary.name}", "the automation did not act → step:automation")))
        automation = Step("Did the remediation receiver get the alert, and act?", key="automation",
                          command=f"amtool alert query alertname={SIGNAL_ALERT} {c.SERVICE}={service.name}",
                          branches=(("the alert is firing but traffic did not move",
                                     "the automation failed: fail over by hand (the service's provider configuration), "
                                     f"then `{k.restart()}`; tell the automation's owners"),
                                    ("the alert is silenced", f"someone held failover: find the silence (`amtool silence "
                                     f"query {c.SERVICE}={service.name}`) and decide whether to expire it")))
        if alert.alert == SIGNAL_ALERT:
            return RunbookContent(
                meaning=(f"{primary.name} (the primary) fails more than {thr} of the calls of `{service.name}` (while it "
                         f"gets more than {format_number(cfg['min_request_rate'])} calls/s), for "
                         f"{format_duration(cfg['for'])}. The alert tells the failover automation to route traffic to "
                         f"{secondary.name}."),
                impact=(f"Calls to {primary.name} fail until traffic moves. Afterwards answers come from "
                        f"{secondary.name} ({', '.join(secondary.models) or 'its models'}): quality, latency and price "
                        "may differ."),
                steps=(moved, automation,
                       Step(f"Is {primary.name} down, or only degraded? Error ratio per provider.", errors, key="down",
                            branches=((f"{primary.name} is near 100%", "it is down: follow "
                                       + alert_link(service, "provider_down", "page")),
                                      (f"{primary.name} is between {thr} and 50%", "degraded: failover is the right call; "
                                       "check its status page")))),
                remediation=Remediation(
                    did=(f"Alertmanager sent this alert to the remediation receiver, which routes the traffic of "
                         f"`{service.name}` from {primary.name} to {secondary.name}."),
                    verify=moved,
                    rollback=(f"Routing back is the automation's job when the alert resolves: {primary.name}'s error "
                              f"ratio is below {thr} with traffic, or {format_duration(cfg['hold'])} passed since its "
                              "traffic drained (automation then tries it again, and fails over again if it still fails). "
                              f"Check with the query below that {primary.name} is healthy first.",
                              f"To hold traffic on {secondary.name}, or stop failover flapping: "
                              f"`{silence(SIGNAL_ALERT, service.name, '2h', 'hold failover: <your name>')}`. "
                              "A silence stops new notifications; it does not undo a failover already made."),
                    pages=PAGE_ALERT,
                ),
                queries=(Query(f"Error ratio of {primary.name}", own("service_provider:ai_errors:ratio_rate5m", service,
                                                                    provider=primary.name)),) + _fallback_queries(service),
                provider_outage=True,
            )
        return RunbookContent(
            meaning=(f"`{service.name}` still fails more than {thr} of all calls "
                     f"{format_duration(cfg['remediation_window'])} after failover from {primary.name} to "
                     f"{secondary.name} began (the page waits {format_duration(cfg['for'] + cfg['remediation_window'])})."),
            impact=(f"Users see errors although traffic should have moved: either failover did not happen, or "
                    f"{secondary.name} fails too."),
            steps=(
                Step("Where does traffic go now? Calls per second per provider.", traffic,
                     branches=((f"still to {primary.name}", "failover did not act → step:automation"),
                               (f"to {secondary.name}", "it fails too → step:secondary"))),
                automation,
                Step(f"Is {secondary.name} failing too? Error ratio per provider.", errors, key="secondary",
                     branches=(("both providers fail", "the fault is probably ours (egress, API keys, a request shape "
                                                       "both reject) → step:logs"),
                               (f"{secondary.name} is healthy but errors persist", "they come from elsewhere in the "
                                                                                   "service → step:logs"))),
                Step("Which errors do our calls get? The service's logs.", key="logs",
                     command=k.logs("error|exception|40[0-9]|5[0-9][0-9]|timeout"),
                     branches=(("401 or 403", f"an API key expired or was revoked: rotate it, then `{k.restart()}`"),
                               ("anything else", f"a recent rollout? `{k.history()}`, and `{k.undo()}` if one lines up"))),
            ),
            mitigation=("Failover is the only fast lever for a provider outage: make it happen (by hand if needed) "
                        "before debugging why it did not.",),
            queries=(Query("Error ratio of the service", own("service:ai_errors:ratio_rate5m", service)),),
            provider_outage=True,
        )

    def probes(self, service, cfg, signal, page) -> list[Probe]:
        """The primary's error ratio above the spec's, its calls/s above the guard: for `for`, and for the page
        the remediation window on top (all traffic on the primary, so the service's ratio is the primary's)."""
        primary = service.provider("primary")
        pm = primary.models[0] if primary.models else "default"
        minutes = int((cfg["for"] + cfg["remediation_window"]) // 60) + 30

        def failing(ratio: float, guard: float | None) -> Traffic:
            per_min = guard * 60 if guard is not None else 100.0
            bad = per_min * ratio
            phase = Phase(minutes, ok=per_min - bad, errors=bad, provider_errors=bad)
            # Calls/s at the guard reach it once the failover window is full (the 5m ratio of the same traffic holds
            # its value from the first minute, so only the window decides).
            return Traffic(boundaries.filling_onset(cfg["window"], guard, cfg["min_request_rate"]), streams=(Stream(primary.name, pm, (phase,)),),
                           value=ratio)

        def record(minute: int, holds: bool) -> tuple[ExprCheck, ...]:
            labels = tuple(sorted({"__name__": NEEDED, c.PROVIDER: primary.name, c.SERVICE: service.name,
                                   c.TEAM: service.team}.items()))
            return (ExprCheck(minute, own(NEEDED, service), ((labels, 1.0),) if holds else ()),)

        clause = Clause(f"error ratio of {primary.name}", ">", cfg["error_ratio_above"])
        guard = Clause(f"calls/s to {primary.name}", ">", cfg["min_request_rate"])
        probes = [Probe(signal, clause, cfg["for"], failing, lambda t: (expect(signal, t.value, provider=primary.name),),
                        guard=guard, record=record, fine=False)]
        if not self.outage_first(service, cfg):  # else the outage's page mutes this one at its threshold
            probes.append(Probe(page, clause, cfg["for"] + cfg["remediation_window"], failing,
                                lambda t: (expect(page, t.value),), guard=guard, fine=False))
        return probes

    def _scenarios(self, service, cfg, signal, page):
        for probe in self.probes(service, cfg, signal, page):
            yield from boundaries.scenarios(probe)
        primary, secondary = service.provider("primary"), service.provider("secondary")
        pm = primary.models[0] if primary.models else "default"
        sm = secondary.models[0] if secondary.models else "default"
        per_min = 100.0
        # The primary fails well past the threshold but short of an outage (whose page would mute this one).
        ratio = self.failing_ratio(service, cfg)
        bad = per_min * (ratio if ratio is not None else min(0.5, cfg["error_ratio_above"] * 4))
        fast = 30 + 5 + int(cfg["for"] // 60) + 1
        persist = 30 + 5 + int((cfg["for"] + cfg["remediation_window"]) // 60) + 2
        failing = Stream(primary.name, pm, (Phase(30, ok=per_min), Phase(persist - 30 + 5, ok=per_min - bad, errors=bad,
                                                                          provider_errors=bad)))
        # A healthy secondary halves the service's ratio: only while that stays past the threshold.
        shared = bad / (2 * per_min) > cfg["error_ratio_above"] * 1.1
        steady_secondary = (Stream(secondary.name, sm, (Phase(persist + 5, ok=per_min),)),) if shared else ()
        pages = () if ratio is None else (
            Check(persist, PAGE_ALERT, (expect(page, bad / (2 * per_min) if shared else bad / per_min),)),)
        yield Scenario(
            f"{SIGNAL_ALERT} fires fast and {PAGE_ALERT} pages only when errors persist past the remediation window",
            streams=(failing, *steady_secondary),
            checks=(Check(25, SIGNAL_ALERT),
                    Check(fast, SIGNAL_ALERT, (expect(signal, bad / per_min, provider=primary.name),)),
                    Check(fast, PAGE_ALERT)) + pages,
        )
        # The page's clause on the whole service: the primary fails at twice the threshold on half the calls, so the
        # service fails at 0.9x the threshold: failover is needed, but it is working.
        half = per_min * cfg["error_ratio_above"] * 1.8
        due = 5 + int((cfg["for"] + cfg["remediation_window"]) // 60)
        yield Scenario(
            f"{PAGE_ALERT} stays silent while the service's error ratio is just inside "
            f"{format_number(cfg['error_ratio_above'])} ({format_number(cfg['error_ratio_above'] * 0.9)}), though "
            f"{primary.name} fails at {format_number(cfg['error_ratio_above'] * 1.8)}",
            streams=(Stream(primary.name, pm, (Phase(due + 15, ok=per_min - half, errors=half, provider_errors=half),)),
                     Stream(secondary.name, sm, (Phase(due + 15, ok=per_min),))),
            checks=(Check(due, SIGNAL_ALERT, (expect(signal, half / per_min, provider=primary.name),)),
                    Check(due, PAGE_ALERT), Check(due + 10, PAGE_ALERT, settled=True)),
        )
        # The other way round: the secondary fails, the primary only at 0.9x the threshold. The service's ratio is far
        # above it, but failing over would not help: no page.
        inside, worse = per_min * cfg["error_ratio_above"] * 0.9, per_min * min(0.9, cfg["error_ratio_above"] * 3)
        yield Scenario(
            f"{PAGE_ALERT} stays silent while {primary.name} fails just inside "
            f"{format_number(cfg['error_ratio_above'])} ({format_number(cfg['error_ratio_above'] * 0.9)}) and "
            f"{secondary.name} fails more",
            streams=(Stream(primary.name, pm, (Phase(due + 15, ok=per_min - inside, errors=inside, provider_errors=inside),)),
                     Stream(secondary.name, sm, (Phase(due + 15, ok=per_min - worse, errors=worse, provider_errors=worse),))),
            checks=(Check(due, SIGNAL_ALERT), Check(due, PAGE_ALERT), Check(due + 10, PAGE_ALERT, settled=True)),
        )
        hold = int(cfg["hold"] // 60)
        # The primary fails in minutes 31-33; its window holds a failing minute until 33 + window - 1, then the hold
        # keeps failover engaged for `hold`.
        last_failing = 33 + int(cfg["window"] // 60) - 1
        held = max(last_failing + hold // 2, 32 + -(-int(cfg["for"]) // 60))  # and once its `for` has passed
        released = last_failing + hold + 5
        holding = (Check(held, SIGNAL_ALERT, (expect(signal, provider=primary.name),), lasts=False),) \
            if held < last_failing + hold else ()
        tail = max(persist, released) - 33 + 5
        moved = Stream(primary.name, pm, (Phase(30, ok=per_min), Phase(3, ok=per_min - bad, errors=bad), Phase(tail)))
        takes_over = Stream(secondary.name, sm, (Phase(33, ok=per_min), Phase(tail, ok=2 * per_min)))
        yield Scenario(
            f"{PAGE_ALERT} stays silent when failover moves the traffic to {secondary.name}; {SIGNAL_ALERT} holds "
            f"the failover while {primary.name} is drained, then lets automation try it again",
            streams=(moved, takes_over),
            checks=(Check(persist, PAGE_ALERT), *holding, Check(released, SIGNAL_ALERT)),
        )
        # Failover moves the traffic, and the secondary fails too: the page still fires, while failover holds. The
        # primary keeps a trickle of healthy calls just under its guard (held) or just over it (automation may try it
        # again: failover and its page resolve).
        window = int(cfg["window"] // 60)
        guard = cfg["min_request_rate"] * 60
        needed_last = 33 + window - 1   # the last minute the primary's window still holds a failing minute
        due = max(35 + -(-int(cfg["for"] + cfg["remediation_window"]) // 60), 33 + window + 1)
        if due <= needed_last + hold - 1 and ratio is not None:
            sbad = 2 * per_min * ratio
            for trickle, held_on in ((guard * 0.8, True), (guard * 1.2, False)):
                drained = Stream(primary.name, pm, (Phase(30, ok=per_min), Phase(3, ok=per_min - bad, errors=bad),
                                                    Phase(due - 33 + 5, ok=trickle)))
                failing_secondary = Stream(secondary.name, sm, (Phase(33, ok=per_min),
                                                                Phase(due - 33 + 5, ok=2 * per_min - sbad, errors=sbad,
                                                                      provider_errors=sbad)))
                ratio = sbad / (2 * per_min + trickle)
                yield Scenario(
                    f"{PAGE_ALERT} {'fires' if held_on else 'stays silent'} when failover moved the traffic to "
                    f"{secondary.name}, which fails too, while {primary.name} keeps "
                    f"{format_number(trickle / 60)} calls/s ({'held' if held_on else 'above the guard: not held'})",
                    streams=(drained, failing_secondary),
                    checks=((Check(due, PAGE_ALERT, (expect(page, ratio),), lasts=False),
                             Check(due, SIGNAL_ALERT, (expect(signal, provider=primary.name),), lasts=False))
                            if held_on else (Check(due, PAGE_ALERT), Check(due, SIGNAL_ALERT))),
                )
        # The signal's `for`, at a step fine enough to see it end. The boundary probes start their traffic with the
        # scenario (rates move between whole minutes while the counters are young); here calls run error-free for
        # half an hour, then 90% fail: the first failing increment (the sample of minute 31) alone puts the ratio
        # over the threshold, so the condition holds from minute 31 exactly.
        fine = boundaries.for_step(60, cfg["for"])
        if fine < 60 and cfg["error_ratio_above"] < 0.15:
            due = boundaries.on_grid(31, fine) + boundaries.on_grid(cfg["for"] / 60, fine)
            worst = per_min * 0.9
            yield Scenario(
                f"{SIGNAL_ALERT} fires {format_duration(cfg['for'])} after {primary.name} starts failing, not one "
                f"evaluation ({format_duration(fine)}) earlier",
                streams=(Stream(primary.name, pm, (Phase(30, ok=per_min), Phase(int(due) + 5 - 30, ok=per_min - worst,
                                                                                errors=worst, provider_errors=worst))),),
                checks=(Check(due - fine / 60, SIGNAL_ALERT),
                        Check(due, SIGNAL_ALERT, (expect(signal, provider=primary.name),), lasts=False)),
                evaluation_interval=fine,
            )
        # The hold's own traffic guard, from both sides: drained to just below `min_request_rate` the primary counts
        # as drained (held); just above it, with its errors gone, it carries traffic again (released, no hold).
        settle = max(int(cfg["window"] // 60), 5)
        look = 33 + settle + 2
        if hold > settle + 4:
            for k, kept in ((0.9, True), (1.1, False)):
                rate = cfg["min_request_rate"] * k
                trickle = Stream(primary.name, pm, (Phase(30, ok=per_min), Phase(3, ok=per_min - bad, errors=bad),
                                                    Phase(tail, ok=rate * 60)))
                yield Scenario(
                    f"{SIGNAL_ALERT} " + ("still holds the failover" if kept else "lets go at once") + f" when "
                    f"{primary.name} keeps {format_number(round(rate, 6))} calls/s without errors (guard: > "
                    f"{format_number(cfg['min_request_rate'])})",
                    streams=(trickle, takes_over),
                    checks=(Check(look, SIGNAL_ALERT, (expect(signal, provider=primary.name),) if kept else (),
                                  lasts=False),),
                )
        yield Scenario(
            f"{SIGNAL_ALERT} stays silent on one failed request among thousands",
            streams=(Stream(primary.name, pm, (Phase(30, ok=1000), Phase(1, ok=999, errors=1), Phase(10, ok=1000))),),
            checks=(Check(31, SIGNAL_ALERT), Check(33, SIGNAL_ALERT)),
        )


def _fallback_queries(service) -> tuple[Query, ...]:
    """Where the metrics source makes fallbacks itself (LiteLLM), how many worked and how many failed."""
    src = service.source
    if src.fallbacks_ok is None or src.fallbacks_failed is None:
        return ()
    by = "sum by (requested_model, fallback_model)"
    return (Query("Fallbacks the proxy made that succeeded, per second", f"{by} (rate({src.fallbacks_ok}[5m]))"),
            Query("Fallbacks the proxy made that failed, per second (any is bad news)",
                  f"{by} (rate({src.fallbacks_failed}[5m]))"))


SIGNAL = Failover()

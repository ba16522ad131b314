"""The promtool scenarios of failover: its alerts' cases."""
from __future__ import annotations

from ... import boundaries, conventions as c
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, ExprCheck, Phase, Scenario, Stream
from ...sli import own
from ...spec.units import format_duration, format_number
from ..base import alerts_in, expect
from .rules import Failover, NEEDED, PAGE_ALERT, SIGNAL_ALERT


def probes(self: Failover, service, cfg, signal, page) -> list[Probe]:
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

def _scenarios(self: Failover, service, cfg, signal, page):
    for probe in probes(self, service, cfg, signal, page):
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


def scenarios(self: Failover, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups."""
    alerts = alerts_in(groups)
    return tuple(_scenarios(self, service, cfg, alerts[SIGNAL_ALERT], alerts[PAGE_ALERT]))

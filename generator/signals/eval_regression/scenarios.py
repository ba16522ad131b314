"""The promtool scenarios of eval_regression: its alerts' cases."""
from __future__ import annotations

import math

from ... import boundaries
from ...boundaries import Clause, Probe, Traffic
from ...rules import Check, EvalRun, Scenario
from ...spec.units import format_duration
from ..base import expect
from .rules import ALERT, EvalRegression, STALE


def probe(self: EvalRegression, service, cfg, regression) -> Probe:
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

def _scenarios(self: EvalRegression, service, cfg, regression, stale):
    yield from boundaries.scenarios(probe(self, service, cfg, regression))
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


def scenarios(self: EvalRegression, service, cfg, groups) -> tuple[Scenario, ...]:
    """Its promtool scenarios, on the alerts of its compiled groups (the stale page twice: an old run, and no results
    at all)."""
    alerts = [a for g in groups for a in g.alerts]
    regression = next(a for a in alerts if a.alert == ALERT)
    stale = next(a for a in alerts if a.alert == STALE and "reason" not in a.label_map)
    gone = next(a for a in alerts if a.alert == STALE and a.label_map.get("reason") == "results_missing")
    # absent() returns the selector's equality matchers as labels.
    gone_labels = {m.name: m.value for m in self.gone_selector(service, cfg).matchers if m.op == "="}
    # No series from the start: absent() holds from the first evaluation, so the page is due at `stale_after`.
    due = -(-int(cfg["stale_after"]) // 60)
    vanished = Scenario(
        f"{STALE} fires when the suite's results vanish altogether for {format_duration(cfg['stale_after'])}",
        checks=(Check(due - 1, STALE),
                Check(due, STALE, (expect(gone, None, **gone_labels),), due=True)),
    )
    return tuple(_scenarios(self, service, cfg, regression, stale)) + (vanished,)

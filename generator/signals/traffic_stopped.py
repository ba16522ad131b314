"""Traffic stopped: a service that normally has calls at this hour gets none, or nearly none.

No ratio sees it: with no calls there is nothing to fail. It catches what silences a service rather than breaking
it: a revoked API key whose failures the source does not count (LiteLLM drops 401s), a dead exporter or a scrape
that stopped (the series vanish, which counts as zero calls), a broken deployment, an upstream that stopped
sending. "Normally" is the same hour one `baseline` ago, so a service quiet at night is not paged at night, and
young data never pages: without a baseline there is no "normally".
"""
from __future__ import annotations

from .. import boundaries
from .. import conventions as c
from ..rules import Check, Group, Output, Phase, Scenario, Stream
from ..content.runbook import Query, RunbookContent, Step
from ..content.links import kubectl, percent
from ..sli import own, with_history
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from .base import Config, Signal, expect, first_model, make_alert

NAME = "traffic_stopped"
ALERT = c.alert_name("TrafficStopped")


class TrafficStopped(Signal):
    name = NAME
    alerts = {"page": ALERT}
    explained_by_outage = True  # a provider outage that stops traffic (LiteLLM cooling every deployment) pages already
    description = ("Page when a service that normally has calls at this hour gets (nearly) none: a revoked key, a dead "
                   "exporter, a broken deployment or a stopped scrape.")
    auto_when = "on"
    schema = {
        "below": unit("ratio", "Page when calls per second fall below this share of the same hour one `baseline` ago.",
                      "10%"),
        "min_request_rate": number("Calls per second the service must have had at this hour one `baseline` ago: "
                                   "quieter hours (nights) never page.", 0.1),
        "baseline": unit("duration", "How far back \"this hour\" is: `1d` (yesterday) or `1w` (the same hour last "
                                     "week, for services quiet at weekends). Also the history the page needs first.",
                         "1d"),
        "for": unit("duration", "How long traffic must stay stopped before paging.", "10m"),
    }

    def check(self, service, cfg):
        if cfg["baseline"] < 3600:
            raise FieldError(("baseline",), "expected at least 1h: the baseline is the 1h call rate one baseline ago")
        if not 0 < cfg["below"] < 1:
            raise FieldError(("below",), "expected a share between 0% and 100%")

    def condition(self, service, cfg) -> str:
        then = f"({own(c.REQUESTS_RATE1H, service)} offset {c.window(cfg['baseline'])})"
        # A vanished series is zero calls: the exporter or the scrape stopped.
        now = f"({own(c.REQUESTS_RATE5M, service)} or {then} * 0)"
        return with_history(f"{now} < {format_number(cfg['below'])} * {then} "
                            f"and {then} > {format_number(cfg['min_request_rate'])}", service, cfg["baseline"])

    def history(self, service, cfg) -> float:
        return cfg["baseline"]

    def build(self, service, cfg: Config) -> Output:
        alert = make_alert(
            service, NAME, ALERT, self.condition(service, cfg), cfg["for"], c.PAGE,
            summary="The service gets (nearly) no calls at an hour it normally has them.",
            description=("{{ $labels.service }} gets {{ printf \"%.2f\" $value }} calls/s, under "
                         f"{format_number(cfg['below'] * 100)}% of its calls at this hour "
                         f"{format_duration(cfg['baseline'])} ago."),
        )
        group = Group(c.group_name(service.name, NAME), NAME, (alert,))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, alert)))

    def runbook(self, service, cfg, alert):
        k = kubectl(service)
        # Every generation of names the service may emit (OTel GenAI's): either one's series show it is scraped.
        raw = " or ".join(f"count({g.selector})" for g in service.source.requests.generations())
        base = format_duration(cfg["baseline"])
        steps = (
            Step("Does Prometheus still get the service's metrics at all? Raw series of the call counter (no result: "
                 "they vanished).", raw, key="scrape",
                 branches=(("no result", "the exporter, the scrape or the service is gone → step:pods"),
                           ("series are there but flat", "calls do not arrive, or are not counted → step:auth"))),
            Step("Are the service's pods running, and was there a rollout just before?", command=k.history(), key="pods",
                 branches=(("a rollout at the time traffic stopped", f"roll it back: `{k.undo()}`, then "
                                                                     f"`{k.status()}`"),
                           ("pods crash-loop or are not ready", f"`{k('get pods -o wide')}`, then their logs"),
                           ("pods are fine", "check the scrape target in Prometheus' Targets page (up == 0, auth, "
                                             "network policy), then → step:auth"))),
            Step("Do calls fail before they are counted? Authentication failures (a revoked or expired provider key; "
                 "LiteLLM does not count 401s) leave the counters flat.",
                 command=k.logs("401|403|auth|invalid.?(api.?)?key|permission"), key="auth",
                 branches=(("401, 403 or invalid key", f"rotate the provider key secret, then `{k.restart()}`"),
                           ("nothing", "→ step:upstream"))),
            Step("Does anyone still send requests? The callers, the ingress or the queue in front of the service.",
                 command=k("get ingress,svc,endpoints"), key="upstream",
                 branches=(("no endpoints or a broken ingress", "fix the route; the service itself is idle, not down"),
                           ("upstream stopped on purpose (a migration, a switched-off feature)",
                            "resolve; if it is for good, lower `min_request_rate` or turn the signal off"))),
        )
        return RunbookContent(
            meaning=(f"`{service.name}` has had fewer than {percent(cfg['below'])} of the calls it had at this hour "
                     f"{base} ago for {format_duration(cfg['for'])} (it had more than "
                     f"{format_number(cfg['min_request_rate'])} calls/s then). Vanished series count as zero calls."),
            impact=("Users may get nothing at all, while every error ratio looks healthy: without calls there is "
                    "nothing to fail, and nothing else pages."),
            steps=steps,
            queries=(Query("Calls per second now", own(c.REQUESTS_RATE5M, service)),
                     Query(f"Calls per second at this hour {base} ago",
                           f"{own(c.REQUESTS_RATE1H, service)} offset {c.window(cfg['baseline'])}")),
            history=(f"Silent until the service has {base} of history (a new service, a renamed job or a fresh "
                     "Prometheus): \"normally\" is the same hour one baseline ago."),
        )

    def _scenarios(self, service, cfg, alert):
        p, model = first_model(service)
        per_min = max(60.0, cfg["min_request_rate"] * 60 * 10)
        history = int(cfg["baseline"] // 60)
        busy = history + 90   # the baseline hour a `baseline` ago is full of traffic
        fires = busy + 5 + _steps(cfg["for"], 5) + 5
        stopped = Phase(120, ok=0)
        # The first evaluation after the calls stop sees a 5m window without calls: `for` runs from there.
        due = busy + 5 + _steps(cfg["for"], 5)
        yield Scenario(
            f"{ALERT} fires when calls stop at an hour that had {per_min:g} a minute {format_duration(cfg['baseline'])} ago",
            streams=(Stream(p.name, model, (Phase(busy, ok=per_min), stopped)),),
            checks=(Check(busy - 5, ALERT), Check(due - 5, ALERT), Check(due, ALERT, (expect(alert, 0),), lasts=False),
                    Check(fires, ALERT, (expect(alert, 0),))),
            evaluation_interval=300,
        )
        yield Scenario(
            f"{ALERT} fires when the series vanish (the exporter or the scrape stopped)",
            streams=(Stream(p.name, model, (Phase(busy, ok=per_min),)),),
            checks=(Check(busy - 5, ALERT), Check(fires + 5, ALERT, (expect(alert, 0),), lasts=False)),
            evaluation_interval=300,
        )
        # Just either side of `below` (10% off), so a threshold half as large again, or two thirds of it, shows.
        # `for` at a step fine enough to see it end: the last calls arrive at the sample of minute `busy`, so from
        # busy + 4 a 5m window holds no increment (at busy + 3 it still holds one of four, far above `below`).
        fine = boundaries.for_step(300, cfg["for"])
        if fine < 300 and cfg["below"] < 0.25:
            soon = boundaries.on_grid(busy + 4, fine) + boundaries.on_grid(cfg["for"] / 60, fine)
            yield Scenario(
                f"{ALERT} is due {format_duration(cfg['for'])} after the calls stop, not one evaluation "
                f"({format_duration(fine)}) earlier",
                streams=(Stream(p.name, model, (Phase(busy, ok=per_min), Phase(int(soon) - busy + 5, ok=0))),),
                # Pinned to its due minute, so the secondary tier is checked at this step too: silent one step
                # before `delay` later, firing at it (the calls stay stopped).
                checks=(Check(soon - fine / 60, ALERT), Check(soon, ALERT, (expect(alert, 0),), due=True)),
                evaluation_interval=fine,
            )
        low, high = cfg["below"] * 0.9, min(0.99, cfg["below"] * 1.1)
        # The description prints calls/s with two decimals: traffic whose rate is not a rounding tie (0.045 prints as
        # 0.04 or 0.05 depending on the last bit of the float), so the expected text is certain.
        calls = per_min
        while "%.2f" % (calls * low / 60 * (1 + 1e-9)) != "%.2f" % (calls * low / 60 * (1 - 1e-9)):
            calls *= 1.01
        yield Scenario(
            f"{ALERT} fires at {percent(low)} of the usual calls",
            streams=(Stream(p.name, model, (Phase(busy, ok=calls), Phase(120, ok=calls * low))),),
            checks=(Check(fires + 5, ALERT, (expect(alert, calls * low / 60),)),),
            evaluation_interval=300,
        )
        yield Scenario(
            f"{ALERT} stays silent at {percent(high)} of the usual calls",
            streams=(Stream(p.name, model, (Phase(busy, ok=per_min), Phase(120, ok=per_min * high))),),
            checks=(Check(fires + 5, ALERT, settled=True), Check(fires + 60, ALERT)),
            evaluation_interval=300,
        )
        # The guard on the hour a baseline ago, `min_request_rate`, from both sides (10% off).
        enough = cfg["min_request_rate"] * 60 * 1.1
        yield Scenario(
            f"{ALERT} fires when calls stop at an hour that had {enough:g} a minute, just above the "
            f"{format_number(cfg['min_request_rate'])} calls/s it needs",
            streams=(Stream(p.name, model, (Phase(busy, ok=enough), stopped)),),
            checks=(Check(fires, ALERT, (expect(alert, 0),)),),
            evaluation_interval=300,
        )
        quiet = cfg["min_request_rate"] * 60 * 0.9
        yield Scenario(
            f"{ALERT} stays silent when calls stop at an hour that had only {quiet:g} a minute (night)",
            streams=(Stream(p.name, model, (Phase(busy, ok=quiet), stopped)),),
            checks=(Check(fires, ALERT), Check(fires + 30, ALERT)),
            evaluation_interval=300,
        )
        yield Scenario(
            f"{ALERT} stays silent from an empty history: calls stop before the service has "
            f"{format_duration(cfg['baseline'])} of history (young data)",
            streams=(Stream(p.name, model, (Phase(120, ok=per_min), Phase(60, ok=0))),),
            checks=tuple(Check(m, ALERT) for m in (130, 150, 175)),
        )
        # Calls that stop 30 minutes before the history is there: silent until then; a few minutes later the hour a
        # baseline ago holds enough traffic to count, and it pages after `for` (before any secondary tier).
        due = history + 10 + _steps(cfg["for"], 5) + 5
        yield Scenario(
            f"{ALERT} can page at the earliest once the service has {format_duration(cfg['baseline'])} of history: "
            "calls that stop 30 minutes earlier stay silent until then",
            streams=(Stream(p.name, model, (Phase(history - 30, ok=per_min), Phase(due - history + 40, ok=0))),),
            checks=(Check(history - 5, ALERT), Check(history, ALERT),
                    Check(due, ALERT, (expect(alert, 0),), lasts=False)),
            evaluation_interval=300,
        )


def _steps(seconds: float, step: int) -> int:
    """Minutes until a `for` of `seconds` has passed, on evaluations every `step` minutes."""
    return -(-int(seconds // 60) // step) * step


SIGNAL = TrafficStopped()

"""Rules that belong to no single service: on-call health and the Watchdog heartbeat."""
from __future__ import annotations

from . import conventions as c
from .rules import Check, ExprCheck, Group, Output, Recording, Scenario, Series
from .rules import Alert, Expected

GROUP_KEY = "oncall_health"
WATCHDOG = c.alert_name("Watchdog")
PAGES = 'ALERTS{alertstate="firing", severity="critical", escalation!="secondary"}'


def _watchdog() -> Alert:
    labels = {c.SIGNAL: "watchdog", c.SEVERITY: c.INFO, c.TEAM: c.GENERATOR}
    return Alert(WATCHDOG, "vector(1)", 0, tuple(sorted(labels.items())), (
        ("description", "Always firing. If the heartbeat receiver stops hearing it, alerting is broken."),
        ("runbook_url", "runbooks/watchdog.md"),
        ("summary", "The alerting pipeline is alive."),
    ))


def build() -> Output:
    """On-call health: pages started per day and week per team and service, from `ALERTS`."""
    started = "service_alertname:ai_pages:started"
    # The group runs every minute, so a page "starts" at the first evaluation it is firing.
    rules = (
        Recording(started, f"count by (team, service, alertname) ({PAGES} unless {PAGES} offset 1m)"),
        Recording("team:ai_pages:count1d", f"sum by (team) (count_over_time({started}[1d]))"),
        Recording("team:ai_pages:count1w", f"sum by (team) (count_over_time({started}[1w]))"),
        Recording("team:ai_pages_firing:count", f"count by (team) ({PAGES})"),
        _watchdog(),
    )
    group = Group("oncallgen-oncall-health", GROUP_KEY, rules, interval=60)
    firing = 'ALERTS{alertname="AIProviderDown", alertstate="firing", escalation="primary", provider="anthropic", ' \
             'service="chat", severity="critical", team="ml"}'
    wd = _watchdog()
    scenario = Scenario(
        "On-call health counts two pages of one alert in a day; the Watchdog always fires",
        series=(Series(firing, "_x10 1x10 _x10 1x10 _x20"),),
        exprs=(ExprCheck(60, "team:ai_pages:count1d", (((("__name__", "team:ai_pages:count1d"), ("team", "ml")), 2.0),)),
               ExprCheck(15, "team:ai_pages_firing:count",
                         (((("__name__", "team:ai_pages_firing:count"), ("team", "ml")), 1.0),))),
        checks=(Check(5, WATCHDOG, (Expected(wd.label_map, wd.annotation_map),)),),
    )
    return Output(groups=(group,), scenarios=(scenario,))

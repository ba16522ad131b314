"""Rules that belong to no single service: on-call health and the Watchdog heartbeat."""
from __future__ import annotations

from typing import Iterable

from . import conventions as c
from . import promql_fragments as fragments
from .rules import Check, ExprCheck, Group, Output, Recording, Scenario, Series
from .rules import Alert, Expected
from .content.runbook import RunbookContent, Step
from .spec.model import Routing, Team
from .targets.utc_hours import NotExpressible, utc_intervals

GROUP_KEY = "oncall_health"
WATCHDOG = c.alert_name("Watchdog")
PAGES = 'ALERTS{alertstate="firing", severity="critical", escalation!="secondary"}'


def _watchdog() -> Alert:
    labels = {c.SIGNAL: "watchdog", c.SEVERITY: c.INFO, c.TEAM: c.GENERATOR, c.SERVICE: c.PIPELINE_SERVICE}
    return Alert(WATCHDOG, "vector(1)", 0, tuple(sorted(labels.items())), (
        ("description", "Always firing. If the heartbeat receiver stops hearing it, alerting is broken."),
        ("runbook_url", "runbooks/watchdog.md"),
        ("summary", "The alerting pipeline is alive."),
    ))


_DAYS = {"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
_MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                       "september", "october", "november", "december"), 1)}


def _between(function: str, low: int, high: int) -> str:
    return f"{function} >= {low} and {function} <= {high}"


def _span(text: str, names: dict[str, int]) -> tuple[int, int]:
    first, _, last = text.partition(":")
    return names[first], names[last or first]


def business_hours(team: Team) -> str | None:
    """PromQL that is 1 while `team` is in its business hours (None: it has none, or its zone's UTC hours cannot be
    written by month, day and weekday). The same UTC intervals the operator target writes, as clock functions:
    `hour()`, `day_of_week()` and friends read the evaluation time in UTC."""
    hours = team.business_hours
    if hours is None:
        return None
    try:
        intervals = utc_intervals(hours.location, hours.weekdays, hours.start, hours.end)
    except NotExpressible:
        return None
    branches = []
    for interval in intervals:
        parts = [" or ".join(f"({_between('hour() * 60 + minute()', *_clock(t))})" for t in interval["times"])]
        parts.append(" or ".join(f"({_between('day_of_week()', *_span(d, _DAYS))})" for d in interval["weekdays"]))
        if "months" in interval:
            parts.append(" or ".join(f"({_between('month()', *_span(m, _MONTHS))})" for m in interval["months"]))
        if "daysOfMonth" in interval:
            parts.append(" or ".join(f"({_between('day_of_month()', d['start'], d['end'])})"
                                     for d in interval["daysOfMonth"]))
        branches.append(" and ".join(f"({p})" for p in parts))
    return "vector(1) and on () (" + " or ".join(f"({b})" for b in branches) + ")"


def _clock(times: dict) -> tuple[int, int]:
    """A UTC interval's minutes of the day, start inclusive and end exclusive (as the last minute it holds)."""
    start, end = (int(h) * 60 + int(m) for h, m in (t.split(":") for t in (times["startTime"], times["endTime"])))
    return start, end - 1


def build(example_page: str, teams: Iterable[Team] = ()) -> Output:
    """On-call health: pages started per day and week per team and service, from `ALERTS`, and per team with business
    hours those that started outside them; its test counts pages of the alert named `example_page`."""
    started = c.PAGES_STARTED
    # The group runs every minute, so a page "starts" at the first evaluation it is firing.
    hours = [(t.name, expr) for t in sorted(teams, key=lambda t: t.name) if (expr := business_hours(t))]
    rules = (
        Recording(started, f"count by (team, service, alertname) ({PAGES} unless {PAGES} offset 1m)"),
        Recording(c.PAGES_COUNT1D, f"sum by (team) (sum_over_time({started}[1d]))"),
        Recording(c.PAGES_COUNT1W, f"sum by (team) (sum_over_time({started}[1w]))"),
        Recording(c.PAGES_FIRING, f"count by (team) ({PAGES})"),
        *(Recording(c.BUSINESS_HOURS, expr, ((c.TEAM, name),)) for name, expr in hours),
        *((Recording(c.PAGES_OFF_HOURS_STARTED,
                     f'sum by (team) ({started}{{team=~"{fragments.alternatives(*(n for n, _ in hours))}"}}) '
                     f"unless on (team) {c.BUSINESS_HOURS}"),
           Recording(c.PAGES_OFF_HOURS_COUNT1W, f"sum by (team) (sum_over_time({c.PAGES_OFF_HOURS_STARTED}[1w]))"))
          if hours else ()),
        _watchdog(),
    )
    group = Group(c.global_group_name("oncall-health"), GROUP_KEY, rules, interval=60)
    firing = (f'ALERTS{{alertname="{example_page}", alertstate="firing", escalation="primary", provider="anthropic", '
              'service="chat", severity="critical", team="ml"}')
    wd = _watchdog()
    # The secondary tier of the same page fires too: it is the same incident, so it must not count again.
    secondary = firing.replace('escalation="primary"', 'escalation="secondary"')
    scenario = Scenario(
        "On-call health counts two pages of one alert in a day, not their secondary tier; the Watchdog always fires",
        series=(Series(firing, "_x10 1x10 _x10 1x10 _x20"), Series(secondary, "_x15 1x5 _x15 1x5 _x20")),
        exprs=(ExprCheck(60, c.PAGES_COUNT1D, (((("__name__", c.PAGES_COUNT1D), ("team", "ml")), 2.0),)),
               ExprCheck(15, c.PAGES_FIRING,
                         (((("__name__", c.PAGES_FIRING), ("team", "ml")), 1.0),))),
        checks=(Check(5, WATCHDOG, (Expected(wd.label_map, wd.annotation_map),)),),
    )
    return Output(groups=(group,), scenarios=(scenario,))


def runbook(routing: Routing | None) -> RunbookContent:
    """The Watchdog's runbook: the page comes from the dead-man's switch, so the steps walk to the break."""
    heartbeat = f"`{routing.name}/{routing.heartbeat}`" if routing else "the heartbeat receiver"
    labels = " ".join(f"{k}={v}" for k, v in [("alertname", WATCHDOG)] + sorted(_watchdog().label_map.items()))
    return RunbookContent(
        meaning=(f"{WATCHDOG} always fires (`vector(1)`). Alertmanager sends it every minute to {heartbeat}, a "
                 "dead-man's switch. If you were paged about it, the switch stopped hearing the heartbeat: somewhere "
                 "between Prometheus and the switch, alerting is broken."),
        impact="While it is broken no alert reaches anyone: treat it as every page of every team being down.",
        steps=(
            Step("Is Prometheus evaluating the rules? The Watchdog should be firing.",
                 f'ALERTS{{alertname="{WATCHDOG}", alertstate="firing"}}',
                 branches=(("no result", "Prometheus is down or stopped loading rules: open its /rules and /targets "
                                         "pages → step:rules"),
                           ("it is firing", "Prometheus is fine; the break is further on → step:alertmanager"))),
            Step("Does Alertmanager have it?", command=f"amtool alert query alertname={WATCHDOG}", key="alertmanager",
                 branches=(("it is missing", "Prometheus cannot reach Alertmanager: check `alerting.alertmanagers` in "
                                             "prometheus.yml, and that the Alertmanager pods run"),
                           ("it is there", "Alertmanager cannot reach the switch → step:route"))),
            Step(f"Does it route to {heartbeat}? From the generated output folder:", key="route",
                 command=(f"amtool config routes test --config.file="
                          f"{'alertmanager/alertmanager.yml' if routing else '<your alertmanager.yml>'} {labels}"),
                 branches=(("it prints the heartbeat receiver", "the route is right: Alertmanager's logs say why the "
                                                                "notification fails (`Notify for alerts failed`); fix "
                                                                "the endpoint, the network or the credentials"),
                           ("it prints another receiver", "the running configuration is not the generated one: "
                                                          "deploy alertmanager/alertmanager.yml again"))),
            Step("Do the rule files load? From the generated output folder:", command=f"promtool check rules {c.RULES_GLOB}",
                 key="rules",
                 branches=(("errors", "fix the spec (or the generator), run `make generate`, deploy the rules"),
                           ("every file says SUCCESS", "Prometheus did not pick them up: check `rule_files` in "
                                                       "prometheus.yml, then reload it"))),
        ),
        mitigation=("Until alerting works again, someone watches the dashboards of every paging service by hand.",),
    )

"""The alerting pipeline watches itself: Alertmanager failing to notify, rules failing to evaluate, a
configuration reload that failed. The checks kube-prometheus ships for the same failures, in our conventions.

A missing secret file is the case that motivates this: Alertmanager starts without it and fails only at send
time, once per notification, with one log line. Without these alerts that page is lost silently. The Watchdog
(`meta.py`) covers the rest: a Prometheus that cannot reach Alertmanager at all.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from . import conventions as c
from .promql import Matcher, Selector
from .promql_fragments import alternatives
from .rules import Alert, Check, Expected, Group, Output, Scenario, Series
from .content.runbook import RunbookContent, Step
from .spec.model import Pipeline, Routing
from .spec.units import format_duration
from .templating import render

GROUP_KEY = SIGNAL = c.PIPELINE_SIGNAL
SERVICE = c.PIPELINE_SERVICE
WINDOW = 600                    # a failure keeps its alert firing this long, so a single lost page is seen

NOTIFICATIONS = c.alert_name("AlertmanagerNotificationsFailing")
RULES = c.alert_name("RuleEvaluationFailing")
AM_RELOAD = c.alert_name("AlertmanagerConfigReloadFailed")
PROM_RELOAD = c.alert_name("PrometheusConfigReloadFailed")


@dataclass(frozen=True)
class PipelineCheck:
    """One pipeline alert: what it watches, when it fires, and a raw series that makes it fire."""

    alert: str
    metric: str
    component: str          # "alertmanager" or "prometheus": whose metrics it reads
    by: str                 # the label that says which part fails
    failing: str            # that label's value in the test series
    expr: str               # with {sel} for the metric's selector
    for_seconds: float
    severity: str
    summary: str
    description: str
    counter: bool           # the test series counts failures (else: a 0/1 gauge of success)


def _checks() -> tuple[PipelineCheck, ...]:
    w = c.window(WINDOW)
    return (
        PipelineCheck(NOTIFICATIONS, "alertmanager_notifications_failed_total", "alertmanager", "integration", "pagerduty",
               f"sum by (integration) (increase({{sel}}[{w}])) > 0", 0, c.PAGE,
               "Alertmanager cannot deliver notifications.",
               "Alertmanager failed to deliver notifications through {{ $labels.integration }} in the last "
               f"{w}: pages may be lost. Its log says why (a missing secret file, a revoked key, no network).",
               True),
        PipelineCheck(RULES, "prometheus_rule_evaluation_failures_total", "prometheus", "rule_group", "/etc/rules/x.yml;x",
               f"sum by (rule_group) (increase({{sel}}[{w}])) > 0", 300, c.PAGE,
               "Alerting rules fail to evaluate.",
               "Rules of group {{ $labels.rule_group }} failed to evaluate in the last " + w
               + ": its alerts cannot fire.", True),
        PipelineCheck(AM_RELOAD, "alertmanager_config_last_reload_successful", "alertmanager", "instance", "am:9093",
               "min by (instance) ({sel}) == 0", 600, c.TICKET,
               "Alertmanager rejected its new configuration.",
               "Alertmanager {{ $labels.instance }} failed to load its configuration: it still routes with the "
               "previous one, so routing changes since then are not live.", False),
        PipelineCheck(PROM_RELOAD, "prometheus_config_last_reload_successful", "prometheus", "instance", "prom:9090",
               "min by (instance) ({sel}) == 0", 600, c.TICKET,
               "Prometheus rejected its new configuration.",
               "Prometheus {{ $labels.instance }} failed to load its configuration: it still evaluates the "
               "previous rules, so rule changes since then are not live.", False),
    )


# On Grafana Mimir the same failures show in the series of Mimir's own components, per tenant (`user`), as a
# meta-monitoring Prometheus scraping the ruler and the Alertmanager sees them (Mimir's pkg/ruler/manager_metrics.go,
# pkg/alertmanager/alertmanager_metrics.go); a tenant's ruler sees none of them.
MIMIR_USER = "user"


def _mimir_checks() -> tuple[PipelineCheck, ...]:
    w = c.window(WINDOW)
    return (
        PipelineCheck(NOTIFICATIONS, "cortex_alertmanager_notifications_failed_total", "alertmanager", "integration",
                      "pagerduty", f"sum by (user, integration) (increase({{sel}}[{w}])) > 0", 0, c.PAGE,
                      "Mimir's Alertmanager cannot deliver notifications.",
                      "Mimir's Alertmanager failed to deliver notifications of tenant {{ $labels.user }} through "
                      "{{ $labels.integration }} in the last " + w + ": pages may be lost. Its log says why (a "
                      "secret not substituted, a revoked key, no network).", True),
        PipelineCheck(RULES, "cortex_prometheus_rule_evaluation_failures_total", "ruler", "rule_group", "x;x",
                      f"sum by (user, rule_group) (increase({{sel}}[{w}])) > 0", 300, c.PAGE,
                      "Alerting rules fail to evaluate in Mimir's ruler.",
                      "Rules of group {{ $labels.rule_group }} of tenant {{ $labels.user }} failed to evaluate in "
                      "the last " + w + ": its alerts cannot fire.", True),
        PipelineCheck(AM_RELOAD, "cortex_alertmanager_config_last_reload_successful", "alertmanager", "user", "x",
                      "min by (user) ({sel}) == 0", 600, c.TICKET,
                      "Mimir's Alertmanager rejected a tenant's configuration.",
                      "Mimir's Alertmanager failed to load the configuration of tenant {{ $labels.user }}: it still "
                      "routes with the previous one, so routing changes since then are not live.", False),
        PipelineCheck(PROM_RELOAD, "cortex_ruler_config_last_reload_successful", "ruler", "user", "x",
                      "min by (user) ({sel}) == 0", 600, c.TICKET,
                      "Mimir's ruler rejected a tenant's rules.",
                      "Mimir's ruler failed to load the rules of tenant {{ $labels.user }}: it still evaluates the "
                      "previous ones, so rule changes since then are not live.", False),
    )


def mimir_group(pipeline: Pipeline, tenants: tuple[str, ...]) -> Group:
    """The pipeline's alerts for a meta-monitoring Prometheus that scrapes Mimir's ruler and Alertmanager: the same
    alert names, labels and runbooks, on Mimir's metric names, for `tenants` only."""
    tenant = Matcher(MIMIR_USER, "=~", alternatives(*tenants))
    alerts = []
    for check in _mimir_checks():
        alert = _alert(check, pipeline)
        alerts.append(replace(alert, expr=check.expr.format(sel=Selector(check.metric, (tenant,)))))
    return Group(c.global_group_name("alerting-pipeline-mimir"), GROUP_KEY, tuple(alerts))


def runbook_url(alertname: str) -> str:
    """Pipeline alerts belong to no service: their pages sit next to the Watchdog's."""
    return f"runbooks/{c.slug(alertname)}.md"


def _selector(check: PipelineCheck, pipeline: Pipeline) -> Selector:
    return Selector(check.metric, pipeline.alertmanager if check.component == "alertmanager" else pipeline.prometheus)


def _alert(check: PipelineCheck, pipeline: Pipeline) -> Alert:
    labels = {c.SERVICE: SERVICE, c.TEAM: pipeline.team or c.GENERATOR, c.SIGNAL: SIGNAL, c.SEVERITY: check.severity}
    return Alert(check.alert, check.expr.format(sel=_selector(check, pipeline)), check.for_seconds,
                 tuple(sorted(labels.items())),
                 tuple(sorted({"summary": check.summary, "description": check.description,
                               "runbook_url": runbook_url(check.alert)}.items())))


def _expected(alert: Alert, check: PipelineCheck) -> Expected:
    """The alert as promtool must see it: the expression's one label, the rule's labels, annotations rendered."""
    series = {check.by: check.failing}
    annotations = {k: render(v, series, None) for k, v in alert.annotations}
    return Expected(dict(sorted({**alert.label_map, **series}.items())), dict(sorted(annotations.items())))


def build(pipeline: Pipeline) -> Output:
    """The pipeline's alerts and the promtool scenarios that prove when each fires and when it does not."""
    alerts, scenarios = [], []
    for check in _checks():
        alert = _alert(check, pipeline)
        alerts.append(alert)
        sel = _selector(check, pipeline)
        labels = ", ".join([str(m) for m in sel.matchers] + [f'{check.by}="{check.failing}"'])
        series = f"{check.metric}{{{labels}}}"
        # Minutes written by hand from the rules above (failure at minute 21; a 10m window; `for` 0, 5m or 10m),
        # not derived from them: a changed window or `for` must fail these.
        if check.counter:
            scenarios.append(Scenario(
                f"{check.alert} fires on a single failure, still fires 8 minutes later, and clears after 10 minutes",
                series=(Series(series, "0x20 1x80"),),
                checks=(Check(19, check.alert),
                        # with a `for` (5m here): still pending a minute before it is due
                        *((Check(25, check.alert),) if check.for_seconds else ()),
                        # ...and firing the minute it is due (the failure is seen from minute 21)
                        *((Check(21 + int(check.for_seconds // 60), check.alert, (_expected(alert, check),),
                                 lasts=False),) if check.for_seconds else ()),
                        Check(29, check.alert, (_expected(alert, check),), lasts=False),
                        Check(32, check.alert))))
            scenarios.append(Scenario(f"{check.alert} stays silent while nothing fails",
                                      series=(Series(series, "0x60"),), checks=(Check(30, check.alert),)))
        else:
            scenarios.append(Scenario(
                f"{check.alert} fires when a reload has failed for {format_duration(check.for_seconds)}",
                series=(Series(series, "1x20 0x40"),),
                checks=(Check(30, check.alert), Check(32, check.alert, (_expected(alert, check),), lasts=False))))
            scenarios.append(Scenario(f"{check.alert} stays silent while reloads succeed",
                                      series=(Series(series, "1x60"),), checks=(Check(30, check.alert),)))
    group = Group(c.global_group_name("alerting-pipeline"), GROUP_KEY, tuple(alerts))
    return Output(groups=(group,), scenarios=tuple(scenarios))


def runbook(alert: Alert, routing: Routing | None) -> RunbookContent:
    """The runbook of one pipeline alert: where the break is, step by step."""
    am_logs = "journalctl -u prometheus-alertmanager --since -30m | grep -iE 'notify|error|fail'  # or: kubectl logs"
    if alert.alert == NOTIFICATIONS:
        fallback = f"`{routing.name}/{routing.fallback}`" if routing else "the fallback receiver"
        return RunbookContent(
            meaning=("Alertmanager tried to send a notification and gave up, within the last "
                     f"{format_duration(WINDOW)}. The alert's `integration` label says which kind of receiver failed."),
            impact=("A page, ticket or remediation webhook did not arrive: someone was not told about an alert. "
                    "Alertmanager does not retry it later."),
            steps=(
                Step("Which integration fails, and how often? Failed notifications per integration in the last hour.",
                     "sum by (integration) (increase(alertmanager_notifications_failed_total[1h]))",
                     branches=(("one integration", "→ step:logs"),
                               ("every integration", "Alertmanager has no network way out (egress, proxy, DNS): "
                                                     "page the platform on-call, then → step:who"))),
                Step("What does Alertmanager log about it?", command=am_logs, key="logs",
                     branches=(("`failed to read ... from file` or `no such file`",
                                "a secret file is missing: the receiver's `*_file` path is not mounted. Mount the "
                                "secret (kubectl get secret; the pod's volumes), then reload Alertmanager → step:who"),
                               ("401, 403 or `invalid key`", "the key was revoked or rotated: update the secret, "
                                                             "then reload Alertmanager → step:who"),
                               ("timeouts or connection refused", "the receiver's endpoint is down or unreachable: "
                                                                  "check it and the egress path → step:who"))),
                Step("Who missed a notification? Alerts firing now, by team and receiver.", key="who",
                     command="amtool alert query --active",
                     branches=(("pages among them", "tell those teams' on-call directly, now"),
                               ("no pages", "fix the receiver in working hours"))),
            ),
            mitigation=(f"Until the receiver works, someone watches {fallback} and the alert list "
                        "(`amtool alert query`) by hand.",),
        )
    if alert.alert == RULES:
        return RunbookContent(
            meaning=("Prometheus failed to evaluate rules of a group in the last "
                     f"{format_duration(WINDOW)}, for {format_duration(alert.for_seconds)}."),
            impact="Recording rules leave gaps and alerts of that group cannot fire: pages may be missed.",
            steps=(
                Step("Which rules fail, and why? The rules page shows each rule's last error.",
                     "sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total[1h]))",
                     command="curl -s http://localhost:9090/api/v1/rules | jq '.data.groups[].rules[] | "
                             "select(.health != \"ok\") | {name, lastError}'",
                     branches=(("`many-to-many matching not allowed` or `duplicate series`",
                                "two series now carry the same labels (a relabelling or exporter change): fix the "
                                "scrape config or the spec's selector, then `make generate`"),
                               ("`query timed out` or `query processing would load too many samples`",
                                "Prometheus is overloaded: see its CPU, memory and `--query.max-samples`"),
                               ("anything else", "fix the spec or the generator, `make generate`, deploy"))),
            ),
            mitigation=("While a group fails, its alerts are blind: watch that service's dashboards by hand.",),
        )
    component = "Alertmanager" if alert.alert == AM_RELOAD else "Prometheus"
    metric = f"{component.lower()}_config_last_reload_successful"
    check_cmd = ("amtool check-config alertmanager/alertmanager.yml" if alert.alert == AM_RELOAD
                 else f"promtool check config <your prometheus.yml> && promtool check rules {c.RULES_GLOB}")
    return RunbookContent(
        meaning=(f"{component}'s last configuration reload failed, and has for {format_duration(alert.for_seconds)}."),
        impact=(f"{component} keeps running with its previous configuration: nothing is lost yet, but changes since "
                "then (rules, routes, receivers) are not live, and a restart would fail to start."),
        steps=(
            Step(f"Which {component} failed, and since when? 0 = its last reload failed.",
                 f"min by (instance) ({metric})",
                 branches=((f"every {component} shows 0", "the deployed configuration is bad → step:check"),
                           ("one shows 0", "that instance reads a different file or misses a mounted secret → "
                                           "step:check"))),
            Step("Does the deployed configuration check? From the deployed output folder:", command=check_cmd,
                 key="check",
                 branches=(("it reports errors", "fix the spec, `make generate`, deploy; or roll back the last "
                                                 "deployment of the configuration"),
                           ("it passes", f"the file {component} reads is not this one, or a secret file it names is "
                                         f"missing: read {component}'s log for the reload error"))),
        ),
        mitigation=(f"Do not restart {component} until the configuration loads: it would not come back.",),
    )

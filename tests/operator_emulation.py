"""What prometheus-operator makes of an AlertmanagerConfig: the plain Alertmanager configuration it merges in.

Written from the operator's documentation, independently of generator/targets/operator.py, so the tests can hand
the result to the real amtool. The operator
- names every receiver and time interval `<namespace>/<object name>/<name>`;
- appends a `namespace="<namespace>"` matcher to the object's top route (the default OnNamespace matcher
  strategy) and forces `continue: true` on it, and puts these routes in front of the base configuration's routes
  (pkg/alertmanager/amcfg.go: namespaceEnforcer.processRoute, continueToNextRoute, AddAlertmanagerConfigs);
- appends the same namespace matcher to both sides of every inhibition (namespaceEnforcer.processInhibitRule);
- takes the object named by the Alertmanager's `spec.alertmanagerConfiguration` as the base, without namespace
  matchers (its route is the root);
- puts secret values where the secret references are. Here the value is a `*_file` path instead (the path where
  the operator mounts an Alertmanager's secrets), so no secret value is ever needed to check the configuration.
"""
from __future__ import annotations

SECRET_MOUNT = "/etc/alertmanager/secrets"
_FILE_FIELDS = {"routingKey": "routing_key_file", "apiURL": "api_url_file", "apiKey": "api_key_file",
                "authPassword": "auth_password_file"}
_CONFIG_KINDS = {"pagerdutyConfigs": "pagerduty_configs", "slackConfigs": "slack_configs",
                 "webhookConfigs": "webhook_configs", "emailConfigs": "email_configs",
                 "opsgenieConfigs": "opsgenie_configs"}
_PLAIN_FIELDS = {"sendResolved": "send_resolved", "maxAlerts": "max_alerts", "authUsername": "auth_username",
                 "description": "description", "channel": "channel", "title": "title", "text": "text", "url": "url",
                 "to": "to", "from": "from", "smarthost": "smarthost", "message": "message", "priority": "priority"}
_ROUTE_FIELDS = {"groupBy": "group_by", "groupWait": "group_wait", "groupInterval": "group_interval",
                 "repeatInterval": "repeat_interval", "continue": "continue"}


def matcher_text(m: dict) -> str:
    value = m["value"].replace("\\", "\\\\").replace('"', '\\"')
    return f'{m["name"]}{m["matchType"]}"{value}"'


def _integration(config: dict) -> dict:
    out = {}
    for key, value in config.items():
        if key in _FILE_FIELDS:
            out[_FILE_FIELDS[key]] = f"{SECRET_MOUNT}/{value['name']}/{value['key']}"
        elif key == "pagerDutyLinkConfigs":
            out["links"] = [{"href": link["href"], "text": link["alt"]} for link in value]
        else:
            out[_PLAIN_FIELDS[key]] = value  # a KeyError here is a field this emulation does not know
    return out


def _route(route: dict, prefix: str) -> dict:
    out: dict = {"receiver": prefix + route["receiver"]}
    for key, value in route.items():
        if key == "receiver":
            continue
        if key == "matchers":
            out["matchers"] = [matcher_text(m) for m in value]
        elif key in ("activeTimeIntervals", "muteTimeIntervals"):
            out["active_time_intervals" if key.startswith("active") else "mute_time_intervals"] = \
                [prefix + n for n in value]
        elif key == "routes":
            out["routes"] = [_route(r, prefix) for r in value]
        else:
            out[_ROUTE_FIELDS[key]] = value
    return out


def _time_interval(ti: dict) -> dict:
    """amcfg.go convertMuteTimeInterval: days of the month `{start, end}` become "start:end"; no location."""
    out: dict = {}
    if "times" in ti:
        out["times"] = [{"start_time": t["startTime"], "end_time": t["endTime"]} for t in ti["times"]]
    for key, plain in (("weekdays", "weekdays"), ("months", "months"), ("years", "years")):
        if key in ti:
            out[plain] = list(ti[key])
    if "daysOfMonth" in ti:
        out["days_of_month"] = [f'{d["start"]}:{d["end"]}' for d in ti["daysOfMonth"]]
    return out


def merged(amc: dict, scoped: bool = True) -> dict:
    """The parts of the Alertmanager configuration an AlertmanagerConfig turns into: a route, receivers, time
    intervals and inhibit rules. `scoped`: a team's object (namespace matcher, `continue: true`); not scoped: the
    one named by the Alertmanager's `spec.alertmanagerConfiguration`, whose route is the root."""
    ns, name = amc["metadata"]["namespace"], amc["metadata"]["name"]
    prefix = f"{ns}/{name}/"
    scope = [f'namespace="{ns}"'] if scoped else []
    spec = amc["spec"]
    top = _route(spec["route"], prefix)
    if scoped:
        top["matchers"] = [*top.get("matchers", []), *scope]
        top["continue"] = True
    receivers = []
    for receiver in spec["receivers"]:
        plain: dict = {"name": prefix + receiver["name"]}
        for key, configs in receiver.items():
            if key != "name":
                plain[_CONFIG_KINDS[key]] = [_integration(c) for c in configs]
        receivers.append(plain)
    intervals = [{"name": prefix + t["name"], "time_intervals": [_time_interval(ti) for ti in t["timeIntervals"]]}
                 for t in spec.get("muteTimeIntervals", [])]
    inhibit = [{"source_matchers": [*map(matcher_text, r["sourceMatch"]), *scope],
                "target_matchers": [*map(matcher_text, r["targetMatch"]), *scope],
                "equal": r["equal"]} for r in spec.get("inhibitRules", [])]
    return {"route": top, "receivers": receivers, "time_intervals": intervals, "inhibit_rules": inhibit}


def configuration(root: dict, teams: list[dict]) -> dict:
    """The whole Alertmanager configuration: the root object as the base, every team's object merged in front of
    its routes (the operator prepends them: with `continue: true` alerts fall through to the base's routes)."""
    base = merged(root, scoped=False)
    parts = [merged(a) for a in sorted(teams, key=lambda a: (a["metadata"]["namespace"], a["metadata"]["name"]))]
    route = dict(base["route"])
    route["routes"] = [p["route"] for p in parts] + route.get("routes", [])
    config: dict = {
        "route": route,
        "receivers": base["receivers"] + [r for p in parts for r in p["receivers"]],
        "inhibit_rules": base["inhibit_rules"] + [r for p in parts for r in p["inhibit_rules"]],
    }
    intervals = base["time_intervals"] + [t for p in parts for t in p["time_intervals"]]
    if intervals:
        config["time_intervals"] = intervals
    return config

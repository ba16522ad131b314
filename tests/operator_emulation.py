"""What prometheus-operator makes of an AlertmanagerConfig: the plain Alertmanager configuration it merges in.

Written from the operator's documentation and source (pkg/alertmanager/amcfg.go), independently of
generator/targets/operator.py, so the tests can hand the result to the real amtool. The operator
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


# ---- enforcedNamespaceLabel: what the operator does to every PrometheusRule when a Prometheus sets it --------------
# pkg/namespacelabeler/labeler.go EnforceNamespaceLabel: every rule (recording and alerting) gets the label
# `<label>: <the PrometheusRule's namespace>`, and every vector and matrix selector of its expression goes through
# prom-label-proxy's PromQLEnforcer (injectproxy/enforce.go, errorOnReplace false): a matcher on that label is
# dropped and `<label>="<namespace>"` appended. Done here on the expression's text, selector by selector, so the
# rest of the expression stays byte for byte what promtool tested.

import re  # noqa: E402

_TOKEN = re.compile(r'''(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|(?P<number>[0-9][0-9a-zA-Z.]*)'''
                    r'''|(?P<ident>[A-Za-z_][A-Za-z0-9_:]*)|(?P<space>\s+)|(?P<other>.)''', re.S)
_MATCHER = re.compile(r'''\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*''')
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
             "atan2", "inf", "nan"}
_LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]


def _next(tokens: list[tuple[str, str]], i: int) -> tuple[str, str]:
    while i < len(tokens) and tokens[i][0] == "space":
        i += 1
    return tokens[i] if i < len(tokens) else ("end", "")


def enforce_selectors(expr: str, label: str, value: str) -> str:
    """`expr` with every selector matching `label="value"` (any matcher on `label` replaced)."""
    tokens, out, i = _tokens(expr), [], 0
    enforced = f'{label}="{value}"'
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "ident" and text.lower() in _LABEL_LISTS and _next(tokens, i + 1)[1] == "(":
            out.append(text)  # `by (a, b)`: label names, not selectors
            i += 1
            while tokens[i][1] != "(":
                out.append(tokens[i][1])
                i += 1
            while tokens[i][1] != ")":
                out.append(tokens[i][1])
                i += 1
            out.append(")")
            i += 1
            continue
        if text == "{":
            j = i + 1
            while tokens[j][1] != "}":
                j += 1
            inner = "".join(t for _, t in tokens[i + 1:j])
            kept = [m.group().strip() for m in _MATCHER.finditer(inner) if m.group(1) != label]
            out.append("{" + ", ".join([*kept, enforced]) + "}")
            i = j + 1
            continue
        if kind == "ident" and text.lower() not in _KEYWORDS:
            following = _next(tokens, i + 1)
            if following[1] not in ("(", "{") and following[1].lower() not in ("by", "without"):
                out.append(f"{text}{{{enforced}}}")  # a bare metric name
                i += 1
                continue
        out.append(text)
        i += 1
    return "".join(out)


def enforce_namespace_label(rule: dict, label: str = "namespace") -> dict:
    """The PrometheusRule as a Prometheus with `enforcedNamespaceLabel: <label>` loads it."""
    namespace = rule["metadata"]["namespace"]
    groups = []
    for group in rule["spec"]["groups"]:
        rules = [{**r, "expr": enforce_selectors(r["expr"], label, namespace),
                  "labels": {**r.get("labels", {}), label: namespace}} for r in group["rules"]]
        groups.append({**group, "rules": rules})
    return {**rule, "spec": {**rule["spec"], "groups": groups}}

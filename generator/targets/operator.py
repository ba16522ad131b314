"""prometheus-operator: a `PrometheusRule` per service and an `AlertmanagerConfig` per team.

The PrometheusRule (monitoring.coreos.com/v1) carries the service's rule groups as they are, with the spec's
`deploy.labels` for the operator's `ruleSelector`, and one static label on every alert: the namespace of the team's
AlertmanagerConfig, which the operator's default matcher strategy requires of every alert the team's routes see. The AlertmanagerConfig (monitoring.coreos.com/v1alpha1)
carries the team's subtree of the routing tree, its receivers and its inhibitions, in the operator's shape:
camelCase fields, matchers as {name, value, matchType}, and secrets as references to Kubernetes secret keys
(never values). `kubectl apply -f kubernetes/ --recursive` (or kustomize) applies them.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

from .. import conventions as c
from .. import dashboards
from ..plan import GLOBAL, Plan, Routing as Compiled
from ..spec import deploy, objects
from ..spec.errors import SpecError
from ..spec.model import Routing, Service, Specs, Team
from ..yamltext import dump, header
from .prometheus import group_dict
from .utc_hours import NotExpressible, utc_intervals

NAME = deploy.OPERATOR
DESCRIPTION = "prometheus-operator PrometheusRule per service and AlertmanagerConfig per team (kubernetes/<namespace>/)"
FOLDER = "kubernetes"
RULE_API = "monitoring.coreos.com/v1"
CONFIG_API = "monitoring.coreos.com/v1alpha1"
GLOBAL_NAMESPACE = "monitoring"  # the Watchdog and on-call health belong to no team: kube-prometheus' namespace
ROOT_CONFIG = f"{c.GENERATOR}-root"  # the AlertmanagerConfig holding the root of the routing tree
MANAGED_BY = ("app.kubernetes.io/managed-by", c.GENERATOR)

# Where the operator mounts an Alertmanager's secrets: /etc/alertmanager/secrets/<secret>/<key>.
SECRETS_DIR = "/etc/alertmanager/secrets/"
_SECRET_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# Alertmanager's file fields and the operator's secret-reference fields that replace them.
SECRET_FIELDS = {"routing_key_file": "routingKey", "api_url_file": "apiURL", "api_key_file": "apiKey",
                 "auth_password_file": "authPassword"}
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"')


def _metadata(name: str, namespace: str, labels: dict[str, str]) -> dict:
    return {"name": name, "namespace": namespace, "labels": dict([MANAGED_BY, *sorted(labels.items())])}


def _document(source: str, what: str, data: dict) -> str:
    return header(source, what) + dump(data)


def dashboard_configmap(owner: str, path: str, text: str) -> dict:
    """A ConfigMap holding one generated dashboard (the file at `path`, byte for byte) for Grafana's dashboard sidecar
    (kube-prometheus-stack's Grafana: label `grafana_dashboard: "1"`, in its own namespace by default)."""
    key, value = c.DASHBOARD_CONFIGMAP_LABEL
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _metadata(c.dashboard_configmap(owner), GLOBAL_NAMESPACE, {key: value}),
            "data": {path.rsplit("/", 1)[-1]: text}}


def dashboard_configmaps(owner: str, source: str, written: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """Each dashboard file of `owner` (a service, or a team's overview) as a ConfigMap next to Grafana: the sidecar
    watches its own namespace unless told otherwise. A service's come from the pipeline as its dashboard is rendered
    (its runbook content, which the dashboard graphs, is not kept for the whole plan)."""
    for path, text in written:
        yield f"{FOLDER}/{GLOBAL_NAMESPACE}/{c.dashboard_configmap(owner)}.configmap.yaml", _document(
            source, "ConfigMap of a Grafana dashboard", dashboard_configmap(owner, path, text))


def prometheus_rule(name: str, namespace: str, labels: dict[str, str], groups: list[dict]) -> dict:
    """A PrometheusRule holding `groups` unchanged."""
    return {"apiVersion": RULE_API, "kind": "PrometheusRule", "metadata": _metadata(name, namespace, labels),
            "spec": {"groups": groups}}


def namespaced(group: dict, namespace: str) -> dict:
    """A rule group whose alerts carry `namespace="<namespace>"`: the matcher the operator adds to the top route of
    every namespaced AlertmanagerConfig (its default OnNamespace strategy). The alerts' `sum by` drops the series'
    own namespace, and a service may read series of another namespace (a shared LiteLLM proxy), so the label is
    the AlertmanagerConfig's namespace, static: pages reach the team with no change to the user's Prometheus."""
    rules = [{**r, "labels": dict(sorted({**r["labels"], c.NAMESPACE: namespace}.items()))} if "alert" in r else r
             for r in group["rules"]]
    return {**group, "rules": rules}


def team_namespaced(group: dict, namespaces: dict[str, str]) -> dict:
    """A shared rule group (no service's) whose alerts of a team with an AlertmanagerConfig carry that object's
    namespace: the pipeline's alerts, labelled with `spec.pipeline.team`, reach that team's routes through the
    operator's namespace matcher as they do on plain Alertmanager, after the root's pipeline receiver."""
    rules = [{**r, "labels": dict(sorted({**r["labels"], c.NAMESPACE: namespaces[r["labels"][c.TEAM]]}.items()))}
             if "alert" in r and r.get("labels", {}).get(c.TEAM) in namespaces else r for r in group["rules"]]
    return {**group, "rules": rules}


def matcher(text: str) -> dict:
    """`severity="critical"` -> {name, value, matchType}, the operator's matcher."""
    m = _MATCHER.fullmatch(text)
    assert m, f"not a matcher: {text}"
    value = re.sub(r"\\(.)", r"\1", m.group(3))
    return {"name": m.group(1), "value": value, "matchType": m.group(2)}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.capitalize() for w in rest)


def secret_ref(owner: Team | Routing, path: str, field: str, receiver: str, kind: str) -> dict:
    """The Kubernetes secret key behind a secret file, as the operator mounts it: /etc/alertmanager/secrets/
    <secret>/<key>, or /etc/alertmanager/secrets/<secret> (key: the field's name without `_file`)."""
    parts = path.removeprefix(SECRETS_DIR).split("/") if path.startswith(SECRETS_DIR) else []
    if len(parts) == 2:
        name, key = parts
    elif len(parts) == 1:
        name, key = parts[0], field.removesuffix("_file")
    else:
        name = key = ""
    if not (_SECRET_NAME.fullmatch(name) and len(name) <= 253) or objects.secret_key_problem(key):
        where = ("spec", "receivers", receiver, kind, field)
        raise SpecError(owner.locate(where), ".".join(where),
                        f'the operator target needs secrets as Kubernetes secret keys: expected a path like '
                        f'"{SECRETS_DIR}<secret>/<key>" or "{SECRETS_DIR}<secret>", got "{path}"')
    return {"name": name, "key": key}


def _integration(owner: Team | Routing, receiver: str, kind: str, config: dict) -> dict:
    out: dict = {}
    for key, value in config.items():
        if key in SECRET_FIELDS:
            out[SECRET_FIELDS[key]] = secret_ref(owner, value, key, receiver, kind)
        elif key == "links":  # PagerDuty links: the operator calls them pagerDutyLinkConfigs, their text `alt`
            out["pagerDutyLinkConfigs"] = [{"href": link["href"], "alt": link["text"]} for link in value]
        else:
            out[_camel(key)] = value
    return out


_KINDS = {"pagerduty_configs": "pagerduty", "slack_configs": "slack", "webhook_configs": "webhook",
          "email_configs": "email", "opsgenie_configs": "opsgenie"}


def _local(owner: Team | Routing, name: str) -> str:
    """A receiver or interval name without its owner's prefix: the operator prefixes namespace and object instead."""
    return name.removeprefix(f"{owner.name}/")


def receiver(owner: Team | Routing, plain: dict) -> dict:
    """A receiver of a team (or of the routing root) in the operator's shape."""
    name = _local(owner, plain["name"])
    out: dict = {"name": name}
    for key, configs in plain.items():
        if key != "name":
            out[_camel(key)] = [_integration(owner, name, _KINDS.get(key, key), cfg) for cfg in configs]
    return out


def route(owner: Team | Routing, plain: dict) -> dict:
    """A route of a team's subtree (or of the root) in the operator's shape."""
    out: dict = {"receiver": _local(owner, plain["receiver"])}
    for key, value in plain.items():
        if key == "receiver":
            continue
        if key == "matchers":
            out["matchers"] = [matcher(m) for m in value]
        elif key == "active_time_intervals":
            out["activeTimeIntervals"] = [_local(owner, n) for n in value]
        elif key == "routes":
            out["routes"] = [route(owner, r) for r in value]
        else:
            out[_camel(key)] = value
    return out


def _team_inhibitions(specs: Specs, routing: Compiled, team: Team) -> list[dict]:
    """The inhibitions that concern the team: those of its services, and the generic ones scoped to the team."""
    services = {s.name for s in specs.services if s.team == team.name}
    out = []
    for rule in routing.inhibitions():
        source = [matcher(m) for m in rule["source_matchers"]]
        target = [matcher(m) for m in rule["target_matchers"]]
        named = {m["value"] for m in source + target if m["name"] == c.SERVICE and m["matchType"] == "="}
        if named and not named <= services:
            continue
        if not named:  # a rule for every team: the same rule, limited to this team's alerts
            scope = {"name": c.TEAM, "value": team.name, "matchType": "="}
            source, target = [scope, *source], [scope, *target]
        out.append({"sourceMatch": source, "targetMatch": target, "equal": list(rule["equal"])})
    return out


def _time_intervals(team: Team) -> list[dict]:
    hours = team.business_hours
    if hours is None:
        return []
    name = c.business_hours_interval(team.name).removeprefix(f"{team.name}/")
    if hours.location in ("UTC", "Etc/UTC"):
        return [{"name": name, "timeIntervals": [{
            "weekdays": list(hours.weekdays), "times": [{"startTime": hours.start, "endTime": hours.end}]}]}]
    # v1alpha1 intervals have no time-zone location: the same hours, in UTC, by month, day and weekday.
    try:
        intervals = utc_intervals(hours.location, hours.weekdays, hours.start, hours.end)
    except NotExpressible as exc:
        raise SpecError(team.locate(("spec", "business_hours", "location")), "spec.business_hours.location",
                        f'the operator\'s AlertmanagerConfig (v1alpha1) has no time-zone location, and the business '
                        f'hours of "{hours.location}" are not the same UTC hours on every date of a month, day and '
                        f"weekday ({exc}): give business hours in UTC for a team on the operator target") from None
    return [{"name": name, "timeIntervals": intervals}]


def alertmanager_config(specs: Specs, routing: Compiled, team: Team, namespace: str, labels: dict[str, str]) -> dict:
    """The team's AlertmanagerConfig: its route subtree, receivers, business hours and inhibitions."""
    mine = routing.teams[team.name]
    spec: dict = {"route": route(team, mine.route), "receivers": [receiver(team, r) for r in mine.receivers]}
    intervals = _time_intervals(team)
    if intervals:
        spec["muteTimeIntervals"] = intervals  # v1alpha1 defines active and mute intervals under this one name
    spec["inhibitRules"] = _team_inhibitions(specs, routing, team)
    return {"apiVersion": CONFIG_API, "kind": "AlertmanagerConfig", "metadata": _metadata(team.name, namespace, labels),
            "spec": spec}


def root_config(specs: Specs, routing: Compiled) -> dict:
    """The AlertmanagerConfig the operator's Alertmanager takes as its whole base (`spec.alertmanagerConfiguration.
    name`): the root route with the fallback receiver and the heartbeat route, and the root's receivers. The teams'
    AlertmanagerConfigs are merged in front of its routes, so every team alert is delivered once, by its team's."""
    root = specs.routing
    plain = routing.config()["route"]
    own = [r for r in plain.get("routes", []) if r["receiver"].startswith(f"{root.name}/")]  # the heartbeat
    return {"apiVersion": CONFIG_API, "kind": "AlertmanagerConfig",
            "metadata": _metadata(ROOT_CONFIG, GLOBAL_NAMESPACE, {}),
            "spec": {"route": route(root, {**plain, "routes": own}),
                     "receivers": [receiver(root, r) for r in routing.root_receivers]}}


def _placement(services: tuple[Service, ...]) -> dict[str, tuple[str, dict[str, str]]]:
    """Namespace and labels per team: its services on this target must agree, since one AlertmanagerConfig
    serves them all (and with the operator's default matcher strategy only alerts of its namespace reach it)."""
    out: dict[str, tuple[str, dict[str, str], Service]] = {}
    for service in services:
        mine = (service.deploy.namespace, dict(service.deploy.labels))
        first = out.setdefault(service.team, (*mine, service))
        if first[:2] != mine:
            field = "namespace" if first[0] != mine[0] else "labels"
            raise SpecError(service.locate(("spec", "deploy", field)), f"spec.deploy.{field}",
                            f'services of team "{service.team}" on the operator target share one '
                            f'AlertmanagerConfig, so they need the same {field} as "{first[2].name}" '
                            f"({first[2].location.file})")
    return {team: (ns, labels) for team, (ns, labels, _) in out.items()}


def _with_pipeline_team(placement: dict[str, tuple[str, dict[str, str]]], specs: Specs,
                        shared: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """The placement, plus the team that owns the alerting pipeline (`spec.pipeline.team`) when none of its services
    is on the operator (an SRE team may have none), so the pipeline alerts of the operator's Prometheus reach it:
    its AlertmanagerConfig goes to the namespace its services declare (default: the team's name), with the shared
    PrometheusRule's labels (a selector that loads any team's object loads it too)."""
    owner = specs.routing.pipeline.team if specs.routing is not None else None
    if owner is None or owner in placement:
        return placement
    namespace, first = owner, None
    for service in specs.services:
        if service.team != owner:
            continue
        if first is None:
            namespace, first = service.deploy.namespace, service
        elif service.deploy.namespace != namespace:
            raise SpecError(service.locate(("spec", "deploy", "namespace")), "spec.deploy.namespace",
                            f'team "{owner}" owns the alerting pipeline (spec.pipeline.team), so the operator target '
                            f'gets its AlertmanagerConfig, in one namespace: its services need the same namespace as '
                            f'"{first.name}" ({first.location.file})')
    return {**placement, owner: (namespace, shared)}


def shared_labels(services: tuple[Service, ...]) -> dict[str, str]:
    """Labels of the shared PrometheusRule (the Watchdog, pipeline alerts, on-call health): every label a service on
    this target declares, so a ruleSelector that loads any service's PrometheusRule loads the shared one too. Each
    label is declared once: two values of one key are refused, naming both spec lines."""
    out: dict[str, tuple[str, Service]] = {}
    for service in services:
        for key, value in sorted(service.deploy.labels.items()):
            first, owner = out.setdefault(key, (value, service))
            if first != value:
                path = ("spec", "deploy", "labels", key)
                raise SpecError(service.locate(path), ".".join(path),
                                f'{FOLDER}/{GLOBAL_NAMESPACE}/{GLOBAL}.prometheusrule.yaml, shared by every service '
                                f'on the operator target, carries every label they declare, and "{owner.name}" '
                                f'declares {key}: "{first}" ({owner.locate(path)}): give one value')
    return {key: value for key, (value, _) in sorted(out.items())}


def files(plan: Plan, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
    """A PrometheusRule per service, one for the global rules, and an AlertmanagerConfig per team."""
    placement = _placement(services)
    shared = shared_labels(services)
    if plan.routing is not None:
        placement = _with_pipeline_team(placement, plan.specs, shared)
    for service in services:
        namespace, labels = placement[service.team]
        groups = [namespaced(group_dict(g), namespace) for f in plan.rule_files_of.get(service.name, ())
                  for g in f.groups]
        yield f"{FOLDER}/{namespace}/{service.name}.prometheusrule.yaml", _document(
            service.location.file, "prometheus-operator PrometheusRule",
            prometheus_rule(service.name, namespace, labels, groups))
    # Alerts of no service that name a team (the pipeline's, with spec.pipeline.team) carry its namespace.
    namespaces = {team: namespace for team, (namespace, _) in placement.items()}
    global_groups = [team_namespaced(group_dict(g), namespaces) for f in plan.rule_files_of.get(GLOBAL, ())
                     for g in f.groups]
    yield f"{FOLDER}/{GLOBAL_NAMESPACE}/{GLOBAL}.prometheusrule.yaml", _document(
        "all specs", "prometheus-operator PrometheusRule",
        prometheus_rule(GLOBAL, GLOBAL_NAMESPACE, shared, global_groups))
    # The team overviews as ConfigMaps (each service's is written with its dashboard: `dashboard_configmaps`).
    for team in sorted({s.team for s in services}):
        yield from dashboard_configmaps(c.team_dashboard(team), plan.specs.teams[team].location.file,
                                        dashboards.team_files_of(plan, team))
    if plan.routing is not None:
        yield f"{FOLDER}/{GLOBAL_NAMESPACE}/{ROOT_CONFIG}.alertmanagerconfig.yaml", _document(
            plan.specs.routing.location.file, "prometheus-operator AlertmanagerConfig, the root of the routing tree",
            root_config(plan.specs, plan.routing))
        root = f"{FOLDER}/{GLOBAL_NAMESPACE}/{ROOT_CONFIG}.alertmanagerconfig.yaml"
        for team_name, (namespace, labels) in sorted(placement.items()):
            team = plan.specs.teams[team_name]
            path = f"{FOLDER}/{namespace}/{team_name}.alertmanagerconfig.yaml"
            if path == root:  # one object, two contents: the root's fallback and heartbeat would be lost
                raise SpecError(team.location, "metadata.name",
                                f'the team\'s AlertmanagerConfig would be {path}, the root of the routing tree: '
                                f'choose another team name, or another namespace (spec.deploy.namespace)')
            yield path, _document(
                team.location.file, "prometheus-operator AlertmanagerConfig",
                alertmanager_config(plan.specs, plan.routing, team, namespace, labels))

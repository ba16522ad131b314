"""Grafana Mimir (and Cortex): ruler namespace files per tenant, the tenant's Alertmanager configuration, and the
pipeline's own alerts for the Prometheus that watches Mimir.

`mimirtool rules load --id=<tenant> mimir/<tenant>/*.yaml` loads a tenant's rules; the file's `namespace` (the
service name) is the ruler namespace, so reloading one service never touches another's groups. Mimir's Alertmanager
refuses file-based secrets (`routing_key_file`, `api_url_file`, ...: its pkg/alertmanager/api.go), so the tenant's
`alertmanager.yaml` holds `${VARIABLE}` placeholders instead, listed in `alertmanager.secrets` next to it, to be
substituted at deploy time; no secret value is ever written. A tenant's ruler sees only the tenant's series, so the
pipeline checks (Alertmanager failing to notify, rules failing to evaluate) read Mimir's own metrics, per tenant,
in a rule file for the meta-monitoring Prometheus that scrapes Mimir.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Iterator

from .. import conventions as c
from ..plan import GLOBAL, Plan
from ..spec import deploy
from ..spec.errors import SpecError
from ..spec.model import Location, Routing, Service, Team
from ..yamltext import dump, header
from .prometheus import group_dict
from .rule_budget import MIMIR_GROUPS_PER_TENANT, Lag, split

NAME = deploy.MIMIR
DESCRIPTION = ("Grafana Mimir / Cortex ruler namespace files and Alertmanager configuration per tenant "
               "(mimir/<tenant>/), pipeline alerts for the Prometheus that watches Mimir")
FOLDER = "mimir"
ALERTMANAGER = "alertmanager.yaml"
SECRETS = "alertmanager.secrets"
META_MONITORING = f"{FOLDER}/{GLOBAL}.meta-monitoring.rules.yml"
OVERRIDES = f"{FOLDER}/runtime-overrides.yaml"
SECRETS_DIR = "/etc/alertmanager/secrets/"  # dropped from variable names: the same secret, the same short name
_VARIABLE = re.compile(r"[^A-Za-z0-9]+")


def namespace_file(namespace: str, groups: list[dict], source: str) -> str:
    """What `mimirtool rules load` takes: a namespace and its rule groups."""
    return header(source, "Mimir ruler namespace") + dump({"namespace": namespace, "groups": groups})


def secret_variable(path: str) -> str:
    """The environment variable that stands for the secret once held in the file at `path`."""
    return "SECRET_" + _VARIABLE.sub("_", path.removeprefix(SECRETS_DIR)).strip("_").upper()


def _secrets(owners: list[Team | Routing]) -> dict[str, tuple[str, list[str]]]:
    """Secret file path -> (variable, the receivers' fields that read it), from the specs, so that two paths that
    would share a variable are refused at the second one's line."""
    out: dict[str, tuple[str, list[str]]] = {}
    taken: dict[str, tuple[str, Location]] = {}
    for owner in owners:
        for receiver in owner.receivers:
            for kind, cfg in sorted(receiver.integrations.items()):
                for field, path in sorted(cfg.items()):
                    if not field.endswith("_file"):
                        continue
                    where = ("spec", "receivers", receiver.name, kind, field)
                    variable = secret_variable(path)
                    first = taken.setdefault(variable, (path, owner.locate(where)))
                    if first[0] != path:
                        raise SpecError(owner.locate(where), ".".join(where),
                                        f'Mimir takes secrets as values, written as ${{{variable}}} placeholders, and '
                                        f'"{path}" would share ${{{variable}}} with "{first[0]}" ({first[1]}): '
                                        "rename one of the files")
                    out.setdefault(path, (variable, []))[1].append(
                        f"{field.removesuffix('_file')} of {owner.name}/{receiver.name}")
    return out


def _placeholders(config: dict, secrets: dict[str, tuple[str, list[str]]]) -> dict:
    """The configuration with every `<field>_file: <path>` a `<field>: ${VARIABLE}`."""
    receivers = []
    for receiver in config["receivers"]:
        out: dict = {}
        for key, value in receiver.items():
            if key == "name":
                out[key] = value
                continue
            out[key] = [{(k.removesuffix("_file") if k.endswith("_file") else k):
                         (f"${{{secrets[v][0]}}}" if k.endswith("_file") else v) for k, v in integration.items()}
                        for integration in value]
        receivers.append(out)
    return {**config, "receivers": receivers}


def alertmanager_files(plan: Plan, tenant: str, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
    """The tenant's Alertmanager configuration (`mimirtool alertmanager load`): the routing root and the teams of its
    services, secrets as placeholders; and the list of those placeholders."""
    specs = plan.specs
    teams = {name: specs.teams[name] for name in sorted({s.team for s in services}) if name in specs.teams}
    secrets = _secrets([specs.routing, *teams.values()])
    config = _placeholders(plan.routing.config(teams, (s.name for s in services)), secrets)
    yield f"{FOLDER}/{tenant}/{ALERTMANAGER}", header(
        "all specs", f"Mimir Alertmanager configuration of tenant {tenant}; secrets are ${{...}} placeholders "
                     f"({SECRETS})") + dump(config)
    lines = [header("all specs", "the variables the tenant's alertmanager.yaml reads, never their values").rstrip("\n"),
             "# Substitute only these (its Go templates use $ too), check, then load:",
             f"#   envsubst \"$(grep -o '^${{[A-Z0-9_]*}}' {FOLDER}/{tenant}/{SECRETS})\" \\",
             f"#     < {FOLDER}/{tenant}/{ALERTMANAGER} > alertmanager.yaml && amtool check-config alertmanager.yaml",
             f"#   mimirtool alertmanager load alertmanager.yaml --address=$MIMIR --id={tenant}"]
    for path, (variable, uses) in sorted(secrets.items(), key=lambda item: item[1][0]):
        lines.append(f"${{{variable}}}  # {', '.join(uses)} (in place of {path})")
    yield f"{FOLDER}/{tenant}/{SECRETS}", "\n".join(lines) + "\n"


def meta_monitoring_file(plan: Plan) -> str:
    """A Prometheus rule file for the meta-monitoring Prometheus that scrapes Mimir's ruler and Alertmanager."""
    group = group_dict(plan.tenant_pipeline)
    return (header("all specs", "Prometheus rules for the meta-monitoring Prometheus that scrapes Mimir's ruler "
                                "and Alertmanager: the alerting pipeline's checks, per tenant") + dump({"groups": [group]}))


@dataclass(frozen=True)
class Tenant:
    """What oncallgen loads into one tenant's ruler: namespaces (name, source, groups split to the limit)."""

    name: str
    limit: int                                     # rules per group the groups were split to
    namespaces: tuple[tuple[str, str, tuple[dict, ...]], ...]
    lags: tuple[Lag, ...]

    @property
    def groups(self) -> int:
        return sum(len(groups) for _, _, groups in self.namespaces)

    @property
    def largest(self) -> int:
        return max(len(g["rules"]) for _, _, groups in self.namespaces for g in groups)

    def report(self) -> str:
        """One line for `generate` and `check`."""
        over = (f" (above Mimir's default of {MIMIR_GROUPS_PER_TENANT}: set the override in {OVERRIDES})"
                if self.groups > MIMIR_GROUPS_PER_TENANT else "")
        lags = f"; {len(self.lags)} reads across split groups lag (see {OVERRIDES})" if self.lags else ""
        return (f"mimir tenant {self.name}: {self.groups} rule groups{over}, the largest {self.largest} rules "
                f"(limit {self.limit}){lags}")


def tenants(plan: Plan, services: tuple[Service, ...]) -> list[Tenant]:
    """Every tenant's namespaces, their groups split to the tenant's rules-per-group limit (the smallest its
    services ask for), and the reads across the cuts."""
    global_groups = [group_dict(g) for f in plan.rule_files_of.get(GLOBAL, ()) for g in f.groups
                     if g.key != c.PIPELINE_SIGNAL]
    out = []
    for tenant in sorted({s.deploy.tenant for s in services}):
        mine = [s for s in services if s.deploy.tenant == tenant]
        limit = min(s.deploy.rules_per_group for s in mine)
        namespaces, lags = [], []
        for name, source, groups in [*((s.name, s.location.file, [group_dict(g) for f in plan.rule_files_of.get(
                s.name, ()) for g in f.groups]) for s in mine), (GLOBAL, "all specs", global_groups)]:
            pieces = []
            for group in groups:
                parts, lagging = split(group, limit)
                pieces += parts
                lags += lagging
            namespaces.append((name, source, tuple(pieces)))
        out.append(Tenant(tenant, limit, tuple(namespaces), tuple(lags)))
    return out


def overrides_file(found: list[Tenant]) -> str:
    """Mimir's runtime configuration (`overrides`) each tenant needs for oncallgen's groups, and the lags."""
    lines = [header("all specs", "the Mimir runtime configuration (overrides) each tenant needs for oncallgen's "
                                 "rule groups alone; merge it into yours, adding your own groups").rstrip("\n")]
    for tenant in found:
        lines += [f"# {tenant.name}: {lag}" for lag in tenant.lags]
    data = {"overrides": {t.name: {"ruler_max_rule_groups_per_tenant": t.groups,
                                   "ruler_max_rules_per_rule_group": t.limit} for t in found}}
    return "\n".join(lines) + "\n" + dump(data)


def _check_paths(tenant: str, services: tuple[Service, ...], routed: bool) -> None:
    """A tenant's folder must not be one of the files next to the folders, nor a service's namespace file the
    tenant's Alertmanager configuration: one path, two contents, and one of them lost."""
    taken = {posixpath.basename(p) for p in (META_MONITORING, OVERRIDES)}
    if tenant in taken:
        raise SpecError(services[0].locate(("spec", "deploy", "tenant")), "spec.deploy.tenant",
                        f'the tenant\'s folder would be {FOLDER}/{tenant}, a file oncallgen writes there: choose '
                        "another tenant")
    for service in services:
        if routed and f"{service.name}.yaml" == ALERTMANAGER:
            raise SpecError(service.location, "metadata.name",
                            f"the Mimir namespace file of this service would be {FOLDER}/{tenant}/{ALERTMANAGER}, the "
                            "tenant's Alertmanager configuration: choose another name or another tenant")


def files(plan: Plan, services: tuple[Service, ...]) -> Iterator[tuple[str, str]]:
    """A namespace file per service in its tenant's folder; every tenant also gets the Watchdog and on-call health,
    since a tenant's ruler sees only its own series, and its Alertmanager configuration. The pipeline checks go to
    the meta-monitoring Prometheus, which sees Mimir's own series; the runtime overrides the tenants need go next
    to the folders."""
    found = tenants(plan, services)
    for tenant in found:
        _check_paths(tenant.name, tuple(s for s in services if s.deploy.tenant == tenant.name),
                     plan.specs.routing is not None)
        for name, source, groups in tenant.namespaces:
            yield f"{FOLDER}/{tenant.name}/{name}.yaml", namespace_file(name, list(groups), source)
        if plan.routing is not None:
            yield from alertmanager_files(plan, tenant.name,
                                          tuple(s for s in services if s.deploy.tenant == tenant.name))
    yield META_MONITORING, meta_monitoring_file(plan)
    yield OVERRIDES, overrides_file(found)

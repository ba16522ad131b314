"""Helpers every runbook shares: Prometheus graph links, Grafana links, kubectl lines, sibling runbooks.

Signals call these from `Signal.runbook` so a link or a command is spelled the same way on every page.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs, quote_plus, urlsplit

from .. import conventions as c
from ..spec.model import Service
from ..spec.units import format_number
from .markdown import url

RUNBOOKS = "runbooks"          # the folder of runbooks inside the output folder
ALL = "$__all"                 # Grafana's value for "every option of a variable"


# A page's queries recur on its secondary tier's page and across a service's pages: remember the recent links.
@lru_cache(maxsize=1024)
def graph_url(prometheus_url: str, expr: str) -> str:
    """A Prometheus graph link for `expr`, escaped as Go's url.QueryEscape does."""
    return f"{prometheus_url.rstrip('/')}/graph?g0.expr={quote_plus(expr, safe='')}&g0.tab=0"


def graph_expr(url: str) -> str:
    """The PromQL a graph link opens: the inverse of `graph_url`."""
    return parse_qs(urlsplit(url).query, keep_blank_values=True)["g0.expr"][0]


def dashboard_url(base: str, service: str, provider: str = ALL, model: str = ALL) -> str:
    """The service's Grafana dashboard with its `service`, `provider` and `model` variables set."""
    query = "&".join(f"var-{k}={quote_plus(v, safe='')}" for k, v in
                     (("service", service), ("provider", provider), ("model", model)))
    return f"{base}{'&' if '?' in base else '?'}{query}"


@dataclass(frozen=True)
class Kubectl:
    """kubectl lines aimed at the service's deployment."""

    namespace: str
    deployment: str

    def __call__(self, args: str) -> str:
        return f"kubectl -n {self.namespace} {args}"

    @property
    def target(self) -> str:
        return f"deployment/{self.deployment}"

    def logs(self, pattern: str, since: str = "15m") -> str:
        # One pod's logs are enough to see which error it is; the pattern keeps the screen readable.
        return self(f"logs {self.target} --all-containers --since={since} | grep -iE '{pattern}' | tail -n 50")

    def history(self) -> str:
        return self(f"rollout history {self.target}")

    def undo(self) -> str:
        return self(f"rollout undo {self.target}")

    def status(self) -> str:
        return self(f"rollout status {self.target} --timeout=5m")

    def restart(self) -> str:
        return self(f"rollout restart {self.target}")

    def env(self, pattern: str) -> str:
        return self(f"set env {self.target} --list | grep -iE '{pattern}'")


def kubectl(service: Service, proxy: bool = False) -> Kubectl:
    """The kubectl helper of a service (namespace and deployment from spec.runbooks.kubernetes), or of the proxy that
    calls the providers for it (LiteLLM's, which holds their keys)."""
    k = service.runbooks.kubernetes
    return Kubectl(k.proxy_namespace, k.proxy_deployment) if proxy else Kubectl(k.namespace, k.deployment)


def sibling(alertname: str, text: str | None = None) -> str:
    """A Markdown link to the runbook of another alert of the same service."""
    return f"[{text or alertname}]({c.slug(alertname)}.md)"


def is_on(service: Service, signal: str) -> bool:
    """Whether `signal` generates rules for `service` (so its alerts, and their runbooks, exist)."""
    return signal in service.active_signals


def runbook_file(url: str, base_url: str) -> str | None:
    """The file in the output folder a `runbook_url` points at, or None when it points elsewhere."""
    base = base_url.rstrip("/")
    if base and url.startswith(base + "/"):
        rel = url[len(base) + 1:]
    elif url.startswith(RUNBOOKS + "/"):
        rel = url[len(RUNBOOKS) + 1:]
    else:
        return None
    path = posixpath.normpath(posixpath.join(RUNBOOKS, rel))
    return path if path.startswith(RUNBOOKS + "/") else None


def percent(ratio: float) -> str:
    """0.05 -> "5%"."""
    return format_number(ratio * 100) + "%"


def times(factor: float) -> str:
    """3.0 -> "3x"."""
    return format_number(factor) + "x"


def alert_ref(service: Service, signal: str, alertname: str) -> str:
    """A link to the runbook of another alert when the service has it; its name alone otherwise."""
    return sibling(alertname) if is_on(service, signal) else f"`{alertname}` (off for this service)"


def status_pages(service: Service) -> str:
    """Each provider's status page, as one line of Markdown."""
    return "; ".join(f"{p.name}: <{url(p.status_page)}>" if p.status_page else f"{p.name}: none in the spec"
                     for p in service.providers)


def silence(alertname: str, service: str, duration: str, comment: str) -> str:
    """The amtool line that silences one alert of one service."""
    return (f"amtool silence add alertname={alertname} {c.SERVICE}={service} --duration={duration} "
            f"--comment='{comment}'")

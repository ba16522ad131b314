"""The provider section of a provider-outage page: providers with status pages and SLAs, and the SLO / SLA accounting
queries."""
from __future__ import annotations

from ..content import markdown as md
from ..content.runbook import Query
from ..content.links import is_on, percent
from ..content.markdown import Markdown
from .page_context import query_view
from .. import conventions as c
from ..spec.model import Service


def provider_view(service: Service) -> dict:
    seconds = service.slo.window
    w = c.window(seconds)
    own = c.selector(service=service.name)
    providers = [{"name": p.name, "role": p.role, "models": md.cell(", ".join(p.models) or "-"),
                  "status": md.cell(Markdown(f"<{md.url(p.status_page)}>") if p.status_page else "none in the spec"),
                  "sla": percent(p.sla) if p.sla is not None else "none in the spec"} for p in service.providers]
    queries = []
    if is_on(service, "slo"):
        queries = [Query(f"Error budget left over {w} (1 = untouched, below 0 = SLO missed)",
                         f"{c.error_budget_remaining(seconds)}{own}"),
                   Query(f"Share of the {w} error budget burned by provider failures",
                         f"{c.error_budget_burned_by_provider(seconds)}{own}")]
    availability = (f"1 - sum by ({c.PROVIDER}) (sum_over_time({c.PROVIDER_ERRORS_RATE1H_BY_PROVIDER_MODEL}{own}[{w}]))"
                    f" / sum by ({c.PROVIDER}) (sum_over_time({c.REQUESTS_RATE1H_BY_PROVIDER_MODEL}{own}[{w}]))")
    secondary = service.provider("secondary")
    return {
        "providers": providers,
        "objective": percent(service.slo.availability), "window": w, "slo_on": is_on(service, "slo"),
        "queries": [query_view(q, service) for q in queries],
        "availability": query_view(Query(f"Availability of each provider as we saw it over {w}", availability), service),
        "with_sla": [{"name": p.name, "sla": percent(p.sla)} for p in service.providers if p.sla is not None],
        "backup": secondary.name if secondary else None,
    }

"""What the runbooks of model_routing's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, percent, silence, status_pages
from ...content.runbook import Query, Remediation, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from .rules import ALERT, ModelRouting


def runbook(self: ModelRouting, service, cfg, alert):
    k = kubectl(service)
    thr = percent(cfg["error_ratio_above"])
    bound = self.slow(service, cfg)
    latency = bound is not None
    slow = bound.text() if latency else ""
    moved = Step("Has the degraded model's traffic moved to its fallback? Calls per second per model.",
                 own(c.REQUESTS_RATE5M_BY_MODEL, service), key="moved",
                 branches=(("the degraded model falls towards 0 and another rises", "routing worked"),
                           ("nothing moved", "the automation did not act: route by hand in the service's "
                                             f"configuration, then `{k.restart()}`")))
    return RunbookContent(
        meaning=(f"A model of `{service.name}` fails more than {thr} of its calls"
                 + (f" or its p95 latency exceeds {slow}" if latency else "")
                 + f" (while it gets more than {format_number(cfg['min_request_rate'])} calls/s), for "
                 f"{format_duration(cfg['for'])}. Automation routes its traffic to a fallback model; a ticket, not "
                 "a page."),
        impact="Users get answers from the fallback model: the SLO holds, but style, quality and price may differ.",
        steps=(
            Step("Which model, and why? Error ratio per model.", own(c.ERRORS_RATIO_RATE5M_BY_MODEL, service),
                 branches=((f"one model is above {thr}", f"check its provider's status page ({status_pages(service)}) "
                                                        "and whether the provider changed the model → step:moved"),
                           ) + ((("its errors are normal", f"it is slow instead (p95 above {slow}: the query "
                                                           "below) → step:moved"),) if latency else ())),
            moved,
        ),
        remediation=Remediation(
            did=(f"Alertmanager sent this alert to the remediation receiver, which routes the degraded model's "
                 f"traffic of `{service.name}` to its fallback."),
            verify=moved,
            rollback=(f"Routing back happens when the alert resolves (the model's error ratio below {thr}"
                      + (f" and p95 below {slow}" if latency else "") + ").",
                      "To keep the fallback (say, the model is being replaced): "
                      f"`{silence(ALERT, service.name, '24h', 'keep fallback: <your name>')}`."),
            pages=None,
        ),
        queries=((Query("p95 latency per model", own(c.LATENCY_P95_BY_MODEL, service)),)
                 if latency else ()),
    )

"""What the runbooks of cache_warming's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, silence
from ...content.runbook import Query, Remediation, RunbookContent, Step
from ...sli import own
from ..base import alert_link
from .rules import ALERT, CacheWarming, _outages_watched


def runbook(self: CacheWarming, service, cfg, alert):
    k = kubectl(service)
    reasons = []
    if _outages_watched(service):
        reasons.append(f"a provider outage ended within the last {c.window(cfg['after_outage'])} "
                       "(label `reason=\"provider_recovered\"`)")
    if service.source.deployment is not None:
        reasons.append(f"`{service.name}` rolled out within the last {c.window(cfg['after_rollout'])} "
                       "(label `reason=\"rollout\"`)")
    if service.source.latency is not None:
        check = Step("Are calls back to their usual speed? p95 per model (warm caches bring it down).",
                     own(c.LATENCY_P95_BY_MODEL, service), key="warm",
                     branches=(("p95 falls back within 15 minutes", "warming worked"),
                               ("p95 stays high", "warming did not run or did not help: check the remediation "
                                                  "receiver's logs")))
    else:
        check = Step("Are calls succeeding again? Error ratio per provider.",
                     own(c.ERRORS_RATIO_RATE5M_BY_PROVIDER, service), key="warm",
                     branches=(("back to usual", "warming can do its work"),
                               ("still failing", "the outage is not over: " + alert_link(service, "provider_down", "page"))))
    return RunbookContent(
        meaning=("Caches of `" + service.name + "` need warming: " + "; or ".join(reasons)
                 + ". The alert tells the cache-warming automation to run. It never pages."),
        impact="The first calls after the event are slower and dearer (prompt and retrieval caches are cold).",
        steps=(Step("Why now? The firing alert's `reason` label.",
                    f'ALERTS{{alertname="{ALERT}", {c.SERVICE}="{c.escape(service.name)}", alertstate="firing"}}',
                    branches=(("reason=provider_recovered", "an outage just ended: check traffic is back on that "
                                                            "provider → step:warm"),
                              ("reason=rollout", f"a rollout just happened: `{k.status()}` → step:warm"))),
               check),
        remediation=Remediation(
            did=f"Alertmanager sent this alert to the remediation receiver, which warms the caches of `{service.name}`.",
            verify=check,
            rollback=("Warming only adds load; there is nothing to undo.",
                      f"To stop it (say, it overloads a recovering provider): "
                      f"`{silence(ALERT, service.name, '1h', 'skip cache warming: <your name>')}`."),
            pages=None,
        ),
        queries=(Query("Calls per second per provider", own(c.REQUESTS_RATE5M_BY_PROVIDER, service)),),
    )

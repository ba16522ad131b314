"""What the runbooks of capacity's alerts say."""
from __future__ import annotations

from ... import conventions as c
from ...content.links import kubectl, percent, silence
from ...content.runbook import Query, Remediation, RunbookContent, Step
from ...sli import own
from ...spec.units import format_duration, format_number
from .. import p95
from .rules import ACTION, Capacity, PAGE, SCALE_OUT, TICKET


def runbook(self: Capacity, service, cfg, alert):
    k = kubectl(service)
    waiting, kv = own(c.REQUESTS_WAITING_MAX, service), own(c.KV_CACHE_USAGE_MAX, service)
    preempt, running = own(c.PREEMPTIONS_RATE5M, service), own(c.REQUESTS_RUNNING_SUM, service)
    which = Step("Which limit is hit? Requests waiting in the fullest engine "
                 f"(saturated above {format_number(cfg['queue_above'])}).", waiting, key="which",
                 branches=(("requests wait, the KV cache has room", "the engines are at their concurrency limit "
                            "(`--max-num-seqs`): more replicas → step:replicas"),
                           ("requests wait and the KV cache is full", "memory-bound → step:kv")))
    kv_step = Step(f"How full is the KV cache (saturated above {percent(cfg['kv_cache_above'])}), and are running "
                   "requests preempted (evicted, then recomputed from scratch)?", kv, key="kv",
                   branches=(("preemptions per second above 0 (query below)", "long prompts or outputs crowd the "
                              "cache: more replicas, or a lower `--max-model-len` / `--max-num-seqs` → step:replicas"),
                             ("full but no preemptions", "normal under load: vLLM fills its cache; watch latency")))
    replicas = Step("Did automation add replicas, and do the new pods start? Pods stuck Pending usually wait for "
                    "a free GPU node.", command=k(f"get hpa,pods -o wide | grep -E '{k.deployment}|NAME'"),
                    key="replicas",
                    branches=(("new pods are Pending", f"no free GPU: `{k('describe pods | grep -A5 Events')}`, "
                               "then ask the platform on-call for GPU nodes"),
                              ("pods run but the queue stays", "→ step:gpu"),
                              ("no new pods", f"scale by hand: `{k(f'scale {k.target} --replicas=<current+1>')}`")))
    gpu = Step("Are the GPUs healthy and busy? Memory close to `--gpu-memory-utilization` is normal; errors or "
               "0% utilisation with a queue are not.",
               command=k(f"exec {k.target} -- nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total "
                         "--format=csv"), key="gpu",
               branches=(("Xid errors, ECC errors or 0% utilisation", f"a sick GPU or a hung engine: what the "
                          f"engine logged → step:logs, then `{k.restart()}` moves it (drains in-flight requests)"),
                         ("busy and healthy", "demand outgrew the pool: more replicas, or route some traffic to a "
                          "hosted model")))
    logs = Step("What does the engine say? Preemption warnings, CUDA out-of-memory, aborted requests.",
                command=k.logs("preempt|KV cache|out of memory|CUDA|Aborted|waiting", since="30m"), key="logs")
    queries = (Query("Requests waiting (fullest engine)", waiting), Query("Requests running (all engines)", running),
               Query("KV-cache usage (fullest engine)", kv), Query("Preemptions per second", preempt))
    saturated = (f"an engine of `{service.name}` has more than {format_number(cfg['queue_above'])} requests waiting, "
                 f"its KV cache is above {percent(cfg['kv_cache_above'])}, or requests are preempted faster than "
                 f"{format_number(cfg['preemptions_above'])}/s")
    steps = (which, kv_step, replicas, gpu, logs)
    if alert.alert == SCALE_OUT:
        return RunbookContent(
            meaning=f"For {format_duration(cfg['scale_out_after'])}, {saturated}. The alert asks automation to add "
                    "replicas.",
            impact="Requests queue before they are served: time to first token grows before anything fails.",
            steps=steps, queries=queries,
            remediation=Remediation(
                did=f"Alertmanager sent this alert to the `{ACTION}` receiver, which adds replicas of "
                    f"`{k.deployment}`.",
                verify=Step("Is the queue draining?", waiting,
                            branches=(("it falls", "scaling out worked; nothing to do"),
                                      ("it stays up", "→ step:replicas"))),
                rollback=("Automation scales back in when the alert resolves and load allows.",
                          f"To stop scaling out (a false alarm): "
                          f"`{silence(SCALE_OUT, service.name, '1h', 'stop scale-out: <your name>')}`."),
                pages=PAGE if self.pages(service) else None,
            ),
        )
    if alert.alert == TICKET:
        return RunbookContent(
            meaning=f"For {format_duration(cfg['ticket_after'])}, {saturated}: scaling out has not caught up.",
            impact="Users wait longer than usual; latency is still within its objective (or this would page).",
            steps=steps, queries=queries,
            mitigation=("Plan capacity: more replicas or GPUs for this pool, or smaller limits per request.",),
        )
    return RunbookContent(
        meaning=(f"For {format_duration(cfg['page_after'])}, {saturated}, and p95 latency is above "
                 f"{self.slow_text(service)}: more than 5% of calls take longer."),
        impact="Users wait beyond the objective, and requests that wait too long time out at the client.",
        steps=steps, queries=queries + (
            Query(f"share of calls slower than {format_number(self.slow_boundary(service))}s (the page above 5%)",
                  p95.slower_share(c.LATENCY_BUCKETS, service.name, self.slow_boundary(service))),
            Query("p95 latency (interpolated inside its bucket)", own(c.LATENCY_P95, service))),
        mitigation=("Add replicas by hand if automation did not; shed load (lower client concurrency, route a share "
                    "to a hosted model) while they start.",
                    "Do not restart healthy engines to clear the queue: it drops every request in flight."),
    )

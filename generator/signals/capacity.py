"""Capacity of a self-hosted engine (vLLM): automation scales out first, a ticket when saturation lasts, a page only
when it lasts and users feel it (p95 latency above its SLO: more than 5% of calls slower than the bucket boundary
at or above the SLO, counted as the latency signal counts it, never interpolated).

A saturated engine does not fail calls, it queues them: requests wait, the KV cache fills up and running requests
are preempted (evicted and recomputed). None of that shows in an error ratio or a provider's success ratio.
"""
from __future__ import annotations

from .. import boundaries
from .. import conventions as c
from ..boundaries import Clause, Probe, Traffic
from ..promql import example_labels, series_text
from ..rules import Check, Group, Output, Phase, Recording, Scenario, Series, Stream
from ..content.runbook import Query, Remediation, RunbookContent, Step
from ..content.links import kubectl, percent, silence
from ..sli import own, static_labels
from ..spec.errors import FieldError
from ..spec.schema import number, unit
from ..spec.units import format_duration, format_number
from ..synth import counter_values, gauge_series
from . import p95
from .base import Config, Signal, expect, first_model, make_alert

NAME = "capacity"
ACTION = "scale_out"
SCALE_OUT = c.alert_name("CapacityScaleOut")
TICKET = c.alert_name("CapacitySaturated")
PAGE = c.alert_name("CapacityExhausted")


class Capacity(Signal):
    name = NAME
    alerts = {"scale_out": SCALE_OUT, "ticket": TICKET, "page": PAGE}
    remediation = ACTION
    slo_fields = ("latency_p95",)
    description = ("Ask automation to scale out a saturated self-hosted engine (queue, KV cache, preemptions); a "
                   "ticket when it stays saturated; a page when it stays saturated with p95 latency above its SLO.")
    auto_when = "on when the metric preset reports engine saturation (vllm)"
    schema = {
        "queue_above": number("Saturated when an engine has more requests waiting than this.", 10),
        "kv_cache_above": unit("ratio", "Saturated when an engine's KV cache is fuller than this.", "95%"),
        "preemptions_above": number("Saturated when requests are preempted faster than this, per second over 5m.", 0),
        "scale_out_after": unit("duration", "How long saturation lasts before automation is asked to scale out.", "2m"),
        "ticket_after": unit("duration", "How long saturation lasts before a ticket.", "15m"),
        "page_after": unit("duration", "How long saturation with p95 latency above spec.slo.latency_p95 lasts "
                                       "before a page.", "10m"),
    }

    def auto(self, service):
        return service.source.saturation is not None

    def check(self, service, cfg):
        if service.source.saturation is None:
            raise FieldError(("enabled",), "the capacity signal needs engine saturation metrics (spec.metrics.preset: vllm)")
        for key in ("ticket_after", "page_after"):
            if cfg[key] <= cfg["scale_out_after"]:
                raise FieldError((key,), "expected longer than scale_out_after: automation acts first")
        if self.pages(service) and self.slow_boundary(service) is None:
            raise FieldError(("page_after",), f"the page compares latency with spec.slo.latency_p95 "
                                              f"({format_number(service.slo.latency_p95)}s), above the histogram's "
                                              f"highest bucket boundary "
                                              f"({format_number(service.source.latency.boundaries[-1])}s): no series "
                                              "can tell how many calls are slower; declare the buckets the source "
                                              "exports in spec.metrics.buckets")

    def pages(self, service) -> bool:
        """Whether the page exists: it needs a latency objective and a latency histogram to compare."""
        return service.slo.latency_p95 is not None and service.source.latency is not None

    def slow_boundary(self, service) -> float | None:
        """The bucket boundary the page's latency clause counts calls beyond: at or above the p95 SLO."""
        return p95.boundary_at_or_above(service.source.latency.boundaries, service.slo.latency_p95)

    def slow_text(self, service) -> str:
        """`its 2s SLO`, or `2.5s (the bucket boundary at or above its 2s SLO)`."""
        slo, b = service.slo.latency_p95, self.slow_boundary(service)
        if abs(b - slo) <= 1e-9 * max(1.0, slo):
            return f"its {format_number(slo)}s SLO"
        return f"{format_number(b)}s (the bucket boundary at or above its {format_number(slo)}s SLO)"

    def saturated(self, service, cfg) -> str:
        return (f"{own(c.REQUESTS_WAITING_MAX, service)} > {format_number(cfg['queue_above'])}"
                f" or {own(c.KV_CACHE_USAGE_MAX, service)} > {format_number(cfg['kv_cache_above'])}"
                f" or {own(c.PREEMPTIONS_RATE5M, service)} > {format_number(cfg['preemptions_above'])}")

    def build(self, service, cfg: Config) -> Output:
        sat = service.source.saturation
        labels = static_labels(service)
        rules: list = [
            Recording(c.REQUESTS_WAITING_MAX, f"max({sat.waiting})", labels),
            Recording(c.REQUESTS_RUNNING_SUM, f"sum({sat.running})", labels),
            Recording(c.KV_CACHE_USAGE_MAX, f"max({sat.kv_cache_usage})", labels),
            Recording(c.PREEMPTIONS_RATE5M, f"sum(rate({sat.preemptions}[5m]))", labels),
        ]
        cond = self.saturated(service, cfg)
        what = (f"more than {format_number(cfg['queue_above'])} requests wait in an engine, its KV cache is above "
                f"{format_number(cfg['kv_cache_above'] * 100)}%, or requests are preempted; the first limit crossed "
                "reads {{ printf \"%.2f\" $value }}")
        scale = make_alert(service, NAME, SCALE_OUT, cond, cfg["scale_out_after"], c.INFO, remediation=ACTION,
                           summary="The model server is saturated: scale out.",
                           description=f"{{{{ $labels.service }}}} is saturated ({what}); automation adds replicas.")
        ticket = make_alert(service, NAME, TICKET, cond, cfg["ticket_after"], c.TICKET,
                            summary="The model server has stayed saturated.",
                            description=(f"{{{{ $labels.service }}}} has been saturated for "
                                         f"{format_duration(cfg['ticket_after'])} ({what}): scaling out is not keeping up."))
        rules += [scale, ticket]
        page = None
        if self.pages(service):
            share = p95.slower_share(c.LATENCY_BUCKETS, service.name, self.slow_boundary(service))
            page = make_alert(service, NAME, PAGE,
                              f"({cond}) and on (service, team) ({share} > {format_number(p95.SLOW_SHARE)})",
                              cfg["page_after"], c.PAGE,
                              summary="The model server is saturated and users wait.",
                              description=(f"{{{{ $labels.service }}}} has been saturated for "
                                           f"{format_duration(cfg['page_after'])} with p95 latency above "
                                           f"{self.slow_text(service)} "
                                           "(the first saturation limit crossed reads {{ printf \"%.2f\" $value }})."))
            rules.append(page)
        group = Group(c.group_name(service.name, NAME), NAME, tuple(rules))
        return Output(groups=(group,), scenarios=tuple(self._scenarios(service, cfg, scale, ticket, page)))

    def runbook(self, service, cfg, alert):
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

    def page_probes(self, service, cfg, page) -> list[Probe]:
        """The page's KV-cache and preemption clauses, each alone (no queue) with p95 far above its SLO throughout,
        so the condition starts with the saturation, at the minute the gauge or counter moves: the page is pinned to
        its due minute (and so is its secondary tier), and is silent at the KV bound and within the preemption one."""
        p, model = first_model(service)
        sat = service.source.saturation
        start, minutes = 30, 120  # saturated for 2h: long past the secondary tier of any team's escalation delay
        at = start + 1  # a gauge's new value (and a counter's first increment) is read at the minute after its phase
        slow = (Stream(p.name, model, (Phase(start + minutes, ok=600.0, latency=max(service.slo.latency_p95 * 10, self.slow_boundary(service) * 2)),)),)

        def saturated(kv: float = 0.5, preempted: float = 0.0) -> tuple[Series, ...]:
            return (gauge_series(sat.waiting, [(start + minutes, 0)]),
                    gauge_series(sat.kv_cache_usage, [(start, 0.3), (minutes, kv)]),
                    _counter(sat.preemptions, [(start, 0.0), (minutes, preempted * 60)]))

        def kv_full(kv: float, _guard) -> Traffic:
            return Traffic(at, streams=slow, series=saturated(kv=kv), latency=True, value=kv)

        def preempting(per_second: float, _guard) -> Traffic:
            return Traffic(at, streams=slow, series=saturated(preempted=per_second), latency=True, value=per_second)

        def expected(t: Traffic) -> tuple:
            return (expect(page, t.value),)

        out = []
        kv = cfg["kv_cache_above"]
        if kv < 1:
            # Beyond: halfway to a full cache (a ratio cannot pass 1); inside: exactly at the bound, which must not page.
            out.append(Probe(page, Clause("KV-cache usage", ">", kv), cfg["page_after"], kv_full, expected,
                             beyond=(1 + kv) / 2, inside=kv))
        # Beyond: six times the bound (or 6 a minute when it is 0), so the first minute's preemptions alone (a fifth of
        # the steady rate over 5m) already cross it and the condition starts at that minute.
        bound = cfg["preemptions_above"]
        out.append(Probe(page, Clause("preemptions/s over 5m", ">", bound), cfg["page_after"], preempting, expected,
                         beyond=max(0.1, bound * 6)))
        return out

    def _scenarios(self, service, cfg, scale, ticket, page):
        p, model = first_model(service)
        sat = service.source.saturation
        bound = cfg["queue_above"]
        slo = service.slo.latency_p95 or 1.0
        calls = 600.0
        start, minutes = 30, 60
        over = int(cfg["scale_out_after"] // 60)

        def gauges(waiting: float, kv: float = 0.5) -> tuple[Series, ...]:
            return (gauge_series(sat.waiting, [(start, 0), (minutes, waiting)]),
                    gauge_series(sat.kv_cache_usage, [(start, 0.3), (minutes, kv)]),
                    _counter(sat.preemptions, [(start + minutes, 0.0)]))

        def traffic(latency: float) -> tuple[Stream, ...]:
            return (Stream(p.name, model, (Phase(start, ok=calls, latency=0.5),
                                           Phase(minutes, ok=calls, latency=latency))),)

        edge = self.slow_boundary(service) if page is not None else slo

        def slow_share(share: float) -> tuple[Stream, ...]:
            # Most calls well inside the boundary the page counts beyond, `share` of them 10% beyond it.
            return (Stream(p.name, model, (Phase(start, ok=calls, latency=0.5),
                                           Phase(minutes, ok=calls, latency=edge / 2, slow_share=share,
                                                 slow_latency=edge * 1.1))),)

        busy = bound * 1.1  # just above the bound: a queue bound half as large again would stay silent
        slow = max(slo * 10, edge * 2)
        within = min(0.5, slo / 2)  # every call well inside the SLO
        at = start + 1  # a gauge's new value is read from the minute after its phase starts
        checks = [Check(start - 1, SCALE_OUT),
                  # Due `scale_out_after` after the queue builds, not one evaluation earlier.
                  Check(at + over - 1, SCALE_OUT),
                  Check(at + over, SCALE_OUT, (expect(scale, busy),)),
                  Check(at + over + 1, SCALE_OUT, (expect(scale, busy),)),
                  Check(at + int(cfg["ticket_after"] // 60) - 2, TICKET),
                  Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET, (expect(ticket, busy),))]
        if page is not None:
            checks += [Check(at + int(cfg["page_after"] // 60) - 2, PAGE),
                       Check(at + int(cfg["page_after"] // 60) + 4, PAGE, (expect(page, busy),))]
        yield Scenario(
            f"{SCALE_OUT} asks automation first when {format_number(busy)} requests wait, {TICKET} follows after "
            f"{format_duration(cfg['ticket_after'])}" + (f" and {PAGE} pages while p95 is {format_number(slow)}s"
                                                          if page is not None else ""),
            streams=traffic(slow), series=gauges(busy), checks=tuple(checks), latency=True,
        )
        # `scale_out_after` at a step fine enough to see it end: a gauge holds its value until the next sample, so
        # the queue is there from minute `at` exactly.
        fine = boundaries.for_step(60, cfg["scale_out_after"])
        if fine < 60:
            due = boundaries.on_grid(at, fine) + boundaries.on_grid(cfg["scale_out_after"] / 60, fine)
            yield Scenario(
                f"{SCALE_OUT} is due {format_duration(cfg['scale_out_after'])} after {format_number(busy)} requests "
                f"start waiting, not one evaluation ({format_duration(fine)}) earlier",
                streams=traffic(0.5), series=gauges(busy),
                checks=(Check(due - fine / 60, SCALE_OUT), Check(due, SCALE_OUT, (expect(scale, busy),), lasts=False)),
                latency=True, evaluation_interval=fine,
            )
        quiet = [Check(at + over + 1, SCALE_OUT), Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET)]
        yield Scenario(
            f"{SCALE_OUT} and {TICKET} stay silent with exactly {format_number(bound)} requests waiting (the bound)",
            streams=traffic(0.5), series=gauges(bound), checks=tuple(quiet), latency=True,
        )
        if page is not None:
            yield Scenario(
                f"{PAGE} stays silent while saturated but p95 latency is within its {format_number(slo)}s SLO; "
                f"{TICKET} still opens",
                streams=traffic(within), series=gauges(busy),
                checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE),
                        Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET, (expect(ticket, busy),))),
                latency=True,
            )
        full = min(1.0, (1 + cfg["kv_cache_above"]) / 2)
        yield Scenario(
            f"{SCALE_OUT} fires on a KV cache {percent(full)} full with no queue, and not at {percent(cfg['kv_cache_above'])}",
            streams=traffic(0.5), series=gauges(0, full),
            checks=(Check(at + over + 1, SCALE_OUT, (expect(scale, full),)),
                    # the ticket reads the same clause
                    Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET, (expect(ticket, full),), lasts=False)),
            latency=True,
        )
        yield Scenario(
            f"{SCALE_OUT} stays silent with the KV cache exactly at {percent(cfg['kv_cache_above'])}",
            streams=traffic(0.5), series=gauges(0, cfg["kv_cache_above"]),
            checks=(Check(at + over + 1, SCALE_OUT), Check(at + 20, SCALE_OUT),
                    Check(at + int(cfg["ticket_after"] // 60) + 2, TICKET)), latency=True,
        )
        if page is not None:
            # The page's own saturation clauses, with p95 far above the SLO: silent at the queue bound (and a KV cache
            # and preemptions within theirs), firing on a KV cache past its bound.
            yield Scenario(
                f"{PAGE} stays silent with exactly {format_number(bound)} requests waiting while p95 is "
                f"{format_number(slow)}s",
                streams=traffic(slow), series=gauges(bound),
                checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, settled=True),), latency=True,
            )
            yield Scenario(
                f"{PAGE} pages on a KV cache {percent(full)} full with no queue while p95 is {format_number(slow)}s",
                streams=traffic(slow), series=gauges(0, full),
                checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, (expect(page, full),)),),
                latency=True,
            )
            # Its latency clause from both sides, with the queue past its bound: 10% of calls beyond the boundary it
            # counts pages, exactly 5% (p95 at the boundary, not above) does not.
            yield Scenario(
                f"{PAGE} pages while saturated and 10% of calls take longer than {format_number(edge)}s",
                streams=slow_share(0.1), series=gauges(busy),
                # lasts: the secondary tier reads the same latency clause, checked `delay` later
                checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, (expect(page, busy),)),),
                latency=True,
            )
            yield Scenario(
                f"{PAGE} stays silent while saturated and exactly 5% of calls take longer than "
                f"{format_number(edge)}s (p95 at it, not above)",
                streams=slow_share(0.05), series=gauges(busy),
                checks=(Check(at + int(cfg["page_after"] // 60) + 4, PAGE, settled=True),), latency=True,
            )
            for probe in self.page_probes(service, cfg, page):
                yield from boundaries.scenarios(probe)
        per_min = max(6.0, (cfg["preemptions_above"] * 60) * 2)
        yield Scenario(
            f"{SCALE_OUT} fires when requests are preempted ({format_number(per_min)} a minute)",
            streams=traffic(0.5),
            series=(gauge_series(sat.waiting, [(start + minutes, 0)]), gauge_series(sat.kv_cache_usage, [(start + minutes, 0.5)]),
                    _counter(sat.preemptions, [(start, 0.0), (minutes, per_min)])),
            checks=(Check(start - 1, SCALE_OUT), Check(start + 5 + over + 1, SCALE_OUT, (expect(scale, per_min / 60),)),
                    Check(start + 5 + int(cfg["ticket_after"] // 60) + 1, TICKET, (expect(ticket, per_min / 60),),
                          lasts=False)),
            latency=True,
        )


def _counter(selector, phases: list[tuple[int, float]]) -> Series:
    labels = example_labels(selector.metric, {}, [selector], [])
    return Series(series_text(selector.metric, labels), counter_values(phases))


SIGNAL = Capacity()

"""Specs nobody tuned the scenarios to: services drawn across every field's plausible range and every preset.

`draw(seed, count)` gives AIService and OnCallTeam documents (plain dicts) drawn with a seeded generator, so a sample
is the same on every machine. Values straddle the places a scenario builder can get wrong: SLO thresholds on and
off the preset's bucket boundaries, forecasts near and far from the spend a scenario uses, factors from barely above
1x to 10x, `for`s and windows from short to long, one and two providers, teams with and without a secondary tier.

The quick sample (`make test`, tests/test_spec_space.py) turns each history-heavy signal on in about a third of the
services (each still appears in several, with different numbers) so its proof stays within minutes; the long mode
turns every signal on in every service:

    .venv/bin/python -m tests.spec_space --count 200 --seed 7 [--all-signals] [--keep DIR]

It prints each failing proof file with the spec that produced it; keep the spec under tests/user_specs/ as a
regression once the builder, the rule or a refusal is fixed.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from generator.presets.litellm import LATENCY_BUCKETS
from generator.presets.source import OTEL_DURATION_BUCKETS
from generator.presets.vllm import E2E_LATENCY_BUCKETS

PRESETS = ("otel-genai", "litellm", "vllm", "custom")
# Signals whose proofs replay days of history (the costly part of a service's proof).
HEAVY = ("error_spike", "traffic_stopped", "cost_anomaly", "usage_pattern", "rate_limit", "eval_regression")
CUSTOM_BUCKETS = (
    (0.5, 1, 2, 5, 10, 20, 30, 60),
    (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),   # Prometheus client libraries' defaults
    (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250),
    (1, 3, 9, 27, 81, 243),
)
LITELLM_OLD_BUCKETS = (0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
                       5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0, 180.0,
                       240.0, 300.0)
PROVIDERS = {
    "otel-genai": (("anthropic", None, "claude-sonnet-4-5"), ("openai", None, "gpt-5"),
                   ("gemini", ["gcp.gemini", "gemini"], "gemini-2.5-pro")),
    "litellm": (("anthropic", None, "claude-sonnet-4-5"), ("openai", None, "gpt-5-mini"),
                ("bedrock", None, "anthropic.claude-haiku-4-5"), ("azure", None, "gpt-4o")),
    "custom": (("openai", None, "gpt-5"), ("anthropic", None, "claude-opus-4-1"), ("mistral", "mistralai", "large-2")),
}


def _dur(seconds: float) -> str:
    return f"{int(seconds // 60)}m" if seconds % 3600 else f"{int(seconds // 3600)}h"


def _slo(rng: random.Random, buckets: tuple[float, ...], page_at: float) -> float:
    """An SLO whose page threshold lies on a bucket boundary, between two, or just off one."""
    inner = [b for b in buckets if 0.2 <= b / page_at <= 30 and b * 1.2 <= buckets[-1]]
    b = rng.choice(inner or list(buckets[1:-1]))
    kind = rng.choice(("on", "between", "just-off", "free"))
    if kind == "on":
        threshold = b
    elif kind == "between":
        nxt = next((x for x in buckets if x > b), b * 2)
        threshold = (b + nxt) / 2
    elif kind == "just-off":
        threshold = b * rng.choice((0.97, 1.03))
    else:  # a round number, as users write them (never one the histogram cannot measure: that is refused)
        return rng.choice([x for x in (0.8, 1.5, 2, 3, 4, 6, 8, 12, 20) if x * page_at <= buckets[-1]])
    return round(threshold / page_at, 3)


def _signals(rng: random.Random, preset: str, heavy: set[str], two_providers: bool) -> dict:
    s: dict = {}
    page_at = rng.choice((2, 2.5, 3, 4, 5))
    s["latency"] = {"page_at": f"{page_at}x", "ticket_at": f"{rng.choice((1, 1.2, 1.5, page_at / 1.5))}x",
                    "page_for": rng.choice(("5m", "10m", "15m")), "ticket_for": rng.choice(("15m", "30m", "1h")),
                    "min_request_rate": rng.choice((0.01, 0.05, 0.5))}
    s["provider_down"] = {"success_ratio_below": rng.choice(("30%", "50%", "80%")),
                          "window": rng.choice(("1m", "2m", "5m")), "for": rng.choice(("1m", "2m", "5m")),
                          "min_request_rate": rng.choice((0.02, 0.05, 0.3))}
    s["error_spike"] = {"factor": rng.choice((1.5, 2, 3, 4, 6, 10)), "baseline": rng.choice(("1d", "2d")),
                        "baseline_mode": rng.choice(("average", "average", "last_week")),
                        "min_error_ratio": rng.choice(("1%", "2%", "5%", "10%")),
                        "min_request_rate": rng.choice((0.05, 0.2, 1)), "for": rng.choice(("5m", "10m", "15m")),
                        "growing_for": rng.choice(("2m", "3m", "5m"))}
    s["traffic_stopped"] = {"below": rng.choice(("5%", "10%", "30%")), "baseline": rng.choice(("1d", "1w")),
                            "for": rng.choice(("5m", "10m", "20m")), "min_request_rate": rng.choice((0.05, 0.1, 1))}
    s["rate_limit"] = {"rate_limited_ratio_above": rng.choice(("1%", "5%", "15%")),
                       "traffic_factor": rng.choice((1.5, 3, 5)), "min_request_rate": rng.choice((0.05, 0.2, 1)),
                       "for": rng.choice(("1m", "2m", "5m")), "page_after": rng.choice(("15m", "30m", "1h"))}
    s["usage_pattern"] = {"lookback": rng.choice(("1d", "2d")), "traffic_factor": rng.choice((2, 3, 6)),
                          "for": rng.choice(("5m", "10m", "30m"))}
    s["model_routing"] = {"error_ratio_above": rng.choice(("10%", "20%", "40%")),
                          "latency_factor": rng.choice((2, 3, 5)), "for": rng.choice(("2m", "5m", "10m"))}
    s["cache_warming"] = {"after_outage": rng.choice(("5m", "15m", "30m")),
                          "after_rollout": rng.choice(("5m", "10m", "20m"))}
    if preset != "vllm":
        forecast = rng.choice((None, 24, 100, 400, 1000, 5000))
        s["cost_anomaly"] = {"factor": rng.choice((1.5, 2, 3, 4, 5, 8, 10)),
                             "min_usd_per_hour": rng.choice((0.5, 1, 5, 20)), "for": rng.choice(("10m", "15m", "30m")),
                             "forecast_for": rng.choice(("30m", "1h", "2h"))}
        if forecast is not None:
            s["cost_anomaly"]["forecast_daily_usd"] = forecast
    if two_providers:
        s["failover"] = {"error_ratio_above": rng.choice(("5%", "10%", "25%")), "window": rng.choice(("2m", "5m")),
                         "for": rng.choice(("1m", "2m")), "remediation_window": rng.choice(("5m", "10m", "20m")),
                         "hold": rng.choice(("5m", "15m", "30m"))}
    if preset == "vllm":
        s["capacity"] = {"queue_above": rng.choice((1, 10, 50)), "kv_cache_above": rng.choice(("80%", "95%")),
                         "preemptions_above": rng.choice((0, 0.5)), "scale_out_after": rng.choice(("1m", "2m", "4m")),
                         "ticket_after": rng.choice(("10m", "15m", "30m")), "page_after": rng.choice(("5m", "10m"))}
    if preset in ("otel-genai", "vllm") and rng.random() < 0.6:
        s["first_token_latency"] = {"page_at": f"{rng.choice((2, 3, 4))}x", "ticket_at": "1x",
                                    "page_for": rng.choice(("5m", "10m"))}
    if "eval_regression" in heavy:
        s["eval_regression"] = {"suite": "golden", "max_drop": rng.choice(("5pp", "10pp", "20pp")),
                                "floor": rng.choice(("50%", "80%", "95%")), "min_cases": rng.choice((5, 20, 100)),
                                "stale_after": rng.choice(("2h", "6h", "26h")), "for": rng.choice(("2m", "5m", "15m"))}
    for name in HEAVY:
        if name in s and name not in heavy:
            s[name] = {"enabled": False}
    return s


def _service(rng: random.Random, i: int, preset: str, team: str, heavy: set[str]) -> dict:
    name = f"user-{i:03d}-{preset}"
    metrics: dict = {"preset": preset, "selector": f'{{job="{name}"}}'}
    if preset == "litellm":
        metrics["selector"] = f'{{job="litellm", team_alias="{name}"}}'
        if rng.random() < 0.3:
            metrics["buckets"] = list(LITELLM_OLD_BUCKETS)
    if preset == "custom":
        metrics.update(requests="llm_calls_total", errors='llm_calls_total{outcome="error"}',
                       rate_limited='llm_calls_total{outcome="error", code="429"}',
                       latency_buckets="llm_call_duration_seconds_bucket", spend_usd="llm_spend_usd_total",
                       provider_label="vendor", buckets=list(rng.choice(CUSTOM_BUCKETS)))
    if preset == "vllm":
        providers = [{"name": "gpu-pool", "role": "primary", "models": ["meta-llama/Llama-3.1-8B-Instruct"]}]
    else:
        pool = list(PROVIDERS[preset])
        rng.shuffle(pool)
        count = rng.choice((1, 2, 2))
        providers = []
        for k, (pname, label, model) in enumerate(pool[:count]):
            p: dict = {"name": pname, "role": ("primary", "secondary")[k] if count > 1 else "primary",
                       "models": [model]}
            if label:
                p["label_value"] = label
            providers.append(p)
    buckets = tuple(metrics.get("buckets") or {"otel-genai": OTEL_DURATION_BUCKETS, "litellm": LATENCY_BUCKETS,
                                                 "vllm": E2E_LATENCY_BUCKETS}[preset])
    signals = _signals(rng, preset, heavy, len(providers) > 1)
    page_at = float(signals["latency"]["page_at"].rstrip("x"))
    slo: dict = {"latency_p95": f"{_slo(rng, buckets, page_at):g}s",
                 "availability": rng.choice(("99%", "99.5%", "99.9%"))}
    # A model is slow above latency_factor x the SLO: a factor the histogram can measure (a higher one is refused).
    fits = [f for f in (1.5, 2, 3, 5) if f * float(slo["latency_p95"][:-1]) <= buckets[-1]]
    signals["model_routing"]["latency_factor"] = rng.choice(fits or [1])
    if "first_token_latency" in signals:
        slo["first_token_p95"] = f"{rng.choice((0.3, 0.5, 1, 2, 2.5)):g}s"
    spec: dict = {"metrics": metrics, "providers": providers, "slo": slo, "signals": signals}
    if preset == "otel-genai":
        spec["pricing"] = {p["models"][0]: {"input": rng.choice((0.15, 1.25, 3, 15)),
                                            "output": rng.choice((0.6, 10, 15, 75))} for p in providers}
    return {"apiVersion": "oncallgen/v1", "kind": "AIService", "metadata": {"name": name, "team": team}, "spec": spec}


def _team(rng: random.Random, name: str) -> dict:
    receivers = {"pd": {"pagerduty": {"routing_key_file": f"/etc/alertmanager/secrets/{name}-pd"}},
                 "pd2": {"pagerduty": {"routing_key_file": f"/etc/alertmanager/secrets/{name}-pd2"}},
                 "tickets": {"webhook": {"url": f"http://tickets.{name}.svc:8080/"}},
                 "automation": {"webhook": {"url": f"http://automation.{name}.svc:8080/"}}}
    routes: dict = {"primary": "pd", "ticket": "tickets",
                    "remediation": {a: "automation" for a in ("failover", "rate_limit", "cache_warming",
                                                              "model_routing", "scale_out")}}
    tiered = rng.random() < 0.75
    escalation: dict = {"mode": "prometheus" if tiered else "paging_tool"}
    if tiered:
        routes["secondary"] = "pd2"
        escalation["secondary_after"] = rng.choice(("5m", "10m", "15m", "20m", "30m", "1h"))
    return {"apiVersion": "oncallgen/v1", "kind": "OnCallTeam", "metadata": {"name": name},
            "spec": {"receivers": receivers, "routes": routes, "escalation": escalation}}


ROUTING = {"apiVersion": "oncallgen/v1", "kind": "AlertRouting", "metadata": {"name": "root"},
           "spec": {"receivers": {"catchall": {"webhook": {"url": "http://catchall.svc:8080/"}}},
                    "fallback": "catchall", "heartbeat": "catchall"}}


def draw(seed: int, count: int, all_signals: bool = False) -> list[dict]:
    """`count` services (every preset in turn), their teams and the routing root, as spec documents."""
    rng = random.Random(seed)
    teams = [f"team-{k}" for k in range(max(1, count // 5))]
    docs = [_team(rng, t) for t in teams]
    for i in range(count):
        heavy = set(HEAVY) if all_signals else {h for h in HEAVY if rng.random() < 0.34}
        docs.append(_service(rng, i, PRESETS[i % len(PRESETS)], teams[i % len(teams)], heavy))
    return docs + [ROUTING]


def write(docs: list[dict], folder: Path) -> Path:
    """One spec file per document under `folder`/specs; returns that folder."""
    specs = folder / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (specs / f"{doc['kind']}-{doc['metadata']['name']}.yaml").write_text(
            yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return specs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--all-signals", action="store_true", help="every signal on in every service")
    parser.add_argument("--keep", type=Path, help="write specs and output here instead of a temporary folder")
    args = parser.parse_args(argv)
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        specs = write(draw(args.seed, args.count, args.all_signals), folder)
        out = folder / "output"
        gen = subprocess.run([bin_dir / "oncallgen", "generate", str(specs), "-o", str(out)])
        if gen.returncode:
            return gen.returncode
        return subprocess.run([bin_dir / "oncallgen", "test", str(out)]).returncode


if __name__ == "__main__":
    sys.exit(main())

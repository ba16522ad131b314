"""The SLI group: a service's raw metrics normalised into `service_*:ai_*:*` recorded series.

Every signal reads these, never the raw metrics, so signals are preset-agnostic and the expensive
expressions (rates over raw counters, bucket rates) are evaluated once.
"""
from __future__ import annotations

from . import conventions as c
from . import promql_fragments as fragments
from .presets.source import Counter
from .rules import Group, Recording
from .spec.model import Service
from .spec.units import format_number

GROUP_KEY = "sli"
LATENCY = "ai_request_duration_seconds"  # the metric part of every latency series we record
WINDOWS = (300, 3600)  # 5m for alerting, 1h for baselines and SLO accounting


def normalise(expr: str, counter: Counter, service: Service, want_provider: bool, want_model: bool = True) -> str:
    """Wrap `expr` in label_replace calls that copy the source's provider and model labels to ours."""
    if want_provider and not counter.provider_labels:
        # A self-hosted source (vLLM) names no provider: its traffic is the service's one serving pool.
        expr = fragments.label_replace(expr, c.PROVIDER, service.providers[0].name, c.PROVIDER, "")
    elif want_provider:
        # Later entries win: apply the fallbacks first, the preferred label last.
        for label in reversed(counter.provider_labels):
            if label != c.PROVIDER:
                expr = fragments.copy_label(expr, c.PROVIDER, label)
        for p in service.providers:
            if p.label_values != (p.name,):
                expr = fragments.label_replace(expr, c.PROVIDER, p.name, c.PROVIDER, fragments.alternatives(*p.label_values))
    if want_model and counter.model_label and counter.model_label != c.MODEL:
        expr = fragments.copy_label(expr, c.MODEL, counter.model_label)
    return expr


def rate_by(counter: Counter, seconds: float, by: tuple[str, ...], service: Service) -> str:
    """`sum by (<by>) (rate(<counter>[window]))` with provider/model labels normalised."""
    inner = normalise(f"rate({counter.selector}[{c.window(seconds)}])", counter, service, c.PROVIDER in by, c.MODEL in by)
    return f"sum by ({', '.join(by)}) ({inner})"


def own(name: str, service: Service, **labels: str) -> str:
    """A recorded series of this service: `name{service="x", ...}`."""
    return name + c.selector(service=service.name, **labels)


HISTORY = "service:ai_requests:rate5m"  # the series whose age says how much history a service has


def with_history(expr: str, service: Service, seconds: float, series: str = HISTORY,
                 on: tuple[str, ...] = (c.SERVICE, c.TEAM)) -> str:
    """`expr`, only where `series` of this service already existed `seconds` ago.

    Young data never pages: a baseline averaged over a window is only a baseline once the window holds data. A new
    service, a renamed job or a fresh Prometheus has none, so rules comparing against it stay silent until then.
    One instant lookup per evaluation, and the TSDB keeps it across restarts.
    """
    return f"({expr}) and on ({', '.join(on)}) ({own(series, service)} offset {c.window(seconds)})"


def same_hour(hourly: str, service: Service, fallback: str, days: int = c.SAME_HOUR_DAYS) -> str:
    """`hourly` at this time of day on each of the previous `days` days, averaged over the days that have it.

    Quiet nights compare with quiet nights and busy days with busy days; each day's hour ended a day or more ago, so
    an incident never raises its own baseline. Where no previous day has the hour (less than a day of history, or a
    gap), `fallback` (a daily average) stands in.
    """
    return f"{days_ago_average(hourly, service, days)} or {fallback}"


def days_ago_peak(hourly: str, service: Service, days: int = c.SAME_HOUR_DAYS) -> str:
    """The highest `hourly` of the hour from this time of day on each of the previous `days` days, averaged.

    A 5m rate compared with the hour that *ended* at this time yesterday sees every daily ramp as a spike for its
    first minutes (at 06:05 the hour ending 06:05 yesterday is still mostly night); the busiest hour-long window that
    ends within the next hour of yesterday already holds the ramp. Each day reads 60 samples of a 1m series.
    """
    days_ago = " or ".join(f'label_replace(max_over_time({own(hourly, service)}[1h] offset {24 * d - 1}h), "days_ago", '
                           f'"{d}", "__name__", ".*")' for d in range(1, days + 1))
    return f"avg by (service, team) ({days_ago})"


def days_ago_average(hourly: str, service: Service, days: int = c.SAME_HOUR_DAYS) -> str:
    """`hourly` at this time of day on each of the previous `days` days that have it, averaged (no fallback)."""
    days_ago = " or ".join(f'label_replace({own(hourly, service)} offset {d}d, "days_ago", "{d}", "__name__", ".*")'
                           for d in range(1, days + 1))
    return f"avg by (service, team) ({days_ago})"


def zero_filled(expr: str, like: str, by: tuple[str, ...]) -> str:
    """`expr`, or 0 for every series of `like` where `expr` has none (a counter never incremented is absent)."""
    return f"{expr} or (sum by ({', '.join(by)}) ({like}) * 0)"


def static_labels(service: Service) -> tuple[tuple[str, str], ...]:
    return ((c.SERVICE, service.name), (c.TEAM, service.team))


def provider_rates(seconds: float) -> tuple[str, str]:
    """The recorded calls and failed calls per second per provider over a window (`rate_windows` of a signal)."""
    w = c.window(seconds)
    return (c.record("service_provider", "ai_requests", f"rate{w}"), c.record("service_provider", "ai_errors", f"rate{w}"))


def _provider_rate_rules(service: Service, seconds: float) -> tuple[Recording, ...]:
    requests, errors = provider_rates(seconds)
    by = (c.PROVIDER,)
    return (Recording(requests, rate_by(service.source.requests, seconds, by, service), static_labels(service)),
            Recording(errors, zero_filled(rate_by(service.source.errors, seconds, by, service), own(requests, service),
                                          by), static_labels(service)))


def build(service: Service, provider_windows: tuple[float, ...] = ()) -> Group:
    """The SLI recording rules of one service, with per-provider rates over `provider_windows` too (the windows its
    signals decide on besides 5m: one group records each series once, whichever signals read it)."""
    src = service.source
    labels = static_labels(service)
    rules: list[Recording] = []
    spm = ("provider", "model")

    def rec(level: str, metric: str, op: str, expr: str, static: bool = True) -> str:
        name = c.record(level, metric, op)
        rules.append(Recording(name, expr, labels if static else ()))
        return name

    for seconds in WINDOWS:
        w = c.window(seconds)
        req = rec("service_provider_model", "ai_requests", f"rate{w}", rate_by(src.requests, seconds, spm, service))
        like = own(req, service)
        rec("service_provider_model", "ai_errors", f"rate{w}",
            zero_filled(rate_by(src.errors, seconds, spm, service), like, spm))
    rec("service_provider_model", "ai_rate_limited", "rate5m",
        zero_filled(rate_by(src.rate_limited, 300, spm, service), own("service_provider_model:ai_requests:rate5m", service), spm))
    rec("service_provider_model", "ai_provider_errors", "rate1h",
        zero_filled(rate_by(src.provider_errors, 3600, spm, service), own("service_provider_model:ai_requests:rate1h", service), spm))

    for level in ("service", "service_provider", "service_model"):
        by = ", ".join(c.by_labels(level))
        for w in ("5m", "1h") if level == "service" else ("5m",):
            for metric in ("ai_requests", "ai_errors"):
                rec(level, metric, f"rate{w}",
                    f"sum by ({by}) ({own(c.record('service_provider_model', metric, f'rate{w}'), service)})", static=False)
            rec(level, "ai_errors", f"ratio_rate{w}",
                f"{own(c.record(level, 'ai_errors', f'rate{w}'), service)} / {own(c.record(level, 'ai_requests', f'rate{w}'), service)}",
                static=False)
    rec("service", "ai_rate_limited", "ratio_rate5m",
        f"sum by (service, team) ({own('service_provider_model:ai_rate_limited:rate5m', service)}) / "
        f"{own('service:ai_requests:rate5m', service)}", static=False)
    daily = rec("service", "ai_requests", "rate1h_avg1d", f"avg_over_time({own('service:ai_requests:rate1h', service)}[1d])",
                static=False)
    rules.append(Recording(c.REQUESTS_SAME_HOUR, same_hour("service:ai_requests:rate1h", service, own(daily, service))))

    if src.latency is not None:
        metric = LATENCY
        rec("service_model_le", f"{metric}_bucket", "rate5m", rate_by(src.latency.buckets, 300, ("model", "le"), service))
        rec("service_le", f"{metric}_bucket", "rate5m",
            f"sum by (service, team, le) ({own(f'service_model_le:{metric}_bucket:rate5m', service)})", static=False)
        for level, le_level in (("service", "service_le"), ("service_model", "service_model_le")):
            rec(level, metric, "p95_rate5m",
                f"histogram_quantile(0.95, {own(f'{le_level}:{metric}_bucket:rate5m', service)})", static=False)

    if src.spend is not None:
        rec("service_model", "ai_spend_usd", "rate5m", rate_by(src.spend, 300, ("model",), service))
    elif src.tokens is not None and service.prices:
        tok = src.tokens
        inner = normalise(f"rate({tok.counter.selector}[5m])", tok.counter, service, False)
        if tok.type_label != "token_type":
            inner = fragments.copy_label(inner, "token_type", tok.type_label)
        tokens = rec("service_model_token", "ai_tokens", "rate5m", f"sum by (model, token_type) ({inner})")
        for price in service.prices:
            for token_type, usd in ((tok.input_value, price.input_per_million), (tok.output_value, price.output_per_million)):
                rules.append(Recording("service_model_token:ai_token_price_usd:per_token",
                                       f"vector({format_number(usd / 1e6)})",
                                       labels + ((c.MODEL, price.model), ("token_type", token_type))))
        rec("service_model", "ai_spend_usd", "rate5m",
            f"sum by (service, team, model) ({own(tokens, service)} * on (service, team, model, token_type) "
            f"{own('service_model_token:ai_token_price_usd:per_token', service)})", static=False)
    if has_cost(service):
        rec("service", "ai_spend_usd", "rate5m", f"sum by (service, team) ({own('service_model:ai_spend_usd:rate5m', service)})",
            static=False)
        rec("service", "ai_spend_usd", "rate1h", f"avg_over_time({own('service:ai_spend_usd:rate5m', service)}[1h])",
            static=False)
    for seconds in sorted(set(provider_windows) - {WINDOWS[0]}):
        rules += _provider_rate_rules(service, seconds)
    return Group(f"oncallgen-{service.name}-sli", GROUP_KEY, tuple(rules))


def has_cost(service: Service) -> bool:
    """Whether the SLI group records spend for this service."""
    src = service.source
    return src.spend is not None or (src.tokens is not None and bool(service.prices))

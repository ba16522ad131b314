"""The SLI group: a service's raw metrics normalised into `service_*:ai_*:*` recorded series.

Every signal reads these, never the raw metrics, so signals are preset-agnostic and the expensive
expressions (rates over raw counters, bucket rates) are evaluated once.
"""
from __future__ import annotations

from . import conventions as c
from . import promql_fragments as fragments
from .presets.source import Counter, Tokens
from .rules import Group, Recording
from .spec.model import Service
from .spec.units import format_number

GROUP_KEY = "sli"
WINDOWS = (300, 3600)  # 5m for alerting, 1h for baselines and SLO accounting
# Calls and failed calls per second per provider and model over each window, recorded from the raw counters.
BY_PROVIDER_MODEL = {300: (c.REQUESTS_RATE5M_BY_PROVIDER_MODEL, c.ERRORS_RATE5M_BY_PROVIDER_MODEL),
                     3600: (c.REQUESTS_RATE1H_BY_PROVIDER_MODEL, c.ERRORS_RATE1H_BY_PROVIDER_MODEL)}
# Their sums per service, provider and model, and the error ratio of each: (the labels kept besides service and
# team, the window, calls, failed calls, ratio).
SUMS = (
    ((), 300, c.REQUESTS_RATE5M, c.ERRORS_RATE5M, c.ERRORS_RATIO_RATE5M),
    ((), 3600, c.REQUESTS_RATE1H, c.ERRORS_RATE1H, c.ERRORS_RATIO_RATE1H),
    ((c.PROVIDER,), 300, c.REQUESTS_RATE5M_BY_PROVIDER, c.ERRORS_RATE5M_BY_PROVIDER, c.ERRORS_RATIO_RATE5M_BY_PROVIDER),
    ((c.MODEL,), 300, c.REQUESTS_RATE5M_BY_MODEL, c.ERRORS_RATE5M_BY_MODEL, c.ERRORS_RATIO_RATE5M_BY_MODEL),
)


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
    """`sum by (<by>) (rate(<counter>[window]))` with provider/model labels normalised.

    A counter with older generations of names reads, for each emitter (its `emitters` labels) and each provider, model
    and label set of `by`, the newest generation that emitter has (`new or on (...) old`, summed after): a process
    emitting both at once counts each call once, and a replica still emitting only older names is counted too.
    """
    window = c.window(seconds)
    generations = counter.generations()
    if len(generations) == 1:
        inner = normalise(f"rate({counter.selector}[{window}])", counter, service, c.PROVIDER in by, c.MODEL in by)
        return f"sum by ({', '.join(by)}) ({inner})"
    parts = [normalise(f"rate({g.selector}[{window}])", g, service, True) for g in generations]
    return f"sum by ({', '.join(by)}) ({_newest(parts, by + (c.PROVIDER, c.MODEL) + counter.emitters)})"


def _newest(parts: list[str], key: tuple[str, ...]) -> str:
    """`parts` (newest generation first) joined so that each label set of `key` is read from the first that has it."""
    on = ", ".join(fragments.label_name(label) for label in dict.fromkeys(key))
    return f" or on ({on}) ".join(parts)


def token_rates(tokens: Tokens, service: Service) -> str:
    """Tokens per second by model, token type and modality over 5m, each emitter's newest generation preferred."""
    by = (c.MODEL, c.TOKEN_TYPE, c.MODALITY)
    parts = []
    for generation in tokens.generations():
        # rate() drops the metric name: each type gets its token_type before `or` could merge two of them.
        inner = " or ".join(fragments.label_replace(f"rate({counter.selector}[5m])", c.TOKEN_TYPE, kind, c.TOKEN_TYPE,
                                                    ".*") for kind, counter in generation.counters)
        # Text unless the source names the modality (the older generation never does).
        inner = fragments.label_replace(f"({inner})", c.MODALITY, c.TEXT, c.MODALITY, ".*")
        if generation.modality_label:
            inner = fragments.copy_label(inner, c.MODALITY, generation.modality_label)
        parts.append(normalise(inner, generation.counters[0][1], service, False))
    return f"sum by ({', '.join(by)}) ({_newest(parts, by + tokens.emitters)})"


def token_prices(service: Service) -> tuple[Recording, ...]:
    """USD per token of each kind the service's token counters hold, per model and priced modality.

    Cache reads and writes are subsets of the input tokens, which are already priced as input: their rows hold the
    difference (negative for a discounted read), and none where it is zero. Modalities the spec does not price have
    no row, so the join leaves them out.
    """
    kinds = service.source.tokens.types()
    rows = []
    for price in service.prices:
        usd = {c.INPUT: price.input_per_million, c.OUTPUT: price.output_per_million,
               c.CACHE_READ: price.cache_read_per_million - price.input_per_million,
               c.CACHE_WRITE: price.cache_write_per_million - price.input_per_million}
        for modality in price.modalities:
            for kind in kinds:
                if usd[kind] or kind in (c.INPUT, c.OUTPUT):
                    rows.append(Recording(c.TOKEN_PRICE, f"vector({format_number(usd[kind] / 1e6)})",
                                          static_labels(service) + ((c.MODEL, price.model), (c.TOKEN_TYPE, kind),
                                                                    (c.MODALITY, modality))))
    return tuple(rows)


def own(name: str, service: Service, **labels: str) -> str:
    """A recorded series of this service: `name{service="x", ...}`."""
    return name + c.selector(service=service.name, **labels)


HISTORY = c.REQUESTS_RATE5M  # the series whose age says how much history a service has


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
    return f"avg without (days_ago) ({days_ago})"


def days_ago_average(hourly: str, service: Service, days: int = c.SAME_HOUR_DAYS) -> str:
    """`hourly` at this time of day on each of the previous `days` days that have it, averaged (no fallback)."""
    days_ago = " or ".join(f'label_replace({own(hourly, service)} offset {d}d, "days_ago", "{d}", "__name__", ".*")'
                           for d in range(1, days + 1))
    return f"avg without (days_ago) ({days_ago})"


def zero_filled(expr: str, like: str, by: tuple[str, ...]) -> str:
    """`expr`, or 0 for every series of `like` where `expr` has none (a counter never incremented is absent)."""
    return f"{expr} or (sum by ({', '.join(by)}) ({like}) * 0)"


def static_labels(service: Service) -> tuple[tuple[str, str], ...]:
    return ((c.SERVICE, service.name), (c.TEAM, service.team))


def provider_rates(seconds: float) -> tuple[str, str]:
    """The recorded calls and failed calls per second per provider over a window (`rate_windows` of a signal)."""
    return c.requests_rate_by_provider(seconds), c.errors_rate_by_provider(seconds)


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

    def rec(name: str, expr: str, static: bool = True) -> str:
        rules.append(Recording(name, expr, labels if static else ()))
        return name

    for seconds in WINDOWS:
        requests, errors = BY_PROVIDER_MODEL[seconds]
        rec(requests, rate_by(src.requests, seconds, spm, service))
        rec(errors, zero_filled(rate_by(src.errors, seconds, spm, service), own(requests, service), spm))
    rec(c.RATE_LIMITED_RATE5M_BY_PROVIDER_MODEL, zero_filled(rate_by(src.rate_limited, 300, spm, service),
                                                             own(c.REQUESTS_RATE5M_BY_PROVIDER_MODEL, service), spm))
    rec(c.PROVIDER_ERRORS_RATE1H_BY_PROVIDER_MODEL, zero_filled(rate_by(src.provider_errors, 3600, spm, service),
                                                                own(c.REQUESTS_RATE1H_BY_PROVIDER_MODEL, service), spm))

    for kept, seconds, requests, errors, ratio in SUMS:
        dropped = ", ".join(label for label in (c.PROVIDER, c.MODEL) if label not in kept)
        for name, source in zip((requests, errors), BY_PROVIDER_MODEL[seconds]):
            rec(name, f"sum without ({dropped}) ({own(source, service)})", static=False)
        rec(ratio, f"{own(errors, service)} / {own(requests, service)}", static=False)
    rec(c.RATE_LIMITED_RATIO_RATE5M,
        f"sum without (provider, model) ({own(c.RATE_LIMITED_RATE5M_BY_PROVIDER_MODEL, service)}) / "
        f"{own(c.REQUESTS_RATE5M, service)}", static=False)
    daily = rec(c.REQUESTS_RATE1H_AVG1D, f"avg_over_time({own(c.REQUESTS_RATE1H, service)}[1d])", static=False)
    rules.append(Recording(c.REQUESTS_SAME_HOUR, same_hour(c.REQUESTS_RATE1H, service, own(daily, service))))

    if src.latency is not None:
        rec(c.LATENCY_BUCKETS_BY_MODEL, rate_by(src.latency.buckets, 300, ("model", "le"), service))
        rec(c.LATENCY_BUCKETS, f"sum without (model) ({own(c.LATENCY_BUCKETS_BY_MODEL, service)})", static=False)
        for p95, buckets in ((c.LATENCY_P95, c.LATENCY_BUCKETS), (c.LATENCY_P95_BY_MODEL, c.LATENCY_BUCKETS_BY_MODEL)):
            rec(p95, f"histogram_quantile(0.95, {own(buckets, service)})", static=False)

    if src.spend is not None:
        rec(c.SPEND_RATE5M_BY_MODEL, rate_by(src.spend, 300, ("model",), service))
    elif src.tokens is not None and service.prices:
        rules.append(Recording(c.TOKENS_RATE5M, token_rates(src.tokens, service), labels))
        rules.extend(token_prices(service))
        join = ", ".join(c.by_labels("service_model_token"))
        rec(c.SPEND_RATE5M_BY_MODEL,
            f"sum without (token_type, modality) ({own(c.TOKENS_RATE5M, service)} * on ({join}) "
            f"{own(c.TOKEN_PRICE, service)})", static=False)
    if has_cost(service):
        rec(c.SPEND_RATE5M, f"sum without (model) ({own(c.SPEND_RATE5M_BY_MODEL, service)})", static=False)
        rec(c.SPEND_RATE1H, f"avg_over_time({own(c.SPEND_RATE5M, service)}[1h])", static=False)
    for seconds in sorted(set(provider_windows) - {WINDOWS[0]}):
        rules += _provider_rate_rules(service, seconds)
    return Group(c.group_name(service.name, GROUP_KEY), GROUP_KEY, tuple(rules))


def has_cost(service: Service) -> bool:
    """Whether the SLI group records spend for this service."""
    src = service.source
    return src.spend is not None or (src.tokens is not None and bool(service.prices))

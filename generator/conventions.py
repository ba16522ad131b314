"""Every generated name, label and path in one place.

Recorded series follow `level:metric:operations` (the Prometheus naming practice): the level names the
labels a series keeps, the metric what it measures, the operations how it was computed.
"""
from __future__ import annotations

import hashlib
import re

from .promql_fragments import escape, matcher  # noqa: F401 (escape: re-exported)
from .spec.units import format_duration

ALERT_PREFIX = "AI"
GENERATOR = "oncallgen"
PIPELINE_SERVICE = "alerting-pipeline"  # the `service` of alerts about alerting itself (Watchdog, pipeline checks)
PIPELINE_SIGNAL = "alerting_pipeline"   # ...the `signal` of the pipeline checks, and their group key

# Labels every normalised series and every alert carries.
SERVICE = "service"
TEAM = "team"
PROVIDER = "provider"
MODEL = "model"
SIGNAL = "signal"
SEVERITY = "severity"
REMEDIATION = "remediation"
ESCALATION = "escalation"
# The label prometheus-operator's default matcher strategy (OnNamespace) requires of every alert a namespaced
# AlertmanagerConfig routes: the operator target puts it on every alert of a service as a static label.
NAMESPACE = "namespace"

# The tiers of a page (the `escalation` label): the primary's page, and its copy for the secondary on-call.
PRIMARY, SECONDARY = "primary", "secondary"

SEVERITIES = ("critical", "warning", "info")
PAGE, TICKET, INFO = SEVERITIES

# Levels: which labels a recorded series keeps besides `service` and `team`.
LEVEL_LABELS = {
    "service": (),
    "service_provider": (PROVIDER,),
    "service_model": (MODEL,),
    "service_provider_model": (PROVIDER, MODEL),
    "service_le": ("le",),
    "service_model_le": (MODEL, "le"),
    "service_suite_model": ("suite", MODEL),
    "service_model_token": (MODEL, "token_type", "modality"),  # a kind of token: its type and modality
    "service_alertname": ("alertname",),
    "team": (),
}


# Kinds of token priced into spend: the `token_type` of the token series (cache reads and writes are subsets of the
# input tokens), and their `modality` (text unless the source says otherwise).
TOKEN_TYPE = "token_type"
MODALITY = "modality"
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
INPUT, OUTPUT, CACHE_READ, CACHE_WRITE = TOKEN_TYPES
TEXT = "text"


def by_labels(level: str) -> tuple[str, ...]:
    """The `by (...)` clause for a level: service and team first, then the level's own labels."""
    if level == "team":
        return (TEAM,)
    return (SERVICE, TEAM) + LEVEL_LABELS[level]


def record(level: str, metric: str, operation: str) -> str:
    """A recorded series name, e.g. `record("service", "ai_requests", "rate5m")`."""
    assert level in LEVEL_LABELS, level
    return f"{level}:{metric}:{operation}"


def window(seconds: float) -> str:
    """A window as it appears in operation names and range selectors: 300 -> `5m`."""
    return format_duration(seconds)


def alert_name(*words: str) -> str:
    """CamelCase alert name with the common prefix: `alert_name("ProviderDown")` -> `AIProviderDown`."""
    return ALERT_PREFIX + "".join(words)


def slug(alertname: str) -> str:
    """The stable runbook slug of an alert type: `AIProviderDown` -> `ai-provider-down`."""
    words = re.findall(r"[A-Z][0-9]+|[A-Z]+(?=[A-Z][a-z]|[A-Z][0-9]|$)|[A-Z]?[a-z]+|[0-9]+", alertname)
    return "-".join(w.lower() for w in words)


def tier_slug(alertname: str) -> str:
    """Runbook slug of an alert's secondary tier."""
    return slug(alertname) + "-secondary"


def runbook_url(base_url: str, service: str, alertname: str, slug_: str | None = None) -> str:
    """Where the runbook of `alertname` (or of the page named by `slug_`) for `service` lives: under the service's
    runbook base URL, or in the output folder's runbooks/."""
    path = f"{service}/{slug_ or slug(alertname)}.md"
    base = base_url.rstrip("/")
    return f"{base}/{path}" if base else f"runbooks/{path}"


def group_name(service: str, key: str, part: str = "") -> str:
    """The rule group of a service's signal (`key`), or of one `part` of it: `oncallgen-<service>-<key>[-<part>]`.
    Group keys use underscores, so the name is read back by its `key`, never split on dashes."""
    return "-".join(x for x in (GENERATOR, service, key, part) if x)


def global_group_name(name: str) -> str:
    """A rule group of no service: `oncallgen-<name>`."""
    return f"{GENERATOR}-{name}"


DASHBOARDS_DIR = "dashboards"


def dashboard_path(owner: str) -> str:
    """Where the Grafana dashboard of a service, or a team's overview (`team_dashboard`), lands in the output."""
    return f"{DASHBOARDS_DIR}/{owner}.json"


def team_dashboard(team: str) -> str:
    """The owner name of a team's on-call overview dashboard."""
    return f"team-{team}"


def dashboard_uid(owner: str) -> str:
    """Grafana's uid of a dashboard, at most 40 characters: readable when the name fits, else a stable hash of it."""
    readable = f"{GENERATOR}-{owner}"
    return readable if len(readable) <= 40 else f"{GENERATOR}-{hashlib.sha256(owner.encode()).hexdigest()[:16]}"


def grafana_dashboard_url(grafana: str, owner: str) -> str:
    """The generated dashboard of `owner` in the Grafana at `grafana` (Grafana's /d/<uid> finds it by uid alone)."""
    return f"{grafana.rstrip('/')}/d/{dashboard_uid(owner)}"


DASHBOARD_CONFIGMAP_LABEL = ("grafana_dashboard", "1")  # what Grafana's dashboard sidecar selects by default


def dashboard_configmap(owner: str) -> str:
    """The name of the ConfigMap holding `owner`'s dashboard on the operator target."""
    return f"{GENERATOR}-dashboard-{owner}"


def business_hours_interval(team: str) -> str:
    """The Alertmanager time interval of a team's business hours."""
    return f"{team}/business-hours"


def am_matcher(name: str, value: str, op: str = "=") -> str:
    """An Alertmanager matcher with a double-quoted value, the only form Alertmanager 0.25 documents for
    `matchers` (values are names the spec checks, never free text)."""
    return f'{name}{op}"{value}"'


def selector(**labels: str) -> str:
    """`{service="x"}` with labels in a fixed order."""
    inner = ", ".join(matcher(k, "=", v) for k, v in labels.items())
    return "{" + inner + "}"


# Recorded series. Signals read these, never the raw metrics; a series only one signal package records and reads is
# named in that package's rules.py, the rest here.
#
# The SLI group (sli.py) records calls, failed calls, quota refusals and provider failures per provider and model...
REQUESTS_RATE5M_BY_PROVIDER_MODEL = record("service_provider_model", "ai_requests", "rate5m")
ERRORS_RATE5M_BY_PROVIDER_MODEL = record("service_provider_model", "ai_errors", "rate5m")
REQUESTS_RATE1H_BY_PROVIDER_MODEL = record("service_provider_model", "ai_requests", "rate1h")
ERRORS_RATE1H_BY_PROVIDER_MODEL = record("service_provider_model", "ai_errors", "rate1h")
RATE_LIMITED_RATE5M_BY_PROVIDER_MODEL = record("service_provider_model", "ai_rate_limited", "rate5m")
PROVIDER_ERRORS_RATE1H_BY_PROVIDER_MODEL = record("service_provider_model", "ai_provider_errors", "rate1h")
# ...and sums them per service, provider and model, with the error ratio of each.
REQUESTS_RATE5M = record("service", "ai_requests", "rate5m")
ERRORS_RATE5M = record("service", "ai_errors", "rate5m")
ERRORS_RATIO_RATE5M = record("service", "ai_errors", "ratio_rate5m")
REQUESTS_RATE1H = record("service", "ai_requests", "rate1h")
ERRORS_RATE1H = record("service", "ai_errors", "rate1h")
ERRORS_RATIO_RATE1H = record("service", "ai_errors", "ratio_rate1h")
REQUESTS_RATE5M_BY_PROVIDER = record("service_provider", "ai_requests", "rate5m")
ERRORS_RATE5M_BY_PROVIDER = record("service_provider", "ai_errors", "rate5m")
ERRORS_RATIO_RATE5M_BY_PROVIDER = record("service_provider", "ai_errors", "ratio_rate5m")
REQUESTS_RATE5M_BY_MODEL = record("service_model", "ai_requests", "rate5m")
ERRORS_RATE5M_BY_MODEL = record("service_model", "ai_errors", "rate5m")
ERRORS_RATIO_RATE5M_BY_MODEL = record("service_model", "ai_errors", "ratio_rate5m")
RATE_LIMITED_RATIO_RATE5M = record("service", "ai_rate_limited", "ratio_rate5m")
REQUESTS_RATE1H_AVG1D = record("service", "ai_requests", "rate1h_avg1d")  # the daily average, a baseline's fallback


def requests_rate_by_provider(seconds: float) -> str:
    """Calls per second per provider over a window a signal decides on (the SLI group records each window once)."""
    return record("service_provider", "ai_requests", f"rate{window(seconds)}")


def errors_rate_by_provider(seconds: float) -> str:
    """Failed calls per second per provider over a window a signal decides on."""
    return record("service_provider", "ai_errors", f"rate{window(seconds)}")


# Latency and time to first token: bucket rates, and the p95 interpolated from them.
LATENCY_BUCKETS = record("service_le", "ai_request_duration_seconds_bucket", "rate5m")
LATENCY_BUCKETS_BY_MODEL = record("service_model_le", "ai_request_duration_seconds_bucket", "rate5m")
LATENCY_P95 = record("service", "ai_request_duration_seconds", "p95_rate5m")
LATENCY_P95_BY_MODEL = record("service_model", "ai_request_duration_seconds", "p95_rate5m")
FIRST_TOKEN_BUCKETS = record("service_le", "ai_time_to_first_token_seconds_bucket", "rate5m")
FIRST_TOKEN_P95 = record("service", "ai_time_to_first_token_seconds", "p95_rate5m")
# Spend: tokens per second and their prices where the source counts tokens, USD per second per model and service.
TOKENS_RATE5M = record("service_model_token", "ai_tokens", "rate5m")
TOKEN_PRICE = record("service_model_token", "ai_token_price_usd", "per_token")
SPEND_RATE5M_BY_MODEL = record("service_model", "ai_spend_usd", "rate5m")
SPEND_RATE5M = record("service", "ai_spend_usd", "rate5m")
SPEND_RATE1H = record("service", "ai_spend_usd", "rate1h")

# Time-of-day baselines: an hourly series at the same time on each of the previous days (up to a week), averaged.
SAME_HOUR_DAYS = 7
REQUESTS_SAME_HOUR = record("service", "ai_requests", "rate1h_same_hour_avg1w")
SPEND_SAME_HOUR = record("service", "ai_spend_usd", "rate1h_same_hour_avg1w")
ERRORS_SAME_HOUR = record("service", "ai_errors", "ratio_rate1h_same_hour_avg1w")
# ...and the busiest of the hour-long windows ending between now and an hour later on those days: what a 5m rate
# compares with, so a daily ramp a few minutes early is not a spike.
REQUESTS_SAME_HOUR_PEAK = record("service", "ai_requests", "rate1h_same_hour_peak_avg1w")

# Provider outages: a provider's synthetic probe (provider_down records it, cache_warming reads it), 1 while an
# outage of a provider is under way (outage.py and cache_warming read it)...
PROBE_SUCCESS = record("service_provider", "ai_probe", "success")
PROVIDER_OUTAGE_ACTIVE = record("service_provider", "ai_provider_outage", "active")


def provider_outage_recent(seconds: float) -> str:
    """...and 1 while an outage of a provider carrying the service's traffic is active or ended under `seconds` ago."""
    return record("service", "ai_provider_outage", f"max_over_time{window(seconds)}")


# A self-hosted engine's saturation (the capacity signal records these from the preset's saturation selectors).
REQUESTS_WAITING_MAX = record("service", "ai_requests_waiting", "max")
REQUESTS_RUNNING_SUM = record("service", "ai_requests_running", "sum")
KV_CACHE_USAGE_MAX = record("service", "ai_kv_cache_usage", "max")
PREEMPTIONS_RATE5M = record("service", "ai_preemptions", "rate5m")

# SLO accounting from coarse series: calls per hour, recorded once an hour...
SLO_HOURLY = {metric: record("service", metric, "increase1h") for metric in ("ai_requests", "ai_errors",
                                                                               "ai_provider_errors")}
SLO_OBJECTIVE = record("service", "ai_slo_objective", "ratio")


def availability(seconds: float) -> str:
    """...summed over the SLO window: the share of calls that succeeded,"""
    return record("service", "ai_availability", f"ratio_{window(seconds)}")


def provider_errors_ratio(seconds: float) -> str:
    """the share that failed by the provider's fault,"""
    return record("service", "ai_provider_errors", f"ratio_{window(seconds)}")


def error_budget_remaining(seconds: float) -> str:
    """the error budget left (1 untouched, below 0 the SLO missed),"""
    return record("service", "ai_error_budget", f"remaining_{window(seconds)}")


def error_budget_burned_by_provider(seconds: float) -> str:
    """and the share of the error budget the provider's failures burned."""
    return record("service", "ai_error_budget", f"burned_by_provider_{window(seconds)}")


# On-call health (meta.py records them from `ALERTS`, the team dashboards read them): pages started per minute per
# service and alert, pages started per team over a day and a week, and pages firing now.
PAGES_STARTED = record("service_alertname", "ai_pages", "started")
PAGES_COUNT1D = record("team", "ai_pages", "count1d")
PAGES_COUNT1W = record("team", "ai_pages", "count1w")
PAGES_FIRING = record("team", "ai_pages_firing", "count")
# 1 while a team with business hours is in them (its time zone's UTC hours of the day's date), and the pages it got
# outside them: started per minute, and in the last week.
BUSINESS_HOURS = record("team", "ai_business_hours", "active")
PAGES_OFF_HOURS_STARTED = record("team", "ai_pages_off_hours", "started")
PAGES_OFF_HOURS_COUNT1W = record("team", "ai_pages_off_hours", "count1w")

RULES_DIR = "rules"
RULES_GLOB = f"{RULES_DIR}/*.rules.yml"  # the one `rule_files` entry that loads every generated rule file


def rules_path(service: str, group: str) -> str:
    """Where a service's rule group lands inside the output folder.

    Flat, because Prometheus' `rule_files` (and Thanos' `--rule-file`) accept a wildcard only in the last path
    element: one stable entry, `rules/*.rules.yml`, loads every service, present and future. Names have no dots,
    so `<service>.<group>` is unambiguous.
    """
    return f"{RULES_DIR}/{service}.{group}.rules.yml"


def test_path(service: str, group: str) -> str:
    """Where the promtool unit tests of a service's rule group land."""
    return f"tests/{service}/{group}.test.yml"


def group_part(group: str, part: int) -> str:
    """The name of the `part`-th piece (from 1) of a rule group split to fit a ruler's rules-per-group limit."""
    return group if part == 1 else f"{group}-part{part}"


# Thanos Ruler sharding (`generate --target thanos --shards N`): each ruler loads one folder of rule files.
THANOS_DIR = "thanos"
THANOS_RULE_SUFFIX = ".thanos.yml"
THANOS_SHARD_FLAGS = "flags.txt"           # next to a shard's rule files: the flags of the ruler that runs them
THANOS_SHARD_LABEL = "ruler_shard"         # external label telling the shards' series (and blocks) apart
THANOS_REPLICA_LABEL = "rule_replica"      # external label telling the replicas of one shard (an HA pair) apart
THANOS_GLOBAL_SHARD = 0                    # the shard of the rules of no service (Watchdog, pipeline, on-call health)
THANOS_MAX_SHARDS = 1000


def thanos_shard_dir(shard: int) -> str:
    """The folder of one Thanos Ruler shard's rule files: `thanos/shard-<shard>`."""
    return f"{THANOS_DIR}/shard-{shard}"

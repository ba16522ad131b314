"""The bad-input corpus: hostile or careless specs, each refused cleanly.

Every case breaks one thing in a spec set that generates cleanly (checked first) and expects: exit status 1,
exactly one line on stderr of the form `error: file:line:col: [field: ]message` pointing at the line that
holds the bad value, no traceback, `out/` byte-identical and nothing written anywhere else. Cases are grouped
by class; docs/reliability.md lists the classes and their sizes (a test keeps them equal).
"""
from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .corpus import CUSTOM_METRICS, FILES, ROUTING, SERVICE, TEAM, edit, line_of, signal_setting, tree, write_files

ERROR = re.compile(r"^error: (?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.+)$")


@dataclass(frozen=True)
class Case:
    id: str
    klass: str
    files: dict                   # path -> text or bytes, replacing the base file of the same path
    marker: str | bytes | int     # the text on the line the error must point at (or the line itself)
    message: str                  # a fragment the message must contain
    field: str | None = None      # the field path the error must name, when there is one
    secret: str | None = None     # a value that must not appear anywhere in the output
    file: str = "specs/demo.yaml"


CASES: list[Case] = []


def case(id: str, klass: str, text: str | bytes, marker, message: str, field: str | None = None,
         secret: str | None = None, file: str = "specs/demo.yaml") -> None:
    CASES.append(Case(id, klass, {file: text}, marker, message, field, secret, file))


# ---- query injection: label names from the spec reach label_replace and matchers ----
QUERY = "query-injection"
_BAD_LABELS = {
    "or-vector": 'provider", "$1", "x", "(.+)") or vector(1) #',
    "closing-paren": "vendor) or up",
    "quote": 'ven"dor',
    "space": "ven dor",
    "leading-digit": "1vendor",
    "dash": "ven-dor",
    "reserved": "__name__",
    "unicode": "vendör",
}
for key in ("provider_label", "model_label"):
    for name, bad in _BAD_LABELS.items():
        text = edit(SERVICE, "    preset: otel-genai\n", CUSTOM_METRICS).replace(
            {"provider_label": "provider_label: vendor", "model_label": "model_label: llm"}[key],
            f"{key}: '{bad}'")
        case(f"{key}-{name}", QUERY, text, f"{key}:", "label name", f"spec.metrics.{key}")
for key in ("suite_label", "model_label", "result_label"):
    for name in ("or-vector", "quote", "space", "reserved"):
        bad = _BAD_LABELS[name]
        text = edit(SERVICE, "    preset: otel-genai\n", f"    preset: otel-genai\n    eval:\n      {key}: '{bad}'\n")
        case(f"eval-{key}-{name}", QUERY, text, f"{key}:", "label name", f"spec.metrics.eval.{key}")
for name in ("or-vector", "closing-paren", "quote", "space", "reserved", "dash"):
    bad = _BAD_LABELS[name]
    text = edit(SERVICE, "    preset: otel-genai\n", f"    preset: otel-genai\n    emitter_labels: [job, '{bad}']\n")
    case(f"emitter-labels-{name}", QUERY, text, "emitter_labels:", "label name", "spec.metrics.emitter_labels[1]")
case("eval-pass-equals-fail", QUERY,
     edit(SERVICE, "    preset: otel-genai\n", "    preset: otel-genai\n    eval: {pass_value: ok, fail_value: ok}\n"),
     "fail_value", "other than pass_value", "spec.metrics.eval.fail_value")
for name, selector in {"or-in-selector": '{job="a" or job="b"}', "function": "rate(x[5m])",
                       "binary-op": "x or vector(1)", "unclosed-quote": '{job="a}', "offset": "x offset 5m"}.items():
    text = edit(SERVICE, "    preset: otel-genai\n", f"    preset: otel-genai\n    probe: '{selector}'\n")
    case(f"probe-selector-{name}", QUERY, text, "probe:", "", "spec.metrics.probe")

# ---- regexes: user regexes must be RE2 and mean the same in our test-series generator ----
REGEX = "regex"
_BAD_REGEXES = {"trailing-backslash": "5..\\\\", "lookahead": "(?=5)..", "lookbehind": "(?<=x)y",
                "backreference": "(5)\\\\1", "unbalanced": "5..)|(408", "posix-class": "[[:digit:]]..",
                "atomic": "(?>a)", "possessive": "a++"}
for key in ("rate_limit_error_types", "provider_error_types"):
    for name, bad in _BAD_REGEXES.items():
        text = edit(SERVICE, "    preset: otel-genai\n", f'    preset: otel-genai\n    {key}: "{bad}"\n')
        case(f"otel-{key}-{name}", REGEX, text, f"{key}:", "", f"spec.metrics.{key}")
for name in ("trailing-backslash", "lookahead", "unbalanced", "backreference"):
    bad = _BAD_REGEXES[name]
    text = edit(SERVICE, "    preset: otel-genai\n", f'    preset: litellm\n    rate_limit_statuses: "{bad}"\n')
    case(f"litellm-rate-limit-{name}", REGEX, text, "rate_limit_statuses:", "", "spec.metrics.rate_limit_statuses")
for name in ("trailing-backslash", "lookahead", "posix-class"):
    bad = _BAD_REGEXES[name]
    text = edit(SERVICE, "    preset: otel-genai\n", f"    preset: otel-genai\n    selector: '{{job=~\"{bad}\"}}'\n")
    case(f"selector-regex-{name}", REGEX, text, "selector:", "", "spec.metrics.selector")

# ---- templates: values Alertmanager or Prometheus would evaluate as Go templates ----
TEMPLATE = "template-injection"
for name, value in {"channel-action": "#ml{{ .CommonLabels.team }}", "channel-comment": "#ml{{/* x */}}",
                    "channel-define": '{{ define "x" }}{{ end }}', "channel-newline": '"#ml\\nBcc: x"'}.items():
    shown = value if value.startswith('"') else f"'{value}'"
    case(f"slack-{name}", TEMPLATE, edit(TEAM, "channel: '#ml'", f"channel: {shown}"), "channel:",
         "the value holds", "spec.receivers.chat.slack.channel", file="specs/team.yaml")
for key, value in {"to": "{{ .GroupLabels.team }}@example.com", "from": "am{{ .Status }}@example.com"}.items():
    old = {"to": "to: oncall@example.com", "from": "from: am@example.com"}[key]
    case(f"email-{key}-template", TEMPLATE, edit(TEAM, old, f"{key}: '{value}'"), f"{key}: '",
         "Alertmanager would evaluate", f"spec.receivers.mail.email.{key}", file="specs/team.yaml")
case("email-to-header-injection", TEMPLATE, edit(TEAM, "to: oncall@example.com", 'to: "a@example.com\\r\\nBcc: x@evil"'),
     "to: \"a@", "line break", "spec.receivers.mail.email.to", file="specs/team.yaml")
case("senior-contact-template", TEMPLATE, edit(TEAM, "    secondary_after: 20m\n",
                                               "    secondary_after: 20m\n    senior_contact: '{{ .Foo }}'\n"),
     "senior_contact", "template", "spec.escalation.senior_contact", file="specs/team.yaml")
for key in ("base_url", "dashboard_url", "prometheus_url"):
    old = {"base_url": "base_url: https://runbooks.example.com",
           "dashboard_url": "dashboard_url: https://grafana.example.com/d/demo",
           "prometheus_url": "prometheus_url: https://prometheus.example.com"}[key]
    case(f"{key}-template", TEMPLATE, edit(SERVICE, old, f"{key}: 'https://x.example.com/{{{{ .Labels }}}}'"),
         f"{key}:", "must not contain", f"spec.runbooks.{key}")
case("status-page-template", TEMPLATE, edit(SERVICE, "status_page: https://status.example.com",
                                           "status_page: 'https://status.example.com/{{ .x }}'"),
     "status_page:", "must not contain", "spec.providers[0].status_page")

# ---- YAML the loader must refuse fast, in bounded memory ----
YAML = "yaml"


def _bomb(levels: int = 9) -> str:
    out = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghijklmnop"[:levels - 1]:
        out += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return out


case("alias-bomb", YAML, _bomb(), "b: &b", "aliases", "b[0]")
case("alias-bomb-deep", YAML, _bomb(15), "b: &b", "aliases", "b[0]")
case("alias-bomb-in-spec", YAML, SERVICE.replace("kind: AIService\n", "kind: AIService\n" + _bomb()), "b: &b", "aliases",
     "b[0]")
case("recursive-alias-mapping", YAML, edit(SERVICE, "metadata:\n  name: demo\n", "metadata: &m\n  name: demo\n  self: *m\n"),
     "self:", "aliases", "metadata.self")
case("recursive-alias-sequence", YAML, edit(SERVICE, "      models: [claude]\n", "      models: &l [claude, *l]\n"),
     "models: &l", "aliases", "spec.providers[0].models[1]")
case("alias-reuse", YAML, edit(edit(SERVICE, "      page_at: 4x\n", "      page_at: &f 4x\n"),
                               "      ticket_at: 1x\n", "      ticket_at: *f\n"),
     "ticket_at: *f", "aliases", "spec.signals.latency.ticket_at")
case("merge-key", YAML, edit(SERVICE, "    latency:\n", "    base: &b {page_at: 4x}\n    latency:\n      <<: *b\n"),
     "<<:", "", None)
for depth in (40, 200, 5000):
    deep = "x: " + "[" * depth + "]" * depth + "\n"
    case(f"nesting-flow-{depth}", YAML, SERVICE + deep, "x: [", "nest")
deep_block = "x:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(60)) + "  " * 61 + "v: 1\n"
case("nesting-block-60", YAML, SERVICE + deep_block, "k32:", "nested deeper than 32")
case("file-over-1mib", YAML, SERVICE + "# " + "x" * (1024 * 1024) + "\n", 1, "over the limit of 1048576 bytes")
case("file-5mib", YAML, SERVICE + ("# " + "y" * 1000 + "\n") * 5200, 1, "over the limit")
case("nul-byte", YAML, SERVICE.encode().replace(b"team: ml-platform", b"team: ml-\x00platform"), b"team: ml-", "NUL byte")
case("nul-byte-first-line", YAML, b"\x00" + SERVICE.encode(), 1, "NUL byte")
case("latin1-byte", YAML, SERVICE.encode().replace(b"models: [claude]", b"models: [caf\xe9]"), b"models: [caf", "not UTF-8")
case("utf16-file", YAML, SERVICE.encode("utf-16"), 1, "not UTF-8")
case("truncated-utf8", YAML, SERVICE.encode() + b"# \xe2\x82\n", b"# \xe2", "not UTF-8")
case("overlong-utf8", YAML, SERVICE.encode().replace(b"suite: golden", b"suite: gold\xc0\xafen"), b"suite: gold", "not UTF-8")
case("surrogate-escape", YAML, edit(SERVICE, "suite: golden", 'suite: "gold\\ud800en"'), "suite:", "invalid YAML")
case("control-character", YAML, SERVICE.encode().replace(b"suite: golden", b"suite: gol\x01den"), b"suite: gol",
     "U+0001")
case("escape-character", YAML, SERVICE.encode().replace(b"team: ml-platform", b"team: ml\x1b[2J"), b"team: ml",
     "U+001B")
case("binary-tag", YAML, edit(SERVICE, "suite: golden", "suite: !!binary aGVsbG8="), "suite:", "unsupported YAML tag")
case("python-tag", YAML, edit(SERVICE, "suite: golden", "suite: !!python/object:os.system ls"), "suite:", "")
case("custom-tag", YAML, edit(SERVICE, "suite: golden", "suite: !evil golden"), "suite:", "")
case("duplicate-key", YAML, edit(SERVICE, "      ticket_at: 1x\n", "      ticket_at: 1x\n      ticket_at: 2x\n"),
     "ticket_at: 2x", "duplicate key", "spec.signals.latency.ticket_at")
case("integer-key", YAML, edit(SERVICE, "      ticket_at: 1x\n", "      ticket_at: 1x\n      1: 2\n"), "      1: 2", "keys must be strings")
case("tab-indent", YAML, edit(SERVICE, "  team: ml-platform\n", "\tteam: ml-platform\n"), "team: ml-platform", "tab")
case("unclosed-flow", YAML, edit(SERVICE, "models: [claude]", "models: [claude"), "status_page", "invalid YAML")

# ---- accepted before, then rejected by promtool or amtool ----
TARGETS = "rejected-by-promtool-or-amtool"
_ZERO = [("provider_down", "window"), ("error_spike", "baseline"), ("eval_regression", "baseline"),
         ("eval_regression", "stale_after"), ("cost_anomaly", "baseline"), ("failover", "remediation_window"),
         ("failover", "hold"), ("rate_limit", "page_after"), ("cache_warming", "after_outage"),
         ("cache_warming", "after_rollout"), ("usage_pattern", "lookback")]
for sig, key in _ZERO:
    case(f"zero-{sig}-{key}", TARGETS, signal_setting(sig, key, "0s"), f"{key}: 0s", "above 0s", f"spec.signals.{sig}.{key}")
for sig, key in [("provider_down", "window"), ("provider_down", "for"), ("error_spike", "baseline"),
                 ("latency", "page_for"), ("eval_regression", "stale_after"), ("cost_anomaly", "for")]:
    case(f"huge-{sig}-{key}", TARGETS, signal_setting(sig, key, "1000y"), f"{key}: 1000y", "at most 1y",
         f"spec.signals.{sig}.{key}")
case("huge-duration-overflow", TARGETS, signal_setting("provider_down", "for", "99999999999999999999y"), "for: 9999",
     "at most 1y", "spec.signals.provider_down.for")
case("slo-window-zero", TARGETS, edit(SERVICE, "    latency_p95: 2560ms\n", "    latency_p95: 2560ms\n    window: 0s\n"),
     "window: 0s", "above 0s", "spec.slo.window")
case("latency-slo-zero", TARGETS, edit(SERVICE, "latency_p95: 2560ms", "latency_p95: 0ms"), "latency_p95:", "above 0s",
     "spec.slo.latency_p95")
for window in ("1s", "15s", "29s"):
    case(f"rate-window-{window}", TARGETS, signal_setting("provider_down", "window", window), f"window: {window}",
         "at least 30s", "spec.signals.provider_down.window")
case("rate-window-vs-slow-scrape", TARGETS,
     edit(signal_setting("provider_down", "window", "2m"), "    preset: otel-genai\n",
          "    preset: otel-genai\n    scrape_interval: 1m30s\n"),
     "window: 2m", "at least 3m", "spec.signals.provider_down.window")
case("scrape-interval-too-slow", TARGETS,
     edit(SERVICE, "    preset: otel-genai\n", "    preset: otel-genai\n    scrape_interval: 5m\n"),
     "scrape_interval", "at most 2m30s", "spec.metrics.scrape_interval")
case("scrape-interval-zero", TARGETS,
     edit(SERVICE, "    preset: otel-genai\n", "    preset: otel-genai\n    scrape_interval: 0s\n"),
     "scrape_interval", "above 0s", "spec.metrics.scrape_interval")
for name, value in {"nan": ".nan", "inf": ".inf", "minus-inf": "-.inf", "overflow": "1.0e+400", "NaN-caps": ".NaN"}.items():
    case(f"min-request-rate-{name}", TARGETS, signal_setting("provider_down", "min_request_rate", value),
         "min_request_rate", "finite number", "spec.signals.provider_down.min_request_rate")
case("factor-nan", TARGETS, edit(SERVICE, "page_at: 4x", "page_at: .nan"), "page_at:", "finite number",
     "spec.signals.latency.page_at")
case("forecast-inf", TARGETS, signal_setting("cost_anomaly", "forecast_daily_usd", ".inf"), "forecast_daily_usd",
     "finite number", "spec.signals.cost_anomaly.forecast_daily_usd")
case("min-cases-huge-int", TARGETS, signal_setting("eval_regression", "min_cases", "1" + "0" * 30), "min_cases",
     "out of range", "spec.signals.eval_regression.min_cases")
case("max-alerts-too-big", TARGETS, edit(TEAM, "url: 'http://remediator.example:8080/alerts'",
                                         "url: 'http://remediator.example:8080/alerts', max_alerts: 4294967296"),
     "max_alerts", "at most 2147483647", "spec.receivers.hook.webhook.max_alerts", file="specs/team.yaml")
for key in ("group_interval", "repeat_interval"):
    old = {"group_interval": "group_interval: 5m", "repeat_interval": "repeat_interval: 1h"}[key]
    case(f"page-timer-{key}-zero", TARGETS, edit(TEAM, old, f"{key}: 0s"), "page_timers", "above 0s",
         f"spec.page_timers.{key}", file="specs/team.yaml")
case("resolve-timeout-zero", TARGETS, edit(ROUTING, "resolve_timeout: 5m", "resolve_timeout: 0s"), "resolve_timeout",
     "above 0s", "spec.resolve_timeout", file="specs/routing.yaml")
case("secondary-after-huge", TARGETS, edit(TEAM, "secondary_after: 20m", "secondary_after: 500y"), "secondary_after",
     "at most 1y", "spec.escalation.secondary_after", file="specs/team.yaml")

# ---- secrets anywhere: URL fields and the SMTP host never carry credentials; messages never echo them ----
SECRETS = "secrets"
_URL_FIELDS = {"base_url": "base_url: https://runbooks.example.com",
               "dashboard_url": "dashboard_url: https://grafana.example.com/d/demo",
               "prometheus_url": "prometheus_url: https://prometheus.example.com"}
_LEAKS = {"userinfo": ("https://admin:hunter2-pw@{host}/x", "hunter2-pw"),
          "api-key-param": ("https://{host}/x?api_key=sk-live-123456", "sk-live-123456"),
          "token-param": ("https://{host}/x?orgId=1&token=tok-abcdef", "tok-abcdef"),
          "password-param": ("https://{host}/x?password=pw-98765", "pw-98765"),
          "aws-signature": ("https://{host}/x?X-Amz-Signature=sig-abcdef0123", "sig-abcdef0123")}
for key, old in _URL_FIELDS.items():
    for name, (url, secret) in _LEAKS.items():
        if key != "dashboard_url" and name not in ("userinfo", "api-key-param"):
            continue  # base URLs take no query at all; two leaks each are enough there
        value = url.format(host="svc.example.com")
        message = "must not carry credentials" if key == "dashboard_url" or name == "userinfo" else ""
        case(f"{key}-{name}", SECRETS, edit(SERVICE, old, f"{key}: '{value}'"), f"{key}:", message,
             f"spec.runbooks.{key}", secret=secret)
for name, (url, secret) in _LEAKS.items():
    value = url.format(host="status.example.com")
    case(f"status-page-{name}", SECRETS, edit(SERVICE, "status_page: https://status.example.com", f"status_page: '{value}'"),
         "status_page:", "must not carry credentials", "spec.providers[0].status_page", secret=secret)
case("postmortem-userinfo", SECRETS, edit(SERVICE, "    prometheus_url: https://prometheus.example.com\n",
                                          "    prometheus_url: https://prometheus.example.com\n    changelog:\n"
                                          "      - {date: '2025-01-02', change: x, postmortem: 'https://u:pm-secret-1@docs.example.com/pm'}\n"),
     "postmortem", "must not carry credentials", "spec.runbooks.changelog[0].postmortem", secret="pm-secret-1")
case("smarthost-userinfo", SECRETS, edit(TEAM, "smarthost: 'smtp.example.com:587'", "smarthost: 'user:smtp-pw-42@smtp.example.com:587'"),
     "smarthost", "without credentials", "spec.receivers.mail.email.smarthost", secret="smtp-pw-42", file="specs/team.yaml")
case("smarthost-url", SECRETS, edit(TEAM, "smarthost: 'smtp.example.com:587'", "smarthost: 'smtp://smtp.example.com:587'"),
     "smarthost", "host:port", "spec.receivers.mail.email.smarthost", file="specs/team.yaml")
case("smarthost-no-port", SECRETS, edit(TEAM, "smarthost: 'smtp.example.com:587'", "smarthost: 'smtp.example.com'"),
     "smarthost", "host:port", "spec.receivers.mail.email.smarthost", file="specs/team.yaml")
for name, (url, secret) in _LEAKS.items():
    value = url.format(host="hooks.example.com")
    case(f"webhook-{name}", SECRETS, edit(TEAM, "url: 'http://remediator.example:8080/alerts'", f"url: '{value}'"),
         "webhook: {url", "", "spec.receivers.hook.webhook.url", secret=secret, file="specs/team.yaml")
for key, secret in {"routing_key": "pd-inline-key-1", "service_key": "pd-service-key-2", "api_key": "og-key-3",
                    "auth_password": "smtp-inline-4", "token": "tok-inline-5"}.items():
    case(f"inline-{key}", SECRETS, edit(TEAM, "pagerduty: {routing_key_file: /etc/am/pd}",
                                        f"pagerduty: {{routing_key_file: /etc/am/pd, {key}: {secret}}}"),
         "pagerduty:", "inline secrets are not allowed", f"spec.receivers.pd.pagerduty.{key}", secret=secret,
         file="specs/team.yaml")
case("secret-as-receiver-value", SECRETS, edit(TEAM, "pagerduty: {routing_key_file: /etc/am/pd}",
                                               "pagerduty: {routing_key_file: 'R0utingKeyValue-not-a-path'}"),
     "pagerduty:", "not shown", "spec.receivers.pd.pagerduty.routing_key_file", secret="R0utingKeyValue",
     file="specs/team.yaml")
case("secret-as-number", SECRETS, edit(TEAM, "pagerduty: {routing_key_file: /etc/am/pd}",
                                       "pagerduty: {routing_key_file: 98765432123}"),
     "pagerduty:", "not shown", "spec.receivers.pd.pagerduty.routing_key_file", secret="98765432123",
     file="specs/team.yaml")
case("secret-as-integration", SECRETS, edit(TEAM, "pagerduty: {routing_key_file: /etc/am/pd}", "pagerduty: 'pd-key-as-string-9'"),
     "pagerduty:", "not shown", "spec.receivers.pd.pagerduty", secret="pd-key-as-string-9", file="specs/team.yaml")

# ---- errors that point: typos named with a suggestion, limits stated, file-level problems located ----
POINT = "errors-that-point"
for value in ("100%", "0%"):
    case(f"provider-down-success-ratio-{value[:-1]}", POINT, signal_setting("provider_down", "success_ratio_below", value),
         f"success_ratio_below: {value}", "above 0% and below 100%", "spec.signals.provider_down.success_ratio_below")
case("rate-limit-ratio-never-crossed", POINT, signal_setting("rate_limit", "rate_limited_ratio_above", "100%"),
     "rate_limited_ratio_above: 100%", "below 100%: the alert fires above it, so at 100% it never fires",
     "spec.signals.rate_limit.rate_limited_ratio_above")
case("traffic-stopped-ratio-never-crossed", POINT, signal_setting("traffic_stopped", "below", "0%"),
     "below: 0%", "the alert fires below it, so at 0% it never fires", "spec.signals.traffic_stopped.below")
case("top-level-typo", POINT, edit(SERVICE, "metadata:\n", "metdata:\n"), "metdata:", 'did you mean "metadata"?', "metdata")
case("top-level-typo-spec", POINT, edit(SERVICE, "spec:\n", "sepc:\n"), "sepc:", 'did you mean "spec"?', "sepc")
case("apiversion-typo", POINT, edit(SERVICE, "apiVersion:", "apiversion:"), "apiversion:", 'did you mean "apiVersion"?',
     "apiversion")
case("kind-typo", POINT, edit(SERVICE, "kind: AIService", "kind: AIServce"), "kind:", 'did you mean "AIService"?', "kind")
case("signal-typo", POINT, edit(SERVICE, "    latency:\n", "    latncy:\n"), "latncy:", 'did you mean "latency"?',
     "spec.signals.latncy")
case("signal-field-typo", POINT, edit(SERVICE, "ticket_at: 1x", "tickt_at: 1x"), "tickt_at", 'did you mean "ticket_at"?',
     "spec.signals.latency.tickt_at")
case("runbooks-typo", POINT, edit(SERVICE, "    dashboard_url:", "    dashbord_url:"), "dashbord_url",
     'did you mean "dashboard_url"?', "spec.runbooks.dashbord_url")
case("routes-typo", POINT, edit(TEAM, "    primary: pd\n", "    primry: pd\n"), "primry:", 'did you mean "primary"?',
     "spec.routes.primry", file="specs/team.yaml")
case("routes-remediation-typo", POINT, edit(TEAM, "{failover: hook,", "{failovr: hook,"), "remediation:",
     'did you mean "failover"?', "spec.routes.remediation.failovr", file="specs/team.yaml")
case("receiver-kind-typo", POINT, edit(TEAM, "      pagerduty: {", "      pagerdty: {"), "pagerdty",
     'did you mean "pagerduty"?', "spec.receivers.pd.pagerdty", file="specs/team.yaml")
case("routing-typo", POINT, edit(ROUTING, "  fallback: catch\n", "  falback: catch\n"), "falback",
     'did you mean "fallback"?', "spec.falback", file="specs/routing.yaml")
case("team-spec-typo", POINT, edit(TEAM, "  escalation:\n", "  escalaton:\n"), "escalaton", 'did you mean "escalation"?',
     "spec.escalaton", file="specs/team.yaml")
for what, old, new, fld, fname in [
        ("service-name", "  name: demo\n", "  name: " + "d" * 300 + "\n", "metadata.name", "specs/demo.yaml"),
        ("service-name-64", "  name: demo\n", "  name: " + "d" * 64 + "\n", "metadata.name", "specs/demo.yaml"),
        ("team-name", "  team: ml-platform\n", "  team: " + "t" * 100 + "\n", "metadata.team", "specs/demo.yaml"),
        ("provider-name", "    - name: anthropic\n", "    - name: " + "p" * 80 + "\n", "spec.providers[0].name",
         "specs/demo.yaml")]:
    case(f"long-{what}", POINT, edit(SERVICE, old, new), new.strip()[:20], "at most 63 characters", fld, file=fname)
case("long-receiver-name", POINT, edit(TEAM, "    pd:\n", "    " + "r" * 70 + ":\n"), "r" * 70, "at most 63 characters",
     "spec.receivers." + "r" * 70, file="specs/team.yaml")
case("long-oncall-team-name", POINT, edit(TEAM, "  name: ml-platform\n", "  name: " + "m" * 64 + "\n"), "m" * 64,
     "at most 63 characters", "metadata.name", file="specs/team.yaml")
case("long-note-text", POINT, edit(SERVICE, "    prometheus_url: https://prometheus.example.com\n",
                                   "    prometheus_url: https://prometheus.example.com\n    notes:\n"
                                   "      AIProviderDown: {notes: '" + "n" * 5000 + "'}\n"),
     "AIProviderDown", "at most 4096 characters", "spec.runbooks.notes.AIProviderDown.notes")
case("name-with-newline", POINT, edit(SERVICE, "  name: demo\n", '  name: "de\\nmo"\n'), "  name:", "lowercase name",
     "metadata.name")
case("bad-file-name", POINT, SERVICE, 1, "spec file names may hold only", None, file="specs/<b>evil</b>.yaml")

# ---- names that become Kubernetes or Mimir objects, folders and label values ----
OBJECTS = "object-names"
for what, old, new, fld, fname in [
        ("service-trailing-newline", "  name: demo\n", '  name: "demo\\n"\n', "metadata.name", "specs/demo.yaml"),
        ("team-trailing-newline", "  team: ml-platform\n", '  team: "ml-platform\\n"\n', "metadata.team",
         "specs/demo.yaml"),
        ("provider-trailing-newline", "    - name: anthropic\n", '    - name: "anthropic\\n"\n',
         "spec.providers[0].name", "specs/demo.yaml")]:
    case(what, OBJECTS, edit(SERVICE, old, new), new.strip()[:8], "", fld, file=fname)
case("oncall-team-trailing-newline", OBJECTS, edit(TEAM, "  name: ml-platform\n", '  name: "ml-platform\\n"\n'),
     '  name: "ml', "", "metadata.name", file="specs/team.yaml")
case("receiver-trailing-newline", OBJECTS, edit(TEAM, "    primary: pd\n", '    primary: "pd\\n"\n'), 'primary: "pd',
     "", "spec.routes.primary", file="specs/team.yaml")
_DEPLOY = "  deploy: {targets: [%s], %s}\n"
for name, target, setting, fld, message in [
        ("namespace-trailing-newline", "operator", 'namespace: "ml\\n"', "spec.deploy.namespace", "namespace"),
        ("label-value-trailing-newline", "operator", 'labels: {release: "kps\\n"}', "spec.deploy.labels.release", ""),
        ("label-key-name-64", "operator", "labels: {example.com/" + "k" * 64 + ": x}",
         "spec.deploy.labels.example.com/" + "k" * 64, "at most 63"),
        ("label-key-prefix-not-dns", "operator", "labels: {Example_Com/app: x}", "spec.deploy.labels.Example_Com/app",
         "Kubernetes label key"),
        ("label-key-prefix-254", "operator", "labels: {" + ("a" * 60 + ".") * 4 + "abcdefghij/app: x}",
         "spec.deploy.labels." + ("a" * 60 + ".") * 4 + "abcdefghij/app", "DNS subdomain"),
        ("label-overrides-managed-by", "operator", "labels: {app.kubernetes.io/managed-by: helm}",
         "spec.deploy.labels.app.kubernetes.io/managed-by", "set by oncallgen"),
        ("tenant-dotdot", "mimir", "tenant: '..'", "spec.deploy.tenant", "reserved"),
        ("tenant-dot", "mimir", "tenant: '.'", "spec.deploy.tenant", "reserved"),
        ("tenant-mimir-cluster", "mimir", "tenant: __mimir_cluster", "spec.deploy.tenant", "reserved"),
        ("tenant-overrides-file", "mimir", "tenant: runtime-overrides.yaml", "spec.deploy.tenant", "a file oncallgen"),
        ("tenant-trailing-newline", "mimir", 'tenant: "ml\\n"', "spec.deploy.tenant", "tenant")]:
    case(name, OBJECTS, edit(SERVICE, "spec:\n", "spec:\n" + _DEPLOY % (target, setting)), "deploy:", message, fld)
case("service-named-alertmanager-on-mimir", OBJECTS,
     edit(edit(SERVICE, "spec:\n", "spec:\n" + _DEPLOY % ("mimir", "rules_per_group: 20")), "  name: demo\n",
          "  name: alertmanager\n"), "  name: alertmanager", "Alertmanager configuration", "metadata.name")
CASES.append(Case("secret-key-dotdot", OBJECTS,
                 {"specs/demo.yaml": edit(SERVICE, "spec:\n", "spec:\n" + _DEPLOY % ("operator", "labels: {}")),
                  "specs/team.yaml": edit(edit(TEAM, "routing_key_file: /etc/am/pd",
                                               "routing_key_file: /etc/alertmanager/secrets/pd/.."),
                                          "api_url_file: /etc/am/slack", "api_url_file: /etc/alertmanager/secrets/slack")},
                 "pagerduty:", "Kubernetes secret keys", "spec.receivers.pd.pagerduty.routing_key_file",
                 file="specs/team.yaml"))
CASES.append(Case("team-object-is-the-root", OBJECTS,
                  {"specs/demo.yaml": edit(edit(SERVICE, "spec:\n", "spec:\n" + _DEPLOY % ("operator", "namespace: monitoring")),
                                           "  team: ml-platform\n", "  team: oncallgen-root\n"),
                   "specs/team.yaml": edit(TEAM, "  name: ml-platform\n", "  name: oncallgen-root\n")},
                  "  name: oncallgen-root", "the root of the routing tree", "metadata.name", file="specs/team.yaml"))

# ---- windows: no rule reads more than an hour of raw series ----
WINDOWS = "windows"
_TWO_PROVIDERS = edit(SERVICE, "      status_page: https://status.example.com\n",
                      "      status_page: https://status.example.com\n    - name: openai\n      role: secondary\n"
                      "      models: [gpt]\n")
for sig, key, value in [("failover", "window", "1y"), ("failover", "window", "61m"), ("failover", "window", "2h"),
                        ("provider_down", "window", "1d"), ("provider_down", "window", "3601s")]:
    text = edit(_TWO_PROVIDERS, "  signals:\n", f"  signals:\n    {sig}:\n      {key}: {value}\n")
    case(f"{sig}-{key}-{value}", WINDOWS, text, f"{key}: {value}", "at most 1h", f"spec.signals.{sig}.{key}")
case("cache-warming-after-rollout-1w", WINDOWS,
     edit(edit(SERVICE, "    preset: otel-genai\n", "    preset: vllm\n"), "  signals:\n",
          "  signals:\n    cache_warming:\n      after_rollout: 1w\n"),
     "after_rollout: 1w", "at most 1h", "spec.signals.cache_warming.after_rollout")

# ---- invisible and bidirectional characters: shown as escapes; bidi controls refused in any spec text ----
INVISIBLE = "invisible-and-bidi"
# the message shows the escape (written here by hand), so the bad name does not look like the valid one
for name, char, shown in [("zero-width-space", "\u200b", "de\\u200bmo"), ("zero-width-joiner", "\u200d", "de\\u200dmo"),
                          ("bom", "\ufeff", "de\\ufeffmo"), ("rtl-override", "\u202e", "de\\u202emo"),
                          ("soft-hyphen", "\u00ad", "de\\xadmo")]:
    case(f"service-name-{name}", INVISIBLE, edit(SERVICE, "  name: demo\n", f"  name: de{char}mo\n"), "  name: de",
         shown, "metadata.name")
for name, char in {"rlo": "\u202e", "lri": "\u2066", "pdi": "\u2069", "rlm": "\u200f", "alm": "\u061c"}.items():
    notes = (f"    prometheus_url: https://prometheus.example.com\n    notes:\n"
             f"      AIProviderDown: {{notes: 'restart {char}the pool'}}\n")
    case(f"runbook-note-{name}", INVISIBLE, edit(SERVICE, "    prometheus_url: https://prometheus.example.com\n", notes),
         "AIProviderDown", f"U+{ord(char):04X}", "spec.runbooks.notes.AIProviderDown.notes")
case("suite-rlo", INVISIBLE, edit(SERVICE, "suite: golden", "suite: 'gol\u202eden'"), "suite:", "U+202E",
     "spec.signals.eval_regression.suite")
case("slack-channel-lre", INVISIBLE, edit(TEAM, "channel: '#ml'", "channel: '#ml\u202a'"), "channel:", "U+202A",
     "spec.receivers.chat.slack.channel", file="specs/team.yaml")


def _files(c: Case) -> dict:
    files = {p: t for p, t in FILES.items() if p not in c.files}
    files.update(c.files)
    return files


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    write_files(out, {"rules/old.rules.yml": "# Generated by oncallgen earlier\ngroups: []\n",
                      "runbooks/README.md": "<!-- Generated by oncallgen earlier -->\n"})
    return tmp_path


class _Timeout(Exception):
    pass


def _run_bounded(args: list[str], seconds: int = 10):
    """Run the CLI in-process; a run over `seconds` fails the case instead of hanging the suite."""
    def alarm(signum, frame):
        raise _Timeout(f"took longer than {seconds}s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return CliRunner().invoke(main, args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_the_base_specs_generate_cleanly(workdir: Path) -> None:
    write_files(workdir, FILES)
    result = CliRunner().invoke(main, ["generate", "specs", "-o", "out"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stderr == ""
    assert (workdir / "out" / "alertmanager" / "alertmanager.yml").is_file()


@pytest.mark.parametrize("c", CASES, ids=[f"{c.klass}:{c.id}" for c in CASES])
def test_bad_input_is_refused_cleanly(workdir: Path, c: Case) -> None:
    files = _files(c)
    write_files(workdir, files)
    before = tree(workdir)

    result = _run_bounded(["generate", "specs", "-o", "out"])

    assert not isinstance(result.exception, _Timeout), result.exception
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a deliberate exit, not a crash
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr
    m = ERROR.match(lines[0])
    assert m, f"not error: file:line:col: ...: {lines[0]!r}"
    assert m["file"] == c.file, lines[0]
    content = files[c.file]
    expected_line = c.marker if isinstance(c.marker, int) else line_of(content, c.marker)
    assert int(m["line"]) == expected_line, (lines[0], expected_line)
    assert int(m["col"]) >= (1 if expected_line else 0)
    if c.field is not None:
        assert m["rest"].startswith(f"{c.field}: "), lines[0]
    assert c.message in m["rest"], lines[0]
    if c.secret:
        assert c.secret not in result.output, "a rejected secret is echoed"
    assert tree(workdir) == before, "a failed run must leave out/ and everything else byte-identical"


def corpus_sizes() -> dict[str, int]:
    """Cases per class, as docs/reliability.md lists them."""
    sizes: dict[str, int] = {}
    for c in CASES:
        sizes[c.klass] = sizes.get(c.klass, 0) + 1
    return sizes


def test_the_corpus_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 150, len(CASES)
    assert len({(c.klass, c.id) for c in CASES}) == len(CASES)
    assert all(n >= 5 for n in corpus_sizes().values()), corpus_sizes()


def test_the_reliability_doc_lists_the_corpus_by_class() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    table = doc.split("<!-- corpus:start -->\n", 1)[1].split("<!-- corpus:end -->", 1)[0]
    rows = dict(re.findall(r"^\| ([a-z-]+) \| (\d+) \|$", table, re.M))
    assert {k: int(v) for k, v in rows.items()} == corpus_sizes()
    assert f"| **total** | **{len(CASES)}** |" in table

"""Inhibitions, secrets and on-call spec errors. amtool's `routes test` ignores inhibition, so inhibit
rules are evaluated here against Alertmanager's documented semantics."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _matches(matcher: str, labels: dict) -> bool:
    name, op, value = re.fullmatch(r'([a-z_]+)(=~|!~|!=|=)"(.*)"', matcher).groups()
    actual = labels.get(name, "")
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    hit = re.fullmatch(value, actual) is not None
    return hit if op == "=~" else not hit


def muted(rules: list[dict], source: dict, target: dict) -> bool:
    """Does a firing `source` mute `target` under these inhibit rules (Alertmanager semantics)?"""
    for rule in rules:
        if (all(_matches(m, source) for m in rule["source_matchers"])
                and all(_matches(m, target) for m in rule["target_matchers"])
                and all(source.get(l, "") == target.get(l, "") for l in rule["equal"])):
            return True
    return False


@pytest.fixture(scope="module")
def rules(out_dir: Path) -> list[dict]:
    return yaml.safe_load((out_dir / "alertmanager" / "alertmanager.yml").read_text())["inhibit_rules"]


def alert(name: str, severity: str, signal: str, service="support-assistant", **extra) -> dict:
    return {"alertname": name, "severity": severity, "signal": signal, "service": service, "team": "ml-platform",
            **extra}


DOWN = alert("AIProviderDown", "critical", "provider_down", provider="anthropic")


@pytest.mark.parametrize("target, expected", [
    (alert("AILatencyP95High", "critical", "latency"), True),
    (alert("AIErrorRateSpike", "critical", "error_spike"), True),
    (alert("AIErrorRateSpike", "critical", "error_spike", escalation="secondary"), True),
    (alert("AIProviderFailoverIneffective", "critical", "failover"), True),
    (alert("AILatencyP95High", "critical", "latency", service="search-answers"), False),
    (alert("AIProviderFailover", "info", "failover", remediation="failover", provider="anthropic"), False),
    (alert("AICacheWarmingNeeded", "info", "cache_warming", remediation="cache_warming"), False),
    (alert("AICostAnomaly", "critical", "cost_anomaly"), False),
    (alert("AIEvalRegression", "critical", "eval_regression"), False),
])
def test_provider_down_mutes_dependent_pages_of_its_service_only(rules, target, expected) -> None:
    assert muted(rules, DOWN, target) is expected


def test_a_standby_secondary_going_down_mutes_nothing(rules) -> None:
    standby = dict(DOWN, provider="openai")  # support-assistant's secondary
    assert not muted(rules, standby, alert("AILatencyP95High", "critical", "latency"))


def test_a_page_mutes_the_ticket_of_the_same_signal_and_service(rules) -> None:
    page = alert("AILatencyP95High", "critical", "latency")
    assert muted(rules, page, alert("AILatencyP95AboveSLO", "warning", "latency"))
    assert not muted(rules, page, alert("AILatencyP95AboveSLO", "warning", "latency", service="other"))
    assert not muted(rules, page, alert("AICostAboveForecast", "warning", "cost_anomaly"))
    # automation must see what it acts on: a remediation ticket is never muted
    assert not muted(rules, page, alert("AIModelDegraded", "warning", "latency", remediation="model_routing"))


def test_a_growing_spike_mutes_the_steady_spike_of_the_same_tier(rules) -> None:
    growing = alert("AIErrorRateSpikeGrowing", "critical", "error_spike")
    assert muted(rules, growing, alert("AIErrorRateSpike", "critical", "error_spike"))
    assert not muted(rules, growing, alert("AIErrorRateSpike", "critical", "error_spike", escalation="secondary"))


def test_no_inhibit_rule_has_an_empty_equal_or_can_mute_remediation(rules) -> None:
    assert rules
    for rule in rules:
        assert rule["equal"], rule
        target_names = [m for m in rule["target_matchers"] if m.startswith("alertname=")]
        assert 'remediation=""' in rule["target_matchers"] or target_names, rule


SECRET_VALUES = ["s3cr3t-routing-key-value", "xoxb-inline-slack-token", "hunter2-smtp"]


def _team(receivers: str, routes: str = "", escalation: str = "") -> str:
    """An OnCallTeam spec; `receivers` and `routes` are YAML lines, `escalation` other spec-level keys."""
    return (
        "apiVersion: oncallgen/v1\n"
        "kind: OnCallTeam\n"
        "metadata:\n"
        "  name: ml-platform\n"
        "spec:\n"
        "  receivers:\n"
        + textwrap.indent(receivers, "    ") + "\n"
        "  routes:\n"
        "    primary: pd\n"
        "    secondary: pd\n"
        "    ticket: pd\n"
        + (textwrap.indent(routes, "    ") + "\n" if routes else "\n")
        + (textwrap.indent(escalation, "  ") + "\n" if escalation else "\n")
    )


ROUTING = """\
apiVersion: oncallgen/v1
kind: AlertRouting
metadata: {name: root}
spec:
  receivers:
    catch: {webhook: {url: "http://catch.example:9000/"}}
  fallback: catch
  heartbeat: catch
"""

SERVICE = """\
apiVersion: oncallgen/v1
kind: AIService
metadata: {name: chat, team: ml-platform}
spec:
  providers:
    - {name: anthropic, models: [claude]}
  signals:
    rate_limit: {enabled: false}
    model_routing: {enabled: false}
    cache_warming: {enabled: false}
"""


def run(tmp_path: Path, team: str, service: str = SERVICE):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "chat.yaml").write_text(service)
    (specs / "team.yaml").write_text(team)
    (specs / "routing.yaml").write_text(ROUTING)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("# Generated by oncallgen earlier: replaced only by a run that succeeds\n")
    result = CliRunner().invoke(main, ["generate", str(specs), "-o", str(out)])
    return result, out


@pytest.mark.parametrize("team, line, field, message", [
    (_team("pd: {pagerduty: {routing_key: s3cr3t-routing-key-value}}"), 7, "spec.receivers.pd.pagerduty.routing_key",
     "inline secrets are not allowed: use routing_key_file"),
    (_team("pd: {pagerduty: {routing_key_file: /s}}", routes="info: nowhere"), 12, "spec.routes.info",
     'unknown receiver "nowhere"'),
    (_team("pd: {pagerduty: {routing_key_file: /s}}", escalation="escalation: {secondary_after: -5m}"), 13,
     "spec.escalation.secondary_after", "cannot be negative"),
    (_team("pd: {slack: {api_url: https://hooks.example/xoxb-inline-slack-token, channel: '#x'}}"), 7,
     "spec.receivers.pd.slack.api_url", "use api_url_file"),
    (_team("pd: {pagerduty: {routing_key_file: /s}}",
           escalation="business_hours: {location: Europe/Berlinn}"), 13, "spec.business_hours.location",
     'unknown time zone "Europe/Berlinn"'),
    (_team("pd: {pagerduty: {routing_key_file: /s}}",
           escalation="business_hours: {location: Europe/Berlin, weekdays: ['mon:fri']}"), 13,
     "spec.business_hours.weekdays[0]", 'expected a weekday or range like "monday:friday", got "mon:fri"'),
    (_team("pd: {pagerduty: {routing_key_file: /s}}",
           escalation="business_hours: {location: Europe/Berlin, start: '18:00', end: '08:00'}"), 13,
     "spec.business_hours.end", "expected an end after the start"),
    (_team("pd: {pagerduty: {routing_key_file: /s}}",
           escalation="page_timers: {group_interval: 5m, repeat_interval: 10s}"), 13,
     "spec.page_timers.repeat_interval", "expected at least group_interval"),
    (_team("pd: {pagerduty: {routing_key_file: /s}}\nhook: {webhook: {url: 'https://hooks.example/x?token=abc'}}"), 8,
     "spec.receivers.hook.webhook.url", "URLs must not carry credentials"),
    (_team("pd: {pagerduty: {routing_key_file: /s}}\nhook: {webhook: {url: 'http://fix.example/', send_resolved: false}}",
           routes="remediation: {failover: hook}"), 8,
     "spec.receivers.hook.webhook.send_resolved", "must get resolved notifications"),
])
def test_oncall_spec_errors(tmp_path: Path, team: str, line: int, field: str, message: str) -> None:
    result, out = run(tmp_path, team)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert re.match(rf"error: \S+team\.yaml:{line}:\d+: {re.escape(field)}: .*{re.escape(message)}", lines[0]), lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    for value in SECRET_VALUES:
        assert value not in result.output


def test_remediation_action_without_endpoint_is_an_error(tmp_path: Path) -> None:
    service = SERVICE.replace("    rate_limit: {enabled: false}\n", "")
    result, out = run(tmp_path, _team("pd: {pagerduty: {routing_key_file: /s}}"), service)
    assert result.exit_code == 1
    assert re.match(r"error: \S+chat\.yaml:\d+:\d+: spec\.signals\.rate_limit: remediation \"rate_limit\" has no "
                    r"endpoint", result.stderr), result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_a_valid_team_generates(tmp_path: Path) -> None:
    result, out = run(tmp_path, _team("pd: {pagerduty: {routing_key_file: /etc/am/pd}}"))
    assert result.exit_code == 0, result.output
    assert (out / "alertmanager" / "alertmanager.yml").exists()


def test_no_secret_value_anywhere_in_output_or_repo() -> None:
    """Receivers name secret files; no key, token or password value is ever written (Mimir's configuration holds
    a `${SECRET_...}` placeholder, filled at deploy time, and nothing else)."""
    secret_like = re.compile(r"(?<![\w])(routing_key|service_key|api_key|api_url|auth_password|token|password)\s*:\s+"
                             r"(?!\$\{SECRET_[A-Z0-9_]+\}$)\S", re.IGNORECASE)
    checked = 0
    for path in list((ROOT / "output").rglob("*")) + list((ROOT / "specs").rglob("*")):
        if path.is_file():
            checked += 1
            for line in path.read_text().splitlines():
                assert not secret_like.search(line), f"{path}: {line}"
                assert not re.search(r"https?://[^/\s:@]+:[^/\s@]+@", line), f"{path}: credentials in URL: {line}"
                assert not re.search(r"[?&](token|api_?key|apikey|secret|password|passwd|pwd|auth|signature|"
                                     r"x-amz-signature|access_token|sig)=", line, re.IGNORECASE), \
                    f"{path}: credential-like query parameter: {line}"
    every_file = [p for p in (ROOT / "output").rglob("*") if p.is_file()] + [p for p in (ROOT / "specs").rglob("*")
                                                                              if p.is_file()]
    assert checked == len(every_file) > 50  # every file, runbooks and tests included
    config = yaml.safe_load((ROOT / "output" / "alertmanager" / "alertmanager.yml").read_text())
    files = [v for r in config["receivers"] for kind, items in r.items() if kind.endswith("_configs")
             for item in items for k, v in item.items() if k.endswith("_file")]
    assert files and all(f.startswith("/etc/alertmanager/secrets/") for f in files)

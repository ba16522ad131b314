"""What a person receives: the alerts promtool shows firing in a paging scenario, inhibited and routed as
Alertmanager would, counted per receiver.

promtool prints the alerts it got when they differ from the expected ones, so each scenario expects none and reads
what fired from the failure. Inhibition is evaluated with Alertmanager's semantics (tests/test_alertmanager.py:
source and target matchers, `equal` labels, an alert never inhibits itself); routing is the real amtool's.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from generator import promtool
from generator.rules import EvalRun, Phase, Stream
from generator.synth import call_series, eval_series
from generator.tools import run

from .test_alertmanager import muted

SERVICE = "support-assistant"
DAY = 1440
_LABELS = re.compile(r"Labels:\{(.*)\}")
_PAIR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def firing(service, out_dir: Path, tmp: Path, streams: list[Stream], runs: list[EvalRun], minute: int) -> list[dict]:
    """The alerts promtool shows firing at `minute`, every rule file of the service loaded."""
    rule_files = sorted(p.name for p in (out_dir / "rules").glob(f"{service.name}.*.rules.yml"))
    groups, names = [], set()
    for name in rule_files:
        for g in yaml.safe_load((out_dir / "rules" / name).read_text())["groups"]:
            groups.append(g["name"])
            names |= {r["alert"] for r in g["rules"] if "alert" in r}
    order = [g for g in groups if g.endswith("-sli")] + [g for g in groups if not g.endswith("-sli")]
    shutil.copytree(out_dir / "rules", tmp / "rules")
    test = {
        "rule_files": [f"rules/{f}" for f in rule_files],
        "evaluation_interval": "5m",
        "group_eval_order": order,
        "tests": [{
            "name": "what fires",
            "interval": "1m",
            "input_series": [{"series": s.series, "values": s.values}
                             for s in [*(x for st in streams for x in call_series(service, st)),
                                       *(x for r in runs for x in eval_series(service, r))]],
            "alert_rule_test": [{"eval_time": f"{minute}m", "alertname": n, "exp_alerts": []} for n in sorted(names)],
        }],
    }
    path = tmp / "what-fires.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=1 << 20))
    out = promtool.test_rules(path).output
    return [dict(_PAIR.findall(labels)) for labels in _LABELS.findall(out)]


def received(out_dir: Path, alerts: list[dict]) -> dict[str, set[str]]:
    """Receiver -> the alert names it is notified of, after inhibition and routing."""
    config = out_dir / "alertmanager" / "alertmanager.yml"
    inhibit = yaml.safe_load(config.read_text())["inhibit_rules"]
    kept = [a for a in alerts if not any(s is not a and s != a and muted(inhibit, s, a) for s in alerts)]
    out: dict[str, set[str]] = {}
    for a in kept:
        r = run("amtool", "prometheus-alertmanager",
                ["config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in sorted(a.items()))])
        assert r.ok, r.output
        # amtool prints the receivers on its first line (a warning about --alertmanager.url may follow).
        for receiver in r.output.strip().splitlines()[0].split(","):
            out.setdefault(receiver.strip(), set()).add(a["alertname"])
    return out


@pytest.fixture(scope="module")
def outage(compiled, out_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], dict[str, set[str]]]:
    """A day and two hours of healthy traffic, then the primary provider fails every call for 40 minutes; what
    fires 15 minutes into the outage."""
    start = DAY + 120
    streams = [Stream("anthropic", "claude-sonnet-4-5", (Phase(start, ok=600), Phase(40, errors=600, provider_errors=600))),
               Stream("openai", "gpt-5", (Phase(start + 40, ok=60),))]
    # The eval suite keeps reporting healthy results, as it would.
    runs = [EvalRun("prod-golden", "claude-sonnet-4-5", ((start + 40, 190, 10, True),))]
    service = next(s for s in compiled.services if s.name == SERVICE)
    alerts = firing(service, out_dir, tmp_path_factory.mktemp("outage"), streams, runs, start + 15)
    return alerts, received(out_dir, alerts)


@pytest.mark.proof
def test_a_provider_outage_fires_its_page_and_the_remediation_signals(outage) -> None:
    alerts, _ = outage
    names = {a["alertname"] for a in alerts}
    assert {"AIProviderDown", "AIProviderFailover"} <= names, names


@pytest.mark.proof
def test_one_provider_outage_pages_once(outage) -> None:
    """Read from specs/support-assistant.yaml and specs/oncall/: the page goes to the primary on-call, the failover
    signal to the remediation webhook (and, as information, to Slack); the dependent pages (latency, error spike,
    failover ineffective, model degraded) are held back, so nobody else is notified."""
    _, by_receiver = outage
    assert by_receiver == {
        "ml-platform/pagerduty-primary": {"AIProviderDown"},
        "ml-platform/remediator": {"AIProviderFailover"},
        "ml-platform/slack-info": {"AIProviderFailover"},
    }

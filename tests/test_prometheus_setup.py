"""Prometheus loads every generated rule file with one `rule_files` entry, and the generated flags keep every
alert's `for` state across a restart. Checked with the real promtool; expected flag values written by hand from the
spec's durations below."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from generator.pipeline import build
from generator.targets.files import write_tree

SPEC = """\
apiVersion: oncallgen/v1
kind: AIService
metadata: {name: chat, team: ml}
spec:
  providers:
    - {name: anthropic, role: primary, models: [m1]}
    - {name: openai, role: secondary, models: [m2]}
  slo: {latency_p95: 2560ms}
  signals:
    latency: {page_at: 4x, ticket_at: 1x}
    provider_down: {for: 45s}
    failover: {for: 2m, remediation_window: 5m}
    rate_limit: {for: 3m, page_after: 50m}
---
apiVersion: oncallgen/v1
kind: OnCallTeam
metadata: {name: ml}
spec:
  receivers:
    pager: {webhook: {url: "http://pager.example/hook"}}
    auto: {webhook: {url: "http://automation.example/hook"}}
  routes:
    primary: pager
    secondary: pager
    ticket: pager
    remediation: {failover: auto, rate_limit: auto, cache_warming: auto, model_routing: auto}
  escalation: {secondary_after: 25m}
---
apiVersion: oncallgen/v1
kind: AlertRouting
metadata: {name: root}
spec:
  receivers:
    catchall: {webhook: {url: "http://catchall.example/hook"}}
  fallback: catchall
  heartbeat: catchall
"""


def _generate(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "chat.yaml").write_text(SPEC)
    out = tmp_path / "output"
    write_tree(out, build([tmp_path / "specs"]).files)
    return out


@pytest.mark.proof
def test_one_rule_files_entry_loads_every_generated_rule_file(out_dir: Path) -> None:
    """`promtool check config` on the generated fragment follows its one glob to every rule file, and they pass."""
    config = out_dir / "prometheus" / "prometheus.yml"
    assert yaml.safe_load(config.read_text()) == {"rule_files": ["../rules/*.rules.yml"]}
    run = subprocess.run(["promtool", "check", "config", str(config)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    checked = set(re.findall(r"Checking (\S+\.rules\.yml)", run.stdout + run.stderr))
    on_disk = {str(p) for p in (out_dir / "rules").iterdir()}
    assert len(on_disk) > 30 and {str(Path(p).resolve()) for p in checked} == {str(Path(p).resolve()) for p in on_disk}


def test_rule_files_live_in_one_folder() -> None:
    """Prometheus and Thanos accept a wildcard only in the last path element: no rule file may sit deeper."""
    from generator import conventions as c
    assert c.RULES_GLOB == "rules/*.rules.yml"
    assert c.rules_path("chat", "latency") == "rules/chat.latency.rules.yml"


def test_flags_follow_the_specs_durations(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    flags = [line for line in (out / "prometheus" / "flags.txt").read_text().splitlines() if not line.startswith("#")]
    # Shortest `for`: provider_down's 45s. Longest: the secondary tier of
    # AIRateLimitSustained: 50m + 25m = 75m, above the 1h default tolerance.
    assert flags == ["--rules.alert.for-grace-period=45s", "--rules.alert.for-outage-tolerance=1h15m"]


@pytest.mark.proof
def test_prometheus_accepts_the_flags(tmp_path: Path) -> None:
    """The flags parse: `prometheus --help` would not tell, so ask the real binary to check them and exit."""
    out = _generate(tmp_path)
    flags = [line for line in (out / "prometheus" / "flags.txt").read_text().splitlines() if not line.startswith("#")]
    # An unknown flag or a bad duration makes Prometheus exit at once with "Error parsing commandline arguments";
    # good flags get it as far as loading the (missing) configuration.
    def run(extra: list[str]) -> str:
        return subprocess.run(["prometheus", *extra, "--config.file=/nonexistent/prometheus.yml",
                               f"--storage.tsdb.path={tmp_path / 'tsdb'}", "--web.listen-address=127.0.0.1:0"],
                              capture_output=True, text=True, timeout=60).stderr

    assert "Error parsing commandline arguments" in run(["--rules.alert.for-grace-period=soon"])  # the check can fail
    stderr = run(flags)
    assert "Error parsing commandline arguments" not in stderr, stderr
    assert "Error loading config" in stderr, stderr

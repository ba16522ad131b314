"""Shared spec text for the bad-input corpus, the hostile-value tests and the property tests.

A service, a team and a routing root that generate cleanly together; cases edit one value each. Every
expected line is found in the edited text itself (the line holding a marker the case names), never asked
of the code under test.
"""
from __future__ import annotations

import os
from pathlib import Path

SERVICE = """\
apiVersion: oncallgen/v1
kind: AIService
metadata:
  name: demo
  team: ml-platform
spec:
  metrics:
    preset: otel-genai
  providers:
    - name: anthropic
      role: primary
      models: [claude]
      status_page: https://status.example.com
  slo:
    latency_p95: 2560ms
  signals:
    latency:
      page_at: 4x
      ticket_at: 1x
    eval_regression:
      suite: golden
  runbooks:
    base_url: https://runbooks.example.com
    dashboard_url: https://grafana.example.com/d/demo
    prometheus_url: https://prometheus.example.com
"""

CUSTOM_METRICS = """\
    preset: custom
    requests: llm_requests_total
    errors: llm_errors_total
    latency_buckets: llm_duration_seconds_bucket
    provider_label: vendor
    model_label: llm
"""

TEAM = """\
apiVersion: oncallgen/v1
kind: OnCallTeam
metadata:
  name: ml-platform
spec:
  receivers:
    pd:
      pagerduty: {routing_key_file: /etc/am/pd}
    chat:
      slack: {api_url_file: /etc/am/slack, channel: '#ml'}
    mail:
      email: {to: oncall@example.com, from: am@example.com, smarthost: 'smtp.example.com:587'}
    hook:
      webhook: {url: 'http://remediator.example:8080/alerts'}
  routes:
    primary: pd
    secondary: chat
    ticket: mail
    remediation: {failover: hook, rate_limit: hook, cache_warming: hook, model_routing: hook}
  escalation:
    secondary_after: 20m
  page_timers: {group_wait: 30s, group_interval: 5m, repeat_interval: 1h}
"""

ROUTING = """\
apiVersion: oncallgen/v1
kind: AlertRouting
metadata: {name: root}
spec:
  receivers:
    catch: {webhook: {url: 'http://catch.example:9000/'}}
  fallback: catch
  heartbeat: catch
  resolve_timeout: 5m
"""

FILES = {"specs/demo.yaml": SERVICE, "specs/team.yaml": TEAM, "specs/routing.yaml": ROUTING}


def edit(text: str, old: str, new: str) -> str:
    """Replace `old`, which must occur exactly once, so a case never silently tests the valid spec."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def signal_setting(signal: str, key: str, value: str) -> str:
    """The service with `spec.signals.<signal>.<key>: value` set (the signal block added after `signals:`)."""
    if signal in ("latency", "eval_regression"):
        anchor = {"latency": "    latency:\n", "eval_regression": "    eval_regression:\n"}[signal]
        return edit(SERVICE, anchor, f"{anchor}      {key}: {value}\n")
    return edit(SERVICE, "  signals:\n", f"  signals:\n    {signal}:\n      {key}: {value}\n")


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def line_of(text: str | bytes, marker: str | bytes) -> int:
    """1-based line of the first occurrence of `marker` (which must occur once)."""
    assert text.count(marker) == 1, f"{marker!r} occurs {text.count(marker)} times"
    index = text.index(marker)
    return text[:index].count(b"\n" if isinstance(text, bytes) else "\n") + 1


def tree(root: Path) -> dict[str, tuple]:
    """Everything under `root` a run could change: bytes and mtimes of files, the set of folders."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix() + "/"] = ("<dir>", p.stat().st_ino)
        for name in filenames:
            p = Path(dirpath) / name
            st = p.stat()
            out[p.relative_to(root).as_posix()] = (p.read_bytes(), st.st_mtime_ns)
    return out

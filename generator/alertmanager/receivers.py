"""Receivers: the spec's integrations in Alertmanager's shape. Secrets are only ever file paths."""
from __future__ import annotations

from ..spec.model import Receiver

SLACK_TITLE = '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})'
SLACK_TEXT = ('{{ range .Alerts }}{{ .Annotations.summary }} {{ .Annotations.description }}\n'
              'Runbook: {{ .Annotations.runbook_url }}\n{{ end }}')
OPSGENIE_PRIORITY = '{{ if eq .CommonLabels.severity "critical" }}P1{{ else }}P3{{ end }}'


def full_name(owner: str, receiver: str) -> str:
    """Receiver names are namespaced by their owner (team or routing root): `ml-platform/pagerduty`."""
    return f"{owner}/{receiver}"


def render(owner: str, receiver: Receiver) -> dict:
    """One entry of Alertmanager's `receivers`."""
    out: dict = {"name": full_name(owner, receiver.name)}
    for kind in sorted(receiver.integrations):
        cfg = dict(receiver.integrations[kind])
        if kind == "pagerduty":
            out["pagerduty_configs"] = [{"routing_key_file": cfg["routing_key_file"],
                                         "send_resolved": cfg["send_resolved"],
                                         "description": "{{ .CommonAnnotations.summary }}",
                                         "links": [{"href": "{{ .CommonAnnotations.runbook_url }}", "text": "Runbook"}]}]
        elif kind == "slack":
            out["slack_configs"] = [{"api_url_file": cfg["api_url_file"], "channel": cfg["channel"],
                                     "send_resolved": cfg["send_resolved"], "title": SLACK_TITLE, "text": SLACK_TEXT}]
        elif kind == "webhook":
            out["webhook_configs"] = [{"url": cfg["url"], "send_resolved": cfg["send_resolved"],
                                       "max_alerts": cfg["max_alerts"]}]
        elif kind == "email":
            email = {k: cfg[k] for k in ("to", "from", "smarthost", "auth_username", "auth_password_file") if k in cfg}
            email["send_resolved"] = cfg["send_resolved"]
            out["email_configs"] = [email]
        elif kind == "opsgenie":
            out["opsgenie_configs"] = [{"api_key_file": cfg["api_key_file"], "send_resolved": cfg["send_resolved"],
                                        "priority": OPSGENIE_PRIORITY, "message": "{{ .CommonAnnotations.summary }}"}]
    return out

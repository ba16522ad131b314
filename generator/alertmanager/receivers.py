"""Receivers: the spec's integrations in Alertmanager's shape. Secrets are only ever file paths."""
from __future__ import annotations

from .. import conventions as c
from ..spec.model import Receiver, Specs, Team

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


def expected_receivers(team: Team, labels: dict) -> tuple[str, ...]:
    """Where the spec says an alert with `labels` goes, read from the team's roles (not from the tree)."""
    out = []
    action = labels.get(c.REMEDIATION)
    if action:
        out.append(full_name(team.name, team.remediation[action]))
    severity = labels.get(c.SEVERITY)
    if severity == c.PAGE:
        tier = labels.get(c.ESCALATION) == c.SECONDARY
        out.append(full_name(team.name, team.secondary if tier else team.primary))
    elif severity == c.INFO:
        out.append(full_name(team.name, team.info))
    else:
        out.append(full_name(team.name, team.ticket))
    return tuple(out)


def expected_pipeline_receivers(specs: Specs, labels: dict) -> tuple[str, ...]:
    """Where a pipeline alert goes: the root's pipeline receiver, then the owning team's route for its severity."""
    root = specs.routing
    if root is None:
        return ()
    out = (full_name(root.name, root.pipeline.receiver),)
    if root.pipeline.team:
        out += expected_receivers(specs.teams[root.pipeline.team], labels)
    return out

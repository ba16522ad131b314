"""Schemas of the on-call kinds: `OnCallTeam` (receivers, roles, escalation per team) and `AlertRouting`
(the root and heartbeat receivers shared by all teams).

Secrets are only ever named by file: every integration takes `*_file` fields, and the inline forms
(`routing_key`, `api_url`, `api_key`, `auth_password`, `service_key`) are rejected with their own message.
"""
from __future__ import annotations

import copy

from .schema import NAME_MAX, unit

_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"

# Inline secret fields Alertmanager would accept, and the file field to use instead.
INLINE_SECRETS = {
    "routing_key": "routing_key_file", "service_key": "service_key_file", "api_url": "api_url_file",
    "api_key": "api_key_file", "auth_password": "auth_password_file", "auth_secret": "auth_password_file",
    "password": "auth_password_file", "token": "a *_file field",
}

_SEND_RESOLVED = {"type": "boolean", "default": True, "description": "Also notify when the alert resolves."}


def _file(what: str) -> dict:
    return {"type": "string", "pattern": r"^/", "x-expected": "an absolute file path",
            "description": f"Path of the file holding the {what}, as mounted in the Alertmanager pod."}


INTEGRATIONS = {
    "pagerduty": {
        "type": "object", "additionalProperties": False, "required": ["routing_key_file"],
        "description": "PagerDuty Events API v2.",
        "properties": {"routing_key_file": _file("PagerDuty integration (routing) key"),
                       "send_resolved": _SEND_RESOLVED},
    },
    "slack": {
        "type": "object", "additionalProperties": False, "required": ["api_url_file", "channel"],
        "description": "A Slack incoming webhook.",
        "properties": {"api_url_file": _file("Slack webhook URL"),
                       "channel": {"type": "string", "description": "Channel, e.g. \"#ml-platform-alerts\"."},
                       "send_resolved": _SEND_RESOLVED},
    },
    "webhook": {
        "type": "object", "additionalProperties": False, "required": ["url"],
        "description": "A generic webhook (remediation automation listens here). The URL must hold no secret.",
        "properties": {"url": {"type": "string", "x-url": "base",
                               "x-expected": "an http(s) URL without credentials or a query string (no secrets)",
                               "description": "Endpoint; credentials or a query string (where tokens hide) are "
                                              "rejected."},
                       "send_resolved": _SEND_RESOLVED,
                       "max_alerts": {"type": "integer", "minimum": 0, "maximum": 2 ** 31 - 1, "default": 0,
                                      "description": "Most alerts per message; 0 sends all."}},
    },
    "email": {
        "type": "object", "additionalProperties": False, "required": ["to", "from", "smarthost"],
        "description": "Email through an SMTP relay.",
        "properties": {"to": {"type": "string", "description": "Recipient address."},
                       "from": {"type": "string", "description": "Sender address."},
                       "smarthost": {"type": "string", "x-hostport": True, "description": "SMTP host:port."},
                       "auth_username": {"type": "string", "description": "SMTP user."},
                       "auth_password_file": _file("SMTP password"),
                       "send_resolved": {"type": "boolean", "default": False,
                                         "description": "Also notify when the alert resolves."}},
    },
    "opsgenie": {
        "type": "object", "additionalProperties": False, "required": ["api_key_file"],
        "description": "Opsgenie alerts API.",
        "properties": {"api_key_file": _file("Opsgenie API key"), "send_resolved": _SEND_RESOLVED},
    },
}

RECEIVER = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "description": "One receiver: one or more integrations that all get the notification.",
    "properties": INTEGRATIONS,
}

_RECEIVERS = {"type": "object", "description": "Receivers by name.", "default": {}, "maxProperties": 64,
              "propertyNames": {"pattern": _NAME, "maxLength": NAME_MAX}, "additionalProperties": RECEIVER}


def _timers(wait: str, interval: str, repeat: str, what: str) -> dict:
    return {
        "type": "object", "additionalProperties": False, "default": {},
        "description": f"Notification timers of {what}.",
        "properties": {"group_wait": unit("duration", "Wait before the first notification of a group.", wait),
                       "group_interval": unit("duration", "Wait before notifying of changes to a group.", interval),
                       "repeat_interval": unit("duration", "Resend while still firing after this long.", repeat)},
    }


ONCALL_TEAM = {
    "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "oncallgen/v1", "description": 'Always "oncallgen/v1".'},
        "kind": {"const": "OnCallTeam", "description": "A team's on-call: receivers, roles and escalation."},
        "metadata": {"type": "object", "additionalProperties": False, "required": ["name"],
                     "description": "The team.",
                     "properties": {"name": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX,
                                             "x-expected": "a lowercase team name like \"ml-platform\"",
                                             "description": "Team name: the `team` of its services."}}},
        "spec": {
            "type": "object", "additionalProperties": False, "required": ["receivers", "routes"],
            "description": "Where the team's alerts go.",
            "properties": {
                "receivers": _RECEIVERS,
                "routes": {
                    "type": "object", "additionalProperties": False, "required": ["primary", "ticket"],
                    "description": "Which receiver plays each role.",
                    "properties": {
                        "primary": {"type": "string", "description": "Pages (severity critical) go here first."},
                        "secondary": {"type": "string", "description": "Pages still firing after "
                                      "escalation.secondary_after go here (needed unless escalation.mode is paging_tool)."},
                        "ticket": {"type": "string", "description": "Non-urgent work (severity warning)."},
                        "info": {"type": "string", "description": "Information to track (severity info). Default: ticket."},
                        "remediation": {
                            "type": "object", "additionalProperties": False, "default": {},
                            "description": "Automation endpoints per remediation action; every action a service of "
                                           "this team uses needs one.",
                            "properties": {},  # one per remediation action of the signal registry: see oncall_team
                        },
                    },
                },
                "escalation": {
                    "type": "object", "additionalProperties": False, "default": {},
                    "description": "How an unanswered page reaches the secondary on-call.",
                    "properties": {
                        "mode": {"enum": ["prometheus", "paging_tool"], "default": "prometheus",
                                 "description": "prometheus: a second alert tier fires secondary_after the page, "
                                                "surviving Alertmanager reloads; paging_tool: the paging tool's own "
                                                "escalation policy escalates, no second tier."},
                        "secondary_after": unit("duration", "Delay before the secondary is paged.", "20m"),
                        "senior_after": unit("duration", "Wake a senior engineer when a page lasts this long.", "1h"),
                        "incident_after": unit("duration", "Declare an incident when a page lasts this long.", "2h"),
                        "senior_contact": {"type": "string", "description": "Who the senior engineer on call is, "
                                                                            "or how to reach them."},
                        "executive_contact": {"type": "string", "description": "Who to page among executives for "
                                                                                "customer-visible incidents."},
                        "incident_channel": {"type": "string", "description": "Where incidents are declared."},
                    },
                },
                "business_hours": {
                    "type": "object", "additionalProperties": False, "required": ["location"],
                    "description": "When tickets may notify; outside these hours they wait (pages never do).",
                    "properties": {
                        "location": {"type": "string", "description": "IANA time zone, e.g. Europe/Berlin."},
                        "weekdays": {"type": "array", "items": {"type": "string"}, "default": ["monday:friday"], "maxItems": 7,
                                     "description": "Alertmanager weekday ranges."},
                        "start": {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "default": "09:00",
                                  "x-expected": "a time like \"09:00\"", "description": "Start of the working day."},
                        "end": {"type": "string", "pattern": r"^([01][0-9]|2[0-4]):[0-5][0-9]$", "default": "18:00",
                                "x-expected": "a time like \"18:00\"", "description": "End of the working day."},
                    },
                },
                "rotation": {
                    "type": "object", "additionalProperties": False, "required": ["start"],
                    "description": "Who is on call when: shifts of `length` that hand off at `handoff` in the team's "
                                   "time zone, from `start`; runbooks name the rotation, reports count per shift.",
                    "properties": {
                        "location": {"type": "string", "maxLength": 64,
                                     "description": "IANA time zone of the handoff. Default: business_hours.location, "
                                                    "else UTC."},
                        "start": {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
                                  "x-expected": "a date like \"2026-01-05\"",
                                  "description": "The date of one handoff (the first shift of `primary`); with a "
                                                 "length in weeks, a `handoff_weekday`."},
                        "handoff_time": {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                         "default": "10:00", "x-expected": "a time like \"10:00\"",
                                         "description": "Local time of each handoff."},
                        "handoff_weekday": {"enum": ["monday", "tuesday", "wednesday", "thursday", "friday",
                                                     "saturday", "sunday"], "default": "monday",
                                            "description": "Weekday of each handoff, for shifts a whole number of "
                                                           "weeks long (`start` must be one)."},
                        "length": unit("duration", "Length of a shift: whole days, 1d to 4w.", "1w"),
                        "primary": {"type": "array", "maxItems": 52, "uniqueItems": True, "default": [],
                                    "items": {"type": "string", "minLength": 1, "maxLength": 64},
                                    "description": "The people on primary, in rotation order (the first has the "
                                                   "shift from `start`). Default: none named."},
                        "secondary": {"type": "array", "maxItems": 52, "uniqueItems": True, "default": [],
                                      "items": {"type": "string", "minLength": 1, "maxLength": 64},
                                      "description": "The people on secondary, in order. Default: the previous "
                                                     "shift's primary backs up the current one."},
                    },
                },
                "page_timers": _timers("30s", "5m", "1h", "pages (repeat below the paging tool's auto-resolve)"),
                "ticket_timers": _timers("5m", "30m", "24h", "tickets"),
                "info_timers": _timers("5m", "1h", "24h", "information"),
                "remediation_timers": _timers("0s", "1m", "10m", "remediation webhooks"),
            },
        },
    },
}

def oncall_team(actions: tuple[str, ...]) -> dict:
    """The OnCallTeam schema with one remediation endpoint per action the signals ask for."""
    schema = copy.deepcopy(ONCALL_TEAM)
    routes = schema["properties"]["spec"]["properties"]["routes"]["properties"]
    routes["remediation"]["properties"] = {a: {"type": "string", "description": f"Receiver of `remediation={a}` alerts."}
                                           for a in actions}
    return schema


ALERT_ROUTING = {
    "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "oncallgen/v1", "description": 'Always "oncallgen/v1".'},
        "kind": {"const": "AlertRouting", "description": "What every team shares: the root and heartbeat receivers."},
        "metadata": {"type": "object", "additionalProperties": False, "required": ["name"], "description": "A name.",
                     "properties": {"name": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX, "description": "Name of this config."}}},
        "spec": {
            "type": "object", "additionalProperties": False, "required": ["receivers", "fallback", "heartbeat"],
            "description": "The root of the routing tree.",
            "properties": {
                "receivers": _RECEIVERS,
                "fallback": {"type": "string", "description": "Receiver of anything no team route matches: "
                                                              "nothing is dropped silently."},
                "heartbeat": {"type": "string", "description": "Receiver of the always-firing Watchdog alert "
                                                               "(a dead-man's switch such as healthchecks.io)."},
                "resolve_timeout": unit("duration", "Alertmanager's resolve_timeout.", "5m"),
                "pipeline": {
                    "type": "object", "additionalProperties": False, "default": {},
                    "description": "Who hears when the alerting pipeline itself fails (Alertmanager cannot notify, "
                                   "rules fail to evaluate, a configuration reload fails).",
                    "properties": {
                        "receiver": {"type": "string", "description": "Root receiver of pipeline alerts. "
                                                                      "Default: the fallback receiver."},
                        "team": {"type": "string", "pattern": _NAME,
                                 "x-expected": "the name of an OnCallTeam like \"platform\"",
                                 "description": "The team that owns the pipeline: its routes page or ticket as for "
                                                "its own alerts, after the root receiver. Default: none."},
                        "alertmanager_selector": {
                            "type": "string", "default": '{job="alertmanager"}',
                            "description": "Label matchers of Alertmanager's own metrics, as Prometheus scrapes them."},
                        "prometheus_selector": {
                            "type": "string", "default": '{job="prometheus"}',
                            "description": "Label matchers of Prometheus' own metrics, as it scrapes itself."},
                    },
                },
            },
        },
    },
}

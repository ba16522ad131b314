"""The JSON Schema (draft 2020-12) of oncallgen specs: the single source of truth for their shape.

It is assembled from this file's skeleton, each preset's options and each signal's fragment, so adding
a signal or preset extends the schema without touching this file. Defaults live here too: the model
builder fills them in from the schema, never from a second copy.
"""
from __future__ import annotations

import copy
from functools import lru_cache

from .units import DURATION_PATTERN, FACTOR_PATTERN, LATENCY_PATTERN, PERCENT_PATTERN, POINTS_PATTERN

API_VERSION = "oncallgen/v1"

UNIT_DEFS = {
    "duration": {"type": "string", "pattern": DURATION_PATTERN, "x-unit": "duration",
                 "description": 'A Prometheus duration such as "30s", "5m", "1h30m".'},
    "latency": {"type": "string", "pattern": LATENCY_PATTERN, "x-unit": "latency",
                "description": 'A duration, or decimal seconds: "2.56s", "800ms", "4s".'},
    "factor": {"oneOf": [{"type": "string", "pattern": FACTOR_PATTERN}, {"type": "number", "exclusiveMinimum": 0}],
               "x-unit": "factor", "description": 'A multiplier such as "3x".'},
    "ratio": {"oneOf": [{"type": "string", "pattern": PERCENT_PATTERN}, {"type": "number", "minimum": 0, "maximum": 1}],
              "x-unit": "ratio", "description": 'A percentage such as "99.5%" (or a ratio between 0 and 1).'},
    "points": {"type": "string", "pattern": POINTS_PATTERN, "x-unit": "points",
               "description": 'Percentage points such as "10pp".'},
}


def unit(kind: str, description: str, default: object = None) -> dict:
    """A schema property of one of the unit kinds, with its description and default."""
    prop: dict = {"$ref": f"#/$defs/{kind}", "description": description}
    if default is not None:
        prop["default"] = default
    return prop


def number(description: str, default: float | None = None, minimum: float = 0) -> dict:
    """A plain non-negative number property."""
    prop: dict = {"type": "number", "minimum": minimum, "description": description}
    if default is not None:
        prop["default"] = default
    return prop


def enabled(auto_when: str) -> dict:
    """The `enabled` switch every signal has; left out, the signal decides from the rest of the spec."""
    return {"type": "boolean", "description": f"Generate this signal's rules. Default: {auto_when}."}


_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
NAME_MAX = 63  # names become file names and Kubernetes names: the DNS label limit keeps them valid everywhere

_KUBERNETES = {
    "type": "object", "additionalProperties": False, "default": {},
    "description": "Where the service runs, for the kubectl commands in its runbooks.",
    "properties": {
        "namespace": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX, "x-expected": "a Kubernetes namespace like \"support\"",
                      "description": "Namespace of the deployment. Default: the team name."},
        "deployment": {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", "maxLength": 253,
                       "x-expected": "a Kubernetes deployment name like \"support-assistant\"",
                       "description": "Deployment that serves the service. Default: the service name."},
    },
}

_NOTE_STEP = {
    # A bare string is a step with nothing to run; a mapping can carry the query or command the step needs.
    "type": ["string", "object"], "additionalProperties": False, "required": ["check"],
    "x-expected": "a step: a string, or a mapping with check, query and command",
    "description": "A step: what to check and what to do, as a string or as {check, query, command}.",
    "properties": {
        "check": {"type": "string", "description": "What to check, and what to do depending on what you see."},
        "query": {"type": "string", "description": "PromQL to run; rendered as a Prometheus graph link."},
        "command": {"type": "string", "description": "A shell command to run (kubectl, amtool, curl)."},
    },
}

_NOTES = {
    "type": "object", "default": {}, "maxProperties": 64,
    "description": "Additions to the runbook of an alert of this service, by alert name (e.g. AIProviderDown). "
                   "Relative links are relative to the runbook page (runbooks/<service>/).",
    "propertyNames": {"pattern": r"^[A-Z][A-Za-z0-9]*$"},
    "additionalProperties": {
        "type": "object", "additionalProperties": False,
        "description": "What this service adds to the runbook of the alert named by the key.",
        "properties": {
            "steps": {"type": "array", "items": _NOTE_STEP, "default": [], "maxItems": 50,
                      "description": "Steps appended to the alert's decision tree."},
            "replace": {"type": "boolean", "default": False,
                        "description": "Replace the built-in decision tree with `steps` instead of appending to it."},
            "notes": {"type": "string", "default": "", "description": "Free text shown on the alert's runbook."},
        },
    },
}

_CHANGELOG = {
    "type": "array", "default": [], "maxItems": 200,
    "description": "What each incident changed in this service's specs and runbooks: the runbook's changelog.",
    "items": {
        "type": "object", "additionalProperties": False, "required": ["date", "change"],
        "properties": {
            "date": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                     "x-expected": "a quoted date like \"2025-03-14\"", "description": "Day of the change, YYYY-MM-DD."},
            "postmortem": {"type": "string", "x-url": "maybe", "description": "Link to (or ID of) the postmortem that led to it."},
            "change": {"type": "string", "description": "What changed, in one line."},
        },
    },
}


def _service_schema(presets: dict, signals: dict) -> dict:
    metrics_props = {
        "preset": {"enum": sorted(presets), "default": "otel-genai",
                   "description": "Where the metrics come from: " + ", ".join(sorted(presets)) + "."},
    }
    from ..presets import COMMON_SCHEMA
    metrics_props.update(copy.deepcopy(COMMON_SCHEMA))
    for name in sorted(presets):
        for key, prop in presets[name].SCHEMA.items():
            prop = copy.deepcopy(prop)
            prop["description"] = f"[{name}] " + prop["description"]
            metrics_props[key] = prop
    signal_props = {}
    for name, signal in signals.items():
        props = {"enabled": enabled(signal.auto_when)}
        props.update(copy.deepcopy(signal.schema))
        signal_props[name] = {"type": "object", "additionalProperties": False, "default": {},
                              "description": signal.description, "properties": props}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION, "description": f'Always "{API_VERSION}".'},
            "kind": {"const": "AIService", "description": "An AI service: its providers, SLOs and signals."},
            "metadata": {
                "type": "object", "additionalProperties": False, "required": ["name", "team"],
                "description": "Who the service is and who owns it.",
                "properties": {
                    "name": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX, "x-expected": "a lowercase name like \"support-assistant\"",
                             "description": "Service name, unique across all specs; the `service` label of every series."},
                    "team": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX, "x-expected": "a lowercase name like \"ml-platform\"",
                             "description": "Owning team; the `team` label, and the key of its on-call routing."},
                    "description": {"type": "string", "description": "What the service does, for runbooks."},
                },
            },
            "spec": {
                "type": "object", "additionalProperties": False, "required": ["providers"],
                "description": "What to watch and how.",
                "properties": {
                    "metrics": {"type": "object", "additionalProperties": False, "default": {},
                                "description": "Where this service's metrics come from.",
                                "properties": metrics_props},
                    "providers": {
                        "type": "array", "minItems": 1, "maxItems": 32,
                        "description": "Model providers the service calls.",
                        "items": {
                            "type": "object", "additionalProperties": False, "required": ["name"],
                            "properties": {
                                "name": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX, "x-expected": "a lowercase provider name like \"anthropic\"",
                                         "description": "Provider name; the `provider` label."},
                                "role": {"enum": ["primary", "secondary", "other"], "default": "other",
                                         "description": "primary: fail over away from it; secondary: fail over to it."},
                                "label_value": {"type": "string", "description": "The provider's value in the source "
                                                "metrics' provider label, when it differs from `name` (e.g. \"gcp.gemini\")."},
                                "models": {"type": "array", "items": {"type": "string"}, "default": [], "maxItems": 64,
                                           "description": "Models served by this provider, for runbooks and tests."},
                                "probe_target": {"type": "string", "description": "The `instance` of this provider's "
                                                 "synthetic probe (needs `spec.metrics.probe`)."},
                                "status_page": {"type": "string", "x-url": "link", "description": "The provider's status page URL."},
                                "sla": unit("ratio", "The provider's availability SLA, for credit claims."),
                            },
                        },
                    },
                    "slo": {
                        "type": "object", "additionalProperties": False, "default": {},
                        "description": "Service level objectives.",
                        "properties": {
                            "latency_p95": unit("latency", "p95 latency objective of one model call (`4s`, `2.56s`, `800ms`)."),
                            "availability": unit("ratio", "Share of calls that must succeed.", "99.5%"),
                            "window": unit("duration", "SLO accounting window.", "30d"),
                        },
                    },
                    "pricing": {
                        "type": "object", "default": {}, "maxProperties": 256,
                        "description": "USD per million tokens per model, used when the metrics have no spend counter.",
                        "additionalProperties": {
                            "type": "object", "additionalProperties": False, "required": ["input", "output"],
                            "properties": {"input": number("USD per million input tokens."),
                                           "output": number("USD per million output tokens.")},
                        },
                    },
                    "signals": {"type": "object", "additionalProperties": False, "default": {},
                                "description": "Per-signal settings; every field has a default.",
                                "properties": signal_props},
                    "runbooks": {
                        "type": "object", "additionalProperties": False, "default": {},
                        "description": "Where runbooks and dashboards live.",
                        "properties": {
                            "base_url": {"type": "string", "default": "", "x-url": "base-or-empty",
                                         "description": "Runbook base URL; `runbook_url` = base_url/<service>/<slug>.md. "
                                                        "Empty: a path relative to the output folder."},
                            "dashboard_url": {"type": "string", "x-url": "link", "description": "Dashboard of this service."},
                            "prometheus_url": {"type": "string", "default": "http://prometheus:9090", "x-url": "base",
                                               "description": "External Prometheus URL for graph links."},
                            "kubernetes": _KUBERNETES,
                            "notes": _NOTES,
                            "changelog": _CHANGELOG,
                        },
                    },
                },
            },
        },
    }


KINDS = ("AIService", "OnCallTeam", "AlertRouting")


@lru_cache(maxsize=None)
def _kind(kind: str) -> dict:
    from ..presets import PRESETS
    from ..signals import SIGNALS
    from .oncall_schema import ALERT_ROUTING, ONCALL_TEAM
    body = {"AIService": lambda: _service_schema(PRESETS, SIGNALS),
            "OnCallTeam": lambda: copy.deepcopy(ONCALL_TEAM),
            "AlertRouting": lambda: copy.deepcopy(ALERT_ROUTING)}[kind]()
    return {"$defs": copy.deepcopy(UNIT_DEFS), **body}


def kind_schema(kind: str) -> dict:
    """The schema of one kind of document, shared (never mutate it)."""
    return _kind(kind)


def spec_schema() -> dict:
    """The full schema of any spec document, for editors: dispatches on `kind`."""
    defs = copy.deepcopy(UNIT_DEFS)
    for kind in KINDS:
        body = copy.deepcopy(_kind(kind))
        body.pop("$defs")
        defs[kind] = body
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "oncallgen/v1/spec.schema.json",
        "title": "oncallgen spec",
        "description": "A declarative spec of an AI workload's on-call signals, or of a team's on-call routing.",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {"kind": {"enum": list(KINDS), "description": "What this document describes."}},
        "allOf": [{"if": {"properties": {"kind": {"const": k}}, "required": ["kind"]}, "then": {"$ref": f"#/$defs/{k}"}}
                  for k in KINDS],
        "$defs": defs,
    }

"""The JSON Schema (draft 2020-12) of oncallgen specs: the single source of truth for their shape.

This module holds the building blocks (units, shared fragments) that presets and signals use for their own
fragments; `documents.py` assembles the schema of each kind of document from them and from the registries.
Defaults live in the schema: the model builder fills them in from it, never from a second copy.
"""
from __future__ import annotations

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


def unit(kind: str, description: str, default: object = None, crossed: str | None = None) -> dict:
    """A schema property of one of the unit kinds, with its description and default; `crossed` ("above" or "below"):
    a ratio the signal fires above or below, strictly between 0% and 100% (validate.normalize)."""
    prop: dict = {"$ref": f"#/$defs/{kind}", "description": description}
    if default is not None:
        prop["default"] = default
    if crossed is not None:
        prop["x-crossed"] = crossed
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
        "proxy_namespace": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX,
                            "x-expected": "a Kubernetes namespace like \"llm-gateway\"",
                            "description": "[litellm] Namespace of the LiteLLM proxy, which holds the provider keys. "
                                           "Default: namespace."},
        "proxy_deployment": {"type": "string", "pattern": r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", "maxLength": 253,
                             "x-expected": "a Kubernetes deployment name like \"litellm\"",
                             "description": "[litellm] Deployment of the LiteLLM proxy: its logs show what providers "
                                            "answer, its configuration holds their keys. Default: litellm."},
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

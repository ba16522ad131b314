"""The JSON Schema (draft 2020-12) of each kind of spec document: the single source of truth for their shape.

Assembled from the skeleton below, each preset's options and each signal's fragment (from their registries), so
adding a signal or preset extends the schema without touching this file.
"""
from __future__ import annotations

import copy
from functools import lru_cache

from ..presets import COMMON_SCHEMA, PRESETS
from ..signals import REMEDIATION_ACTIONS, SIGNALS
from .deploy import DEPLOY
from .oncall_schema import ALERT_ROUTING, oncall_team
from .schema import _CHANGELOG, _KUBERNETES, _NAME, _NOTES, API_VERSION, NAME_MAX, UNIT_DEFS, enabled, unit, number


def _service_schema(presets: dict, signals: dict) -> dict:
    metrics_props = {
        "preset": {"enum": sorted(presets), "default": "otel-genai",
                   "description": "Where the metrics come from: " + ", ".join(sorted(presets)) + "."},
    }
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
                                "name": {"type": "string", "pattern": _NAME, "maxLength": NAME_MAX, "x-expected": "a lowercase provider name like \"anthropic\" (the source's own value, e.g. \"aws.bedrock\", goes in label_value)",
                                         "description": "Provider name; the `provider` label."},
                                "role": {"enum": ["primary", "secondary", "other"], "default": "other",
                                         "description": "primary: fail over away from it; secondary: fail over to it."},
                                "label_value": {"oneOf": [{"type": "string"},
                                                          {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                                           "maxItems": 16}],
                                                "x-expected": "a label value or a list of them",
                                                "description": "The provider's value in the source metrics' provider "
                                                "label, when it differs from `name`; a list when instrumentation "
                                                "versions disagree (e.g. [\"vertex_ai\", \"gcp.vertex_ai\"]). The "
                                                "first is what test series carry."},
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
                            "first_token_p95": unit("latency", "p95 objective of the time to the first streamed "
                                                                "chunk or token (streaming calls; otel-genai and vllm "
                                                                "measure it)."),
                            "availability": unit("ratio", "Share of calls that must succeed.", "99.5%"),
                            "window": unit("duration", "SLO accounting window.", "30d"),
                        },
                    },
                    "pricing": {
                        "type": "object", "default": {}, "maxProperties": 256,
                        "description": "USD per million tokens per model, used when the metrics have no spend counter.",
                        "additionalProperties": {
                            "type": "object", "additionalProperties": False, "required": ["input", "output"],
                            "description": "The prices of the model named by the key, as the metrics label it.",
                            "properties": {
                                "input": number("USD per million input tokens."),
                                "output": number("USD per million output tokens (reasoning tokens are among them)."),
                                "cache_read": number("USD per million input tokens read from the provider's cache "
                                                     "(otel-genai 2026 names count them). Default: the input price."),
                                "cache_write": number("USD per million input tokens written to the provider's cache "
                                                      "(otel-genai 2026 names count them). Default: the input price."),
                                "modalities": {"type": "array", "default": ["text"], "minItems": 1, "maxItems": 8,
                                               "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$",
                                                         "x-expected": "a modality like \"text\" or \"image\""},
                                               "description": "Token modalities (`gen_ai_token_modality`: text, "
                                                              "image, audio, video) charged at these prices; tokens of "
                                                              "other modalities are not counted. Token series without "
                                                              "a modality (the legacy names) are text."},
                            },
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
                            "dashboard_url": {"type": "string", "x-url": "link",
                                              "description": "Dashboard of this service. Default: the generated "
                                                             "dashboard in `grafana_url`'s Grafana, when given."},
                            "grafana_url": {"type": "string", "x-url": "base",
                                            "description": "External URL of the Grafana that imports the generated "
                                                           "dashboards (`dashboards/*.json`, or the operator "
                                                           "target's ConfigMaps): `dashboard_url` then defaults to "
                                                           "`<grafana_url>/d/<the service dashboard's uid>`."},
                            "prometheus_url": {"type": "string", "default": "http://prometheus:9090", "x-url": "base",
                                               "description": "External Prometheus URL for graph links."},
                            "kubernetes": _KUBERNETES,
                            "notes": _NOTES,
                            "changelog": _CHANGELOG,
                        },
                    },
                    "deploy": DEPLOY,
                },
            },
        },
    }


KINDS = ("AIService", "OnCallTeam", "AlertRouting")


@lru_cache(maxsize=None)
def _kind(kind: str) -> dict:
    body = {"AIService": lambda: _service_schema(PRESETS, SIGNALS),
            "OnCallTeam": lambda: oncall_team(REMEDIATION_ACTIONS),
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

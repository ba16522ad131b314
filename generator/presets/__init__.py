"""The metric presets, by the name a spec uses in `spec.metrics.preset`.

Adding a preset: one module with NAME, SCHEMA (its options) and `source(service, metrics)`, and one line here.
"""
from __future__ import annotations

from types import ModuleType

from . import custom, litellm, otel_genai, vllm
from .common import SCHEMA as COMMON_SCHEMA
from .source import MetricSource

PRESETS: dict[str, ModuleType] = {
    otel_genai.NAME: otel_genai,
    litellm.NAME: litellm,
    custom.NAME: custom,
    vllm.NAME: vllm,
}

__all__ = ["PRESETS", "COMMON_SCHEMA", "MetricSource"]

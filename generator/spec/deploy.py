"""`spec.deploy` of an AIService: which targets besides plain rule files package its rules, and their settings.

Targets are also chosen per run (`generate --target`); a spec names the ones its service needs in every run.
"""
from __future__ import annotations

_K8S_NAME = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"

# Targets a spec may ask for; `prometheus` (plain rule files) is always written, the promtool tests load it.
PLAIN = "prometheus"
EXTRA_TARGETS = OPERATOR, MIMIR, THANOS = ("operator", "mimir", "thanos")

DEPLOY = {
    "type": "object", "additionalProperties": False, "default": {},
    "description": "Where the rules run besides plain Prometheus: prometheus-operator, Grafana Mimir, Thanos Ruler.",
    "properties": {
        "targets": {"type": "array", "items": {"enum": list(EXTRA_TARGETS)}, "uniqueItems": True, "default": [],
                    "description": "Targets to package this service's rules for, in every run: operator "
                                   "(PrometheusRule, and an AlertmanagerConfig for its team), mimir (a ruler "
                                   "namespace file), thanos (rule files with partial_response_strategy)."},
        "namespace": {"type": "string", "pattern": _K8S_NAME, "maxLength": 63, "x-expected": "a Kubernetes namespace like \"ml-platform\"",
                      "description": "[operator] Namespace of the PrometheusRule and of the team's "
                                     "AlertmanagerConfig. Default: the team name."},
        # Kubernetes' rules for label keys (an optional DNS prefix, a name of 63 at most) and values (63 at most).
        "labels": {"type": "object", "default": {}, "maxProperties": 32,
                   "propertyNames": {"pattern": r"^([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
                                     "maxLength": 317, "x-expected": "a Kubernetes label key like \"app.kubernetes.io/part-of\""},
                   "additionalProperties": {"type": "string", "maxLength": 63,
                                            "pattern": r"^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$"},
                   "description": "[operator] Labels of the generated objects, for the operator's ruleSelector "
                                  "and alertmanagerConfigSelector (e.g. {release: kube-prometheus-stack})."},
        "tenant": {"type": "string", "pattern": r"^[A-Za-z0-9!._*'()-]+$", "maxLength": 150,
                   "x-expected": "a Mimir tenant ID like \"ml-platform\"",
                   "description": "[mimir] Tenant (X-Scope-OrgID) whose ruler runs these rules; the team name "
                                  "gives a tenant per team. Default: \"anonymous\", Mimir's tenant without "
                                  "multi-tenancy."},
        "rules_per_group": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20,
                            "description": "[mimir] Most rules in one rule group: the tenant's "
                                           "ruler_max_rules_per_rule_group (Mimir's default: 20). Larger groups are "
                                           "split, rules that read each other kept in one group where they fit."},
        "partial_response_strategy": {"enum": ["warn", "abort"],
                                      "description": "[thanos] What Thanos Ruler does when a store answers "
                                                     "partially: warn (evaluate anyway) or abort. Left out: "
                                                     "Thanos' default (abort)."},
    },
}

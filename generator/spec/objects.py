"""Names that become objects elsewhere: Kubernetes label keys, secret keys, Mimir tenants. The one place that knows
each system's rules for them, so a name is refused at its spec line rather than by kubectl, the operator or
Mimir at deploy time (or not at all). Every check matches the whole name (`fullmatch`: Python's `$` would let a
final line break through).
"""
from __future__ import annotations

import re

# Kubernetes (apimachinery validation.IsQualifiedName): an optional DNS-subdomain prefix of at most 253 characters
# and a name of at most 63, alphanumeric at both ends.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
# Labels oncallgen sets on every object it packages: a spec's value would silently replace them.
RESERVED_LABELS = ("app.kubernetes.io/managed-by",)
# Kubernetes secret and config map keys (validation.IsConfigMapKey).
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# Mimir's tenant IDs (pkg/util/validation: ValidTenantID): its characters, at most 150, and neither "." nor "..",
# which would name a folder; "__mimir_cluster" is Mimir's own.
_TENANT = re.compile(r"[A-Za-z0-9!._*'()-]+")
RESERVED_TENANTS = (".", "..", "__mimir_cluster")


def label_key_problem(key: str) -> str | None:
    """Why `key` cannot be a Kubernetes label key of a generated object, or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not (prefix and len(prefix) <= 253 and all(
            _DNS_LABEL.fullmatch(part) and len(part) <= 63 for part in prefix.split("."))):
        return ("expected a label key whose prefix is a DNS subdomain (lowercase, dots between parts, at most 253 "
                "characters)")
    if not (_LABEL_NAME.fullmatch(name) and len(name) <= 63):
        return ("expected a label key whose name (after the prefix) has at most 63 letters, digits, "
                "`-`, `_` or `.`, beginning and ending with a letter or digit")
    if key in RESERVED_LABELS:
        return f"{key} is set by oncallgen on every object it packages: leave it out"
    return None


def secret_key_problem(key: str) -> str | None:
    """Why `key` cannot be a key of a Kubernetes secret, or None."""
    if not (_SECRET_KEY.fullmatch(key) and len(key) <= 253) or key in (".", "..") or key.startswith(".."):
        return "a secret key has at most 253 letters, digits, `-`, `_` or `.`, and is not . or .. nor starts with .."
    return None


def tenant_problem(tenant: str) -> str | None:
    """Why `tenant` cannot be a Mimir tenant ID (and a folder under mimir/), or None."""
    if tenant in RESERVED_TENANTS:
        return f'"{tenant}" is not a usable tenant ID (reserved: {", ".join(RESERVED_TENANTS)})'
    if not (_TENANT.fullmatch(tenant) and len(tenant) <= 150):
        return "expected a Mimir tenant ID: at most 150 letters, digits and ! . _ * ' ( ) -"
    return None

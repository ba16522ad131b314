"""What a URL (or SMTP host) in a spec may hold: no credentials, nothing that changes a page, link or template.

URLs are copied into dozens of generated files (annotations, runbook links, Alertmanager), which land in Git:
a password or token in one would be published. Messages name what was found and where, never the value.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

# Query parameters that carry credentials by common convention (AWS, Grafana, Slack, generic APIs).
_CREDENTIAL_PARAM = re.compile(r"(token|secret|passw|pwd|api[_-]?key|apikey|auth|signature|credential|session|"
                               r"^sig$|^key$|^code$|^jwt$)", re.IGNORECASE)
# Characters that would end a Markdown link, start a Go template or break out of YAML/HTML attributes.
_UNSAFE = re.compile(r"[\s<>\"'`{}|\\^\x00-\x1f\x7f]")
URL_MAX = 2048


def url_problem(value: str, allow_empty: bool = False, allow_query: bool = True) -> str | None:
    """Why `value` is not an acceptable http(s) URL for a spec, or None. Never quotes the value."""
    if value == "" and allow_empty:
        return None
    if len(value) > URL_MAX:
        return f"expected a URL of at most {URL_MAX} characters, got {len(value)}"
    found = _UNSAFE.search(value)
    if found:
        return f"URLs must not contain spaces, quotes or any of <>{{}}|\\^` (character {found.start() + 1} is one)"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "expected an http(s) URL like https://example.com/path"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "expected an http(s) URL like https://example.com/path"
    if "@" in parts.netloc:
        return "URLs must not carry credentials (user info before @): use a secret file or an auth proxy"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if _CREDENTIAL_PARAM.search(name):
            return (f'URLs must not carry credentials: query parameter "{name[:40]}" looks like one (its value is '
                    "not shown)")
    if parts.query and not allow_query:
        return "expected a URL without a query string (paths are appended to it)"
    if parts.fragment and not allow_query:
        return "expected a URL without a #fragment (paths are appended to it)"
    return None


_HOSTPORT = re.compile(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):[0-9]{1,5}")


def hostport_problem(value: str) -> str | None:
    """Why `value` is not a plain `host:port` (an SMTP smarthost), or None. Never quotes the value."""
    if "@" in value or "/" in value:
        return "expected host:port without credentials or a scheme (the password goes in auth_password_file)"
    if not _HOSTPORT.fullmatch(value) or not 0 < int(value.rsplit(":", 1)[1]) < 65536:
        return 'expected host:port like "smtp.example.com:587"'
    return None

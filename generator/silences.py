"""Reading Alertmanager's silences (`report --alertmanager URL`, `timeline --alertmanager URL`).

Alertmanager has no acknowledgement (prometheus/alertmanager#1860); the convention of the tools around it (karma's
ack button, kthxbye) is a short silence whose comment starts with "ACK!". `GET /api/v2/silences` lists every silence
Alertmanager still holds: active, pending, and expired ones until it garbage-collects them (`--data.retention`,
120h by default). Alertmanager keeps no creation time apart from `startsAt` (it moves a `startsAt` in the past to
the moment the silence is created; `updatedAt` changes when a silence is expired).

The server is input oncallgen did not write: the request is bounded as Prometheus' are (prometheus_api: connect
timeout, answer deadline, byte limit, credentials as basic auth never shown) and the answer's shape is checked;
whatever goes wrong is one ServerError line.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime

from .prometheus_api import CHECK_DEADLINE, ServerError, _get, _server_text, endpoint

OPTION = "--alertmanager"
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


@dataclass(frozen=True)
class Matcher:
    """One matcher of a silence, with Alertmanager's semantics: a missing label is the empty string; a regex matches
    the whole value."""

    name: str
    value: str
    regex: bool
    equal: bool

    def matches(self, labels: dict[str, str]) -> bool:
        have = labels.get(self.name, "")
        if self.regex:
            try:
                found = re.fullmatch(self.value, have) is not None
            except (re.error, RecursionError):  # RE2 syntax Python does not read: it matches nothing here
                return False
        else:
            found = have == self.value
        return found == self.equal

    def __str__(self) -> str:
        op = ("=~" if self.regex else "=") if self.equal else ("!~" if self.regex else "!=")
        return f'{self.name}{op}"{self.value}"'


@dataclass(frozen=True)
class Silence:
    """A silence as Alertmanager lists it; times in seconds since the epoch."""

    id: str
    matchers: tuple[Matcher, ...]
    starts: float
    ends: float
    created_by: str
    comment: str
    state: str

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether the silence mutes an alert with these labels (every matcher holds)."""
        return all(m.matches(labels) for m in self.matchers)

    def is_ack(self, prefix: str) -> bool:
        """Whether the comment starts with `prefix`, case-insensitively (every silence when `prefix` is empty)."""
        return self.comment.lstrip().lower().startswith(prefix.lower())


def _when(value: object, where: str) -> float:
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        raise ServerError(f"the answer is not shaped like Alertmanager's silences API: {where} is not a time")
    whole, fraction, zone = match.groups()
    moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


def _shape(problem: str) -> ServerError:
    return ServerError(f"the answer is not shaped like Alertmanager's silences API: {problem}")


def read_silences(body: bytes, status: int) -> list[Silence]:
    """The silences of an answer of `GET /api/v2/silences`, its shape checked, oldest first."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        answer = None
    if status != 200:
        if isinstance(answer, dict):
            answer = answer.get("message", "")
        text = answer if isinstance(answer, str) else body[:400].decode("utf-8", "replace")
        raise ServerError(f"the server answered HTTP {status}: {_server_text(text)}")
    if not isinstance(answer, list):
        raise ServerError(f"the server answered HTTP {status} with something that is not Alertmanager's list of "
                          "silences")
    out = []
    for i, item in enumerate(answer):
        if not isinstance(item, dict):
            raise _shape(f"[{i}] is not an object")
        for key in ("id", "createdBy", "comment"):
            if not isinstance(item.get(key), str):
                raise _shape(f"[{i}].{key} is not text")
        state = item.get("status", {}).get("state") if isinstance(item.get("status"), dict) else None
        if not isinstance(state, str):
            raise _shape(f"[{i}].status.state is not text")
        raw = item.get("matchers")
        if not isinstance(raw, list) or not raw:
            raise _shape(f"[{i}].matchers is not a list of matchers")
        matchers = []
        for j, m in enumerate(raw):
            if (not isinstance(m, dict) or not isinstance(m.get("name"), str) or not isinstance(m.get("value"), str)
                    or not isinstance(m.get("isRegex"), bool) or not isinstance(m.get("isEqual", True), bool)):
                raise _shape(f"[{i}].matchers[{j}] is not a matcher (name, value, isRegex, isEqual)")
            matchers.append(Matcher(m["name"], m["value"], m["isRegex"], m.get("isEqual", True)))
        out.append(Silence(item["id"], tuple(matchers), _when(item.get("startsAt"), f"[{i}].startsAt"),
                           _when(item.get("endsAt"), f"[{i}].endsAt"), item["createdBy"], item["comment"], state))
    return sorted(out, key=lambda s: (s.starts, s.id))


def http_silences(url: str) -> list[Silence]:
    """Every silence the Alertmanager at `url` holds (`GET /api/v2/silences`), within CHECK_DEADLINE."""
    where = endpoint(url, OPTION)
    body, status = _get(where, f"{where.path}/api/v2/silences", time.monotonic() + CHECK_DEADLINE)
    return read_silences(body, status)


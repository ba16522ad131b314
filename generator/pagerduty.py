"""PagerDuty Analytics' raw incidents, for `oncallgen report --pagerduty FILE`: another source of acknowledgements.

The file is the answer of PagerDuty's Analytics API (`POST /analytics/raw/incidents`: `{"data": [...], ...}`) or
its `data` list, saved as JSON. Of each incident oncallgen reads `created_at`, `seconds_to_first_ack` (null: nobody
acknowledged), `service_name`, `team_name` and `acknowledged_user_names`; the rest is ignored.

An incident answers a page when its PagerDuty service or team is named as the page's `service` or `team` label, and
it was created while the page fired (from its start to its resolution): name the PagerDuty services or teams after
oncallgen's, or no incident answers. Its acknowledgement is `created_at + seconds_to_first_ack`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .spec.errors import Location, SpecError
from .spec.units import moment

MAX_FILE_BYTES = 32 * 1024 * 1024   # a month of a busy account's incidents, a few KiB each
MAX_INCIDENTS = 100_000


@dataclass(frozen=True)
class Incident:
    number: str
    created: float
    seconds_to_first_ack: float | None
    service: str
    team: str
    acknowledged_by: str

    def names(self, labels: dict[str, str], service_label: str, team_label: str) -> bool:
        """Whether its PagerDuty service or team is the page's service or team."""
        ours = {labels.get(service_label, ""), labels.get(team_label, "")} - {""}
        return bool(ours & ({self.service, self.team} - {""}))

    @property
    def acked(self) -> float | None:
        return None if self.seconds_to_first_ack is None else self.created + self.seconds_to_first_ack


def _error(name: str, where: str, message: str) -> SpecError:
    return SpecError(Location(name), where, message)


def _text(item: dict, key: str, name: str, where: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _error(name, f"{where}.{key}", f"expected text, got {json.dumps(value)[:64]}")
    return value


def _moment(value: object, name: str, where: str) -> float:
    found = moment(value) if isinstance(value, str) else None   # JSON: text only
    if found is None:
        raise _error(name, where, f"expected an ISO 8601 time such as 2026-12-01T02:00:00Z, got "
                                  f"{json.dumps(value)[:64]}")
    return found


def load(path: Path) -> list[Incident]:
    """The incidents of a saved Analytics answer; SpecError (one line: the file, the field, what is wrong)."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _error(name, "", f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _error(name, "", f"file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB: not one export of raw incidents")
    try:
        answer = json.loads(data)
    except json.JSONDecodeError as exc:
        raise SpecError(Location(name, exc.lineno, exc.colno), "", f"invalid JSON: {exc.msg}") from None
    except (ValueError, RecursionError):
        raise _error(name, "", "invalid JSON (not UTF-8, or nested too deep)") from None
    items = answer.get("data") if isinstance(answer, dict) else answer
    where = "data" if isinstance(answer, dict) else ""
    if not isinstance(items, list):
        raise _error(name, where, "expected PagerDuty Analytics' raw incidents: {\"data\": [incident, ...]} or a list "
                                  "of incidents")
    if len(items) > MAX_INCIDENTS:
        raise _error(name, where, f"{len(items)} incidents, over the limit of {MAX_INCIDENTS}")
    out = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            raise _error(name, at, "expected an incident (an object)")
        ack = item.get("seconds_to_first_ack")
        if ack is not None and (isinstance(ack, bool) or not isinstance(ack, (int, float)) or ack < 0):
            raise _error(name, f"{at}.seconds_to_first_ack", f"expected seconds or null, got {json.dumps(ack)[:64]}")
        names = item.get("acknowledged_user_names") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _error(name, f"{at}.acknowledged_user_names", "expected a list of names")
        number = item.get("incident_number", item.get("id", i))
        out.append(Incident(str(number), _moment(item.get("created_at"), name, f"{at}.created_at"),
                            None if ack is None else float(ack), _text(item, "service_name", name, at),
                            _text(item, "team_name", name, at), names[0] if names else ""))
    return sorted(out, key=lambda x: (x.created, x.number))

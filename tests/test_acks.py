"""Time to acknowledge and to mitigate (`report --alertmanager`) and the silences of a postmortem draft (`timeline
--alertmanager`), against a real Alertmanager 0.25 (Debian's) holding ack silences made through its API and a real
Prometheus 2.42 on a backfilled `ALERTS` history; every count and duration below is a hand count of that history.

Alertmanager moves a silence's `startsAt` in the past to the moment it is created, and refuses an `endsAt` in the past,
so the silences cannot be dated back: they are created first, at P, and the history is written around P (minutes
before it, and ten minutes after, so the pages still firing when the silences were made are still firing when the
report reads). Both servers listen on the loopback on free ports and are stopped by pid, also when a test fails.

Team `search` (no rotation, UTC) and its service `search-answers`, the report asked `--at` P-4h (its week from there):

    page                                  fires (min. from P)  silences made at P              by hand
    A AILatencyP95High                    -42 .. +10           S1 "ACK! looking" (ana)         acked after 42m; firing
    B AITrafficStopped                    -8 .. +10            S2 "ack: on it" (bao), expired  acked after 8m; firing
    C AIProviderDown provider=gemini      -180 .. -160         S3 "ACK!" (ana): after C ended  not acked; mitigated
       AIProviderFailover (remediation)   -185 .. -170                                          41m (see below)
       AILatencyP95AboveSLO (warning)     -170 .. -140
    D AIErrorRateSpike                    -90 .. -80           S4 "ACK!" (ana): after D ended  not acked; mitigated 11m
       AILatencyP95AboveSLO (warning)     -85 .. -60           (no remediation: not counted)
    E AIProviderDown provider=bedrock     -20 .. +10           S5 "maintenance" (chidi)        not an ack; firing

C's own episode resolves at -159 (21m), but the failover remediation fired during it, so it is mitigated when the
last user-facing alert of the service overlapping it resolves: the latency ticket, at -139: 41m after -180.

A PagerDuty Analytics export (`--pagerduty`), written around P too:

    incident  service / team            created  seconds_to_first_ack  answers  acked at  by hand
    1         search-answers / -        -179     180                   C        -176      C acked after 4m (Ana Ng)
    2         - / search                -41      300                   A        -36       A after 6m, before S1's 42m
    3         search-answers / -        -89      null                  D        -         D still not acked
    4         search-answers / -        -70      60                    nothing: created after D resolved (-79)
    5         checkout / payments       -8       30                    nothing: another service and team
"""
from __future__ import annotations

import json
import os
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.report import Episode, mitigated_at
from generator.silences import read_silences
from tests.browser import Page
from tests.e2e.harness import Server, free_port
from tests.history import prometheus_on

pytestmark = pytest.mark.proof

ROOT = Path(__file__).resolve().parent.parent
BASE = {"service": "search-answers", "team": "search"}


def _silence(by: str, comment: str, **matchers: str) -> dict:
    return {"createdBy": by, "comment": comment,
            "matchers": [{"name": k.rstrip("_"), "value": v, "isRegex": k.endswith("_"), "isEqual": True}
                         for k, v in matchers.items()]}


SILENCES = {  # a trailing underscore makes the matcher a regex
    "S1": _silence("ana", "ACK! looking", alertname="AILatencyP95High", service="search-answers"),
    "S2": _silence("bao", "ack: on it", service="search-answers", alertname_="AITraffic.*"),
    "S3": _silence("ana", "ACK!", alertname="AIProviderDown", provider="gemini"),
    "S4": _silence("ana", "ACK!", alertname="AIErrorRateSpike", service="search-answers"),
    "S5": _silence("chidi", "maintenance of the bedrock account", alertname="AIProviderDown", provider="bedrock"),
    "S6": _silence("dana", "ack", service="support-assistant"),  # another team's service
}

# (alertname, labels, first minute, last minute) from P; one sample a minute, both ends included.
HISTORY = [
    ("AILatencyP95High", {"severity": "critical", "signal": "latency"}, -42, 10),
    ("AITrafficStopped", {"severity": "critical", "signal": "traffic_stopped"}, -8, 10),
    ("AIProviderDown", {"severity": "critical", "signal": "provider_down", "provider": "gemini"}, -180, -160),
    ("AIProviderFailover", {"severity": "info", "signal": "failover", "provider": "gemini",
                            "remediation": "failover"}, -185, -170),
    ("AILatencyP95AboveSLO", {"severity": "warning", "signal": "latency"}, -170, -140),
    ("AIErrorRateSpike", {"severity": "critical", "signal": "error_spike"}, -90, -80),
    ("AILatencyP95AboveSLO", {"severity": "warning", "signal": "latency"}, -85, -60),
    ("AIProviderDown", {"severity": "critical", "signal": "provider_down", "provider": "bedrock"}, -20, 10),
]


def _call(server: Server, method: str, path: str, body: dict | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url(path), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        text = r.read()
    return json.loads(text) if text else None


# (service_name, team_name, created minute from P, seconds_to_first_ack, acknowledged_user_names)
INCIDENTS = [("search-answers", None, -179, 180, ["Ana Ng"]), (None, "search", -41, 300, ["Bao Tran"]),
             ("search-answers", None, -89, None, []), ("search-answers", None, -70, 60, ["Chidi"]),
             ("checkout", "payments", -8, 30, ["Dana"])]


class Story:
    def __init__(self, alertmanager: Server, prometheus: Server, p: int, made: dict[str, dict], work: Path) -> None:
        self.alertmanager, self.prometheus, self.p, self.made = alertmanager, prometheus, p, made
        self.pagerduty = work / "pagerduty.json"
        self.pagerduty.write_text(json.dumps({"limit": 1000, "more": False, "data": [
            {"id": f"Q{n}", "incident_number": n, "service_name": service, "team_name": team,
             "created_at": self.at(minute).isoformat().replace("+00:00", "Z"), "seconds_to_first_ack": ack,
             "seconds_to_resolve": 600, "acknowledged_user_names": names, "status": "resolved"}
            for n, (service, team, minute, ack, names) in enumerate(INCIDENTS, 1)]}))

    def at(self, minutes: int) -> datetime:
        return datetime.fromtimestamp(self.p + minutes * 60, timezone.utc)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    work = tmp_path_factory.mktemp("acks")
    (work / "alertmanager.yml").write_text("route: {receiver: nobody}\nreceivers: [{name: nobody}]\n")
    port = free_port()
    am = Server("alertmanager", ["prometheus-alertmanager", f"--config.file={work / 'alertmanager.yml'}",
                                 f"--storage.path={work / 'am-data'}", f"--web.listen-address=127.0.0.1:{port}",
                                 "--cluster.listen-address="], port, work / "alertmanager.log")
    try:
        am.start()
        now = datetime.now(timezone.utc)
        ends = datetime.fromtimestamp(now.timestamp() + 7200, timezone.utc).isoformat().replace("+00:00", "Z")
        ids = {}
        for name, silence in SILENCES.items():
            # startsAt an hour back: Alertmanager makes it the moment of creation (it cannot be dated back)
            back = datetime.fromtimestamp(now.timestamp() - 3600, timezone.utc).isoformat().replace("+00:00", "Z")
            answer = _call(am, "POST", "/api/v2/silences", {**silence, "startsAt": back, "endsAt": ends})
            ids[name] = answer["silenceID"]
        _call(am, "DELETE", f"/api/v2/silence/{ids['S2']}")  # bao expires his ack once done: it still counts
        listed = {s["id"]: s for s in _call(am, "GET", "/api/v2/silences")}
        made = {name: listed[i] for name, i in ids.items()}
        starts = [datetime.fromisoformat(s["startsAt"].replace("Z", "+00:00")).timestamp() for s in made.values()]
        assert min(starts) >= now.timestamp() - 1, "Alertmanager kept a startsAt in the past"
        p = int(min(starts))
        lines = []
        for name, extra, first, last in HISTORY:
            labels = {"alertname": name, "alertstate": "firing", **BASE, **extra}
            text = "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
            lines += [f"{text} 1 {p + m * 60}" for m in range(first, last + 1)]
        ordered = sorted(lines, key=lambda line: (line.rsplit(" ", 2)[0], int(line.rsplit(" ", 1)[1])))
        with prometheus_on(work, "\n".join(ordered) + "\n# EOF\n") as prometheus:
            yield Story(am, prometheus, p, made, work)
    finally:
        am.stop()


def _cli(*args: str) -> str:
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.output


def _report(s: Story, *args: str) -> str:
    text = _cli("report", "specs", "--prometheus", s.prometheus.url(""), "--at", s.at(-240).isoformat(), *args)
    return text.split("## Team `search`")[1].split("## Team")[0]


def _when(s: Story, minutes: int) -> str:
    t = s.at(minutes)
    return f"{t:%a} {t.day} {t:%b %H:%M}"


def test_acknowledgements_and_mitigation_are_counted_as_by_hand(story: Story) -> None:
    mine = _report(story, "--alertmanager", story.alertmanager.url(""))
    # pages A, B, C, D, E; none inhibited (gemini's outage C is over before A and B start)
    assert "| 5 | 0 |" in mine
    # acked: A after 42m, B after 8m -> median 25m, worst 42m; mitigated: C 41m, D 11m -> median 26m, worst 41m
    assert "| 2 of 5 | 25m | 42m | 2 of 5 (3 still firing) | 26m | 41m |" in mine
    assert mine.split("| started | page | acknowledged | mitigated after |\n|---|---|---|---:|\n")[1].split(
        "\n\n")[0].splitlines() == [
        f"| {_when(story, -180)} | `AIProviderDown` of `search-answers` (provider=gemini) | no | 41m |",
        f"| {_when(story, -90)} | `AIErrorRateSpike` of `search-answers` | no | 11m |",
        f"| {_when(story, -42)} | `AILatencyP95High` of `search-answers` | after 42m by ana | still firing |",
        f"| {_when(story, -20)} | `AIProviderDown` of `search-answers` (provider=bedrock) | no | still firing |",
        f"| {_when(story, -8)} | `AITrafficStopped` of `search-answers` | after 8m by bao | still firing |",
    ]


def test_an_empty_ack_prefix_counts_every_matching_silence(story: Story) -> None:
    mine = _report(story, "--alertmanager", story.alertmanager.url(""), "--ack-prefix", "")
    # E is acknowledged too, by chidi's maintenance silence, after 20m: 8m, 20m, 42m
    assert "| 3 of 5 | 20m | 42m |" in mine
    assert "| `AIProviderDown` of `search-answers` (provider=bedrock) | after 20m by chidi | still firing |" in mine


def test_without_alertmanager_the_acks_have_no_source(story: Story) -> None:
    text = _cli("report", "specs", "--prometheus", story.prometheus.url(""), "--at", story.at(-240).isoformat())
    assert "Acknowledgements: no source (give `--alertmanager` or `--pagerduty`)." in text
    mine = text.split("## Team `search`")[1].split("## Team")[0]
    assert "| no source | no source | no source | 2 of 5 (3 still firing) | 26m | 41m |" in mine
    assert "| `AIErrorRateSpike` of `search-answers` | no source | 11m |" in mine


def test_pagerduty_acks_alone_and_with_the_silences(story: Story) -> None:
    alone = _report(story, "--pagerduty", str(story.pagerduty))
    # C after 4m, A after 6m: median 5m, worst 6m; incident 3 (D) never acked, 4 and 5 answer no page
    assert "| 2 of 5 | 5m | 6m | 2 of 5 (3 still firing) | 26m | 41m |" in alone
    assert "| `AIProviderDown` of `search-answers` (provider=gemini) | after 4m by Ana Ng | 41m |" in alone
    assert "| `AIErrorRateSpike` of `search-answers` | no | 11m |" in alone
    both = _report(story, "--pagerduty", str(story.pagerduty), "--alertmanager", story.alertmanager.url(""))
    # the first ack of each page: C 4m (PagerDuty), A 6m (PagerDuty, before S1), B 8m (silence): median 6m, worst 8m
    assert "| 3 of 5 | 6m | 8m |" in both
    assert "| `AILatencyP95High` of `search-answers` | after 6m by Bao Tran (PagerDuty) | still firing |" in both
    assert "| `AITrafficStopped` of `search-answers` | after 8m by bao (silence) | still firing |" in both


def test_the_html_page_prints_the_same_acks(story: Story) -> None:
    """`--format html` renders the figures the Markdown above prints: the summary row and each page's ack."""
    page = Page(_cli("report", "specs", "--prometheus", story.prometheus.url(""), "--at", story.at(-240).isoformat(),
                     "--pagerduty", str(story.pagerduty), "--alertmanager", story.alertmanager.url(""),
                     "--format", "html"))
    cells = [t for tag, t in page.texts if tag == "td"]
    search = cells[cells.index("3 of 5"):]
    assert search[:6] == ["3 of 5", "6m", "8m", "2 of 5 (3 still firing)", "26m", "41m"]
    assert "after 6m by Bao Tran (PagerDuty)" in search and "after 8m by bao (silence)" in search
    assert any("A page's acknowledgement is the first of: a silence of the Alertmanager at" in t
               for tag, t in page.texts if tag == "p")


def test_a_bad_pagerduty_file_is_one_line_before_any_query(tmp_path: Path) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    cases = [
        ('{"data": [', "invalid JSON"),
        ('{"data": {}}', "data: expected PagerDuty Analytics' raw incidents"),
        ('[{"created_at": "yesterday"}]', "[0].created_at: expected an ISO 8601 time"),
        ('{"data": [{"created_at": "2026-12-01T02:00:00Z", "seconds_to_first_ack": "5"}]}',
         "data[0].seconds_to_first_ack: expected seconds or null"),
    ]
    for text, problem in cases:
        path = tmp_path / "pd.json"
        path.write_text(text)
        old = os.getcwd()
        os.chdir(ROOT)
        try:
            result = CliRunner().invoke(main, ["report", "specs", "--prometheus", unreachable, "--week", "2026-W49",
                                               "--pagerduty", str(path)])
        finally:
            os.chdir(old)
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert result.exit_code == 1, result.output
        assert len(errors) == 1 and problem in errors[0] and str(path) in errors[0], result.output
        assert "Traceback" not in result.output


def test_the_timeline_lists_the_silences_in_the_sequence(story: Story) -> None:
    args = ["timeline", "--prometheus", story.prometheus.url(""), "--from", story.at(-240).isoformat(),
            "--to", story.at(60).isoformat(), "--alertmanager", story.alertmanager.url("")]
    def hhmm(name: str, field: str) -> str:
        return datetime.fromisoformat(story.made[name][field].replace("Z", "+00:00")).strftime("%H:%M")
    until, expired = hhmm("S1", "endsAt"), hhmm("S2", "endsAt")
    rows = [line for line in _cli(*args, "--service", "search-answers").splitlines() if "silence created" in line]
    made = {  # the silence each row shows; silences made in the same millisecond come in any order
        "S1": ["`search-answers`", f"silence created by ana until {until} (active): `alertname=\"AILatencyP95High\"`, "
                                   "`service=\"search-answers\"` — “ACK! looking”"],
        "S2": ["`search-answers`", f"silence created by bao until {expired} (expired): `service=\"search-answers\"`, "
                                   "`alertname=~\"AITraffic.*\"` — “ack: on it”"],
        "S3": ["`search-answers`", f"silence created by ana until {until} (active): `alertname=\"AIProviderDown\"`, "
                                   "`provider=\"gemini\"` — “ACK!”"],
        "S4": ["`search-answers`", f"silence created by ana until {until} (active): `alertname=\"AIErrorRateSpike\"`, "
                                   "`service=\"search-answers\"` — “ACK!”"],
        "S5": ["`search-answers`", f"silence created by chidi until {until} (active): `alertname=\"AIProviderDown\"`, "
                                   "`provider=\"bedrock\"` — “maintenance of the bedrock account”"],
    }
    shown = [r.split(" | ")[1:3] for r in rows]
    assert sorted(shown) == sorted(made.values())
    names = [next(n for n, cells in made.items() if cells == row) for row in shown]
    assert [story.made[n]["startsAt"] for n in names] == sorted(story.made[n]["startsAt"] for n in names)
    for row, name in zip(rows, names):  # each at the minute it was made
        assert row.startswith(f"| {hhmm(name, 'startsAt')} ") or row.startswith(
            f"| {story.made[name]['startsAt'][:10]} {hhmm(name, 'startsAt')} "), row
    everyone = [line for line in _cli(*args).splitlines() if "silence created" in line]
    assert len(everyone) == 6 and any("`support-assistant` | silence created by dana" in r for r in everyone)


def test_alertmanager_errors_are_one_line_without_secrets(story: Story) -> None:
    base = ["report", "specs", "--prometheus", story.prometheus.url(""), "--week", "2026-W49"]
    cases = [
        (["--alertmanager", f"http://oncall:s3cret@127.0.0.1:{free_port()}"], 5,
         "error: cannot query http://127.0.0.1:"),
        (["--alertmanager", "ftp://alertmanager:9093"], 2, "error: --alertmanager: expected an http(s) URL"),
        (["--alertmanager", " "], 2, "error: --alertmanager: the URL is empty"),
        (["--alertmanager", story.prometheus.url("")], 5, "error: the server answered HTTP 404"),
        (["--ack-prefix", "ACK!"], 2, "error: --ack-prefix chooses among Alertmanager's silences"),
    ]
    for extra, status, start in cases:
        old = os.getcwd()
        os.chdir(ROOT)
        try:
            result = CliRunner().invoke(main, base + extra)
        finally:
            os.chdir(old)
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert result.exit_code == status, result.output
        assert len(errors) == 1 and errors[0].startswith(start), result.output
        assert "s3cret" not in result.output and "Traceback" not in result.output


# ---- by hand, without servers ----

def test_silence_matchers_follow_alertmanager() -> None:
    body = json.dumps([{"id": "x", "createdBy": "ana", "comment": " Ack! ", "status": {"state": "active"},
                        "startsAt": "2026-12-08T01:02:03.123456789Z", "endsAt": "2026-12-08T02:00:00Z",
                        "matchers": [{"name": "alertname", "value": "AI.*", "isRegex": True},
                                     {"name": "provider", "value": "gemini", "isRegex": False, "isEqual": False},
                                     {"name": "model", "value": "", "isRegex": False, "isEqual": True}]}]).encode()
    [s] = read_silences(body, 200)
    assert s.starts == datetime(2026, 12, 8, 1, 2, 3, tzinfo=timezone.utc).timestamp() + 0.123456789
    assert s.is_ack("ack") and s.is_ack("") and not s.is_ack("ack!!")
    assert s.matches({"alertname": "AIProviderDown", "provider": "bedrock"})       # regex anchored, != holds
    assert not s.matches({"alertname": "XAIProviderDown", "provider": "bedrock"})  # anchored at the start
    assert not s.matches({"alertname": "AIProviderDown", "provider": "gemini"})
    assert not s.matches({"alertname": "AIProviderDown", "model": "m"})           # model="" means no model label


@pytest.mark.parametrize("body, problem", [
    (b"{}", "not Alertmanager's list of silences"),
    (b'[{"id": "x"}]', "[0].createdBy is not text"),
    (b'[{"id": "x", "createdBy": "a", "comment": "", "status": {"state": "active"}, "matchers": []}]',
     "[0].matchers is not a list of matchers"),
    (b'[{"id": "x", "createdBy": "a", "comment": "", "status": {"state": "active"}, "startsAt": "yesterday", '
     b'"endsAt": "2026-12-08T02:00:00Z", "matchers": [{"name": "a", "value": "b", "isRegex": false}]}]',
     "[0].startsAt is not a time"),
])
def test_a_misshapen_answer_is_one_line(body: bytes, problem: str) -> None:
    from generator.prometheus_api import ServerError
    with pytest.raises(ServerError, match=problem.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        read_silences(body, 200)


def _ep(minutes: tuple[int, int], **labels: str) -> Episode:
    return Episode(tuple(sorted({"service": "s", **labels}.items())), minutes[0] * 60.0, minutes[1] * 60.0)


def test_mitigation_by_hand() -> None:
    page = _ep((0, 20), alertname="P", severity="critical")
    ticket = _ep((10, 40), alertname="T", severity="warning")
    later = _ep((40, 55), alertname="U", severity="critical")         # overlaps the span once the ticket grew it
    remediation = _ep((-5, 5), alertname="R", severity="info", remediation="failover")
    secondary = _ep((20, 90), alertname="P", severity="critical", escalation="secondary")
    other = _ep((0, 120), alertname="T", severity="warning", service="other")
    # No remediation: the page's own resolution, 21m after its start, whatever else fires.
    assert mitigated_at(page, [page, ticket, later, secondary, other], 60) == 21 * 60
    # A remediation during the page: the ticket resolves at 41, the page U that overlaps it at 56.
    assert mitigated_at(page, [page, ticket, later, remediation, secondary, other], 60) == 56 * 60
    # A remediation before the page started, resolved before it: not during the page.
    early = _ep((-30, -10), alertname="R", severity="info", remediation="failover")
    assert mitigated_at(page, [page, ticket, early], 60) == 21 * 60


def test_what_a_person_typed_in_a_silence_stays_one_escaped_cell() -> None:
    from generator.silences import Matcher, Silence
    from generator.timeline import silence_events
    hostile = Silence("x", (Matcher("service", "s\u202e|x", False, True),), 60.0, 120.0, "eve\x1b[31m", "a|b\nc",
                      "active")
    [event] = silence_events([hostile], 0, 600, None, [])
    assert "\x1b" not in event.what and "\u202e" not in event.what and "\n" not in event.what
    # printable's escapes, then Markdown's: `eve\x1b[31m`, `s\u202e|x` and `a|b\nc` as text, pipes kept in the cell
    assert "eve\\\\x1b\\[31m" in event.what and "s\\u202e\\|x" in event.what and "“a\\|b\\\\nc”" in event.what


def test_a_hostile_alertmanager_is_one_line_within_the_deadline() -> None:
    """The silences client shares the Prometheus client's bounds: an oversized answer, bytes that are not JSON, a
    server that trickles; the URL's credentials go as basic auth and are never shown."""
    import base64
    import threading
    import time
    from http.server import BaseHTTPRequestHandler
    from generator.prometheus_api import ANSWER_DEADLINE, ServerError
    from generator.silences import http_silences
    from tests.test_live_server import Loopback

    def sized(body: bytes):
        def answer(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        return answer

    def trickle(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        handler.send_response(200)
        handler.end_headers()
        while not stop.wait(0.5):
            handler.wfile.write(b" ")
            handler.wfile.flush()

    for answer, problem in ((sized(b"[" + b" " * (9 * 1024 * 1024) + b"]"), "over 8 MiB"),
                            (sized(b"\xff\xfe<html>"), "not Alertmanager's list of silences"),
                            (trickle, "no complete answer from http://127.0.0.1:")):
        with Loopback(answer) as server:
            start = time.monotonic()
            url = server.url.replace("http://", "http://oncall:s3cret@")
            with pytest.raises(ServerError) as caught:
                http_silences(url)
            assert problem in str(caught.value) and "s3cret" not in str(caught.value)
            assert "\n" not in str(caught.value) and time.monotonic() - start < ANSWER_DEADLINE + 2
            assert server.headers[0]["Authorization"] == "Basic " + base64.b64encode(b"oncall:s3cret").decode()

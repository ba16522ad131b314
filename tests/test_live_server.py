"""`validate --prometheus URL` against servers that misbehave: each run ends within its documented deadline with
one error line and exit status 5 (2 for a URL that cannot be used), never a traceback, never a credential.

The servers are tiny HTTP servers on loopback (threads in this process, a port the kernel picks), stopped when
the test ends, however it ends. The CLI runs in a child process with a memory limit and a timeout, so a client
that reads forever fails the test instead of taking the machine down.
"""
from __future__ import annotations

import base64
import json
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import prometheus_api

ROOT = Path(__file__).resolve().parent.parent
ONCALLGEN = str(Path(sys.executable).parent / "oncallgen")
SPECS = ["specs/internal-chat.yaml", "specs/oncall"]
# Written by hand from the README: connect 5 s, a whole answer within 10 s, all queries within 60 s, 8 MiB.
ANSWER_DEADLINE = 10
MEMORY = 1024 * 1024 * 1024  # the CLI's address space in these tests: an unbounded read fails instead of swapping


class Loopback:
    """A loopback HTTP server answering every GET with `answer(handler)`; it records the requests' headers."""

    def __init__(self, answer) -> None:
        self.stop = threading.Event()
        self.headers: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner.headers.append(dict(self.headers))
                try:
                    answer(self, owner.stop)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "Loopback":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def _json(status: int, body: object):
    def answer(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    return answer


def _endless(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """A 200 whose body never ends (no length: it lasts until the connection closes)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b'{"status": "success", "data": {"result": [')
    chunk = b'{"metric": {"le": "1"}}, ' * 4096
    while not stop.is_set():
        handler.wfile.write(chunk)


def _trickle(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """A 200 sent a byte every 0.2 s: no single read ever waits long enough to time out."""
    handler.send_response(200)
    handler.end_headers()
    while not stop.is_set():
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.2)


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def validate(url: str, timeout: float = 3 * ANSWER_DEADLINE) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    proc = subprocess.run([ONCALLGEN, "validate", *SPECS, "--prometheus", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, preexec_fn=_limit)
    return proc, time.monotonic() - start


def _errors(proc: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stderr.splitlines() if not line.startswith(("warning: ", "note: "))]


@pytest.mark.parametrize("body", [
    {"status": "success", "data": {"result": {"le": "1"}}},                 # a mapping where a list belongs
    {"status": "success", "data": []},                                      # a list where a mapping belongs
    {"status": "success", "data": {"result": [{"metric": ["le", "1"]}]}},   # a metric that is a list
    {"status": "success", "data": {"result": ["1"]}},                       # a sample that is text
    [1, 2, 3],                                                              # not an object at all
], ids=["result-mapping", "data-list", "metric-list", "sample-text", "top-list"])
def test_valid_json_of_the_wrong_shape_is_one_line_and_exit_5(body) -> None:
    with Loopback(_json(200, body)) as server:
        proc, _ = validate(server.url)
    errors = _errors(proc)
    assert proc.returncode == 5, proc.stderr
    assert len(errors) == 1 and errors[0].startswith("error: "), proc.stderr


def test_an_endless_body_stops_at_the_byte_limit() -> None:
    with Loopback(_endless) as server:
        proc, took = validate(server.url)
    errors = _errors(proc)
    assert proc.returncode == 5, proc.stderr
    assert len(errors) == 1 and "over 8 MiB" in errors[0], proc.stderr
    assert took < ANSWER_DEADLINE + 5


def test_a_trickling_server_is_cut_at_the_answer_deadline() -> None:
    with Loopback(_trickle) as server:
        proc, took = validate(server.url)
    errors = _errors(proc)
    assert proc.returncode == 5, proc.stderr
    assert len(errors) == 1 and "within 10s" in errors[0], proc.stderr
    assert ANSWER_DEADLINE - 1 < took < ANSWER_DEADLINE + 5, took


def test_credentials_in_the_url_are_sent_as_basic_auth_and_never_shown() -> None:
    answer = _json(401, {"status": "error", "errorType": "unauthorized", "error": "wrong password"})
    with Loopback(answer) as server:
        url = server.url.replace("http://", "http://ci-bot:s3cret-Pw%40x@")
        proc, _ = validate(url)
        sent = server.headers[0].get("Authorization")
    assert sent == "Basic " + base64.b64encode(b"ci-bot:s3cret-Pw@x").decode()
    errors = _errors(proc)
    assert proc.returncode == 5 and len(errors) == 1, proc.stderr
    assert "s3cret" not in proc.stderr + proc.stdout and "ci-bot" not in proc.stderr + proc.stdout
    assert errors[0].startswith("error: the server answered HTTP 401, unauthorized: wrong password"), errors


def test_the_servers_error_text_cannot_forge_lines_or_reach_the_terminal() -> None:
    forged = "bad\nerror: specs/internal-chat.yaml:1:1: forged\x1b[2J\u202e" + "x" * 1000
    with Loopback(_json(422, {"status": "error", "errorType": "bad_data", "error": forged})) as server:
        proc, _ = validate(server.url)
    errors = _errors(proc)
    assert proc.returncode == 5 and len(errors) == 1, proc.stderr
    assert "\x1b" not in proc.stderr and "\u202e" not in proc.stderr
    assert "bad\\nerror: specs/internal-chat.yaml:1:1: forged\\x1b[2J\\u202e" in errors[0]
    assert len(errors[0]) < 400


@pytest.mark.parametrize("url,code", [("", 2), ("   ", 2), ("file:///etc/passwd", 2), ("ftp://host/", 2),
                                      ("http://", 2), ("http://host:port/", 2), ("http://host/?q=1", 2)])
def test_a_url_that_cannot_be_used_is_a_usage_error(url: str, code: int) -> None:
    """`--prometheus ''` is what an unset CI variable gives: refused, not silently skipped."""
    proc = subprocess.run([ONCALLGEN, "validate", *SPECS, "--prometheus", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("error: --prometheus: ") and proc.stderr.count("\n") == 1, proc.stderr


@settings(max_examples=25, deadline=None)
@given(st.one_of(st.binary(max_size=4096), st.sampled_from([b"[" * 100000, b'{"a":' * 50000, b"\xff\xfe"])))
def test_arbitrary_bytes_from_a_live_server_end_in_one_line(body: bytes) -> None:
    """The whole client against a real socket: whatever bytes follow the headers, one line or a result."""
    def answer(handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with Loopback(answer) as server:
        start = time.monotonic()
        try:
            prometheus_api.http_query(server.url)("up")
        except prometheus_api.ServerError as exc:
            assert "\n" not in str(exc) and str(exc).isprintable()
        assert time.monotonic() - start < ANSWER_DEADLINE

"""Reading a live Prometheus (`validate --prometheus URL`): the one place oncallgen reads a server's answers.

A server is input oncallgen did not write, so each answer is bounded and checked before it is read: a connect
timeout, a deadline for each whole answer and one for the whole check, a byte limit, and the shape of Prometheus'
query API (`{"status": "success", "data": {"result": [{"metric": {...}}, ...]}}`). Whatever goes wrong is one
ServerError line that never shows the URL's credentials (they are sent as HTTP basic auth) and shows the
server's own text only escaped (printable) and shortened.
"""
from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Callable

from .printable import printable

CONNECT_TIMEOUT = 5.0       # seconds to open the connection
ANSWER_DEADLINE = 10.0      # seconds from connecting to one query's whole answer, however slowly it trickles
CHECK_DEADLINE = 60.0       # seconds for every query of one run
MAX_ANSWER_BYTES = 8 * 1024 * 1024
SERVER_TEXT = 200           # characters of the server's own error text shown

Query = Callable[[str], list[dict]]  # PromQL -> the `result` of an instant query
RangeQuery = Callable[[str, float, float, float], list[dict]]  # PromQL, start, end, step -> the `result` (a matrix)


class ServerError(Exception):
    """The server could not be asked or did not answer as Prometheus does (one line, safe to print)."""


class UsageError(ValueError):
    """The URL itself cannot be used (the CLI makes it a usage error)."""


@dataclass(frozen=True)
class Endpoint:
    """Where to ask: the URL without its credentials (`shown` in every message) and the basic-auth header."""

    https: bool
    host: str
    port: int | None
    path: str
    shown: str
    authorization: str | None


def endpoint(url: str, option: str = "--prometheus") -> Endpoint:
    """The endpoint of a server's URL given as `option`: http(s), a host, no query or fragment. Credentials in it
    (`https://user:password@host`) become basic auth and are never shown."""
    if not url.strip():
        raise UsageError(f"{option}: the URL is empty (an unset variable?): give the server's URL, or leave the "
                         "option out")
    parts = urllib.parse.urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    host = parts.hostname or ""
    shown = printable(f"{parts.scheme}://{host}{f':{port}' if port and port > 0 else ''}{parts.path}")
    if parts.scheme not in ("http", "https") or not host or port == -1 or parts.query or parts.fragment:
        example = "http://prometheus:9090" if option == "--prometheus" else "http://alertmanager:9093"
        raise UsageError(f"{option}: expected an http(s) URL of the server without a query, like {example}, "
                         f"got {shown}")
    authorization = None
    if parts.username is not None or parts.password is not None:
        pair = f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return Endpoint(parts.scheme == "https", host, port, parts.path.rstrip("/"), shown, authorization)


def http_query(url: str) -> Query:
    """An instant-query function against Prometheus' HTTP API at `url`; every query shares CHECK_DEADLINE."""
    where = endpoint(url)
    ends = time.monotonic() + CHECK_DEADLINE

    def query(expr: str) -> list[dict]:
        body, status = _get(where, f"{where.path}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", ends)
        return read_answer(body, status)
    return query


def http_range_query(url: str, deadline: float) -> RangeQuery:
    """A range-query function against Prometheus' HTTP API at `url`; every query shares `deadline` seconds."""
    where = endpoint(url)
    ends = time.monotonic() + deadline

    def query(expr: str, start: float, end: float, step: float) -> list[dict]:
        params = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"})
        result = read_answer(*_get(where, f"{where.path}/api/v1/query_range?{params}", ends, deadline))
        for i, item in enumerate(result):
            values = item.get("values")
            if not isinstance(values, list) or not all(isinstance(v, list) and len(v) == 2 for v in values):
                raise ServerError(f"the answer is not shaped like Prometheus' query API: data.result[{i}].values is "
                                  "not a list of [time, value]")
        return result
    return query


def _get(where: Endpoint, target: str, ends: float, total: float = CHECK_DEADLINE) -> tuple[bytes, int]:
    remaining = ends - time.monotonic()
    if remaining <= 0:
        raise ServerError(f"no answer from {where.shown} within {total:g}s for all queries")
    kind = http.client.HTTPSConnection if where.https else http.client.HTTPConnection
    conn = kind(where.host, where.port, timeout=min(CONNECT_TIMEOUT, remaining))
    cut = threading.Event()
    timer = None
    try:
        conn.connect()
        sock = conn.sock  # kept: the connection lets go of it once a response that ends at close begins

        def deadline() -> None:  # a server that trickles bytes never lets a read time out: shut the socket
            cut.set()
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        timer = threading.Timer(min(ANSWER_DEADLINE, remaining), deadline)
        timer.daemon = True
        timer.start()
        headers = {"Accept": "application/json"}
        if where.authorization:
            headers["Authorization"] = where.authorization
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        body = response.read(MAX_ANSWER_BYTES + 1)
        if cut.is_set():
            raise OSError("cut at the deadline")
    except (OSError, http.client.HTTPException) as exc:
        if cut.is_set():
            raise ServerError(f"no complete answer from {where.shown} within {ANSWER_DEADLINE:g}s") from None
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ServerError(f"cannot query {where.shown}: {printable(str(reason))}") from None
    finally:
        if timer is not None:
            timer.cancel()
        conn.close()
    if len(body) > MAX_ANSWER_BYTES:
        raise ServerError(f"the answer of {where.shown} is over {MAX_ANSWER_BYTES // (1024 * 1024)} MiB: not an "
                          "answer to oncallgen's queries")
    return body, response.status


def _server_text(text: object) -> str:
    shown = printable(str(text))
    return shown[:SERVER_TEXT] + ("..." if len(shown) > SERVER_TEXT else "")


def read_answer(body: bytes, status: int) -> list[dict]:
    """The `result` of an answer, its shape checked."""
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        raise ServerError(f"the server answered HTTP {status} with something that is not Prometheus' JSON")
    if answer.get("status") != "success":
        raise ServerError(f"the server answered HTTP {status}, {_server_text(answer.get('errorType', 'an error'))}: "
                          f"{_server_text(answer.get('error', ''))}")
    data = answer.get("data")
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        raise ServerError("the answer is not shaped like Prometheus' query API: data.result is not a list")
    for i, item in enumerate(result):
        metric = item.get("metric") if isinstance(item, dict) else None
        if not isinstance(metric, dict) or not all(isinstance(v, str) for v in metric.values()):
            raise ServerError(f"the answer is not shaped like Prometheus' query API: data.result[{i}].metric is not "
                              "a mapping of label names to text")
    return result

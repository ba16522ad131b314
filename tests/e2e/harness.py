"""The pieces of the end-to-end chain: real Prometheus and Alertmanager processes, an exporter of synthetic
OpenTelemetry GenAI metrics the test steers, and a webhook sink standing in for every receiver.

Everything listens on 127.0.0.1 on a port the kernel picked; every process is started in its own session and
stopped by its pid (SIGTERM, then SIGKILL), also when the test fails.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import MetricsHandler

disable_created_metrics()  # `_created` series are noise to every rule here

# OpenTelemetry GenAI's advisory buckets for gen_ai.client.operation.duration, in seconds.
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the exporter ----


@dataclass
class Flow:
    """Calls per second from the service to one provider and model, and how many of them fail."""

    provider: str
    model: str
    ok_per_s: float = 0.0
    errors_per_s: float = 0.0
    error_type: str = "503"
    latency_s: float = 0.6


GENERATIONS = ("2025", "2026")  # of the OpenTelemetry GenAI names (2026: `gen_ai.client.inference.*`)


class Exporter:
    """`/metrics` as the OpenTelemetry Prometheus exporter names the GenAI client metrics, in one `generation` of the
    GenAI conventions: 2025 (`gen_ai.client.operation.duration`, the `gen_ai.client.token.usage` histogram) or 2026
    (`gen_ai.client.inference.duration`, token counters by type with `gen_ai.token.modality`).

    A ticker turns the current flows into observations every 100 ms, so counters grow at the configured rates.
    """

    def __init__(self, generation: str = "2025") -> None:
        assert generation in GENERATIONS, generation
        self.generation = generation
        self.registry = CollectorRegistry()
        call = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model"]
        duration = ("gen_ai_client_operation_duration_seconds" if generation == "2025"
                    else "gen_ai_client_inference_duration_seconds")
        self.duration = Histogram(duration, "GenAI operation duration.", call + ["error_type"],
                                  buckets=DURATION_BUCKETS, registry=self.registry)
        if generation == "2025":
            self.tokens = Histogram("gen_ai_client_token_usage", "Tokens used.", call + ["gen_ai_token_type"],
                                    buckets=TOKEN_BUCKETS, registry=self.registry)
        else:  # prometheus_client adds `_total`, as the OTel exporter does to a counter
            self.counters = {kind: Counter(f"gen_ai_client_inference_usage_{kind}_tokens", f"{kind} tokens.",
                                           call + ["gen_ai_token_modality"], registry=self.registry)
                             for kind in ("input", "output")}
        self.flows: dict[tuple[str, str], Flow] = {}
        self._owed: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        registry = self.registry

        class Handler(MetricsHandler):
            def log_message(self, *args) -> None:  # keep pytest's output for assertions
                pass

        Handler.registry = registry
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # the kernel picks the port: no race
        self.port = self._server.server_address[1]
        self._threads = [threading.Thread(target=self._server.serve_forever, daemon=True),
                         threading.Thread(target=self._tick, daemon=True)]
        for t in self._threads:
            t.start()

    def set(self, provider: str, model: str, **values: float | str) -> None:
        with self._lock:
            flow = self.flows.setdefault((provider, model), Flow(provider, model))
            for k, v in values.items():
                setattr(flow, k, v)

    def fail_once(self, provider: str, model: str, error_type: str = "503") -> None:
        """One failed call, now."""
        with self._lock:
            self.duration.labels("chat", provider, model, error_type).observe(1.0)

    def _observe(self, flow: Flow, kind: str, n: int) -> None:
        error = "" if kind == "ok" else flow.error_type
        child = self.duration.labels("chat", flow.provider, flow.model, error)
        for _ in range(n):
            child.observe(flow.latency_s)
        if kind == "ok":
            for token_type, count in (("input", 800), ("output", 200)):
                if self.generation == "2026":
                    self.counters[token_type].labels("chat", flow.provider, flow.model, "text").inc(count * n)
                    continue
                t = self.tokens.labels("chat", flow.provider, flow.model, token_type)
                for _ in range(n):
                    t.observe(count)

    def _tick(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(0.1):
            now = time.monotonic()
            dt, last = now - last, now
            with self._lock:
                for flow in self.flows.values():
                    for kind, rate in (("ok", flow.ok_per_s), ("error", flow.errors_per_s)):
                        key = (flow.provider, flow.model, kind)
                        owed = self._owed.get(key, 0.0) + rate * dt
                        whole = int(owed)
                        self._owed[key] = owed - whole
                        if whole:
                            self._observe(flow, kind, whole)

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


# ---- the webhook sink ----


@dataclass(frozen=True)
class Notification:
    """One alert of one webhook message, as a receiver got it."""

    at: float          # seconds since the story started
    receiver: str      # the path it was posted to: primary, secondary, ticket, info, remediation, heartbeat, ...
    status: str        # firing | resolved
    labels: dict

    def show(self) -> str:
        keys = ("alertname", "service", "provider", "escalation", "remediation", "severity", "integration")
        labels = ", ".join(f"{k}={self.labels[k]}" for k in keys if k in self.labels)
        return f"t={self.at:6.1f}s {self.receiver:<11} {self.status:<8} {labels}"


class Sink:
    """Records every notification Alertmanager's webhooks post, in arrival order."""

    def __init__(self, clock) -> None:
        self.notifications: list[Notification] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.loads(body or b"{}")
                now = clock()
                with sink._lock:
                    for alert in payload.get("alerts", []):
                        sink.notifications.append(
                            Notification(now, self.path.strip("/"), alert["status"], dict(alert["labels"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[Notification]:
        with self._lock:
            return list(self.notifications)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---- the servers ----


@dataclass
class Server:
    """A real server process, started in its own session; its output goes to a log file kept on failure."""

    name: str
    argv: list[str]
    port: int
    log: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        fh = open(self.log, "ab")
        fh.write(f"\n==== start: {' '.join(self.argv)}\n".encode())
        fh.flush()
        self.proc = subprocess.Popen(self.argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        fh.close()
        self.wait_ready()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(self.url("/-/ready"), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log}")

    def stop(self, timeout: float = 20) -> None:
        """Stop by pid: SIGTERM, then SIGKILL to the whole session if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def post(self, path: str, body: bytes = b"", content_type: str = "application/json") -> int:
        req = urllib.request.Request(self.url(path), data=body, method="POST",
                                     headers={"Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(self.url(path), timeout=10) as r:
            return json.loads(r.read())

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"---- {self.name} log ({self.log}) ----\n" + "\n".join(text.splitlines()[-lines:])

"""`oncallgen validate --prometheus URL`: declared buckets against a real Prometheus scraping the fixture pages.

Prometheus (Debian's, on loopback) scrapes the `/metrics` pages the real exporters produced (tests/fixtures), with
the target labels the example specs select; the CLI then compares the `le` values it finds with the specs.
"""
from __future__ import annotations

import http.server
import shutil
import threading
import time
import urllib.request
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main
from tests.e2e.harness import Server, free_port
from tests.fixtures import exporters

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="needs Debian's prometheus (make tools)")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """A Prometheus scraping the OTel and vLLM fixture pages every second, as support-assistant and internal-chat, and
    the OTel page under the 2026 GenAI names as support-assistant-2026."""
    work = tmp_path_factory.mktemp("live")
    pages = {"/otel": exporters.OTEL_FILE.read_bytes(), "/vllm": exporters.VLLM_FILE.read_bytes(),
             "/otel-2026": exporters.OTEL_2026_FILE.read_bytes()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args) -> None:
            pass

    exporter = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{exporter.server_address[1]}"
    config = {"global": {"scrape_interval": "1s"}, "scrape_configs": [
        {"job_name": "support-assistant", "metrics_path": "/otel", "static_configs": [{"targets": [target]}]},
        {"job_name": "vllm-llama", "metrics_path": "/vllm",
         "static_configs": [{"targets": [target], "labels": {"namespace": "llm-serving"}}]},
        {"job_name": "support-assistant-2026", "metrics_path": "/otel-2026", "static_configs": [{"targets": [target]}]},
    ]}
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    server = Server("prometheus", ["prometheus", f"--config.file={work / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                    port, work / "prometheus.log")
    try:
        server.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # every target scraped once
            with urllib.request.urlopen(server.url("/api/v1/query?query=count(up%3D%3D1)"), timeout=5) as r:
                result = json.load(r)["data"]["result"]
            if result and result[0]["value"][1] == "3":
                break
            time.sleep(0.5)
        yield server
    finally:
        server.stop()
        exporter.shutdown()


def _validate(*args: str):
    return CliRunner().invoke(main, ["validate", *args])


@pytest.mark.proof
def test_declared_buckets_match_what_the_exporters_expose(prometheus) -> None:
    result = _validate("specs/support-assistant.yaml", "specs/internal-chat.yaml", "specs/oncall",
                       "--prometheus", prometheus.url(""))
    assert result.exit_code == 0, result.stderr
    where = (ROOT / "specs" / "support-assistant.yaml").read_text().splitlines().index("  metrics:") + 1
    assert result.stdout == (f"note: specs/support-assistant.yaml:{where}:3: spec.metrics.semconv: support-assistant "
                             "emits legacy names on the server; the spec reads 2026 and legacy\n2 services valid\n")


def _otel_2026(tmp_path, semconv: str | None):
    """support-assistant's spec pointed at the job serving the 2026 page, with `semconv` (None: left out)."""
    spec = (ROOT / "specs" / "support-assistant.yaml").read_text().replace(
        "selector: '{job=\"support-assistant\"}'", "selector: '{job=\"support-assistant-2026\"}'")
    if semconv:
        spec = spec.replace("    preset: otel-genai\n", f"    preset: otel-genai\n    semconv: {semconv}\n")
    (tmp_path / "assistant.yaml").write_text(spec)
    shutil.copytree(ROOT / "specs" / "oncall", tmp_path / "oncall")
    return spec


@pytest.mark.proof
def test_a_service_emitting_the_2026_names_is_reported_as_such_and_its_buckets_checked(prometheus, tmp_path) -> None:
    """Only 2026 series on the server: the default (both) reads them, buckets included, and says which it found."""
    _otel_2026(tmp_path, None)
    result = _validate(str(tmp_path / "assistant.yaml"), str(tmp_path / "oncall"), "--prometheus", prometheus.url(""))
    assert result.exit_code == 0, result.stderr
    assert "spec.metrics.semconv: support-assistant emits 2026 names on the server; the spec reads 2026 and legacy\n" \
        in result.stdout
    assert "error" not in result.stderr


@pytest.mark.proof
def test_a_spec_reading_the_other_generation_is_warned_at_its_line(prometheus, tmp_path) -> None:
    """semconv: legacy on a service that emits 2026 names: its rules would match nothing, silently."""
    spec = _otel_2026(tmp_path, "legacy")
    result = _validate(str(tmp_path / "assistant.yaml"), str(tmp_path / "oncall"), "--prometheus", prometheus.url(""))
    where = spec.splitlines().index("    semconv: legacy") + 1
    (line,) = [x for x in result.stderr.splitlines() if "spec.metrics.semconv" in x]
    assert line.startswith("warning: ") and line.endswith(
        f"assistant.yaml:{where}:5: spec.metrics.semconv: support-assistant emits 2026 names on the server; the spec "
        "reads legacy: its 2026 series match none of the rules (set semconv: 2026)"), line
    # ...and its latency histogram, read under the legacy names, has no series at all.
    assert result.exit_code == 1
    assert "no latency series on the server match gen_ai_client_operation_duration_seconds_bucket" in result.stderr


@pytest.mark.proof
def test_buckets_the_server_does_not_have_fail_at_the_spec_line(prometheus, tmp_path) -> None:
    spec = (ROOT / "specs" / "internal-chat.yaml").read_text().replace(
        "    preset: vllm\n", "    preset: vllm\n    buckets: [0.5, 1, 2.5, 5, 10, 30, 60]\n")
    (tmp_path / "chat.yaml").write_text(spec)
    shutil.copytree(ROOT / "specs" / "oncall", tmp_path / "oncall")
    result = _validate(str(tmp_path / "chat.yaml"), str(tmp_path / "oncall"), "--prometheus", prometheus.url(""))
    assert result.exit_code == 1
    # (The latency thresholds now fall between the four buckets: warnings, not errors.)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    line = errors[0]
    where = spec.splitlines().index("    buckets: [0.5, 1, 2.5, 5, 10, 30, 60]") + 1
    assert line.startswith("error: ") and f"chat.yaml:{where}:5: spec.metrics.buckets: the latency buckets of " \
        "vllm:e2e_request_latency_seconds_bucket differ" in line
    assert "declared but not on the server" not in line  # 0.5, 1, 2.5, 5, 10, 30 and 60 are vLLM's too
    assert "on the server but not declared: 0.3, 0.8, 1.5, 2" in line


@pytest.mark.proof
def test_a_selector_no_series_match_fails(prometheus) -> None:
    """The LiteLLM example's proxy is not scraped here: its latency selector matches nothing."""
    result = _validate("specs/search-answers.yaml", "specs/oncall", "--prometheus", prometheus.url(""))
    assert result.exit_code == 1
    assert "spec.metrics.buckets: no latency series on the server match litellm_llm_api_latency_metric_bucket" \
        in result.stderr


def test_an_unreachable_server_is_one_error_line_and_its_own_exit_status() -> None:
    """Not the invalid-spec status: a CI step can tell a down server from a wrong spec."""
    result = _validate("specs/internal-chat.yaml", "specs/oncall", "--prometheus", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 5
    errors = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith("error: cannot query http://127.0.0.1:")

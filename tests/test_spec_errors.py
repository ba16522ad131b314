"""Bad specs fail with one precise line on stderr, exit status 1, and an untouched output folder.

Every case starts from a minimal valid spec (checked to generate cleanly first) and breaks one thing, so
the error we see is the one the case is about. The CLI runs in-process with click's CliRunner, from a
temporary working directory, so file names in messages are the stable relative `specs/<file>`.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

SPEC_FILE = "specs/demo.yaml"

# error: <file>:<line>:<col>: <field.path>: <message>
ERROR_LINE = re.compile(r"^error: (?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<field>[A-Za-z_][\w.\[\]]*): (?P<msg>.+)$")
# YAML that does not parse has no field to name: error: <file>:<line>:<col>: invalid YAML: <problem>
YAML_ERROR_LINE = re.compile(r"^error: (?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>invalid YAML: .+)$")


def spec_yaml(name: str = "demo", team: str = "ml-platform") -> str:
    """A minimal valid spec that generates without warnings. Line numbers are relied on by the cases below."""
    return (
        "apiVersion: oncallgen/v1\n"    # 1
        "kind: AIService\n"             # 2
        "metadata:\n"                   # 3
        f"  name: {name}\n"             # 4
        f"  team: {team}\n"             # 5
        "spec:\n"                       # 6
        "  metrics:\n"                  # 7
        "    preset: otel-genai\n"      # 8
        "  providers:\n"                # 9
        "    - name: anthropic\n"       # 10
        "      role: primary\n"         # 11
        "  slo:\n"                      # 12
        "    latency_p95: 2560ms\n"     # 13  (4x and 1x land on histogram buckets: no warnings)
        "    availability: 99.5%\n"     # 14
        "  signals:\n"                  # 15
        "    latency:\n"                # 16
        "      page_at: 4x\n"           # 17
        "      ticket_at: 1x\n"         # 18
        "    error_spike:\n"            # 19
        "      factor: 3x\n"            # 20
    )


def edit(text: str, old: str, new: str) -> str:
    """Replace `old`, which must occur exactly once, so a case can never silently test the valid spec."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the base spec"
    return text.replace(old, new)


BASE = spec_yaml()
CUSTOM_METRICS = ("    preset: custom\n"
                  "    requests: {requests}\n"
                  "    errors: 'llm_errors_total'\n"
                  "    provider_errors: 'llm_errors_total{{reason=\"provider\"}}'\n"
                  "    latency_buckets: 'llm_duration_seconds_bucket'\n")


def custom(requests: str) -> str:
    return edit(BASE, "    preset: otel-genai\n", CUSTOM_METRICS.format(requests=requests))


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    line: int
    col: int
    field: str | None           # None: a YAML syntax error, which has no field path
    message: str                # a fragment the message must contain
    file: str = SPEC_FILE


def one(text: str) -> dict[str, str]:
    return {SPEC_FILE: text}


CASES = [
    Case("semconv-unknown-generation", one(edit(BASE, "    preset: otel-genai\n", "    preset: otel-genai\n    semconv: 2025\n")),
         9, 5, "spec.metrics.semconv", 'expected one of "legacy", "2026", "both", got 2025'),
    Case("pricing-modality-not-a-name", one(edit(BASE, "  slo:\n", "  pricing:\n    m: {input: 1, output: 2, "
                                                                 "modalities: ['text\"}']}\n  slo:\n")),
         13, 43, "spec.pricing.m.modalities[0]", 'expected a modality like "text" or "image"'),
    Case("pricing-cache-negative", one(edit(BASE, "  slo:\n", "  pricing:\n    m: {input: 1, output: 2, cache_read: -1}\n"
                                                              "  slo:\n")),
         13, 30, "spec.pricing.m.cache_read", "expected a number at least 0, got -1"),
    Case("unit-does-not-parse", one(edit(BASE, "page_at: 4x", "page_at: three")),
         17, 7, "spec.signals.latency.page_at", 'expected a factor like "3x", got "three"'),
    Case("unit-in-flow-mapping", one(edit(BASE, "    latency:\n      page_at: 4x\n      ticket_at: 1x\n",
                                          "    latency: {ticket_at: 1x, page_at: three}\n")),
         16, 30, "spec.signals.latency.page_at", 'expected a factor like "3x", got "three"'),
    Case("factor-not-positive", one(edit(BASE, "page_at: 4x", "page_at: 0")),
         17, 7, "spec.signals.latency.page_at", "expected a number more than 0, got 0"),
    Case("factor-boolean", one(edit(BASE, "page_at: 4x", "page_at: true")),
         17, 7, "spec.signals.latency.page_at", 'expected a factor like "3x", got true'),
    Case("bad-latency", one(edit(BASE, "latency_p95: 2560ms", "latency_p95: 4 seconds")),
         13, 5, "spec.slo.latency_p95", 'expected a latency like "2.56s", "800ms" or "4s", got "4 seconds"'),
    Case("latency-without-unit", one(edit(BASE, "latency_p95: 2560ms", "latency_p95: 4")),
         13, 5, "spec.slo.latency_p95", 'expected a latency like "2.56s", "800ms" or "4s", got 4'),
    Case("latency-below-a-millisecond", one(edit(BASE, "latency_p95: 2560ms", "latency_p95: 2.5604s")),
         13, 5, "spec.slo.latency_p95", 'expected a latency to the millisecond like "2.56s" or "800ms", got "2.5604s"'),
    Case("bad-duration", one(edit(BASE, "      factor: 3x\n", "      factor: 3x\n      for: 10 minutes\n")),
         21, 7, "spec.signals.error_spike.for", 'expected a duration like "5m", "1h30m" or "800ms", got "10 minutes"'),
    Case("decimal-duration", one(edit(BASE, "      factor: 3x\n", "      factor: 3x\n      for: 1.5m\n")),
         21, 7, "spec.signals.error_spike.for",
         'expected a duration in whole units like "1m30s" or "2s560ms" (decimals only for a latency: "2.56s"), got "1.5m"'),
    Case("duplicate-key", one(edit(BASE, "      page_at: 4x\n", "      page_at: 4x\n      page_at: 5x\n")),
         18, 7, "spec.signals.latency.page_at", "duplicate key (first defined at line 17)"),
    Case("invalid-yaml", one(edit(BASE, "  team: ml-platform\n", "  team: ml-platform: x\n")),
         5, 20, None, "invalid YAML: mapping values are not allowed"),
    Case("invalid-yaml-tab", one(edit(BASE, "  team: ml-platform\n", "\tteam: ml-platform\n")),
         5, 1, None, "invalid YAML: found a tab character"),
    Case("name-in-two-files", {"specs/a.yaml": BASE, "specs/b.yaml": spec_yaml(team="other-team")},
         4, 3, "metadata.name", 'service "demo" is already defined at specs/a.yaml:4:3', file="specs/b.yaml"),
    Case("name-twice-in-one-file", one(BASE + "---\n" + BASE),
         21 + 4, 3, "metadata.name", f'service "demo" is already defined at {SPEC_FILE}:4:3'),
    Case("error-in-second-document", one(BASE + "---\n" + edit(spec_yaml(name="demo2"), "page_at: 4x", "page_at: three")),
         21 + 17, 7, "spec.signals.latency.page_at", 'expected a factor like "3x", got "three"'),
    Case("secondary-without-primary", one(edit(BASE, "role: primary", "role: secondary")),
         11, 7, "spec.providers[0].role", "a secondary provider needs a primary provider"),
    # vLLM's series name no provider: a second one would get no traffic and never page, so it is refused.
    Case("vllm-two-providers", one(edit(edit(BASE, "    preset: otel-genai\n", "    preset: vllm\n"),
                                        "      role: primary\n",
                                        "      role: primary\n    - name: spare-pool\n      role: secondary\n")),
         12, 7, "spec.providers[1]", "the vllm preset's series name no provider: list one provider"),
    Case("two-primaries", one(edit(BASE, "      role: primary\n",
                                   "      role: primary\n    - name: openai\n      role: primary\n")),
         13, 7, "spec.providers[1].role", "only one provider can be primary"),
    Case("unknown-role", one(edit(BASE, "role: primary", "role: main")),
         11, 7, "spec.providers[0].role", 'expected one of "primary", "secondary", "other", got "main"'),
    Case("ticket-at-equals-page-at", one(edit(BASE, "ticket_at: 1x", "ticket_at: 4x")),
         18, 7, "spec.signals.latency.ticket_at", "expected a factor below page_at (4x)"),
    Case("ticket-at-above-page-at", one(edit(BASE, "ticket_at: 1x", "ticket_at: 8x")),
         18, 7, "spec.signals.latency.ticket_at", "expected a factor below page_at (4x)"),
    Case("error-spike-factor-1x", one(edit(BASE, "factor: 3x", "factor: 1x")),
         20, 7, "spec.signals.error_spike.factor", "expected a factor above 1x, got 1x"),
    Case("availability-100", one(edit(BASE, "availability: 99.5%", "availability: 100%")),
         14, 5, "spec.slo.availability", "expected an objective below 100%"),
    Case("availability-ratio-above-1", one(edit(BASE, "availability: 99.5%", "availability: 1.5")),
         14, 5, "spec.slo.availability", 'expected a percentage like "99.5%", got 1.5'),
    Case("custom-promql-does-not-parse", one(custom("'sum(rate(x[5m])'")),
         9, 5, "spec.metrics.requests", "invalid PromQL selector"),
    Case("unknown-field", one(edit(BASE, "ticket_at: 1x", "tickt_at: 1x")),
         18, 7, "spec.signals.latency.tickt_at", 'unknown field "tickt_at" (known fields: '),
    Case("unknown-top-level-field", one(BASE + "extra: 1\n"),
         21, 1, "extra", 'unknown field "extra"'),
    Case("missing-team", one(edit(BASE, "  team: ml-platform\n", "")),
         3, 1, "metadata.team", 'missing required field "team"'),
    Case("providers-wrong-type", one(edit(BASE, "    - name: anthropic\n      role: primary\n", "").replace(
        "  providers:\n", '  providers: "anthropic"\n')),
         9, 3, "spec.providers", 'expected a list, got "anthropic"'),
    Case("wrong-api-version", one(edit(BASE, "oncallgen/v1", "oncallgen/v2")),
         1, 1, "apiVersion", 'expected "oncallgen/v1", got "oncallgen/v2"'),
]


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


SENTINEL = {
    "README.keep": b"hand-written, must survive a failed run\n",
    "rules/old.latency.rules.yml": b"# Generated by oncallgen\ngroups: []\n",
    "nested/deep/blob.bin": bytes(range(256)),
}


def snapshot(out: Path) -> dict:
    """Everything about the output folder a write could change, and what sits next to it."""
    files = {}
    for p in sorted(out.rglob("*")):
        st = p.stat()
        rel = p.relative_to(out).as_posix()
        files[rel] = (p.read_bytes(), st.st_mtime_ns) if p.is_file() else ("<dir>", st.st_ino)
    return {"files": files, "inode": out.stat().st_ino, "siblings": sorted(os.listdir(out.parent))}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a pre-populated `out/` folder; specs go in `specs/`."""
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "out", {k: "" for k in SENTINEL})
    for rel, data in SENTINEL.items():
        (tmp_path / "out" / rel).write_bytes(data)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_failed_cleanly(result, exit_code: int = 1) -> str:
    """Exit status, no traceback, nothing on stdout, exactly one line on stderr; returns that line."""
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    # CliRunner turns an uncaught exception into exit code 1 too: make sure it was a deliberate exit.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr
    return lines[0]


@pytest.mark.parametrize("files", [pytest.param(one(BASE), id="base"),
                                   pytest.param(one(custom("'llm_requests_total'")), id="custom-preset"),
                                   pytest.param({"specs/a.yaml": BASE, "specs/b.yaml": spec_yaml(name="demo-two")},
                                                id="two-files")])
def test_valid_specs_generate(workdir: Path, files: dict[str, str]) -> None:
    write_files(workdir, files)
    result = invoke("generate", "specs", "-o", "out")
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.exception is None
    assert result.stderr == "", "the base spec must be clean: no warnings"
    assert result.stdout.startswith("wrote ")
    generated = {p.relative_to(workdir / "out").as_posix() for p in (workdir / "out").rglob("*") if p.is_file()}
    assert "rules/demo.latency.rules.yml" in generated
    # Hand-written files stay byte for byte; a generated file (header, no manifest yet) the specs no longer
    # produce is removed.
    assert generated & set(SENTINEL) == {"README.keep", "nested/deep/blob.bin"}
    for rel in ("README.keep", "nested/deep/blob.bin"):
        assert (workdir / "out" / rel).read_bytes() == SENTINEL[rel]
    assert ".oncallgen-manifest" in generated
    # The staging and old folders the writer makes next to the output are gone.
    assert sorted(os.listdir(workdir)) == ["out", "specs"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec_reports_one_line_and_leaves_output_alone(workdir: Path, case: Case) -> None:
    write_files(workdir, case.files)
    before = snapshot(workdir / "out")

    result = invoke("generate", "specs", "-o", "out")

    line = assert_failed_cleanly(result)
    pattern = YAML_ERROR_LINE if case.field is None else ERROR_LINE
    m = pattern.match(line)
    assert m, f"not of the form error: <file>:<line>:<col>: <field>: <message>: {line!r}"
    assert (m["file"], int(m["line"]), int(m["col"])) == (case.file, case.line, case.col), line
    if case.field is not None:
        assert m["field"] == case.field, line
    assert case.message in m["msg"], line
    assert snapshot(workdir / "out") == before, "a failed run must not touch the output folder"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate_gives_the_same_error(workdir: Path, case: Case) -> None:
    write_files(workdir, case.files)
    before = snapshot(workdir / "out")
    generated = invoke("generate", "specs", "-o", "out")
    validated = invoke("validate", "specs")
    assert assert_failed_cleanly(validated) == assert_failed_cleanly(generated)
    assert snapshot(workdir / "out") == before


def test_validate_accepts_the_valid_spec(workdir: Path) -> None:
    write_files(workdir, one(BASE))
    before = snapshot(workdir / "out")
    result = invoke("validate", "specs")
    assert result.exit_code == 0 and result.exception is None, result.output
    assert result.stdout == "1 services valid\n"
    assert snapshot(workdir / "out") == before, "validate writes nothing"


def test_generate_refuses_to_overwrite_a_hand_written_file_at_a_generated_path(workdir: Path) -> None:
    """Files oncallgen did not write are never touched: one where it would write is refused, and nothing moves."""
    write_files(workdir, one(BASE))
    (workdir / "out" / "rules" / "demo.latency.rules.yml").write_text("groups: []  # mine\n", encoding="utf-8")
    before = snapshot(workdir / "out")
    line = assert_failed_cleanly(invoke("generate", "specs", "-o", "out"))
    assert line == ("error: out/rules/demo.latency.rules.yml exists and oncallgen did not generate it (it is not in "
                    ".oncallgen-manifest); move it away, since generate would overwrite it")
    assert snapshot(workdir / "out") == before


@pytest.mark.parametrize("target", ["specs", ".", "specs/sub"])
def test_generate_refuses_an_output_folder_overlapping_the_specs(workdir: Path, target: str) -> None:
    write_files(workdir, one(BASE))
    spec_before = (workdir / "specs" / "demo.yaml").read_bytes() if (workdir / "specs" / "demo.yaml").exists() else None
    line = assert_failed_cleanly(invoke("generate", "specs", "-o", target))
    assert "overlaps the specs" in line
    assert sorted(p.name for p in (workdir / "specs").iterdir())
    if spec_before is not None:
        assert (workdir / "specs" / "demo.yaml").read_bytes() == spec_before


def test_missing_spec_path_is_a_usage_error(workdir: Path) -> None:
    before = snapshot(workdir / "out")
    result = invoke("generate", "nowhere", "-o", "out")
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Path 'nowhere' does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(workdir / "out") == before


@pytest.mark.parametrize("args", [
    pytest.param(("generate", "specs", "-o", "out", "--bogus"), id="generate-unknown-option"),
    pytest.param(("validate", "--bogus", "specs"), id="validate-unknown-option"),
    pytest.param(("generate", "specs", "-o"), id="option-without-value"),
    pytest.param(("frobnicate",), id="unknown-command"),
])
def test_usage_errors_exit_2(workdir: Path, args: tuple[str, ...]) -> None:
    write_files(workdir, one(BASE))
    before = snapshot(workdir / "out")
    result = invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr
    assert snapshot(workdir / "out") == before


def test_custom_preset_with_default_provider_errors(workdir: Path) -> None:
    text = edit(custom("'llm_requests_total'"), "    provider_errors: 'llm_errors_total{reason=\"provider\"}'\n", "")
    write_files(workdir, one(text))
    result = invoke("generate", "specs", "-o", "fresh")
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0


def test_a_latency_in_decimal_seconds_is_accepted_and_rendered_in_prometheus_form(tmp_path: Path) -> None:
    spec = tmp_path / "specs" / "demo.yaml"
    spec.parent.mkdir()
    spec.write_text(edit(BASE, "latency_p95: 2560ms", "latency_p95: 2.56s"))
    run = subprocess.run([sys.executable, "-m", "generator", "generate", str(spec.parent), "-o", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rules = (tmp_path / "out" / "rules" / "demo.latency.rules.yml").read_text()
    # Both thresholds are OTel bucket boundaries: the calls slower than le="2.56" (ticket_at 1x), le="10.24" (4x).
    assert 'service="demo", le=~"2\\\\.560*"}' in rules
    assert 'service="demo", le=~"10\\\\.240*"}' in rules
    runbook = (tmp_path / "out" / "runbooks" / "demo" / "ai-latency-p95-high.md").read_text()
    assert "2.56s" in runbook


@pytest.mark.parametrize("metrics, line, col", [
    ("  metrics:\n    preset: vllm\n    selector: '{job=\"vllm\"}'\n    failed_finished_reasons: 'abort|(?=x)'\n", 8, 5),
    ("  metrics: {preset: vllm, selector: '{job=\"vllm\"}', failed_finished_reasons: 'abort|(?=x)'}\n", 5, 53),
])
def test_a_presets_own_setting_is_located_at_itself_not_at_its_parent(workdir: Path, metrics: str, line: int,
                                                                      col: int) -> None:
    """vLLM's `failed_finished_reasons` is checked by the preset, after the schema: its error still names its own
    line and column (block and flow style), not those of `spec.metrics`."""
    write_files(workdir, {SPEC_FILE: "apiVersion: oncallgen/v1\nkind: AIService\nmetadata: {name: demo, team: t}\n"
                                     "spec:\n" + metrics + "  providers:\n"
                                     "    - {name: self, role: primary, models: [llama]}\n"})
    out = assert_failed_cleanly(invoke("validate", "specs"))
    assert out.startswith(f"error: {SPEC_FILE}:{line}:{col}: spec.metrics.failed_finished_reasons: lookarounds"), out

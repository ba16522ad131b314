"""Property tests: whatever `generate` accepts, promtool and amtool accept; label values round-trip.

Specs are drawn from the schema itself: every signal setting, by its unit (durations from 0s to 1000y,
factors, ratios, NaN and infinite numbers, any Unicode text), plus metric options, provider label values,
models and the eval suite. A run either fails with one located line or compiles to output the real tools
accept. Examples per test: `HYPOTHESIS_PROFILE=default` (CI: a few hundred in all), `long` (ten times more,
and the promtool unit tests of every accepted spec too).
"""
from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path

import promql_parser
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator import amtool, promtool
from generator.pipeline import build
from generator.promql_fragments import regex_literal, string
from generator.signals import SIGNALS
from generator.spec.errors import SpecError
from generator.targets.files import write_tree

from .corpus import ROUTING, SERVICE, TEAM

settings.register_profile("default", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=1500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
TOOL_EXAMPLES = 300 if LONG else 50  # each runs promtool and amtool: seconds, not milliseconds

ERROR = re.compile(r"^specs/[\w.]+:\d+:\d+: \S.*$")
_UNITS = ("ms", "s", "m", "h", "d", "w", "y")

durations = st.one_of(
    st.sampled_from(["0s", "1s", "15s", "30s", "1m", "2m", "5m", "10m", "1h", "1d", "1w", "30d", "1000y", "1m30s"]),
    st.builds(lambda n, u: f"{n}{u}", st.integers(0, 5000), st.sampled_from(_UNITS)))
numbers = st.one_of(st.integers(-10, 10 ** 6), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, 0.05, 1, 20, 1e15]))
factors = st.one_of(st.builds(lambda x: f"{x}x", st.sampled_from(["0", "0.5", "1", "1.5", "3", "10", "1000"])), numbers)
ratios = st.one_of(st.builds(lambda x: f"{x}%", st.sampled_from(["0", "2", "50", "99.5", "100", "150"])), numbers)
points = st.builds(lambda x: f"{x}pp", st.sampled_from(["0", "1", "10", "50", "100", "200"]))
texts = st.text(max_size=40)
# Values inside each unit's valid range: specs built from these mostly compile, so the tools see many outputs.
plausible = {
    "duration": st.builds(lambda n, u: f"{n}{u}", st.integers(1, 90), st.sampled_from(["m", "h"])),
    "factor": st.builds(lambda x: f"{x}x", st.sampled_from(["1.5", "2", "3", "4", "10"])),
    "ratio": st.builds(lambda x: f"{x}%", st.sampled_from(["1", "5", "20", "50", "85", "99"])),
    "points": st.builds(lambda x: f"{x}pp", st.sampled_from(["1", "5", "10", "30"])),
    "number": st.one_of(st.integers(1, 500), st.floats(0.01, 1000)),
    "integer": st.integers(0, 100),
    "boolean": st.booleans(),
    "string": texts,
}


def _value_for(prop: dict, valid: bool = False) -> st.SearchStrategy:
    kind = prop.get("$ref", "").rsplit("/", 1)[-1]
    if valid:
        return st.sampled_from(prop["enum"]) if "enum" in prop else plausible[kind or prop.get("type", "string")]
    if "enum" in prop:
        return st.one_of(st.sampled_from(prop["enum"]), texts)
    if kind:
        return {"duration": durations, "factor": factors, "ratio": ratios, "points": points}[kind]
    return {"number": numbers, "integer": st.integers(-5, 10 ** 6), "boolean": st.booleans(),
            "string": texts}.get(prop.get("type"), texts)


def _signal_settings(valid: bool) -> st.SearchStrategy:
    per_signal = {}
    for name, signal in SIGNALS.items():
        props = {"enabled": {"type": "boolean"}, **signal.schema}
        per_signal[name] = st.fixed_dictionaries({}, optional={k: _value_for(p, valid) for k, p in props.items()})
    return st.fixed_dictionaries({}, optional=per_signal)


@st.composite
def specs(draw, valid: bool = False) -> dict[str, str]:
    """A spec set: the corpus' valid service with settings drawn from the schema (from each unit's valid range
    when `valid`, from anything it might be given otherwise), its team and routing."""
    service = yaml.safe_load(SERVICE)
    service["spec"]["signals"] = draw(_signal_settings(valid))
    if draw(st.booleans()):
        service["spec"]["signals"].setdefault("eval_regression", {})["suite"] = draw(texts)
    metrics = service["spec"]["metrics"]
    if draw(st.booleans()):
        metrics["scrape_interval"] = draw(st.sampled_from(["5s", "15s", "30s", "1m"]) if valid else durations)
    if not valid and draw(st.booleans()):
        metrics["rate_limit_error_types"] = draw(st.one_of(texts, st.sampled_from(["429", "a\\", "(?=x)", "a)|(b"])))
    provider = service["spec"]["providers"][0]
    provider["models"] = draw(st.lists(texts, min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        provider["label_value"] = draw(texts)
    return {"specs/demo.yaml": yaml.safe_dump(service, allow_unicode=True), "specs/team.yaml": TEAM,
            "specs/routing.yaml": ROUTING}


def _compile(root: Path, files: dict[str, str]):
    """Build in-process from `root`: the result, or the one-line error."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    old = os.getcwd()
    os.chdir(root)
    try:
        return build([Path("specs")])
    except SpecError as exc:
        return exc
    finally:
        os.chdir(old)


def _check_failure(exc: SpecError) -> None:
    line = str(exc)
    assert "\n" not in line and ERROR.match(line), line


@given(st.text())
def test_any_label_value_round_trips_through_a_query(value: str) -> None:
    parsed = promql_parser.parse(f"up{{a={string(value)}}}").matchers.matchers[0]
    assert parsed.value == value
    regex = promql_parser.parse(f"up{{a=~{string(regex_literal(value))}}}").matchers.matchers[0].value
    assert re.fullmatch(regex, value, re.S) is not None
    assert value == "" or re.fullmatch(regex, value + "x", re.S) is None


@pytest.mark.slow
@given(specs())
def test_specs_from_the_schema_fail_cleanly_or_compile_to_parsable_rules(tmp_path_factory, files) -> None:
    result = _compile(tmp_path_factory.mktemp("spec"), files)
    if isinstance(result, SpecError):
        _check_failure(result)
        return
    for path, text in result.files.items():
        if path.startswith("rules/"):
            for group in yaml.safe_load(text)["groups"]:
                for rule in group["rules"]:
                    promql_parser.parse(rule["expr"])
    for rule in (r for g in result.plan.groups for r in g.rules):
        if hasattr(rule, "for_seconds"):
            assert math.isfinite(rule.for_seconds) and 0 <= rule.for_seconds <= 365 * 86400


@pytest.mark.proof
@settings(max_examples=TOOL_EXAMPLES)
@given(st.one_of(specs(valid=True), specs()))
def test_whatever_generate_accepts_promtool_and_amtool_accept(tmp_path_factory, files) -> None:
    root = tmp_path_factory.mktemp("tools")
    result = _compile(root, files)
    if isinstance(result, SpecError):
        _check_failure(result)
        event("refused")
        return
    event("accepted: checked by promtool and amtool")
    out = root / "out"
    write_tree(out, result.files)
    checked = promtool.check_rules(sorted(out.glob("rules/*.rules.yml")))
    assert checked.ok, checked.output
    config = amtool.check_config(out / "alertmanager" / "alertmanager.yml")
    assert config.ok, config.output
    if LONG:
        for test_file in sorted(out.glob("tests/*/*.test.yml")):
            run = promtool.test_rules(test_file)
            assert run.ok, (test_file.name, run.output)


@pytest.mark.parametrize("value", ["", "ü", "日本語", "\u2028", "a\nb", '"}', "\\", "\x07", "🙂", "{{ x }}"])
def test_unicode_label_values_written_literally_by_hand(value: str) -> None:
    # Hand-written expectations beside the generated ones: the escaped literal of a few tricky values.
    expected = {"": '""', "ü": '"ü"', "日本語": '"日本語"', "\u2028": '"\u2028"', "a\nb": '"a\\nb"', '"}': '"\\"}"',
                "\\": '"\\\\"', "\x07": '"\\x07"', "🙂": '"🙂"', "{{ x }}": '"{{ x }}"'}[value]
    assert string(value) == expected


# ---- readers of what oncallgen did not write: arbitrary bytes in, a result or one located line out, quickly ----

READER_SECONDS = 2  # per example; each reader is linear in its input and these are a few KiB
hostile_bytes = st.one_of(
    st.binary(max_size=4096),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"[" * 20000, b"a: " * 10000, b"x: &a [1]\ny: *a\n", b"\xef\xbb\xbfgroups: []\n",
                     b"groups:\n- rules:\n  - {alert: A, expr: x, labels: {a: 1}}\n"]))
LOCATED = re.compile(r"^[^\n]+:\d+:\d+: \S[^\n]*$")


def _one_located_line(exc: Exception) -> None:
    line = str(exc)
    assert LOCATED.match(line) and line.isprintable(), line


@settings(deadline=None)
@given(hostile_bytes)
def test_any_manifest_is_a_set_of_paths_or_one_located_line(tmp_path_factory, data: bytes) -> None:
    from generator.targets.files import MANIFEST, OutputError, owned
    out = tmp_path_factory.mktemp("out")
    (out / MANIFEST).write_bytes(data)
    start = time.monotonic()
    try:
        found = owned(out)
    except OutputError as exc:
        _one_located_line(exc)
    else:
        assert MANIFEST in found and all(p == MANIFEST or (out / p).is_file() for p in found)
    assert time.monotonic() - start < READER_SECONDS


@settings(deadline=None)
@given(st.one_of(hostile_bytes, st.lists(st.sampled_from(["operator", "mimir", "thanos", "none", "", " ", "\t", "x"]))
                 .map(lambda names: " ".join(names).encode())))
def test_any_targets_line_is_known_targets_or_one_located_line(tmp_path_factory, data: bytes) -> None:
    """The `# targets:` line a run without --target reads: known names, sorted and once each, or one located line."""
    from generator.targets.files import MANIFEST, OutputError, recorded_targets
    out = tmp_path_factory.mktemp("out")
    (out / MANIFEST).write_bytes(b"# Generated by oncallgen\n# targets: " + data + b"\nrules/x.rules.yml\n")
    known = ("mimir", "operator", "thanos")
    try:
        found = recorded_targets(out, known)
    except OutputError as exc:
        _one_located_line(exc)
    else:
        assert found is not None and set(found) <= set(known) and list(found) == sorted(set(found))


@settings(deadline=None)
@given(st.sampled_from(["rules/x.rules.yml", "alertmanager/alertmanager.yml", "kubernetes/ml/x.prometheusrule.yaml",
                        "mimir/t/x.yaml", "runbooks/x.md"]), hostile_bytes)
def test_any_base_file_in_diff_is_a_state_or_one_located_line(tmp_path_factory, path: str, data: bytes) -> None:
    from generator.diff.sources import folder_files, where
    from generator.diff.state import StateError, read_state
    base = tmp_path_factory.mktemp("base")
    (base / path).parent.mkdir(parents=True, exist_ok=True)
    (base / path).write_bytes(data)
    start = time.monotonic()
    try:
        read_state(folder_files(base), where(base))
    except (SpecError, StateError) as exc:
        _one_located_line(exc)
    assert time.monotonic() - start < READER_SECONDS


@settings(deadline=None)
@given(hostile_bytes, st.integers(100, 599))
def test_any_answer_of_a_live_server_is_a_result_or_one_line(data: bytes, status: int) -> None:
    """The answer's reading (the socket side, deadlines and byte limit: tests/test_live_server.py)."""
    from generator.prometheus_api import ServerError, read_answer
    start = time.monotonic()
    try:
        result = read_answer(data, status)
    except ServerError as exc:
        assert "\n" not in str(exc) and str(exc).isprintable()
    else:
        assert isinstance(result, list) and all(isinstance(r["metric"], dict) for r in result)
    assert time.monotonic() - start < READER_SECONDS

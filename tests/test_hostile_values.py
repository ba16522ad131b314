"""Hostile but valid values compile, pass the real promtool and amtool, and come out literally.

Quotes, backslashes, newlines, Go template braces, `"}`, `=~`, `or vector(1)`, Markdown and HTML are put in
every free-text field that reaches a query, an annotation or a runbook. promtool's unit tests then prove the
queries still select exactly the series carrying those values (the test series are written with them), and
that Prometheus' own template engine prints the eval suite literally in the annotation. Runbooks are rendered
to HTML with an independent CommonMark implementation (markdown-it-py) to check the text comes out as written.
"""
from __future__ import annotations

import html
import os
import re
import tempfile
from pathlib import Path

import promql_parser
import pytest
import yaml
from markdown_it import MarkdownIt

from generator import amtool, promtool
from generator.pipeline import build
from generator.targets.files import write_tree

from . import proofs
from .corpus import FILES, SERVICE, TEAM, edit, write_files

HOSTILE = 'q"uo\\te {{ .x }} "} =~ ".*" or vector(1) **b** <script>alert(1)</script> `tick` ```fence'
LABEL_VALUE = 'gcp"} or vector(1) # \\ {{ x }}\nnext'
SUITE = 'golden"} or vector(1) {{ .Labels }} \\'
MODEL = 'claude"}=~".*" <img src=x onerror=alert(1)> ü'
PASS, FAIL = 'ok|.*', 'fail"}'
NOTE = "# Not a heading\n\n<script>alert('x')</script> [link](javascript:alert(1)) **bold** | pipe `code`"
COMMAND = "echo '```' && kubectl get pods # </code></pre><script>x</script>"
SELECTOR = r'{job="sup\"port", env!~"dev|test"}'
QUERY = r'up{job="a\"b"} or vector(1)'
CONTACT = "Dana <dana@example.com> | ``call`` *now* # 1. two"


def hostile_files() -> dict[str, str]:
    service = edit(SERVICE, "    preset: otel-genai\n",
                   "    preset: otel-genai\n"
                   f"    selector: {_flow(SELECTOR)}\n"
                   "    probe: 'probe_success{job=\"blackbox\"}'\n"
                   f"    eval: {{pass_value: {_flow(PASS)}, fail_value: {_flow(FAIL)}}}\n")
    service = edit(service, "      models: [claude]\n",
                   f"      models: [{_flow(MODEL)}]\n      label_value: {_flow(LABEL_VALUE)}\n"
                   f"      probe_target: {_flow(HOSTILE)}\n")
    service = edit(service, "      suite: golden\n", f"      suite: {_flow(SUITE)}\n")
    service = edit(service, "    prometheus_url: https://prometheus.example.com\n",
                   "    prometheus_url: https://prometheus.example.com\n"
                   "    notes:\n"
                   "      AIProviderDown:\n"
                   f"        notes: {_flow(NOTE)}\n"
                   f"        steps: [{_flow(HOSTILE)}, {{check: {_flow(HOSTILE)}, command: {_flow(COMMAND)}, "
                   f"query: {_flow(QUERY)}}}]\n"
                   "    changelog:\n"
                   f"      - {{date: '2025-01-02', change: {_flow(HOSTILE)}, postmortem: {_flow('PM-1 | <b>x</b>')}}}\n")
    service = edit(service, "  name: demo\n", f"  name: demo\n  description: {_flow(HOSTILE)}\n")
    team = edit(TEAM, "    secondary_after: 20m\n",
                f"    secondary_after: 20m\n    senior_contact: {_flow(CONTACT)}\n"
                "    incident_channel: '#inc ``x`` <b>bold</b>'\n")
    return {**FILES, "specs/demo.yaml": service, "specs/team.yaml": team}


def _flow(value: str) -> str:
    """A YAML double-quoted scalar holding exactly `value`."""
    return yaml.safe_dump(value, default_style='"', width=1 << 20).strip().removesuffix("\n...")


def _build(root: Path) -> dict[str, str]:
    write_files(root, hostile_files())
    old = os.getcwd()
    os.chdir(root)
    try:
        return build([Path("specs")]).files
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("hostile")
    files = _build(root)
    out = root / "out"
    write_tree(out, files)
    return out, files


with tempfile.TemporaryDirectory() as _tmp:  # the unit-test files, one proof test each (xdist spreads them)
    UNIT_TESTS = sorted(p for p in _build(Path(_tmp)) if p.startswith("tests/") and p.endswith(".test.yml")
                        and p.count("/") == 2)


def test_the_values_reach_the_spec_unchanged() -> None:
    docs = list(yaml.safe_load_all(hostile_files()["specs/demo.yaml"]))
    provider = docs[0]["spec"]["providers"][0]
    assert (provider["label_value"], provider["models"], provider["probe_target"]) == (LABEL_VALUE, [MODEL], HOSTILE)
    assert docs[0]["spec"]["signals"]["eval_regression"]["suite"] == SUITE


@pytest.mark.proof
def test_promtool_accepts_the_rules(generated) -> None:
    out, files = generated
    rule_files = sorted(out.glob("rules/*.rules.yml"))
    assert rule_files
    checked = promtool.check_rules(rule_files)
    assert checked.ok, checked.output
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("tests/*/*.test.yml")) == UNIT_TESTS
    assert len(UNIT_TESTS) >= 8


@pytest.mark.proof
@pytest.mark.parametrize("test_file", UNIT_TESTS)
def test_their_unit_tests_pass(generated, test_file: str) -> None:
    out, _ = generated
    run = proofs.promtool_test(out / test_file)
    assert run.ok, (test_file, run.output)


@pytest.mark.proof
def test_amtool_accepts_the_configuration(generated) -> None:
    out, _ = generated
    checked = amtool.check_config(out / "alertmanager" / "alertmanager.yml")
    assert checked.ok, checked.output


def _matchers(expr: str) -> list[tuple[str, str]]:
    """Every (label, value) matcher of every vector selector in `expr`, from the reference parser."""
    found = []
    promql_parser.parse(expr)  # the whole expression parses
    for piece in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*\{(?:[^{}\"]|\"(?:[^\"\\]|\\.)*\")*\}", expr):
        node = promql_parser.parse(piece)
        found += [(m.name, m.value) for m in node.matchers.matchers]
    return found


def _rules(files: dict[str, str]) -> list[dict]:
    return [rule for path, text in files.items() if path.startswith("rules/")
            for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def test_spec_values_are_matched_literally_in_the_queries(generated) -> None:
    _, files = generated
    pairs = [pair for rule in _rules(files) for pair in _matchers(rule["expr"])]
    assert ("suite", SUITE) in pairs                   # the eval suite, as an exact match
    assert ("instance", HOSTILE) in pairs              # the probe target
    assert ("job", 'sup"port') in pairs                # the selector's escaped quote, kept
    assert ("result", PASS) in pairs                   # pass_value as an exact match, not as the regex it spells
    regexes = [v for k, v in pairs if k == "result" and v != PASS]
    assert regexes and all(re.fullmatch(r, PASS) and re.fullmatch(r, FAIL) and not re.fullmatch(r, "anything")
                           for r in regexes), regexes
    # No injected text became an operator: every `or vector(1)` the rules hold sits inside a string.
    for rule in _rules(files):
        outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rule["expr"])
        assert "or vector(1)" not in outside, rule["expr"]


def test_label_value_is_replaced_only_for_its_exact_value(generated) -> None:
    _, files = generated
    exprs = [r["expr"] for r in _rules(files) if "label_replace" in r["expr"] and '"anthropic"' in r["expr"]]
    assert exprs
    call = re.search(r'label_replace\(.*"provider", "anthropic", "provider", ("(?:[^"\\]|\\.)*")\)', exprs[0])
    assert call, exprs[0]
    regex = promql_parser.parse(f"x{{a=~{call.group(1)}}}").matchers.matchers[0].value
    assert re.fullmatch(regex, LABEL_VALUE) and not re.fullmatch(regex, LABEL_VALUE + "x")


def test_the_annotation_prints_the_suite_literally(generated) -> None:
    _, files = generated
    gone = [r for r in _rules(files) if r.get("labels", {}).get("reason") == "results_missing"]
    assert gone and "{{ .Labels }}" not in gone[0]["annotations"]["description"].replace('{{ "{{" }}', "")
    # What Prometheus prints is asserted by promtool in eval_regression.test.yml (exp_annotations): find it there.
    test = yaml.safe_load(files["tests/demo/eval_regression.test.yml"])
    printed = [a["exp_annotations"]["description"] for t in test["tests"] for check in t.get("alert_rule_test", [])
               for a in check["exp_alerts"] if a["exp_labels"].get("reason") == "results_missing"]
    assert printed and f"No results of eval suite {SUITE} for demo" in printed[0]


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def _text(rendered: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def test_runbooks_render_spec_text_literally_and_no_markup_from_it(generated) -> None:
    _, files = generated
    page = _html(files["runbooks/demo/ai-provider-down.md"])
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert 'href="javascript' not in page
    text = _text(page)
    assert "# Not a heading" in text and "<script>alert('x')</script>" in text  # the notes, as written
    assert HOSTILE.replace("\n", " ") in text                                    # a step added by the spec
    assert page.count("<h1>") == 1                                               # nothing opened a heading
    # The command sits whole in one code block: its ``` did not close the fence.
    blocks = [html.unescape(b) for b in re.findall(r'<code class="language-shell">(.*?)</code>', page, re.S)]
    assert any(COMMAND in b for b in blocks), blocks
    for path in ("runbooks/demo/ai-provider-down.md", "runbooks/demo/ai-eval-regression.md", "runbooks/README.md"):
        rendered = _html(files[path])
        assert "<script" not in rendered and "<img" not in rendered, path


def test_changelog_contacts_and_models_come_out_as_written(generated) -> None:
    _, files = generated
    text = _text(_html(files["runbooks/demo/ai-provider-down.md"]))
    assert HOSTILE.replace("\n", " ") in text                 # the changelog entry, a table cell
    assert "PM-1 | <b>x</b>" in text
    assert CONTACT in text
    assert "#inc ``x`` <b>bold</b>" in text
    assert MODEL in text                                      # the providers table
    eval_text = _text(_html(files["runbooks/demo/ai-eval-regression.md"]))
    assert SUITE in eval_text                                 # a code span that its backslash did not break

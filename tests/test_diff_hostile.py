"""`oncallgen diff` on bases anyone may have edited, and reports whose text came from specs.

A base (a folder, or the output folder at a git ref) is read like any input oncallgen did not write: a file of the
wrong shape, not UTF-8, or with a matcher Alertmanager's engine refuses is one located line and exit status 1; a
matcher regex RE2 runs in linear time is read by RE2, however Python's engine would take it. The reports print
spec text escaped for where it goes: a Markdown code span cannot be closed by it, a text line cannot be forged.
"""
from __future__ import annotations

import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from generator.cli import main
from generator.diff.compare import AlertChange, Changes, FieldChange, ReceiverChange, RouteChange, RuleChanges
from generator.diff.report import markdown, text
from generator.diff.state import Delivery

from .test_diff import CASES, git

AM = "alertmanager/alertmanager.yml"
WATCHDOG = '- alertname="AIWatchdog"'
ERROR = re.compile(r"^error: (?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): (?P<rest>.+)\n$")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The diff cases' specs and their output, committed; the output folder also copied to base/."""
    shutil.copytree(CASES / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["generate", "specs", "-o", "output"]).exit_code == 0
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    shutil.copytree(tmp_path / "output", tmp_path / "base")
    return tmp_path


class _Timeout(Exception):
    pass


def _diff(*args: str, seconds: int = 10):
    def alarm(signum, frame):
        raise _Timeout(f"diff took longer than {seconds}s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return CliRunner().invoke(main, ["diff", "specs", *args])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _rules_file(repo: Path) -> str:
    return sorted(p.relative_to(repo / "base").as_posix() for p in (repo / "base" / "rules").glob("*.rules.yml"))[0]


def _replace(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) >= 1, old
    path.write_bytes(data.replace(old, new, 1))


# (file, old bytes, new bytes, the text on the line the error points at, a fragment of the message)
_BAD_BASES = {
    "groups-mapping": ("rules", b"groups:\n", b"groups: {a: 1}\nx:\n", b"groups: {a: 1}", "expected a list"),
    "rule-list": ("rules", b"groups:\n", b"groups: [{rules: [[1]]}]\nx:\n", b"groups: [{rules", "expected a mapping"),
    "alert-number": ("rules", b"groups:\n", b"groups: [{rules: [{alert: 1, expr: x}]}]\nx:\n", b"alert: 1",
                     "expected a string"),
    "not-utf8": ("rules", b"groups:\n", b"# caf\xe9\ngroups:\n", b"# caf", "not UTF-8"),
    "nul": ("rules", b"groups:\n", b"# \x00\ngroups:\n", b"# \x00", "NUL byte"),
    "two-documents": ("rules", b"groups:\n", b"---\na: 1\n---\ngroups:\n", b"groups:", "more than one YAML document"),
    "route-list": (AM, b"route:\n", b"route: [1]\nx:\n", b"route: [1]", "expected a mapping"),
    "matchers-text": (AM, b'    matchers:\n    - alertname="AIWatchdog"\n', b"    matchers: 5\n", b"matchers: 5",
                      "expected a list"),
    "receivers-mapping": (AM, b"receivers:\n", b"receivers: {a: 1}\nx:\n", b"receivers: {a", "expected a list"),
    "re2-lookahead": (AM, WATCHDOG.encode(), b'- alertname=~"(?=AI)W.*"', b"(?=AI)",
                      "a regex Alertmanager's engine (RE2) refuses"),
    "re2-backreference": (AM, WATCHDOG.encode(), b"- 'alertname=~\"(a)\\\\1\"'", b"(a)",
                          "a regex Alertmanager's engine (RE2) refuses"),
    "unreadable-matcher": (AM, WATCHDOG.encode(), b"- alertname", b"- alertname\n    group_wait",
                           "cannot read the matcher"),
    "alias": (AM, b"route:\n", b"x: &a [1]\ny: *a\nroute:\n", b"y: *a", "aliases"),
}


@pytest.mark.parametrize("source", ["folder", "git"])
@pytest.mark.parametrize("case", sorted(_BAD_BASES))
def test_a_base_that_is_not_what_oncallgen_writes_is_one_located_line(repo: Path, source: str, case: str) -> None:
    where, old, new, marker, fragment = _BAD_BASES[case]
    rel = _rules_file(repo) if where == "rules" else where
    folder = repo / ("base" if source == "folder" else "output")
    _replace(folder / rel, old, new)
    if source == "git":
        git(repo, "commit", "-q", "-am", "a hand-edited output")
        shutil.rmtree(repo / "output")  # the base is the committed tree only; the working copy is not read
        args, shown = ["-o", "output", "--base", "HEAD"], f"HEAD:output/{rel}"
    else:
        args, shown = ["-o", "output", "--base-dir", "base"], f"base/{rel}"

    result = _diff(*args)

    assert not isinstance(result.exception, _Timeout), result.exception
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.output, result.exception)
    assert "Traceback" not in result.output and result.stdout == ""
    m = ERROR.match(result.stderr)
    assert m, result.stderr
    assert m["file"] == shown
    content = (folder / rel).read_bytes() if source == "folder" else subprocess.run(
        ["git", "show", f"HEAD:output/{rel}"], cwd=repo, capture_output=True, check=True).stdout
    assert int(m["line"]) == content[:content.index(marker)].count(b"\n") + 1, result.stderr
    assert fragment in m["rest"], result.stderr


def test_a_regex_python_would_backtrack_on_is_read_by_re2_in_linear_time(repo: Path) -> None:
    """`(\\w*\\w*)*!` on an alert name takes Python's engine seconds to minutes; RE2 answers at once."""
    _replace(repo / "base" / AM, WATCHDOG.encode(), b"- 'alertname=~\"(\\\\w*\\\\w*)*!\"'")
    result = _diff("-o", "output", "--base-dir", "base", seconds=10)
    assert not isinstance(result.exception, _Timeout), "diff hung on a regex RE2 runs in linear time"
    assert result.exit_code in (0, 4), (result.output, result.exception)


def test_a_regex_re2_accepts_and_python_does_not_is_read_as_alertmanager_reads_it(repo: Path) -> None:
    r"""`\pL` (any letter) is RE2; Python's engine refuses it. The Watchdog route then matches every alert whose
    name is letters only, so routing changes for them and for nothing else."""
    _replace(repo / "base" / AM, WATCHDOG.encode(), b"- 'alertname=~\"\\\\pL+\"'")
    result = _diff("-o", "output", "--base-dir", "base")
    assert result.exit_code == 4, (result.output, result.exception)
    routed = [line for line in result.stdout.splitlines() if line.startswith("routing ")]
    assert routed and all(re.search(r" AI[A-Za-z]+ \[", line) for line in routed), routed


# ---- reports --------------------------------------------------------------------------------------------------

def _changes(alertname: str, before: str, after: str, receiver: str = "pd") -> Changes:
    alert = AlertChange("chat", alertname, "changed", (RuleChanges(("primary",), (FieldChange("annotation summary",
                                                                                             before, after),)),))
    route = RouteChange("chat", alertname, "primary", (Delivery(receiver),), (Delivery("ml/pd"),))
    setting = ReceiverChange(receiver, "changed", (FieldChange("slack_configs[0].channel", before, after),))
    return Changes((alert,), (route,), (), (), (), (), (setting,))


HOSTILE = ["` **bold** [link](https://evil.example) ![img](https://evil.example/x.png) `",
           "``` \n# heading\n```",
           "a | b | c",
           "<img src=x onerror=alert(1)>",
           "suite\n\n**forged** [x](https://evil.example)"]


def _inline_tokens(md: str) -> list[str]:
    tokens = []
    for block in MarkdownIt("commonmark").enable("table").parse(md):
        tokens += [t.type for t in (block.children or [])]
        tokens.append(block.type)
    return tokens


@pytest.mark.parametrize("value", HOSTILE)
def test_spec_text_cannot_break_out_of_the_markdown_comment(value: str) -> None:
    report = markdown(_changes(f"AI{value}", "before", value, receiver=value))
    tokens = _inline_tokens(report)
    # oncallgen's own comment has bold summaries and alert names, tables and lists; nothing else may appear.
    assert "link_open" not in tokens and "image" not in tokens and "html_inline" not in tokens, report
    assert "heading_open" in tokens and tokens.count("heading_open") == 4, report  # title, three sections
    assert "fence" not in tokens and "html_block" not in tokens, report
    assert tokens.count("strong_open") == 2, report  # the summary and the alert's name, nothing from the value


def test_a_line_break_cannot_forge_a_line_of_the_text_report() -> None:
    forged = "x\nNo change in alerting behaviour, routing or runbooks.\nrouting   chat AIFake [primary]: a -> b"
    out = text(_changes(f"AI{forged}", "before", forged, receiver=forged))
    lines = out.splitlines()
    assert lines[0].startswith("Alerting behaviour changes: ")
    assert not any(line.startswith(("No change", "routing   chat AIFake")) for line in lines), out
    assert "\x1b" not in text(_changes("AI\x1b[2J", "a", "b"))


def test_a_rename_by_an_invisible_character_shows_where_it_is() -> None:
    """By hand: before "#ml", after "#ml" and a zero-width space; the reports show `\\u200b`."""
    changes = _changes("AILatency", "#ml", "#ml\u200b")
    assert "receiver  pd: slack_configs[0].channel: #ml -> #ml\\u200b" in text(changes)
    assert "`#ml\\u200b`" in markdown(changes)
    assert "\u200b" not in text(changes) + markdown(changes)

"""The README and docs/: the spec reference is the schema's (`make golden` rewrites it after a schema change), the README
stays short, shows the two commands, names every dependency and holds a valid spec example, and every relative link
lands on a file and heading."""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from generator.spec import reference

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SPEC_REFERENCE = DOCS / "spec-reference.md"
BLOCK = re.compile(r"(<!-- spec-reference:start -->\n)(.*?)(<!-- spec-reference:end -->)", re.S)
MAX_README_LINES = 450


def test_spec_reference_matches_the_schema() -> None:
    text = SPEC_REFERENCE.read_text(encoding="utf-8")
    current = reference.markdown()
    match = BLOCK.search(text)
    assert match, "docs/spec-reference.md lost its spec-reference markers"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        SPEC_REFERENCE.write_text(BLOCK.sub(lambda m: m.group(1) + current + m.group(3), text), encoding="utf-8")
        return
    assert match.group(2) == current, "docs/spec-reference.md is stale: run `make golden`"


RULES = DOCS / "rules.md"
SIGNALS_BLOCK = re.compile(r"(<!-- signals:start -->\n)(.*?)(<!-- signals:end -->)", re.S)


def test_the_signals_table_is_what_the_signals_declare() -> None:
    text = RULES.read_text(encoding="utf-8")
    current = reference.signals_table()
    match = SIGNALS_BLOCK.search(text)
    assert match, "docs/rules.md lost its signals markers"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        RULES.write_text(SIGNALS_BLOCK.sub(lambda m: m.group(1) + current + m.group(3), text), encoding="utf-8")
        return
    assert match.group(2) == current, "docs/rules.md's signals table is stale: run `make golden`"
    assert "| `provider_down` | Page when a provider stops answering" in current  # rows come from the signals


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make generate" in text and "make test" in text


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines < MAX_README_LINES, f"README.md has {lines} lines: move detail to docs/ (limit {MAX_README_LINES})"


def test_readme_names_every_dependency_and_why() -> None:
    """Every requirement of pyproject.toml (runtime, test and fixtures) is named in bold in the README's Dependencies
    section, where it says why it was added."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    names = {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in requirements}
    section = README.read_text(encoding="utf-8").split("\n## Dependencies\n", 1)[1].split("\n## ", 1)[0]
    named = {n.lower() for n in re.findall(r"\*\*([A-Za-z0-9_.-]+)\*\*", section)}
    assert names <= named, f"README.md's Dependencies section does not name: {sorted(names - named)}"


def test_readme_spec_example_is_valid(tmp_path: Path) -> None:
    """The README's spec example (the fenced YAML block with all three kinds) validates as it stands."""
    blocks = re.findall(r"^```yaml\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)
    example = [b for b in blocks if "kind: AIService" in b and "kind: OnCallTeam" in b and "kind: AlertRouting" in b]
    assert len(example) == 1, "README.md should hold one complete spec example"
    (tmp_path / "example.yaml").write_text(example[0], encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output


# --- links -----------------------------------------------------------------------------------------------------------

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def _documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _prose(path: Path) -> str:
    """The text outside fenced code blocks."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)    # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for heading in HEADING.findall(_prose(path)):
        slug = _slug(heading)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _links(path: Path) -> list[str]:
    return LINK.findall(CODE_SPAN.sub("", _prose(path)))


def test_every_doc_is_linked_from_the_readme() -> None:
    linked = {(README.parent / t.split("#", 1)[0]).resolve() for t in _links(README) if not re.match(r"\w+:", t)}
    assert {p.resolve() for p in DOCS.glob("*.md")} <= linked, "a file of docs/ that the README does not link"


def test_relative_links_point_at_files_and_headings() -> None:
    broken = []
    for doc in _documents():
        for target in _links(doc):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):   # https:, mailto:: not checked here
                continue
            file, _, anchor = target.partition("#")
            dest = (doc.parent / file).resolve() if file else doc.resolve()
            if not dest.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{doc.relative_to(ROOT)}: {target}: no such heading in {dest.relative_to(ROOT)}")
    assert not broken, "\n".join(broken)


def test_the_link_checker_sees_links_and_anchors() -> None:
    """The checks above would pass on nothing: make sure they read what they should."""
    assert "the-two-commands" in _anchors(README)
    assert "oncallgen-diff-what-a-change-does-to-alerting" in _anchors(README)
    assert len(_links(README)) >= len(list(DOCS.glob("*.md")))
    assert _slug("What oncallgen owns in `output/`") == "what-oncallgen-owns-in-output"
    assert _slug("`kind: AIService`") == "kind-aiservice"

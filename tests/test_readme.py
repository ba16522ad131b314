"""The README's spec reference is the schema's: `make golden` rewrites it after a schema change."""
from __future__ import annotations

import os
import re
from pathlib import Path

from generator.spec import reference

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- spec-reference:start -->\n)(.*?)(<!-- spec-reference:end -->)", re.S)


def test_readme_spec_reference_matches_the_schema() -> None:
    text = README.read_text()
    current = reference.markdown()
    match = BLOCK.search(text)
    assert match, "README.md lost its spec-reference markers"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        README.write_text(BLOCK.sub(lambda m: m.group(1) + current + m.group(3), text))
        return
    assert match.group(2) == current, "README spec reference is stale: run `make golden`"


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text()
    assert "make generate" in text and "make test" in text

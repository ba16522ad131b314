"""The committed JSON Schema for editors (`oncallgen.schema.json`) is `oncallgen schema`'s, and every example spec
points at it with the yaml-language-server modeline and is valid against it.

`make golden` rewrites the file after a schema change.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "oncallgen.schema.json"
MODELINE = re.compile(r"# yaml-language-server: \$schema=(\S+)\n")
EXAMPLES = sorted(p for d in (ROOT / "specs", ROOT / "tests" / "diff_cases" / "specs") for p in d.rglob("*.yaml"))


def test_the_committed_schema_is_what_oncallgen_schema_prints() -> None:
    printed = CliRunner().invoke(main, ["schema"]).stdout
    if os.environ.get("UPDATE_GOLDEN") == "1":
        SCHEMA_FILE.write_text(printed, encoding="utf-8")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == printed, "oncallgen.schema.json is stale: run `make golden`"


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.relative_to(ROOT).as_posix() for p in EXAMPLES])
def test_example_specs_carry_the_modeline_to_the_schema(spec: Path) -> None:
    m = MODELINE.match(spec.read_text(encoding="utf-8"))
    assert m, f"{spec}: the first line must be the yaml-language-server modeline"
    assert (spec.parent / m.group(1)).resolve() == SCHEMA_FILE


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.relative_to(ROOT).as_posix() for p in EXAMPLES])
def test_example_specs_are_valid_for_an_editor(spec: Path, validator) -> None:
    docs = [d for d in yaml.safe_load_all(spec.read_text(encoding="utf-8")) if d is not None]
    assert docs
    for doc in docs:
        assert not list(validator.iter_errors(doc)), [e.message for e in validator.iter_errors(doc)]


def test_the_editor_schema_flags_a_mistake(validator) -> None:
    doc = yaml.safe_load((ROOT / "specs" / "search-answers.yaml").read_text(encoding="utf-8"))
    doc["spec"]["deploy"]["targets"] = ["kubernetes"]
    doc["spec"]["signals"]["latency"]["page_at"] = "three"
    messages = [e.message for e in validator.iter_errors(doc)]
    assert len(messages) >= 2, messages

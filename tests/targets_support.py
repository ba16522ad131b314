"""What the target tests share: the JSON Schemas of what each system reads, YAML loading, the tested plain
groups, and a run of `generate` on edited example specs. The trees themselves are fixtures in conftest.py."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = Path(__file__).resolve().parent / "schemas"


def schema(name: str) -> jsonschema.Draft202012Validator:
    data = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(data)
    return jsonschema.Draft202012Validator(data)


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def errors(validator: jsonschema.Draft202012Validator, data: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def plain_groups(out: Path, service: str) -> dict[str, dict]:
    """The groups of a service's plain rule files: the ones the promtool unit tests exercise."""
    return {g["name"]: g for f in sorted(out.glob(f"rules/{service}.*.rules.yml")) for g in load(f)["groups"]}


def generate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: tuple[str, str, str], *args: str):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    path, old, new = edit
    spec = tmp_path / "specs" / path
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["generate", "specs", "-o", "out", *args])

"""Shared fixtures: the example specs compiled once per session, written to a temp folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.pipeline import Result, build
from generator.spec.build import load_specs
from generator.targets.files import write_tree

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def compiled() -> Result:
    """The repository's example specs, compiled (paths in headers relative to the repo root)."""
    import os
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return build([Path("specs")])
    finally:
        os.chdir(old)


@pytest.fixture(scope="session")
def out_dir(compiled: Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compiled example output on disk."""
    out = tmp_path_factory.mktemp("generated") / "output"
    write_tree(out, compiled.files)
    return out


@pytest.fixture(scope="module")
def services():
    """The example specs' services by name, loaded from the repository root as `make generate` does."""
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        return {s.name: s for s in load_specs([Path("specs")]).services}
    finally:
        os.chdir(old)


ALL_TARGETS = ("operator", "mimir", "thanos")


@pytest.fixture(scope="session")
def everywhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example service on every target (as `make generate TARGETS="operator mimir thanos"`)."""
    import shutil
    base = tmp_path_factory.mktemp("targets")
    shutil.copytree(ROOT / "specs", base / "specs")
    old = os.getcwd()
    os.chdir(base)
    try:
        result = build([Path("specs")], ALL_TARGETS)
    finally:
        os.chdir(old)
    write_tree(base / "output", result.files)
    return base / "output"


@pytest.fixture(scope="session", params=["examples", "everywhere"])
def tree(request: pytest.FixtureRequest, out_dir: Path) -> Path:
    """Both target trees: the committed examples, and every service on every target."""
    return out_dir if request.param == "examples" else request.getfixturevalue("everywhere")

"""Each promtool and amtool proof run once per test session, however many tests ask for it.

A verdict is keyed by every byte the tool reads (the test file and each rule file it loads; the Alertmanager
configuration, the labels and the expected receivers), so two runs under one key are the same binary on the same
input, and the second is skipped. Any difference, even in a name, runs its own proof.

What ran more than once before (issue 18), and why once loses nothing:
- `tests/oncallgen/alerting_pipeline.test.yml` and `oncall_health.test.yml` (the rules of no service) are
  byte-identical, with the rule files they load, in the examples' output and in each of the three golden trees: four
  runs each, now one (test_promtool.py, test_handwritten.py). Same bytes, same binary: the same verdict.
- Nothing else ran twice. The issue's "three times" are three different inputs, all still run: the examples'
  generated tests (test_promtool.py), the same scenarios with their input series moved onto the exporters' fixture
  pages (test_fixture_signals.py: other series, other selectors matched), and the golden trees' generated tests
  (test_handwritten.py), which are the proofs of other specs (minimal-otel, custom-preset, otel-2026), run on the
  committed copies because test_golden.py proves those byte-identical to what the specs compile to.
- The golden trees are not regenerated to be proved, and the examples' output is compiled once per worker.

Under pytest-xdist the workers share the verdicts through a folder (`ONCALLGEN_PROOF_CACHE`, made by the controller
in conftest.py and removed at the end of the session); each key is taken under a lock, so a worker asking for a
proof another is running waits for its verdict. Nothing outlives the session: every `make test` runs every proof.
`make test` prints how many were reused; `-v` lists them.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

import yaml

from generator import amtool, promtool
from generator.tools import Run

ENV = "ONCALLGEN_PROOF_CACHE"
_memory: dict[str, Run] = {}


def _key(kind: str, *parts: bytes) -> str:
    digest = hashlib.sha256(kind.encode())
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return f"{kind}-{digest.hexdigest()}"


def _who() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]


def _cached(key: str, label: str, run) -> Run:
    folder = os.environ.get(ENV)
    if not folder:
        if key not in _memory:
            _memory[key] = run()
        return _memory[key]
    root = Path(folder)
    verdict = root / f"{key}.json"
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if verdict.is_file():
            data = json.loads(verdict.read_text(encoding="utf-8"))
            _log(root, "reuse", label, data["by"])
            return Run(data["ok"], data["output"])
        result = run()
        verdict.write_text(json.dumps({"ok": result.ok, "output": result.output, "by": _who()}), encoding="utf-8")
        _log(root, "run", label, _who())
        return result


def _log(root: Path, what: str, label: str, by: str) -> None:
    with open(root / "log", "a", encoding="utf-8") as log:
        log.write(json.dumps({"what": what, "proof": label, "test": _who(), "first": by}) + "\n")


def log() -> list[dict]:
    """The session's proof runs and reuses so far (empty without the shared folder)."""
    folder = os.environ.get(ENV)
    path = Path(folder) / "log" if folder else None
    if not path or not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def promtool_test(test_file: Path) -> Run:
    """`promtool test rules` on `test_file`, once per session for its bytes and those of every rule file it loads."""
    text = test_file.read_bytes()
    parts = [test_file.name.encode(), text]
    for rel in (yaml.safe_load(text) or {}).get("rule_files") or ():
        path = test_file.parent / rel
        if not path.is_file():  # a glob or a missing file: promtool decides, uncached
            return promtool.test_rules(test_file)
        parts += [str(rel).encode(), path.read_bytes()]
    return _cached(_key("promtool-test", *parts), str(test_file), lambda: promtool.test_rules(test_file))


def amtool_route(config: Path, labels: dict[str, str], receivers: list[str]) -> Run:
    """`amtool config routes test --verify.receivers`, once per session for the configuration's bytes and the case."""
    case = json.dumps([sorted(labels.items()), list(receivers)]).encode()
    return _cached(_key("amtool-route", config.read_bytes(), case), f"{config} {labels.get('alertname', '')}",
                   lambda: amtool.route(config, labels, receivers))

"""Specs nobody tuned the scenarios to: a deterministic sample drawn across every field and preset
(tests/spec_space.py), the regression specs that once failed (tests/user_specs/), and what `oncallgen test` does.

Every sampled service is compiled and its whole generated proof runs through the real promtool and amtool. The
long mode (`python -m tests.spec_space --count 200 --all-signals`) draws many more.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator import proof
from generator.cli import main
from generator.pipeline import build
from generator.presets.litellm import LATENCY_BUCKETS
from generator.presets.source import OTEL_DURATION_BUCKETS
from generator.presets.vllm import E2E_LATENCY_BUCKETS

from . import proofs, spec_space

ROOT = Path(__file__).resolve().parent
USER_SPECS = ROOT / "user_specs"
SEED, COUNT = 17, 32


def generate(specs: Path, out: Path) -> Path:
    run = subprocess.run([sys.executable, "-m", "generator", "generate", str(specs), "-o", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return out


def failures(report: proof.Report) -> str:
    return "\n".join(f"{f.path}: {f.summary}" for f in report.failures)


SAMPLED = sorted(d["metadata"]["name"] for d in spec_space.draw(SEED, COUNT) if d["kind"] == "AIService")


@pytest.fixture(scope="module")
def sample_docs() -> list[dict]:
    return spec_space.draw(SEED, COUNT)


@pytest.fixture(scope="module")
def sample_specs(sample_docs, tmp_path_factory) -> Path:
    return spec_space.write(sample_docs, tmp_path_factory.mktemp("spec-space"))




def test_the_sample_spans_every_preset_signal_and_team_shape(sample_docs) -> None:
    services = [d for d in sample_docs if d["kind"] == "AIService"]
    teams = [d for d in sample_docs if d["kind"] == "OnCallTeam"]
    assert len(services) >= 30
    assert {s["spec"]["metrics"]["preset"] for s in services} == {"otel-genai", "litellm", "vllm", "custom"}
    for name in spec_space.HEAVY:
        on = [s for s in services if name in s["spec"]["signals"] and s["spec"]["signals"][name].get("enabled", True)]
        assert len(on) >= 4, f"{name} is on in only {len(on)} sampled services"
    assert {len(s["spec"]["providers"]) for s in services} == {1, 2}
    assert {t["spec"]["escalation"]["mode"] for t in teams} == {"prometheus", "paging_tool"}
    # SLO thresholds both on and off the preset's bucket boundaries.
    defaults = {"litellm": LATENCY_BUCKETS, "otel-genai": OTEL_DURATION_BUCKETS, "vllm": E2E_LATENCY_BUCKETS}

    def on_boundary(s: dict) -> bool:
        buckets = s["spec"]["metrics"].get("buckets") or defaults[s["spec"]["metrics"]["preset"]]
        page = float(s["spec"]["slo"]["latency_p95"][:-1]) * float(s["spec"]["signals"]["latency"]["page_at"][:-1])
        return any(abs(page - b) < 1e-6 * b for b in buckets)
    assert 0 < sum(map(on_boundary, services)) < len(services)


# Each spec set's whole generated proof (what `oncallgen test` runs on it: every unit-test file and every routing
# case), one test per service (its files and its routing cases, so xdist spreads them over the cores and the
# progress shows) and one for the rest (the rules of no service, the routing cases of no service).

def _services(path: Path) -> list[str]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return sorted(d["metadata"]["name"] for f in files for d in yaml.safe_load_all(f.read_text(encoding="utf-8"))
                  if d and d.get("kind") == "AIService")


REGRESSIONS = {"chat-litellm": USER_SPECS / "chat-litellm.yaml", "sampled": USER_SPECS / "sampled"}
SETS = {"sample": SAMPLED, **{name: _services(path) for name, path in REGRESSIONS.items()}}


@pytest.fixture(scope="module")
def outputs(sample_specs, tmp_path_factory):
    """Each spec set compiled by the CLI when a test first asks for it (once per xdist worker that proves some)."""
    made: dict[str, Path] = {}

    def output(name: str) -> Path:
        if name not in made:
            specs = sample_specs if name == "sample" else REGRESSIONS[name]
            made[name] = generate(specs, tmp_path_factory.mktemp(f"{name}-output") / "output")
        return made[name]
    return output


def _routes(out: Path) -> tuple[Path, list[dict]]:
    doc = yaml.safe_load((out / proof.ROUTE_TESTS).read_text(encoding="utf-8"))
    return out / proof.ROUTE_TESTS.parent / doc["config"], doc["cases"]


def _misrouted(config: Path, cases: list[dict]) -> list[tuple[str, str]]:
    return [(case["name"], run.output) for case in cases
            if not (run := proofs.amtool_route(config, case["labels"], case["receivers"])).ok]


@pytest.mark.proof
@pytest.mark.parametrize("specs,service", [(n, s) for n, services in SETS.items() for s in services])
def test_each_service_passes_its_generated_proof(outputs, specs, service) -> None:
    """The sample (nobody tuned the scenarios to it) and the regression specs (that once failed)."""
    out = outputs(specs)
    report = proof.run(out, jobs=1, only=[service])
    assert report.files >= 5
    assert report.ok, failures(report)
    config, cases = _routes(out)
    mine = [c for c in cases if c["labels"].get("service") == service]
    assert mine
    assert not _misrouted(config, mine)


@pytest.mark.proof
@pytest.mark.parametrize("specs", sorted(SETS))
def test_the_rest_of_each_generated_proof_passes(outputs, specs) -> None:
    out = outputs(specs)
    files = proof.unit_test_files(out)
    if specs == "sample":
        assert len(files) > 30 * 10
    owners = {f.relative_to(out / "tests").parts[0] for f in files}
    assert owners == set(SETS[specs]) | {"oncallgen"}  # every service folder is proved by its own test
    report = proof.run(out, only=["oncallgen"])  # the rules of no service
    assert report.files >= 2 and report.ok, failures(report)
    config, cases = _routes(out)
    rest = [c for c in cases if c["labels"].get("service") not in SETS[specs]]  # the others are their service's
    assert rest  # the heartbeat, the fallback, the alerting pipeline's
    assert not _misrouted(config, rest)


def _unreachable(content) -> list[int]:
    keys = {s.key: i for i, s in enumerate(content.steps) if s.key}
    seen, todo = {0}, [0]
    while todo:
        for key in content.steps[todo.pop()].targets:
            assert key in keys, f"a branch leads to step:{key}, which the tree lacks"
            if keys[key] not in seen:
                seen.add(keys[key])
                todo.append(keys[key])
    return [i + 1 for i in range(len(content.steps)) if i not in seen]


@pytest.mark.parametrize("specs", ["examples", "sample", "user"])
def test_every_decision_tree_reaches_every_step_from_the_first(specs, sample_specs) -> None:
    paths = {"examples": [ROOT.parent / "specs"], "sample": [sample_specs],
             "user": [USER_SPECS / "chat-litellm.yaml"]}[specs]
    plan = build(paths, ()).plan
    trees = 0
    for (service, _), signal in sorted(plan.runbooks.items()):
        for alert, content in signal.content.items():
            if content and content.steps:
                trees += 1
                assert not _unreachable(content), f"{service} {alert}: steps {_unreachable(content)} are unreachable"
    assert trees > 10


def test_provider_down_trees_are_checked_at_every_firing_minute() -> None:
    """The LiteLLM page's tree sends the on-call to the cooldowns while they hold the page, never to "recovered"."""
    plan = build([USER_SPECS / "chat-litellm.yaml"], ()).plan
    content = plan.runbooks[("chat-bot", "provider_down")].content["AIProviderDown"]
    first = content.steps[0]
    assert any("cooldowns" in b.then for b in first.branches)
    dismissing = [b for b in first.branches if b.dismisses]
    assert len(dismissing) == 1 and "ai_deployment_cooldowns" in dismissing[0].holds
    tests = [f for f in plan.test_files if f.path.endswith("chat-bot/provider_down.test.yml")]
    cooldown = next(s for f in tests for s in f.scenarios if "cooled down after its calls stop" in s.name)
    firing = {ch.minute for ch in cooldown.checks if ch.alerts}
    checked = {e.minute for e in cooldown.exprs if dismissing[0].holds in e.expr}
    assert firing and firing <= checked


# ---- oncallgen test ----

def _global_proof(out: Path) -> Path:
    """The rules and tests of no service (cheap), copied from the committed output."""
    for sub in ("rules", "tests/oncallgen"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for f in (ROOT.parent / "output" / "rules").glob("oncallgen.*.rules.yml"):
        shutil.copy(f, out / "rules" / f.name)
    for f in (ROOT.parent / "output" / "tests" / "oncallgen").glob("*.test.yml"):
        shutil.copy(f, out / "tests" / "oncallgen" / f.name)
    return out


@pytest.mark.proof
def test_oncallgen_test_passes_then_fails_on_a_wrong_expectation(tmp_path) -> None:
    out = _global_proof(tmp_path / "out")
    result = CliRunner().invoke(main, ["test", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 proofs (2 runs): all passed" in result.output
    test = out / "tests" / "oncallgen" / "alerting_pipeline.test.yml"
    text = test.read_text(encoding="utf-8")
    assert "severity: critical" in text
    test.write_text(text.replace("severity: critical", "severity: warning", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["test", str(out)])
    assert result.exit_code == 1
    assert "FAIL tests/oncallgen/alerting_pipeline.test.yml: " in result.output
    assert "2 proofs (2 runs): 1 failed" in result.output


def test_oncallgen_test_refuses_a_folder_without_tests(tmp_path) -> None:
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no generated tests" in result.output


def test_services_that_differ_only_in_names_share_a_proof_and_others_do_not(tmp_path) -> None:
    text = (USER_SPECS / "chat-litellm.yaml").read_text(encoding="utf-8")
    docs = list(yaml.safe_load_all(text))
    first = docs[0]
    twin = yaml.safe_load(yaml.safe_dump(first))
    twin["metadata"]["name"] = "chat-twin"
    twin["spec"]["metrics"]["selector"] = '{job="litellm", team_alias="chat-twin"}'
    first["spec"]["metrics"]["selector"] = '{job="litellm", team_alias="chat-bot"}'
    other = yaml.safe_load(yaml.safe_dump(twin))
    other["metadata"]["name"] = "chat-other"
    other["spec"]["metrics"]["selector"] = '{job="litellm", team_alias="chat-other"}'
    other["spec"]["signals"]["cost_anomaly"]["factor"] = 6
    specs = tmp_path / "specs.yaml"
    specs.write_text(yaml.safe_dump_all([first, twin, other] + docs[2:]), encoding="utf-8")
    out = generate(specs, tmp_path / "out")
    key = lambda service, name: proof.proof_key(out / "tests" / service / name, out)  # noqa: E731
    assert key("chat-bot", "latency.test.yml") == key("chat-twin", "latency.test.yml")
    assert key("chat-bot", "cost_anomaly.test.yml") == key("chat-twin", "cost_anomaly.test.yml")
    assert key("chat-bot", "cost_anomaly.test.yml") != key("chat-other", "cost_anomaly.test.yml")
    assert key("chat-bot", "latency.test.yml") != key("chat-bot", "cost_anomaly.test.yml")


def test_failed_scenarios_are_named_from_promtools_report() -> None:
    output = """Unit Testing:  x.test.yml
  FAILED:
    name: AIProviderDown fires when anthropic answers 10 of 100 calls a minute,
    alertname: AIProviderDown, time: 35m,
        exp:[]
    name: AIProviderDown fires when anthropic answers 10 of 100 calls a minute,
    alertname: AIProviderDown, time: 40m,
        exp:[]
    expr: "clamp_max(count(x{a=\\"b\\"} > 1), 1)", time: 43m,
        exp: nil
        got: {} 1E+00
"""
    assert proof.failed_scenarios(output) == [
        "AIProviderDown fires when anthropic answers 10 of 100 calls a minute",
        'PromQL check at 43m: clamp_max(count(x{a="b"} > 1), 1)']


# ---- friction a new user met ----

def _chat_with(tmp_path: Path, cost: dict) -> Path:
    docs = list(yaml.safe_load_all((USER_SPECS / "chat-litellm.yaml").read_text(encoding="utf-8")))
    docs[0]["spec"]["signals"]["cost_anomaly"] = cost
    path = tmp_path / "chat.yaml"
    path.write_text(yaml.safe_dump_all([docs[0]] + docs[2:]), encoding="utf-8")
    return path


def test_a_monthly_budget_becomes_the_daily_forecast(tmp_path) -> None:
    out = generate(_chat_with(tmp_path, {"factor": 5, "budget_monthly_usd": 30000}), tmp_path / "out")
    rules = yaml.safe_load((out / "rules" / "chat-bot.cost_anomaly.rules.yml").read_text(encoding="utf-8"))
    ticket = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "AICostAboveForecast")
    assert ticket["expr"].endswith("> 986.3")   # 30,000 USD x 12 months / 365 days, by hand


def test_a_budget_and_a_forecast_together_are_refused_at_the_budget(tmp_path) -> None:
    path = _chat_with(tmp_path, {"budget_monthly_usd": 30000, "forecast_daily_usd": 1000})
    run = subprocess.run([sys.executable, "-m", "generator", "validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 1
    assert "spec.signals.cost_anomaly.budget_monthly_usd: give the monthly budget or the daily forecast" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_every_missing_remediation_endpoint_is_named_at_once(tmp_path) -> None:
    text = (USER_SPECS / "chat-litellm.yaml").read_text(encoding="utf-8").replace(
        "remediation: {failover: hook, rate_limit: hook, cache_warming: hook, model_routing: hook}",
        "remediation: {cache_warming: hook}")
    path = tmp_path / "chat.yaml"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "generator", "validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
    for action in ("failover", "rate_limit", "model_routing"):
        assert f"spec.routes.remediation.{action}" in run.stderr
    assert "on by default: failover: on when the spec has a primary and a secondary provider" in run.stderr


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("oncallgen, version ")

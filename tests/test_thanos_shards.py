"""Thanos Ruler shards (`generate --target thanos --shards N`), checked on the written files alone: every plain rule
file lands once, byte for byte, in one shard; each shard is self-contained (every recorded series a rule reads is
recorded in the same shard; only shard 0's on-call health reads ALERTS of every shard, through the Querier); adding a
service moves no other; the balance `generate` prints is what the plain rule files count; `diff` names a service that
moves shard; a bad N is one line and exit 1.
"""
from __future__ import annotations

import fnmatch
import re
import shutil
from collections import defaultdict
from pathlib import Path

import promql_parser
import pytest
import yaml
from click.testing import CliRunner

from generator.cli import main
from tests.targets_support import ROOT, generate

RECORDED = re.compile(r"^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$")  # level:metric:operations, as the plain files name them


def _generate(specs: Path, out: Path, *args: str):
    result = CliRunner().invoke(main, ["generate", str(specs), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return result


def _shard_files(out: Path) -> dict[str, int]:
    """Rule file name -> its shard, from the paths written."""
    found: dict[str, int] = {}
    for path in sorted(out.glob("thanos/shard-*/*")):
        if path.name.endswith(".thanos.yml"):
            assert path.name not in found, f"{path.name} is in two shards"
            found[path.name] = int(path.parent.name.removeprefix("shard-"))
    return found


def _service_shards(out: Path) -> dict[str, int]:
    shards: dict[str, set[int]] = defaultdict(set)
    for name, shard in _shard_files(out).items():
        shards[name.split(".")[0]].add(shard)
    assert all(len(s) == 1 for s in shards.values()), shards  # every file of an owner in one shard
    return {owner: s.pop() for owner, s in shards.items()}


def _with_services(tmp: Path, names: list[str]) -> Path:
    """The example specs plus copies of support-assistant under `names`."""
    specs = tmp / "specs"
    shutil.copytree(ROOT / "specs", specs)
    text = (ROOT / "specs" / "support-assistant.yaml").read_text(encoding="utf-8")
    assert "\n  name: support-assistant\n" in text
    for name in names:
        (specs / f"{name}.yaml").write_text(text.replace("\n  name: support-assistant\n", f"\n  name: {name}\n"),
                                            encoding="utf-8")
    return specs


EXTRA = [f"svc-{i:02d}" for i in range(1, 9)]  # 12 services in all


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("shards")
    specs = _with_services(tmp, EXTRA)
    out = {"specs": specs}
    for key, args in (("flat", ()), ("s3", ("--shards", "3")), ("s3again", ("--shards", "3")),
                      ("s4", ("--shards", "4")), ("s20", ("--shards", "20"))):
        out[key] = tmp / key
        result = _generate(specs, tmp / key, "--target", "thanos", *args)
        out[f"{key}.stdout"] = result.stdout  # type: ignore[assignment]
    return out


def test_every_thanos_file_lands_once_byte_for_byte(trees: dict) -> None:
    flat = {p.name: p.read_bytes() for p in trees["flat"].glob("thanos/*.thanos.yml")}
    assert len(flat) == len(list((trees["flat"] / "rules").glob("*.rules.yml")))  # every service on thanos
    for key in ("s3", "s4", "s20"):
        placed = _shard_files(trees[key])
        assert sorted(placed) == sorted(flat), key
        for name, shard in placed.items():
            assert (trees[key] / f"thanos/shard-{shard}/{name}").read_bytes() == flat[name], (key, name)
        assert not list(trees[key].glob("thanos/*.thanos.yml")), "no flat file next to the shards"
        assert {p.parent.name for p in trees[key].glob("thanos/shard-*/flags.txt")} == {
            f"shard-{i}" for i in range(int(key[1:]))}


def test_the_rules_of_no_service_are_on_shard_0(trees: dict) -> None:
    for key in ("s3", "s4", "s20"):
        placed = _shard_files(trees[key])
        assert {n: s for n, s in placed.items() if n.startswith("oncallgen.")} == {
            "oncallgen.alerting_pipeline.thanos.yml": 0, "oncallgen.oncall_health.thanos.yml": 0}


def _reads(expr: str) -> list[tuple[str, str | None]]:
    """(metric name, the value of its `service="..."` matcher or None) of every selector of `expr`."""
    out = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            service = [m.value for m in node.matchers.matchers if m.name == "service" and str(m.op) == "MatchOp.Equal"]
            out.append((node.name, service[0] if service else None))
    promql_parser.walk(promql_parser.parse(expr), pre_visit=visit)
    return out


@pytest.mark.parametrize("key", ["s3", "s4", "s20"])
def test_each_shard_records_every_series_its_rules_read(trees: dict, key: str) -> None:
    """Parsed from the written files: a rule in shard s that reads a recorded series (of its service, when the
    selector names one) finds every recording of it in shard s. ALERTS, which no rule records, is read only by
    shard 0's on-call health, which counts the pages of every shard through the Querier."""
    recorded: dict[str, set[tuple[str, int]]] = defaultdict(set)   # name -> {(owner, shard)}
    reads: list[tuple[str, int, str, str | None]] = []             # (owner, shard, name, service matcher)
    for path in sorted(trees[key].glob("thanos/shard-*/*.thanos.yml")):
        owner, shard = path.name.split(".")[0], int(path.parent.name.removeprefix("shard-"))
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    recorded[rule["record"]].add((owner, shard))
                reads += [(owner, shard, name, service) for name, service in _reads(rule["expr"])]
    read_names = {name for _, _, name, _ in reads}
    assert {n for n in read_names if RECORDED.match(n)} <= set(recorded), "a recorded-looking series nobody records"
    checked = 0
    for owner, shard, name, service in reads:
        if name == "ALERTS":
            assert (owner, shard) == ("oncallgen", 0)
            continue
        if name not in recorded:
            continue  # a raw series, read from Prometheus through the Querier
        where = {s for o, s in recorded[name] if service is None or o == service}
        assert where, (owner, name, service)
        assert where == {shard}, f"{owner} (shard {shard}) reads {name}{{service={service}}} recorded in {where}"
        checked += 1
    assert checked > 500  # hundreds of reads of recorded series, not a vacuous pass


def _balance(out: Path) -> list[str]:
    """The balance lines, computed from the plain rule files and the shard each owner's files are in."""
    owners = _service_shards(out)
    count = len(list(out.glob("thanos/shard-*/flags.txt")))
    lines = []
    for shard in range(count):
        mine = sorted(o for o, s in owners.items() if s == shard and o != "oncallgen")
        groups = rules = global_groups = global_rules = 0
        for owner in mine + (["oncallgen"] if shard == 0 else []):
            for path in sorted((out / "rules").glob(f"{owner}.*.rules.yml")):
                doc = yaml.safe_load(path.read_text(encoding="utf-8"))
                g, r = len(doc["groups"]), sum(len(x["rules"]) for x in doc["groups"])
                groups, rules = groups + g, rules + r
                if owner == "oncallgen":
                    global_groups, global_rules = global_groups + g, global_rules + r
        line = (f"thanos shard {shard}/{count}: {len(mine)} service{'' if len(mine) == 1 else 's'}, "
                f"{groups} rule groups, {rules} rules")
        if global_groups:
            line += (f" (of them {global_groups} groups, {global_rules} rules of no service: Watchdog, pipeline, "
                     "on-call health)")
        if not mine:
            line += " (no service hashes here: add services or use fewer shards)"
        lines.append(line)
    return lines


@pytest.mark.parametrize("key", ["s3", "s4", "s20"])
def test_generate_reports_each_shards_balance(trees: dict, key: str) -> None:
    printed = [line for line in trees[f"{key}.stdout"].splitlines() if line.startswith("thanos shard")]
    assert printed == _balance(trees[key])
    # the global rules: the Watchdog and on-call health (4 recordings), 4 pipeline checks, in 2 groups
    # Watchdog, 4 pipeline alerts, on-call health's 4 series and ml-platform's business hours and off-hours pages (3).
    assert "(of them 2 groups, 12 rules of no service" in printed[0]


def test_twenty_shards_for_twelve_services_leave_some_empty(trees: dict) -> None:
    owners = _service_shards(trees["s20"])
    assert len(owners) == 13 and len(set(owners.values()) - {0}) <= 12
    empty = [line for line in trees["s20.stdout"].splitlines() if "0 services, 0 rule groups" in line]
    assert len(empty) >= 20 - 13 and all("no service hashes here" in line for line in empty)
    for shard in range(20):  # an empty shard's ruler has its flags and nothing to load
        names = sorted(p.name for p in (trees["s20"] / f"thanos/shard-{shard}").iterdir())
        assert "flags.txt" in names and (len(names) > 1) == (shard in owners.values())


def test_flags_load_exactly_the_shards_rule_files(trees: dict) -> None:
    out = trees["s3"]
    for shard in range(3):
        folder = out / f"thanos/shard-{shard}"
        lines = (folder / "flags.txt").read_text(encoding="utf-8").splitlines()
        flags = [line for line in lines if not line.startswith("#")]
        assert flags == [f"--rule-file=/etc/thanos/oncallgen/thanos/shard-{shard}/*.thanos.yml",
                         f'--label=ruler_shard="{shard}"', '--label=rule_replica="$(POD_NAME)"',
                         "--alert.label-drop=rule_replica", "--alert.label-drop=ruler_shard"]
        pattern = flags[0].removeprefix("--rule-file=/etc/thanos/oncallgen/thanos/").split("/", 1)[1]
        loaded = sorted(p.name for p in folder.iterdir() if fnmatch.fnmatch(p.name, pattern))
        assert loaded == sorted(n for n, s in _shard_files(out).items() if s == shard)
        assert "flags.txt" not in loaded
        services = sorted(o for o, s in _service_shards(out).items() if s == shard and o != "oncallgen")
        assert lines[2].startswith(f"# services: {', '.join(services) or '(none)'}")


def test_output_is_byte_identical_across_runs(trees: dict) -> None:
    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert tree(trees["s3"]) == tree(trees["s3again"])
    assert trees["s3.stdout"].splitlines()[1:] == trees["s3again.stdout"].splitlines()[1:]  # the first names the folder


def test_one_shard_is_todays_output(trees: dict, tmp_path: Path) -> None:
    one = _generate(trees["specs"], tmp_path / "one", "--target", "thanos", "--shards", "1")
    flat = sorted(p.relative_to(trees["flat"]).as_posix() for p in trees["flat"].rglob("*") if p.is_file())
    assert flat == sorted(p.relative_to(tmp_path / "one").as_posix() for p in (tmp_path / "one").rglob("*")
                          if p.is_file())
    for rel in flat:
        assert (tmp_path / "one" / rel).read_bytes() == (trees["flat"] / rel).read_bytes(), rel
    assert "thanos shard" not in one.stdout


def test_adding_or_removing_a_service_moves_no_other(trees: dict, tmp_path: Path) -> None:
    before = _service_shards(trees["s3"])
    specs = _with_services(tmp_path, EXTRA + ["billing-bot", "triage-agent"])
    _generate(specs, tmp_path / "more", "--target", "thanos", "--shards", "3")
    after = _service_shards(tmp_path / "more")
    assert set(after) == set(before) | {"billing-bot", "triage-agent"}
    assert {o: s for o, s in after.items() if o in before} == before
    (specs / "svc-03.yaml").unlink()
    (specs / "internal-chat.yaml").unlink()
    _generate(specs, tmp_path / "fewer", "--target", "thanos", "--shards", "3")
    fewer = _service_shards(tmp_path / "fewer")
    assert fewer == {o: s for o, s in after.items() if o not in ("svc-03", "internal-chat")}


def test_a_new_shard_takes_services_only_for_itself(trees: dict) -> None:
    """From 3 shards to 4: a service either stays or moves to the new shard, never between old ones."""
    three, four = _service_shards(trees["s3"]), _service_shards(trees["s4"])
    moved = {o for o in three if three[o] != four[o]}
    assert all(four[o] == 3 for o in moved)
    assert moved  # of 12 services, the new shard wins some here


@pytest.mark.parametrize("value", ["0", "-1", "abc", "2.5", "1001", "", "³"])
def test_a_bad_shard_count_is_one_line_and_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  value: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["generate", str(ROOT / "specs"), "-o", "out", "--target", "thanos",
                                       "--shards", value])
    assert result.exit_code == 1, result.output
    assert result.stderr == (f'error: --shards: expected a whole number of Thanos rulers from 1 to 1000, '
                             f'got "{value}"\n')
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out").exists()


def test_shards_with_no_service_on_thanos_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = generate(tmp_path, monkeypatch, ("search-answers.yaml", "targets: [operator, thanos]",
                                              "targets: [operator]"), "--shards", "2")
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "error: --shards 2: no service is on the thanos target (add --target thanos, or spec.deploy.targets: "
        "[thanos] to a spec)"]
    assert not (tmp_path / "out").exists()


def test_shards_follow_the_services_a_spec_puts_on_thanos(tmp_path: Path) -> None:
    """Without --target thanos only search-answers is on Thanos (its spec asks): its files and the global ones."""
    result = _generate(ROOT / "specs", tmp_path / "out", "--shards", "2")
    placed = _shard_files(tmp_path / "out")
    assert {n.split(".")[0] for n in placed} == {"search-answers", "oncallgen"}
    lines = [line for line in result.stdout.splitlines() if line.startswith("thanos shard")]
    assert len(lines) == 2 and sum(" 1 service," in line for line in lines) == 1


def test_diff_names_the_services_that_move_shard(trees: dict, tmp_path: Path) -> None:
    three, four = _service_shards(trees["s3"]), _service_shards(trees["s4"])
    expected = [f"packaged  Thanos rule files {o}: shard: {three[o]} -> {four[o]}"
                for o in sorted(three) if three[o] != four[o]]
    assert expected
    args = ["diff", str(trees["specs"]), "--base-dir", str(trees["s3"]), "--target", "thanos"]
    moved = CliRunner().invoke(main, [*args, "--shards", "4"])
    assert moved.exit_code == 4, moved.output
    assert [line for line in moved.stdout.splitlines() if line.startswith("packaged")] == expected
    same = CliRunner().invoke(main, [*args, "--shards", "3"])
    assert same.exit_code == 0 and "packaged" not in same.stdout, same.stdout
    unsplit = CliRunner().invoke(main, args)
    assert unsplit.exit_code == 4
    lines = [line for line in unsplit.stdout.splitlines() if line.startswith("packaged")]
    assert lines == [f"packaged  Thanos rule files {o}: shard: {three[o]} -> (none)" for o in sorted(three)]


def test_diff_names_an_added_service_and_moves_no_other(trees: dict, tmp_path: Path) -> None:
    specs = _with_services(tmp_path, EXTRA + ["billing-bot"])
    result = CliRunner().invoke(main, ["diff", str(specs), "--base-dir", str(trees["s3"]), "--target", "thanos",
                                       "--shards", "3"])
    assert result.exit_code == 4, result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("packaged")] == [
        "packaged  Thanos rule files billing-bot added"]


# The example services' shards, pinned: a change of the hash (or of what is hashed) would move services on every
# deployment that upgrades oncallgen, so it must show up here. Each is the shard i with the largest
# sha256("<service>/<i>"), worked out once with hashlib alone.
PINNED = {
    "contract-review": {2: 0, 3: 2, 4: 3, 5: 4, 8: 4},
    "internal-chat": {2: 0, 3: 0, 4: 0, 5: 4, 8: 7},
    "search-answers": {2: 0, 3: 0, 4: 0, 5: 0, 8: 0},
    "support-assistant": {2: 1, 3: 2, 4: 2, 5: 2, 8: 2},
}


@pytest.mark.parametrize("count", [2, 3, 4, 5, 8])
def test_the_example_services_shards_are_pinned(tmp_path: Path, count: int) -> None:
    _generate(ROOT / "specs", tmp_path / "out", "--target", "thanos", "--shards", str(count))
    assert _service_shards(tmp_path / "out") == {"oncallgen": 0, **{s: p[count] for s, p in PINNED.items()}}


# ---- the shards a folder was generated with are remembered, as its targets are -----------------------------------

def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_run_without_shards_keeps_the_recorded_ones_and_shards_1_drops_them(trees: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(trees["s3"], out)
    manifest = (out / ".oncallgen-manifest").read_text(encoding="utf-8").splitlines()
    assert "# thanos shards: 3" in manifest and "# targets: thanos" in manifest
    again = _generate(trees["specs"], out)  # no --target, no --shards: the folder's own
    assert _tree(out) == _tree(trees["s3"])
    assert again.stdout.splitlines()[0].endswith(f"; targets thanos; 3 Thanos shards as recorded in {out}/"
                                                 ".oncallgen-manifest")
    check = CliRunner().invoke(main, ["generate", str(trees["specs"]), "-o", str(out), "--check"])
    assert check.exit_code == 0, check.output
    _generate(trees["specs"], out, "--shards", "1")
    assert _tree(out) == _tree(trees["flat"])  # the unsplit layout, and no shards line
    four = CliRunner().invoke(main, ["generate", str(trees["specs"]), "-o", str(out), "--check", "--shards", "4"])
    assert four.exit_code == 3
    assert f"(run `oncallgen generate {trees['specs']} -o {out} --target thanos --shards 4`)" in four.stderr


@pytest.mark.parametrize("line, column, shown", [("# thanos shards: 0", 18, "0"),
                                                 ("# thanos shards: three", 18, "three"),
                                                 ("# thanos shards: 1001", 18, "1001")])
def test_a_broken_shards_line_is_one_located_line_unless_shards_is_given(trees: dict, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch, line: str,
                                                                          column: int, shown: str) -> None:
    monkeypatch.chdir(tmp_path)
    out = Path("out")
    shutil.copytree(trees["s3"], out)
    manifest = out / ".oncallgen-manifest"
    number = manifest.read_text(encoding="utf-8").splitlines().index("# thanos shards: 3") + 1
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("# thanos shards: 3", line), encoding="utf-8")
    before = _tree(out)
    result = CliRunner().invoke(main, ["generate", str(trees["specs"]), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert result.stderr == (f'error: out/.oncallgen-manifest:{number}:{column}: "{shown}" is not a number of '
                             "Thanos shards (2 to 1000): fix the line, or give --shards\n")
    assert _tree(out) == before
    _generate(trees["specs"], out, "--shards", "3")  # given, the line is not needed, and is rewritten
    assert _tree(out) == _tree(trees["s3"])


def test_diff_without_shards_compiles_for_the_recorded_ones(trees: dict) -> None:
    result = CliRunner().invoke(main, ["diff", str(trees["specs"]), "-o", str(trees["s3"]), "--base-dir",
                                       str(trees["s3"])])
    assert result.exit_code == 0 and "packaged" not in result.stdout, result.stdout

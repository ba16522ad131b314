"""`OnCallTeam.spec.rotation`: who is on call when, computed by hand here, refused at its line when it cannot work, and
named in the runbooks."""
from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.spec.model import Rotation

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


WEEKLY = Rotation("Europe/Berlin", date(2026, 11, 30), "10:00", 7, ("Ana", "Bao", "Chidi"), ())


@pytest.mark.parametrize("moment, index, primary, secondary", [
    ("2026-11-30 08:59", -1, "Chidi", "Bao"),     # 09:59 in Berlin (CET, UTC+1): the shift before the first
    ("2026-11-30 09:00", 0, "Ana", "Chidi"),      # 10:00 in Berlin: Ana's first shift; the previous primary backs up
    ("2026-12-07 08:59", 0, "Ana", "Chidi"),
    ("2026-12-07 09:00", 1, "Bao", "Ana"),
    ("2026-12-21 09:00", 3, "Ana", "Chidi"),      # three weeks on: round to the first again
])
def test_weekly_shifts_hand_off_at_the_local_time(moment: str, index: int, primary: str, secondary: str) -> None:
    shift = WEEKLY.shift_at(at(moment))
    assert (shift.index, shift.primary, shift.secondary) == (index, primary, secondary)
    assert shift.start.hour == 10 and (shift.end - shift.start).days == 7


def test_a_handoff_keeps_its_wall_clock_time_across_daylight_saving() -> None:
    # Berlin moves to CEST (UTC+2) on Sunday 2026-03-29: the Monday 10:00 handoffs are 09:00 UTC before, 08:00 after.
    r = Rotation("Europe/Berlin", date(2026, 3, 23), "10:00", 7, ("Ana", "Bao"), ())
    assert r.shift_at(at("2026-03-23 09:00")).index == 0
    assert r.shift_at(at("2026-03-30 07:59")).index == 0
    assert r.shift_at(at("2026-03-30 08:00")).index == 1
    assert r.shift(1).start.astimezone(UTC) == at("2026-03-30 08:00")


def test_daily_shifts_with_their_own_secondaries() -> None:
    r = Rotation("UTC", date(2026, 1, 1), "09:30", 1, ("Ana", "Bao"), ("Dee", "Eli", "Fay"))
    shift = r.shift_at(at("2026-01-03 09:29"))   # still the shift of 2 January, index 1
    assert (shift.index, shift.primary, shift.secondary) == (1, "Bao", "Eli")
    shift = r.shift_at(at("2026-01-03 09:30"))
    assert (shift.index, shift.primary, shift.secondary) == (2, "Ana", "Fay")


def test_one_person_has_no_backup_named() -> None:
    assert Rotation("UTC", date(2026, 1, 5), "10:00", 7, ("Ana",), ()).shift(4).secondary is None


def _specs(tmp_path: Path, rotation: str) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    team = specs / "oncall" / "search.yaml"
    team.write_text(re.sub(r"\n  rotation:\n(    .*\n)*", "\n", team.read_text()) + rotation)
    return specs


@pytest.mark.parametrize("rotation, field, message", [
    ("  rotation: {start: \"2026-12-01\"}\n", "spec.rotation.start", "is a tuesday"),
    ("  rotation: {start: \"2026-02-30\"}\n", "spec.rotation.start", "no date of the calendar"),
    ("  rotation: {start: \"2026-11-30\", length: 36h}\n", "spec.rotation.length", "whole days"),
    ("  rotation: {start: \"2026-11-30\", length: 5w}\n", "spec.rotation.length", "whole days, from 1d to 4w"),
    ("  rotation: {start: \"2026-11-30\", location: Mars/Olympus}\n", "spec.rotation.location", "unknown time zone"),
    ("  rotation: {start: \"2026-11-30\", secondary: [Ana]}\n", "spec.rotation.secondary", "primary"),
    ("  rotation: {start: \"2026-11-30\", primary: [Ana, Ana]}\n", "spec.rotation.primary", "non-unique"),
    ("  rotation: {start: \"2026-11-30\", handoff_time: \"25:00\"}\n", "spec.rotation.handoff_time", "10:00"),
])
def test_a_rotation_that_cannot_work_is_refused_at_its_line(tmp_path: Path, rotation: str, field: str,
                                                              message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _specs(tmp_path, rotation)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "specs"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert re.match(rf"^error: specs/oncall/search\.yaml:\d+:\d+: {re.escape(field)}: ", lines[0]), lines[0]
    assert message in lines[0], lines[0]


def test_the_runbooks_name_the_rotation(out_dir: Path) -> None:
    page = (out_dir / "runbooks" / "support-assistant" / "ai-provider-down.md").read_text(encoding="utf-8")
    assert ("**Rotation**: 1w shifts handing off Mondays at 10:00 (Europe/Berlin); primary in turn Ana → Bao → "
            "Chidi (the first from 30 Nov 2026); the previous shift's primary is the secondary.") in page
    # A team without a rotation says nothing of one.
    other = (out_dir / "runbooks" / "search-answers" / "ai-provider-down.md").read_text(encoding="utf-8")
    assert "**Rotation**" not in other

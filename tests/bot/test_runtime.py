"""Which sprint a process serves from SPRINTBOT_CONFIG at start: one team's current one."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from bot.clock import between_sprints
from bot.runtime import StartupError, served_sprint

TEAMS = Path(__file__).resolve().parents[2] / "examples" / "teams"


def test_a_directory_of_one_team_serves_its_current_sprint(tmp_path: Path) -> None:
    shutil.copy(TEAMS / "platform.toml", tmp_path)
    sprint = served_sprint(str(tmp_path), now=datetime.fromisoformat("2025-11-14T15:00Z"))
    assert sprint.sprint.name == "Phase 5 Hardening"
    assert between_sprints(sprint.sprint, datetime.fromisoformat("2025-11-14T15:00Z")) == ""


def test_between_sprints_the_next_is_served_and_daily_jobs_rest(tmp_path: Path) -> None:
    path = tmp_path / "platform.toml"
    path.write_text(
        (TEAMS / "platform.toml").read_text().replace("start = 2025-11-12", "start = 2025-11-17")
    )
    friday = datetime.fromisoformat("2025-11-14T15:00Z")
    sprint = served_sprint(str(path), now=friday)
    assert sprint.sprint.name == "Phase 5 Hardening"
    assert (
        between_sprints(sprint.sprint, friday) == "no sprint running; the next starts on 2025-11-17"
    )


def test_a_one_sprint_file_serves_its_sprint_whatever_the_date() -> None:
    example = Path(__file__).resolve().parents[2] / "sprint.example.toml"
    later = datetime.fromisoformat("2026-06-01T12:00Z")
    sprint = served_sprint(str(example), now=later)
    assert (
        between_sprints(sprint.sprint, later) == "no sprint running; the last ended on 2025-11-11"
    )


def test_several_teams_are_refused_not_guessed() -> None:
    with pytest.raises(StartupError, match=r"^SPRINTBOT_CONFIG names 2 teams \(mobile, platform\)"):
        served_sprint(str(TEAMS), now=datetime.fromisoformat("2025-11-14T15:00Z"))

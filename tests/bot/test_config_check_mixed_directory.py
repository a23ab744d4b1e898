"""`sprintbot config check DIR` on a directory of teams whose first file (by name) is a
one-sprint file (`[sprint]`, which README allows in a directory: "a team with one
sprint"; its other teams went unsaid; found by review)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support.server import EXAMPLE, TEAMS

pytestmark = pytest.mark.usefixtures("clean_env")


def test_config_check_of_a_directory_summarises_every_team(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An org moving to teams keeps its old sprint file as `core.toml` (a `[sprint]` file:
    one team, one sprint) beside the new `mobile.toml`. `config check teams/` prints
    "teams/core.toml: valid"-style output for the core sprint alone, as if the directory
    were that one file: mobile's team, zone and sprints, the "valid, 2 teams" line and any
    warning about mobile are never printed. It should print each team with its sprints, as
    it does for examples/teams."""
    teams = tmp_path / "teams"
    teams.mkdir()
    (teams / "core.toml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    (teams / "mobile.toml").write_text(
        (TEAMS / "mobile.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code = main(["config", "check", str(teams), "--at", "2025-11-05T12:00Z"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == f"{teams}: valid, 2 teams", out
    assert "team mobile: Mobile Apps (mobile.toml), zone Europe/Berlin" in out, out

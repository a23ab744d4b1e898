"""A directory of team files is read as `sorted(p.glob("*.toml"))` (`jobs.config.load_org`):
pathlib's glob, unlike the shell's `*.toml` and `ls`, takes hidden files too. What editors
and copies leave beside a team file (Emacs's lock link `.#platform.toml` while it is being
edited, macOS's `._platform.toml` resource files on a copied or unzipped directory) is
then read as a team file, and the whole configuration was refused (found by review)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.server import TEAMS


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("leftover", ["emacs-lock", "appledouble"])
def test_hidden_files_beside_the_team_files_are_not_teams(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, leftover: str
) -> None:
    """The admin points SPRINTBOT_CONFIG at a directory holding mobile.toml and
    platform.toml (`ls` shows just those). While platform.toml is open in Emacs, or after
    the directory was copied from a Mac, `sprintbot config check DIR` (and every process's
    start) fails with "1 error: .#platform.toml: file not found (set SPRINTBOT_CONFIG)" or
    "._platform.toml: not valid TOML", naming a file the admin cannot see. The directory's
    team files are its visible `*.toml` files: it should say "valid, 2 teams"."""
    teams = tmp_path / "teams"
    teams.mkdir()
    for f in TEAMS.glob("*.toml"):
        (teams / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    if leftover == "emacs-lock":
        os.symlink("admin@laptop.4242:1761800000", teams / ".#platform.toml")
    else:
        (teams / "._platform.toml").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X  ")
    assert sorted(p for p in os.listdir(teams) if not p.startswith(".")) == [
        "mobile.toml",
        "platform.toml",
    ]
    code = main(["config", "check", str(teams), "--at", "2025-11-14T15:00Z"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    assert out.splitlines()[0] == f"{teams}: valid, 2 teams"

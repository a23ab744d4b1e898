"""`config check` warns of a zone named by an abbreviation or a fixed offset ("EST",
"Etc/GMT+5"): it keeps no daylight saving time, and a team in New York given "EST" got
its 9:00 report at 10:00 all summer (found by review); not of a place named without a
slash ("Singapore") or UTC by another name ("Zulu"), as its first version did."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support.server import EXAMPLE


@pytest.mark.parametrize("zone", ["EST", "MST", "Etc/GMT+5"])
def test_a_zone_without_daylight_saving_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zone: str
) -> None:
    path = tmp_path / "sprint.toml"
    path.write_text(EXAMPLE.read_text().replace('"America/New_York"', f'"{zone}"'))
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f'warning: sprint.timezone: "{zone}" is a fixed offset or an abbreviation' in out


@pytest.mark.parametrize(
    "zone",
    [
        "America/New_York",
        "UTC",
        "Asia/Kolkata",
        "EST5EDT",
        "Singapore",
        "Japan",
        "Iceland",
        "UCT",
        "Zulu",
        "Etc/Universal",
        "PRC",
    ],
)
def test_a_place_is_not_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zone: str
) -> None:
    path = tmp_path / "sprint.toml"
    path.write_text(EXAMPLE.read_text().replace('"America/New_York"', f'"{zone}"'))
    assert main(["config", "check", str(path)]) == 0
    assert "sprint.timezone" not in capsys.readouterr().out

"""The tracker's Code Quality Trends row for the pass rate says "First → Latest" and a
Change beside them, which must be the difference of the two as shown (the rule the latest
commits gave every "before → after (±x pts)": jobs.numbers.change)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from tests.support.core_sprint import send, sprint_file
from tests.support.e2e import at
from tests.support.server import Server, cli_env

SPRINT = sprint_file("Rate sprint")


@pytest.mark.usefixtures("quick_pace")
def test_tracker_pass_rate_change_is_the_difference_of_the_two_shown(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Baseline 2 of 3 tests pass (66.67 %); on day 2 four new passing tests: 6 of 7
    (85.71 %). The tracker's trend row reads "66.67 % | 85.71 % | ↑ +19.05 pts": 85.71 -
    66.67 is 19.04 (19.05 is the change of the unrounded rates, 85.714 - 66.667)."""
    path = tmp_path / "rate.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    cli_env(monkeypatch, server, path)
    send(server, datetime(2025, 10, 29, 14, tzinfo=UTC), "r1", "PPF")
    send(server, datetime(2025, 10, 30, 14, tzinfo=UTC), "r2", "PPFPPPP")
    now = datetime(2025, 10, 30, 20, tzinfo=UTC)
    at(server, now)
    out = tmp_path / "tracker.md"
    assert cli.main(["export", "tracker", "--out", str(out), "--at", now.isoformat()]) == 0
    row = next(x for x in out.read_text().splitlines() if x.startswith("| Test Pass Rate"))
    assert "| 66.67 % | 85.71 % |" in row, row
    assert "+19.04 pts" in row, row

"""`GET /api/v1/sprint?at=` for an instant of the team's previous sprint, asked while the
next one runs, answers the *next* sprint "before" it began (day -6, "Sprint starts on …"),
while `sprintbot export tracker --at` for the same instant gives the sprint that was running
then (Phase 4, day 8 of 14). Two surfaces, one instant, two different sprints (found by
review)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from tests.e2e.test_next_sprint import api
from tests.e2e.test_sprint_history import org  # noqa: F401  (the fixture: Phase 5's day 3)
from tests.support.server import Server, cli_env

INSTANT = "2025-11-05T10:00"  # New York: Phase 4's day 8 (Phase 5 starts on 2025-11-12)


def test_api_at_an_instant_of_the_previous_sprint_answers_that_sprint(
    org: Server,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Someone charts the team's readiness over the season with `?at=`; for 5 November they
    get Phase 5 Hardening "Sprint starts on 2025-11-12", day -6, with Phase 5's targets and
    plan. They should get what the team's sprint was at that instant — Phase 4, day 8 of 14
    — as the tracker exported `--at` the same instant (and that day's reports) show."""
    cli_env(monkeypatch, org, tmp_path / "teams")
    out = tmp_path / "tracker.md"
    capsys.readouterr()
    code = cli.main(
        ["export", "tracker", "--team", "platform", "--out", str(out), "--at", INSTANT + "-05:00"]
    )
    assert code == 0, capsys.readouterr()
    tracker = out.read_text()
    assert tracker.startswith("# Phase 4 Production Readiness Tracker"), tracker[:200]
    assert "**Sprint Status:** Day 8 of 14 (2025-11-05)" in tracker

    got = api(org, "/api/v1/sprint", team="platform", at=INSTANT)
    assert got.status_code == 200, got.text
    sprint = got.json()["sprint"]
    assert (sprint["name"], sprint["status"], sprint["day"]) == (
        "Phase 4 Production Readiness",
        "running",
        8,
    ), f"the API answered {sprint['name']!r}, {sprint['text']!r} (day {sprint['day']})"

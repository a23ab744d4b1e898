"""What the clock says of standup prompts it missed while it was down (found by review)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot import clock as bot_clock
from tests.support.server import Clock, Server


def test_missed_prompts_are_not_offered_as_a_backfill_but_reports_are(
    server: Server, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """The clock ran Thursday (day 2), then was down until Monday 09:00. On start it logged,
    for every daily job, "not replayed (backfill with `sprintbot job run standup-prompt
    --at ISO`)"; done as told, every participant got on Monday a DM "Time for today's
    standup — Day 3 of 14 (2025-10-31)". A missed prompt or reminder is not to be
    backfilled, and the clock says why; a missed daily report still is."""
    server.slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    clock.at = datetime(2025, 10, 30, 13, 0, tzinfo=UTC)  # Thu 09:00, day 2
    for name in ("daily-report", "standup-prompt"):
        bot_clock.scheduled(server.runtime, name)
    clock.at = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)  # Mon 09:00 EST, day 6
    with caplog.at_level(logging.WARNING, logger="bot.clock"):
        bot_clock.catch_up_teams(server.runtime)
    said = {
        r.getMessage().split(":", 1)[0]: r.getMessage()
        for r in caplog.records
        if ": missed " in r.getMessage()
    }
    assert said["standup-prompt"].endswith(
        "not replayed (a day's prompts ask about that day only)"
    ), said
    assert "job run standup-prompt" not in said["standup-prompt"]
    assert said["daily-report"].endswith(
        "not replayed (backfill with `sprintbot job run daily-report --at ISO`)"
    ), said

"""A clock started after 03:30 (a restart, a deploy, a host down overnight) never ran that
day's `retention` slot: the start-up catch-up and the 5-minute retry looked only at the
[schedule] jobs, and APScheduler's misfire grace is lost with the process (found by
review)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot import clock as bot_clock
from storage.models import JobRun
from tests.support.server import Clock, Server


def test_a_clock_started_after_the_retention_time_runs_todays_retention(
    server: Server, clock: Clock
) -> None:
    # Friday 2025-10-31, 05:00 in New York: the clock was down at 03:30 and starts now.
    clock.at = datetime(2025, 10, 31, 9, 0, tzinfo=UTC)
    started = bot_clock.catch_up_teams(server.runtime, started=True)
    # And its look for due slots every RETRY_MINUTES, a little later.
    clock.at = datetime(2025, 10, 31, 9, 5, tzinfo=UTC)
    again = bot_clock.catch_up_teams(server.runtime, started=False)
    with server.runtime.db.session() as session:
        slots = sorted(r.slot for r in session.exec(select(JobRun)).all() if r.job == "retention")
    # README, The clock: "Started after a slot's time, the clock runs today's missed slots
    # at once"; retention is a slot (job_run, once per local date, "every day").
    assert slots == ["2025-10-31"], (started, again)
    assert "retention: pruned nothing" in started
    assert "retention: already ran for 2025-10-31" in again

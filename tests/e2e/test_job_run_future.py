"""`sprintbot job run daily-report --at <a future time>` ("test a schedule", README) took
that future day's report slot: the real report of that day was never posted, and the one
queued went out that day with the figures of the day it was run (found by review). A time
to come is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import cli
from bot import clock as bot_clock
from tests.support.e2e import post_report, text_of
from tests.support.server import EXAMPLE, Clock, Server, cli_env

FRIDAY = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)  # Fri 10:00 New York, day 3
MONDAY_NINE = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)  # Mon 9:00 EST, day 6


def _status_reports(server: Server) -> list[str]:
    return [
        text_of(c).split("\n")[0]
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status"
    ]


@pytest.mark.usefixtures("quick_pace")
def test_job_run_at_a_future_time_does_not_take_that_days_report(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.at = FRIDAY
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.setattr(cli, "utcnow", lambda: FRIDAY)  # the real time is Friday
    # An admin "tests the schedule" on Friday for Monday's 9:00, as the README suggests.
    rc = cli.main(["job", "run", "daily-report", "--at", "2025-11-03T09:00-05:00"])
    server.runtime.sender.drain()
    posted_on_friday = _status_reports(server)
    # CI runs on Saturday: Monday's report shows it (the latest run).
    clock.at = datetime(2025, 11, 1, 15, 0, tzinfo=UTC)
    got = post_report(server, "pytest-xunit1-run1.xml", run="ci-sat", at="2025-11-01T15:00:00Z")
    assert got.status_code == 201, got.text
    # Monday 9:00: the clock's run of Monday's slot.
    clock.at = MONDAY_NINE
    said = bot_clock.scheduled(server.runtime, "daily-report")
    server.runtime.sender.drain()
    # Either the future --at is refused (usage error) and nothing dated Monday was posted on
    # Friday, or at least Monday's own run posts Monday's report.
    assert rc == 2 and not any("2025-11-03" in t for t in posted_on_friday), posted_on_friday
    monday = [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status" and "2025-11-03" in text_of(c).split("\n")[0]
    ]
    assert said == "daily-report: posted", (said, _status_reports(server))
    assert len(monday) == 1 and "`ci-sat`" in monday[0], monday

"""The morning's Home refresh after an early `/sprint report` (found by review)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bot import clock as bot_clock
from tests.support.e2e import blocks_text, home_opened
from tests.support.listeners import listeners_done
from tests.support.server import Clock, Server
from tests.support.slack import slash


def _homes(server: Server, user: str) -> list[str]:
    return [
        blocks_text(c.args["view"]["blocks"])
        for c in server.slack.calls_to("views.publish")
        if c.args.get("user_id") == user
    ]


def _wait_home(server: Server, user: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(_homes(server, user)) < count:
        assert time.monotonic() < deadline, "views.publish never called"
        server.runtime.sender.drain()
        time.sleep(0.05)


def test_an_early_sprint_report_does_not_cancel_the_mornings_home_refresh(
    server: Server, clock: Clock
) -> None:
    """A developer opened App Home on Thursday (day 2): it reads "Day 2 of 14". Friday
    (day 3) at 08:50 the tech lead types `/sprint report`: the day's report posts and takes
    the day's slot, as the README says. At 9:00 the clock's daily-report job then finds
    the report "already posted today" and also skips what README promises of every
    morning's report: "refreshes the Home of everyone who opened it in the past week".
    The developer's Home stays "Day 2 of 14" all Friday; it should be refreshed to Day 3
    at 9:00 (or by the early report) as on any other morning."""
    clock.at = datetime(2025, 10, 30, 14, 0, tzinfo=UTC)  # Thu 10:00 New York, day 2
    home_opened(server, "U0DEV")
    listeners_done()
    _wait_home(server, "U0DEV", 1)
    assert "Day 2 of 14" in _homes(server, "U0DEV")[-1]
    seen = len(_homes(server, "U0DEV"))

    clock.at = datetime(2025, 10, 31, 12, 50, tzinfo=UTC)  # Fri 08:50, day 3
    said = slash(server.url, "/sprint", "report", user_id="U0TECHLEAD").json()
    assert "Posting today's daily report" in str(said), said
    listeners_done()
    server.runtime.sender.drain()

    clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Fri 09:00: the clock's job
    result = bot_clock.scheduled(server.runtime, "daily-report")
    clock.at += timedelta(minutes=11)  # past the chart wait
    server.runtime.sender.drain()
    time.sleep(0.2)
    server.runtime.sender.drain()
    homes = _homes(server, "U0DEV")
    assert len(homes) > seen and "Day 3 of 14" in homes[-1], (
        result,
        [h.splitlines()[0] for h in homes],
    )

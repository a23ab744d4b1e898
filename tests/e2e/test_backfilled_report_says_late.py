"""A missed daily report backfilled as the clock's start-up line advises (`sprintbot job run
daily-report --at 2025-10-31T09:00-04:00`, run on Monday) goes out on Monday after Monday's
own report, as "Daily report — Day 3 of 14, 2025-10-31", with the note every report posted
after its time carries (":hourglass: Posted late: the clock was down at the
scheduled time."): it says it (found by review: read in the channel it looked like
Friday's report on time). So does a backfilled weekly report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import cli
from bot import clock as bot_clock
from tests.support.e2e import blocks_text
from tests.support.server import EXAMPLE, Clock, Server, cli_env

MONDAY_NINE = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)  # Mon 09:00 EST, day 6
MONDAY_ELEVEN = datetime(2025, 11, 3, 16, 0, tzinfo=UTC)
WEDNESDAY_ELEVEN = datetime(2025, 11, 5, 16, 0, tzinfo=UTC)  # day 8, 11:00 EST


def _reports(server: Server) -> list[str]:
    out = []
    for c in server.slack.calls_to("chat.postMessage"):
        if c.args.get("channel") != "#sprint-status" or "thread_ts" in c.args:
            continue
        b = c.args.get("blocks")
        b = json.loads(b) if isinstance(b, str) else b
        out.append(blocks_text(b))
    return out


@pytest.mark.usefixtures("quick_pace")
def test_a_backfilled_daily_report_says_it_was_posted_late(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clock was down on Friday; Monday's report goes at 9:00.
    clock.at = MONDAY_NINE
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    # At 11:00 an admin backfills Friday's, as the clock's warning says to.
    clock.at = MONDAY_ELEVEN
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.setattr(cli, "utcnow", lambda: MONDAY_ELEVEN)
    assert cli.main(["job", "run", "daily-report", "--at", "2025-10-31T09:00-04:00"]) == 0
    server.runtime.sender.drain()
    reports = _reports(server)
    [friday] = [r for r in reports if "2025-10-31" in r.splitlines()[0]]
    assert "Posted late" in friday, friday[:400]


@pytest.mark.usefixtures("quick_pace")
def test_backfilled_weekly_report_says_late_like_the_daily(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The clock was down on Tuesday (day 7, a weekly report day); on Wednesday at 11:00
    # an admin backfills Tuesday's daily and weekly reports.
    clock.at = WEDNESDAY_ELEVEN
    cli_env(monkeypatch, server, EXAMPLE)
    monkeypatch.setattr(cli, "utcnow", lambda: WEDNESDAY_ELEVEN)
    assert cli.main(["job", "run", "daily-report", "--at", "2025-11-04T09:00-05:00"]) == 0
    assert cli.main(["job", "run", "weekly-report", "--at", "2025-11-04T09:00-05:00"]) == 0
    server.runtime.sender.drain()
    posts = _reports(server)
    [daily] = [
        p for p in posts if p.startswith("Daily report") and "2025-11-04" in p.splitlines()[0]
    ]
    [weekly] = [p for p in posts if "Weekly report" in p.splitlines()[0]]
    assert "Posted late" in daily, daily[:300]
    assert "Posted late" in weekly, weekly[:600]

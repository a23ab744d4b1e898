"""The weekly report missed while the clock was down, backfilled as the clock's start-up
line advises (`sprintbot job run weekly-report --at ISO`) a day later, says it was posted
late, as the daily report backfilled the same way does (found by review)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import cli
from tests.support.e2e import blocks_text
from tests.support.server import EXAMPLE, Clock, Server, cli_env

WEDNESDAY_ELEVEN = datetime(2025, 11, 5, 16, 0, tzinfo=UTC)  # day 8, 11:00 EST


def _posts(server: Server) -> list[str]:
    out = []
    for c in server.slack.calls_to("chat.postMessage"):
        if c.args.get("channel") != "#sprint-status" or "thread_ts" in c.args:
            continue
        b = c.args.get("blocks")
        b = json.loads(b) if isinstance(b, str) else b
        out.append(blocks_text(b))
    return out


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
    posts = _posts(server)
    [daily] = [
        p for p in posts if p.startswith("Daily report") and "2025-11-04" in p.splitlines()[0]
    ]
    [weekly] = [p for p in posts if "Weekly report" in p.splitlines()[0]]
    assert "Posted late" in daily, daily[:300]
    assert "Posted late" in weekly, weekly[:600]

"""A sprint whose last day is not a workday never gets its final daily report.

examples/teams/mobile.toml (the repo's own example): "Offline Sync" runs 14 days from
Monday 2025-11-03, so it ends on Sunday 2025-11-16, and the team's workdays are mon-fri.
The clock's daily report runs only on workdays, and the report marks itself final only on
day 14 (`Figures.final_day`): the team's last report is Friday's "Day 12 of 14" with no word
that it is the last, and no report ever says the sprint ended (DESIGN.md, Definitions:
"the last day's report is the final one, and every surface says when the sprint ended")."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import clock as bot_clock
from tests.support.e2e import blocks_text
from tests.support.server import Server, two_teams


def test_a_sprint_ending_on_a_weekend_still_gets_a_final_report(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    mobile = server.runtime.teams.get("mobile")
    assert mobile is not None
    [sprint] = mobile.sprints
    assert sprint.sprint.end.isoformat() == "2025-11-16"  # a Sunday
    # 09:00 in Berlin (CET) every day of the sprint and the day after, as the clock fires it.
    day = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)
    results = []
    while day <= datetime(2025, 11, 17, 8, 0, tzinfo=UTC):
        server.clock.at = day
        results.append(bot_clock.run_for_team(server.runtime, "mobile", "daily-report"))
        day += timedelta(days=1)
    server.runtime.sender.drain()
    reports = [
        blocks_text(b if isinstance(b := c.args["blocks"], list) else json.loads(b))
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status" and "thread_ts" not in c.args
    ]
    assert reports, results
    last = reports[-1]
    heads = [r.splitlines()[0] for r in reports]
    # The team's last report of the sprint must say it is the final one (as day 14's does).
    assert "final daily report" in last or "ended" in last, heads

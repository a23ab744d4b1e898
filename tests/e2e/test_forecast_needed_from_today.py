"""The forecast's "pace needed" is to be taken from today's value (docs/definitions.md:
"'not at this pace' with the pace needed from today's value to reach it on the last
day"), but it is taken from the last *counted* day's end: a manual score (or a nightly
benchmark) that moved readiness this morning was left out (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_figures import send_run, sprint_json
from tests.e2e.test_weekly_and_milestones import MANUAL_SPRINT
from tests.support.e2e import at, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

WEEKLY_ON_DAY_4 = MANUAL_SPRINT + "\n[schedule]\nweekly_report_days = [4]\n"


@pytest.mark.usefixtures("quick_pace")
def test_the_pace_needed_starts_from_todays_readiness(make_server: Any, tmp_path: Path) -> None:
    """A 5-day sprint aiming at 90 %: Core 100 %, Guides 0 % → readiness 50 % on days
    1-3. Day 4, 08:30: an admin sets Guides to 60 → readiness 80 %. At 09:00 the weekly
    report's headline says "Readiness 80 %", and `GET /api/v1/sprint` says score 80; but
    the forecast (in the report and in the API, same instant) reads current 50 % and
    "needs +40.00 pts/day" — the 40 points from day 3's 50 %, not the 10 from today's
    80 % that remain. Expected: the forecast's current is today's 80 % and it needs
    +10 pts/day over the one day left."""
    from bot import clock as bot_clock

    path = tmp_path / "manual.toml"
    path.write_text(WEEKLY_ON_DAY_4)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    for d in (1, 2, 3):
        send_run(
            server,
            datetime(2025, 10, 28, 14, 0, tzinfo=UTC) + timedelta(days=d),
            f"r{d}",
            {"c1": "P"},
        )
    at(server, datetime(2025, 11, 1, 12, 30, tzinfo=UTC))  # day 4, 08:30 EDT
    resp = slash(server.url, "/readiness", "set Guides 60", user_id="U0DEV")
    assert resp.status_code == 200, resp.text
    listeners_done()
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))  # day 4, 09:00 EDT
    body = sprint_json(server)
    assert body["readiness"]["score"] == 80.0, body["readiness"]
    assert bot_clock.run_job(server.runtime, "weekly-report").endswith("posted")
    server.runtime.sender.drain()
    [weekly] = [text_of(p) for p in posts(server) if "Weekly report" in p.args.get("text", "")]
    forecast = weekly.split("*Forecast*", 1)[1].split("\n*", 1)[0]
    [line] = [x for x in forecast.splitlines() if x.startswith("• Readiness")]
    fc = body["forecast"]["readiness"]
    assert (fc["current"], fc["needed_per_day"]) == (80.0, 10.0), (fc, line)
    assert "needs +10.00" in line, line

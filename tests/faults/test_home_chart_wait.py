"""A Home refreshed in the morning waits for the morning's chart (bot.outbox._chart_or_wait);
where that wait was felt by a user who asked for a Home, and a backfill's (each found by
review)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot import clock as bot_clock
from storage.models import OutboxMessage
from tests.faults.test_home_chart_gone import _home_opened_on_day_3
from tests.support.e2e import at, blocks_text, click, home_opened, home_views, view_buttons
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams

pytestmark = pytest.mark.faults


def _rows(server: Server, contains: str) -> list[tuple[str, str, str | None]]:
    with server.runtime.db.read() as s:
        return [
            (k, str(st), e)
            for k, st, e in s.exec(
                select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.last_error).where(
                    col(OutboxMessage.key).contains(contains)
                )
            ).all()
        ]


def test_another_teams_home_the_user_asks_for_is_not_held_behind_a_home_waiting_for_a_chart(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob (mobile and platform) looks at mobile's Home. Mobile's morning report refreshes
    it and waits for mobile's chart, whose upload Slack keeps failing (5xx). Bob clicks
    *Show Core Platform*: platform's Home has no chart to wait for, yet it shares Bob's
    Home lane and waited behind mobile's until mobile's wait ran out (ten minutes). A
    waiting Home with a newer one behind it goes now."""
    org = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    at(org, datetime(2025, 11, 4, 14, 0, tzinfo=UTC))
    home_opened(org, "U0BOB")
    listeners_done()
    org.runtime.sender.drain()
    [first] = home_views(org, "U0BOB")
    assert blocks_text(first["blocks"]).startswith("Offline Sync"), blocks_text(first["blocks"])
    [show] = view_buttons(first)

    org.slack.fail("files.getUploadURLExternal", status=500, times=1000)
    at(org, datetime(2025, 11, 4, 15, 0, tzinfo=UTC))
    mobile = org.runtime.teams.get("mobile")
    said = bot_clock.run_job(org.runtime, "daily-report", team=mobile)
    assert said.startswith("daily-report: posted"), said
    org.runtime.sender.drain()
    assert _rows(org, "home-refresh:U0BOB"), _rows(org, "U0BOB")  # mobile's refresh

    at(org, datetime(2025, 11, 4, 15, 1, tzinfo=UTC))
    click(org, show["action_id"], show["value"], user="U0BOB", channel="D0HOME")
    listeners_done()
    for minute in (1, 2, 3):
        at(org, datetime(2025, 11, 4, 15, minute, tzinfo=UTC))
        time.sleep(0.1)
        org.runtime.sender.drain()
    shown = [blocks_text(v["blocks"]).split("\n", 1)[0] for v in home_views(org, "U0BOB")]
    assert any(s.startswith("Phase 4") for s in shown), (shown, _rows(org, "U0BOB"))


def test_a_home_the_user_opens_while_the_mornings_chart_is_slow_is_not_held_ten_minutes(
    server: Server,
) -> None:
    """Day 4, 9:00: the morning's chart upload keeps failing (Slack 5xx, retried). At 9:02
    the user opens the Home tab: they kept seeing yesterday's dashboard (numbers and all)
    until 9:10, when the morning's refresh gave up waiting, and their own Home followed at
    9:12. Only the morning's refreshes wait for its chart; a Home asked for goes at once."""
    _home_opened_on_day_3(server)
    before = len(home_views(server, "U0DEV"))
    server.slack.fail("files.getUploadURLExternal", status=500, times=1000)
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    at(server, datetime(2025, 11, 1, 13, 2, tzinfo=UTC))
    home_opened(server, "U0DEV")
    listeners_done()
    for minute in (2, 3, 4):
        at(server, datetime(2025, 11, 1, 13, minute, tzinfo=UTC))
        time.sleep(0.1)
        server.runtime.sender.drain()
    new = [blocks_text(v["blocks"]).split("\n", 1)[0] for v in home_views(server, "U0DEV")[before:]]
    assert new, _rows(server, "U0DEV")


def _image_ids(view: dict[str, Any]) -> list[str]:
    return [b["slack_file"]["id"] for b in view["blocks"] if b["type"] == "image"]


def test_a_backfilled_mornings_home_shows_that_mornings_chart(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Friday's (day 3) report and chart went out; the user opened Home on Friday. The
    clock was down on Monday (day 6) at 9:00; on Tuesday at 8:00 the admin backfills it as
    the README says (`sprintbot job run daily-report --at 2025-11-03T09:00-05:00`, whose
    outbox runs on the real time). The refresh is queued "at" Monday 9:00, so to the
    sender it had waited a day already: it was published at once with Friday's chart beside
    Monday's numbers, though Monday's chart uploads in the same drain. A wait is counted
    from its start on the sender's clock."""
    _home_opened_on_day_3(server)
    before = len(home_views(server, "U0DEV"))
    # `job run --at`: the job's clock reads Monday 9:00, its outbox's the real time
    # (build_runtime's `outbox_now`), Tuesday 8:00.
    tuesday = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
    monkeypatch.setattr(server.runtime.sender, "now", lambda: tuesday)
    at(server, datetime(2025, 11, 3, 14, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    uploads = server.slack.calls_to("files.completeUploadExternal")
    mondays = json.loads(uploads[-1].args["files"])[0]["id"]
    [refreshed] = home_views(server, "U0DEV")[before:]
    assert "Day 6 of 14" in blocks_text(refreshed["blocks"]).split("\n", 1)[0]
    assert _image_ids(refreshed) == [mondays]

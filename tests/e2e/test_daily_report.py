"""The daily report: a sprint's recorded runs over several days, then `job run daily-report`
at 09:00; the report's content, the burn-down PNG in its thread, once per day."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot import clock as bot_clock
from tests.support.e2e import at, post_report, posts, text_of
from tests.support.server import Server
from tests.support.slack import slash


def test_daily_report_with_burndown_chart(server: Server) -> None:
    # Day 1 (Oct 29): all passing. Day 2 (Oct 30): regressions. Day 3 09:00: the report.
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 10, 30, 15, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run2.xml", run="d2", commit="bbb", at="2025-10-30T15:00:00Z")
    slash(server.url, "/blocker", "P0 Swarm Coordination: consensus broken", user_id="U0DEV")
    server.runtime.sender.drain()
    sent_before = len(posts(server))

    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    assert bot_clock.run_job(server.runtime, "daily-report") == (
        "daily-report: already posted today"
    )
    [report] = posts(server)[sent_before:]
    assert report.args["channel"] == "#sprint-status"
    text = text_of(report)
    assert text.startswith("Daily report — Day 3 of 14, 2025-10-31: readiness")
    # Day 1 measured 80 % (13 tests passing): the plan runs from it to 85 % (day 3: 5/18).
    assert "*Plan today / target*\n81.39 % / 85 %" in text
    assert "*Critical*: 14.22 pts below plan (67.17 % against today's plan of 81.39 %)" in text
    assert "plan rescaled from the stated 67 % to the measured 80 %" in text
    assert "*Readiness*\n67.17 % (-12.83 pts since yesterday)" in text
    assert "*Tests passing*\n7/13 (53.85 %, target 87 %)" in text
    assert "• Velocity: 0 tests fixed yesterday" in text
    assert "*Yesterday (2025-10-30)*: 1 CI run(s), 1 report(s); last: 7 passed, 5 failed" in text
    assert "• Regressed: 5" in text
    assert "• New failing tests: 0" in text
    assert "*Risks*: none open" in text
    assert "`tests.swarm.test_coordination::test_leader_election`" in text
    assert "*Open blockers (1)*" in text and "*B-001* P0 · Swarm Coordination" in text
    assert "The burn-down chart is in the thread." in text

    [complete] = server.slack.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "CSPRINTSTATUS"
    assert complete.args["thread_ts"]
    [png] = server.slack.uploads.values()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_each_daily_slot_runs_once_even_with_two_clocks(server: Server) -> None:
    import threading

    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(bot_clock.scheduled(server.runtime, "daily-report"))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["daily-report: already ran for 2025-10-31", "daily-report: posted"]
    assert len([p for p in posts(server) if p.args.get("channel") == "#sprint-status"]) == 1


def test_catch_up_runs_todays_missed_slots_late(server: Server) -> None:
    # The clock starts at 10:00 local: every daily slot of today has passed.
    at(server, datetime(2025, 10, 31, 14, 0, tzinfo=UTC))
    done = bot_clock.catch_up(server.runtime)
    assert [d.split(":")[0] for d in done] == [
        "retention",  # (at 03:30)
        "daily-report",  # (no weekly report: day 3 is not one of weekly_report_days)
        "standup-prompt",
        "standup-reminder",
        "standup-digest",
    ]
    [report] = [p for p in posts(server) if p.args.get("channel") == "#sprint-status"]
    assert "Posted late: the clock was down at the scheduled time." in text_of(report)
    # (The reminder and the digest follow the prompt by their gaps on time:
    # `test_reminder_after_a_late_prompt`.)
    assert done[3].startswith("standup-reminder: due at 10:25")
    assert done[4].startswith("standup-digest: due at 10:30")
    # A second start the same day replays nothing.
    assert [d for d in bot_clock.catch_up(server.runtime) if "already ran" not in d] == done[3:]


def test_catch_up_logs_older_missed_slots_without_replaying_them(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # The clock ran on Oct 29 (day 1), then was down until Nov 3, 10:00 (day 6).
    at(server, datetime(2025, 10, 29, 14, 0, tzinfo=UTC))
    bot_clock.catch_up(server.runtime)
    at(server, datetime(2025, 11, 3, 15, 0, tzinfo=UTC))
    with caplog.at_level(logging.WARNING, logger="bot.clock"):
        bot_clock.catch_up(server.runtime)
    missed = [
        r.getMessage() for r in caplog.records if "while the clock was down" in r.getMessage()
    ]
    assert (
        "daily-report: missed 2025-10-30, 2025-10-31, 2025-11-01, 2025-11-02 while the clock was "
        "down; not replayed (backfill with `sprintbot job run daily-report --at ISO`)"
    ) in missed
    assert not any(m.startswith("weekly-report") for m in missed)  # day 7 has not come
    reports = [p for p in posts(server) if p.args.get("channel") == "#sprint-status"]
    assert [text_of(p).split(":")[0] for p in reports] == [
        "Daily report — Day 1 of 14, 2025-10-29",
        "Daily report — Day 6 of 14, 2025-11-03",
    ]

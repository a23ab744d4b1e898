"""Concurrent clocks and manual runs, and a crash in the middle of a daily job: each slot's
messages are queued exactly once, and what each run prints is true."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.executors.base import run_job
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot import clock as bot_clock
from bot import people
from jobs import reports
from storage.models import JobRun, OutboxMessage
from tests.support.e2e import text_of
from tests.support.server import Clock, Server, together

pytestmark = pytest.mark.faults

DAY3 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # 9:00 in New York, day 3


def status_texts(server: Server) -> list[str]:
    """The reports in #sprint-status, as shown (their blocks' text)."""
    return [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status"
    ]


def status_posts(server: Server) -> list[str]:
    return [
        c.args["text"]
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status"
    ]


def test_concurrent_manual_runs_say_posted_only_where_they_posted(
    server: Server, clock: Clock
) -> None:
    # Fault: three of five concurrent `job run daily-report` printed "posted" though one
    # report was queued (the others' enqueue lost the race and was ignored).
    clock.at = DAY3
    results = sorted(together(5, lambda: bot_clock.run_job(server.runtime, "daily-report")))
    assert results == ["daily-report: already posted today"] * 4 + ["daily-report: posted"]
    assert len(status_posts(server)) == 1


def test_concurrent_clocks_run_every_daily_slot_once(server: Server, clock: Clock) -> None:
    clock.at = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)  # day 7: a weekly report day too
    for name in bot_clock.daily_jobs(server.runtime):
        results = together(3, partial(bot_clock.scheduled, server.runtime, name))
        ran = [r for r in results if "already ran" not in r]
        assert len(ran) == 1, results
    posted = status_posts(server)
    assert sorted(p.split(" — ")[0] for p in posted) == ["Daily report", "Weekly report"]
    keys = [m.key for m in _outbox(server)]
    assert len(keys) == len(set(keys))


def test_a_crash_after_the_claim_neither_loses_nor_doubles_the_report(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault: the slot's claim was committed before the job ran, so a crash in between
    # (here: the job fails after the claim) left the day claimed and its report never sent.
    clock.at = DAY3
    real = reports.morning_report

    def crash(**kwargs: Any) -> bool:
        real(**kwargs)  # queued the report in the transaction …
        raise SystemExit("killed")  # … and the process died before committing it

    monkeypatch.setattr(reports, "morning_report", crash)
    with pytest.raises(SystemExit):
        bot_clock.scheduled(server.runtime, "daily-report")
    with server.runtime.db.session() as session:
        assert session.exec(select(JobRun)).all() == []
    assert _outbox(server) == []

    monkeypatch.setattr(reports, "morning_report", real)
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    assert bot_clock.scheduled(server.runtime, "daily-report") == (
        "daily-report: already ran for 2025-10-31"
    )
    assert len(status_posts(server)) == 1
    with server.runtime.db.session() as session:
        [run] = session.exec(select(JobRun)).all()
    assert (run.job, run.slot, run.result) == ("daily-report", "2025-10-31", "daily-report: posted")


def _outbox(server: Server) -> list[OutboxMessage]:
    with server.runtime.db.session() as session:
        return list(session.exec(select(OutboxMessage)).all())


def test_slack_down_at_nine_delays_the_days_report_but_loses_nothing(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example's participants are the team channel's members, read from Slack before
    the slot is claimed: with Slack down at 9:00 the job failed, nothing was claimed, and
    the running clock's next daily report was tomorrow's. Members read before carry a run
    through an outage; never read yet, the clock runs the slot again within minutes."""
    monkeypatch.setattr(people, "_read", {})  # never read yet
    clock.at = DAY3
    server.slack.outage("503")
    with pytest.raises(SlackApiError):
        bot_clock.scheduled(server.runtime, "daily-report")
    server.slack.recover()
    clock.at = DAY3 + timedelta(minutes=bot_clock.RETRY_MINUTES)
    assert "daily-report: posted" in bot_clock.catch_up_teams(server.runtime, started=False)
    server.runtime.sender.drain()
    [report] = status_texts(server)
    assert report.startswith("Daily report — Day 3 of 14") and "Posted late" not in report
    # The next day the members are known: an outage at 9:00 holds the report in the outbox
    # only, posted on time once Slack answers.
    clock.at = DAY3 + timedelta(days=1)
    server.slack.outage("503")
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.slack.recover()
    server.runtime.sender.drain()
    assert [r.split(",")[0] for r in status_posts(server)] == [
        "Daily report — Day 3 of 14",
        "Daily report — Day 4 of 14",
    ]
    # Once the day's other due jobs ran, looking again finds every slot taken, and reads
    # nothing from Slack.
    bot_clock.catch_up_teams(server.runtime, started=False)
    calls = len(server.slack.calls)
    assert all(
        ": already ran for " in r or ": no slot on " in r
        for r in bot_clock.catch_up_teams(server.runtime, started=False)
    )
    assert len(server.slack.calls) == calls


def test_a_clock_paused_past_the_grace_posts_the_days_report_once_it_runs_again(
    server: Server, clock: Clock
) -> None:
    """A clock frozen from 8:50 to 11:00 (a suspended host, a paused container): the
    scheduler drops its 9:00 run, over an hour late. The clock's look for due slots every
    few minutes posts the day's report, saying it is late."""
    scheduler = BackgroundScheduler(timezone="UTC")
    bot_clock._schedule(scheduler, server.runtime)
    bot_clock._retry(scheduler, server.runtime)
    job = scheduler.get_job("daily-report")
    clock.at = DAY3 + timedelta(hours=2)
    nine = datetime.now(UTC) - timedelta(hours=2)
    events = run_job(job, "default", [nine], logging.getLogger("apscheduler").name)
    assert [e.code for e in events] == [EVENT_JOB_MISSED]
    retry = scheduler.get_job("retry")
    assert retry.trigger.interval == timedelta(minutes=bot_clock.RETRY_MINUTES)
    assert "daily-report: posted" in retry.func(*retry.args, **retry.kwargs)
    server.runtime.sender.drain()
    [report] = status_texts(server)
    assert report.startswith("Daily report — Day 3 of 14") and "Posted late" in report


def test_slack_unreachable_at_nine_goes_by_the_members_as_last_read(
    server: Server, clock: Clock
) -> None:
    """Slack refusing connections (DNS, a timeout: urllib's errors, not slack_sdk's) at 9:00
    the day after its members were read: the report goes by them, as with Slack answering
    503."""
    clock.at = DAY3
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    clock.at = DAY3 + timedelta(days=1)
    server.slack.outage("refuse")
    try:
        assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    finally:
        server.slack.recover()
    clock.at += timedelta(minutes=5)  # the outbox's next try, Slack back
    server.runtime.sender.drain()
    assert [r.split(",")[0] for r in status_posts(server)] == [
        "Daily report — Day 3 of 14",
        "Daily report — Day 4 of 14",
    ]


def test_a_slot_failing_all_morning_logs_its_traceback_once(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack down for an hour is twelve tries of each due job: the first failure is logged
    in full, the next ones in a line each."""
    monkeypatch.setattr(people, "_read", {})  # never read yet
    monkeypatch.setattr(bot_clock, "_failures", set())
    clock.at = DAY3
    server.slack.outage("503")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.clock"):
            for minutes in (0, 5, 10):
                clock.at = DAY3 + timedelta(minutes=minutes)
                bot_clock.catch_up_teams(server.runtime, started=False)
    finally:
        server.slack.recover()
    report = [r for r in caplog.records if ": daily-report for " in r.getMessage()]
    assert [(r.levelname, r.exc_info is not None) for r in report] == [
        ("ERROR", True),
        ("WARNING", False),
        ("WARNING", False),
    ]
    assert "failed again" in report[1].getMessage()


def test_each_teams_first_failure_is_logged_in_full_whatever_its_sprint_is_called(
    make_server: Callable[..., Server],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two teams whose sprints bear one name fail the same job the same morning, each its
    own way: each team's first failure is logged in full, naming the team (the second was
    taken for the first's, \"failed again\")."""
    from tests.support.server import two_teams

    teams = two_teams(tmp_path / "teams")
    for f in teams.glob("*.toml"):
        named = r'(?m)^name = "(Phase 4 Production Readiness|Offline Sync)"$'
        f.write_text(re.sub(named, 'name = "Sprint 14"', f.read_text()))
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    monkeypatch.setattr(bot_clock, "_failures", set())
    today = datetime(2025, 11, 4, tzinfo=UTC).date()
    with caplog.at_level(logging.WARNING, logger="bot.clock"):
        for team in server.runtime.teams.all:
            try:
                raise RuntimeError(f"{team.id}'s own trouble")
            except RuntimeError as exc:
                bot_clock._failed(server.runtime.for_team(team), "daily-report", today, exc)
    full = sorted(r.getMessage().split(":")[0] for r in caplog.records if r.exc_info)
    assert full == ["mobile", "platform"]

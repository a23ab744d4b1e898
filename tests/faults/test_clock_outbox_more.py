"""The clock and the outbox where a fault still cost a message (each found by review): an
evening job run late past midnight, an alert held by an outage, a backfill's Homes and its
sender, a day's standup message refused."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.executors.base import run_job
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from sqlmodel import select

from bot import cli
from bot import clock as bot_clock
from storage.models import JobRun, OutboxMessage
from tests.support.e2e import ANSWER, blocks_text, home_opened, post_report, submit, text_of
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, ROOT, Clock, Server, cli_env

pytestmark = pytest.mark.faults


def _keys(server: Server) -> list[str]:
    with server.runtime.db.session() as session:
        return sorted(
            m.key
            for m in session.exec(select(OutboxMessage)).all()
            if m.key.startswith("daily-report:") and m.method == "chat.postMessage"
        )


def evening_report(make_server: Callable[..., Server], tmp_path: Path) -> tuple[Server, Any]:
    """The example sprint with daily_report = "23:50", and the clock's job for it."""
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('daily_report = "09:00"', 'daily_report = "23:50"')
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    scheduler = BackgroundScheduler(timezone="UTC")
    bot_clock._schedule(scheduler, server.runtime)
    return server, scheduler.get_job("daily-report")


def fire_late(job: Any) -> None:
    """The scheduler runs `job` 20 minutes after its time (within its misfire grace)."""
    late = datetime.now(UTC) - timedelta(minutes=20)
    run_job(job, "default", [late], logging.getLogger("apscheduler").name)


def test_an_evening_report_run_late_past_midnight_is_the_evenings_not_tomorrows(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    """daily_report = "23:50": the scheduler fires Thursday's 23:50 run 20 minutes late
    (within the clock's one-hour misfire grace, e.g. a busy or paused process), at 00:10
    Friday. The run should be Thursday's report; it takes Friday's slot instead, so
    Thursday has no report and Friday's 23:50 run says "already ran"."""
    server, job = evening_report(make_server, tmp_path)
    # Friday 2025-10-31 00:10 in New York (EDT): Thursday's 23:50 slot, 20 minutes late.
    clock.at = datetime(2025, 10, 31, 4, 10, tzinfo=UTC)
    fire_late(job)
    # Friday 23:50 in New York: Friday's own slot.
    clock.at = datetime(2025, 11, 1, 3, 50, tzinfo=UTC)
    friday = bot_clock.scheduled(server.runtime, "daily-report")
    with server.runtime.db.session() as session:
        runs = session.exec(select(JobRun)).all()
        slots = sorted(r.slot for r in runs if r.job == "daily-report")
    assert friday == "daily-report: posted", friday
    assert slots == ["2025-10-30", "2025-10-31"], slots
    assert _keys(server) == ["daily-report:2025-10-30", "daily-report:2025-10-31"]


def test_an_alert_delivered_late_is_not_followed_up_the_moment_it_arrives(
    server: Server, clock: Clock
) -> None:
    """Slack is down when CI reports a regression (13:00 UTC) and for 90 minutes after.
    The alert reaches #phase4 once Slack is back, and "nobody acknowledged this within 1h"
    pinging the tech lead is posted a second later: nobody ever had the hour. A follow-up
    should wait for its window counted from when the alert was shown."""
    server.slack.outage("503")
    clock.at = datetime(2025, 10, 31, 12, 0, tzinfo=UTC)
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1", at="2025-10-31T12:00:00Z")
    clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    second = post_report(server, "pytest-xunit1-run2.xml", run="ci-2", at="2025-10-31T13:00:00Z")
    assert second.status_code == 201 and second.json()["regressions"]
    server.runtime.sender.drain()
    # 90 minutes later: the follow-up job runs (every minute), then Slack comes back.
    clock.at = datetime(2025, 10, 31, 14, 30, tzinfo=UTC)
    bot_clock.run_job(server.runtime, "alert-followup")
    server.slack.recover()
    clock.at += timedelta(minutes=5)  # past any back-off
    server.runtime.sender.drain()
    keys = [k for _, k in server.slack.posted_keys()]
    alerts = [k for k in keys if k.startswith("regression:") and ":" not in k[len("regression:") :]]
    followups = [k for k in keys if k.endswith(":followup")]
    assert alerts, keys
    assert followups == [], f"posted together with the alert it follows up: {keys}"


def _homes(server: Server, user: str) -> list[str]:
    return [
        blocks_text(c.args["view"]["blocks"])
        for c in server.slack.calls_to("views.publish")
        if c.args.get("user_id") == user
    ]


def test_backfilling_a_missed_days_report_does_not_turn_everyones_home_back_to_that_day(
    server: Server, clock: Clock
) -> None:
    """The clock was down on Friday (day 3) at 9:00. On Monday (day 6) the team's report
    ran at 9:00 and a user opened App Home at 10:00: it reads "Day 6 of 14". The admin then
    backfills Friday's report as the README says (`sprintbot job run daily-report --at
    2025-10-31T09:00-04:00`): the report posts, and also the user's live App Home is
    republished with Friday's figures ("Day 3 of 14") and stays so until the next morning."""
    monday_nine = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)  # 9:00 EST, day 6
    clock.at = monday_nine
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    clock.at = monday_nine + timedelta(hours=1)
    home_opened(server, "U0DEV")
    listeners_done()
    deadline = time.monotonic() + 10
    while not _homes(server, "U0DEV"):
        assert time.monotonic() < deadline, "views.publish never called"
        server.runtime.sender.drain()
        time.sleep(0.05)
    assert "Day 6 of 14" in _homes(server, "U0DEV")[-1]
    # `sprintbot job run daily-report --at 2025-10-31T09:00-04:00` (a runtime whose clock
    # reads the --at time), run on Monday at 10:05.
    clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    clock.at = monday_nine + timedelta(hours=1, minutes=5)
    server.runtime.sender.drain()
    assert any(
        t.startswith("Daily report — Day 3 of 14")
        for t in [text_of(c) for c in server.slack.calls_to("chat.postMessage")]
    )
    shown = _homes(server, "U0DEV")[-1]
    assert "Day 3 of 14" not in shown and "Day 6 of 14" in shown, shown.splitlines()[0]


@pytest.mark.usefixtures("quick_pace")
def test_a_backfill_run_by_job_run_is_not_taken_over_and_posted_again_by_the_web_worker(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sprintbot job run daily-report --at 2025-10-31T09:00-04:00` (the README's backfill)
    built its runtime with the clock fixed at --at, and its sender claimed the report's
    row with claimed_at = Oct 31. To every other sender (the web or clock process's outbox
    worker, on the real time) that claim was days past its 5-minute lease: a poll of theirs
    landing while `job run` delivered took the row over as "uncertain", found nothing in
    the channel yet, and posted it — and so did `job run`: two copies of the report."""
    clock.at = datetime(2025, 11, 3, 15, 5, tzinfo=UTC)  # Monday: the web process's time
    cli_env(monkeypatch, server, EXAMPLE)
    call = WebClient.api_call
    polled: list[str] = []

    def web_worker_polls_meanwhile(client: WebClient, method: str, **kwargs: Any) -> Any:
        if method == "chat.postMessage" and not polled:  # `job run` about to post its report
            polled.append(method)
            server.runtime.sender.drain()  # the web process's poll, landing now
        return call(client, method, **kwargs)

    monkeypatch.setattr(WebClient, "api_call", web_worker_polls_meanwhile)
    assert cli.main(["job", "run", "daily-report", "--at", "2025-10-31T09:00-04:00"]) == 0
    assert polled
    server.runtime.sender.drain()
    reports = [k for _, k in server.slack.posted_keys() if k == "daily-report:2025-10-31"]
    assert reports == ["daily-report:2025-10-31"], server.slack.posted_keys()


def test_standups_answered_after_the_team_channel_was_fixed_are_posted(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """At 9:00 the day's standup message ("Standup — Day 3 of 14") is refused for good:
    the team channel is private and the bot was not invited yet (not_in_channel; the same
    for an archived or renamed channel). The admin invites the bot at 9:02; at 9:05 a
    participant answers the standup. Their answer is a reply in the thread of a message
    that failed, so it fails too ("parent failed") — and so does every answer and the
    digest for the rest of the day: the form said nothing was wrong, and nothing reaches
    the channel. (The daily report gets a new key after a refusal: `_days_key`.)"""
    import json

    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace(
            'participants = "team"', f"participants = {json.dumps(['U0ANA', 'U0BEN'])}"
        )
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Friday 9:00, day 3
    server.slack.fail("chat.postMessage", error="not_in_channel")
    bot_clock.scheduled(server.runtime, "standup-prompt")
    server.runtime.sender.drain()
    with server.runtime.db.session() as session:
        day = session.exec(
            select(OutboxMessage).where(OutboxMessage.key == "standup-day:2025-10-31")
        ).first()
        assert day is not None and str(day.status).endswith("failed"), day
    # The bot is invited; at 9:05 U0ANA answers.
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)
    resp = submit(server, "U0ANA", **ANSWER)
    assert (resp.status_code, resp.text) == (200, "")
    server.runtime.sender.drain()
    answers = [c for c in server.slack.calls_to("chat.postMessage") if "Standup from" in text_of(c)]
    with server.runtime.db.session() as session:
        mine = session.exec(
            select(OutboxMessage).where(OutboxMessage.key == "standup:U0ANA:2025-10-31")
        ).first()
    assert answers, f"U0ANA's standup never posted: {mine and (mine.status, mine.last_error)}"


def test_the_last_days_evening_report_fired_late_past_midnight_is_still_posted(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    """daily_report = "23:50". The sprint's last day is Tue 2025-11-11 (New York). Its
    23:50 run fired 20 minutes late, at 00:10 Wednesday (within the misfire grace): the
    clock found the sprint ended as of 00:10 and posted nothing, so the last day had no
    report (found by review)."""
    server, job = evening_report(make_server, tmp_path)
    # Wed 2025-11-12 00:10 in New York (EST, UTC-5): Tuesday's (day 14's) 23:50 slot, late.
    clock.at = datetime(2025, 11, 12, 5, 10, tzinfo=UTC)
    fire_late(job)
    with server.runtime.db.session() as session:
        slots = sorted(
            r.slot for r in session.exec(select(JobRun)).all() if r.job == "daily-report"
        )
    assert slots == ["2025-11-11"], slots
    assert _keys(server) == ["daily-report:2025-11-11"]


def test_the_evening_report_fired_late_into_the_next_sprint_is_the_last_days_of_its_sprint(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    """The same, where the team's next sprint starts the next day (examples/teams: Phase 4
    ends on Tue 2025-11-11, Phase 5 starts on Wednesday): the run late past midnight is
    Phase 4's last report, "Day 14 of 14", not one of Phase 5's first day."""
    teams = tmp_path / "teams"
    teams.mkdir()
    platform = (ROOT / "examples" / "teams" / "platform.toml").read_text(encoding="utf-8")
    (teams / "platform.toml").write_text(
        platform.replace('daily_report = "09:00"', 'daily_report = "23:50"'), encoding="utf-8"
    )
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    clock.at = datetime(2025, 11, 12, 5, 10, tzinfo=UTC)  # 00:10 Wednesday in New York
    said = bot_clock.run_for_team(server.runtime, "platform", "daily-report")
    assert said == "daily-report: posted", said
    server.runtime.sender.drain()
    [report] = [
        p
        for p in server.slack.calls_to("chat.postMessage")
        if "Daily report" in blocks_text(p.args.get("blocks") or [])
    ]
    # Phase 4's fourteenth day (Phase 5 has ten).
    assert blocks_text(report.args["blocks"]).startswith("Daily report — Day 14 of 14, 2025-11-11")

"""`sprintbot clock` as real processes: two of them started at once against the same
database (PostgreSQL in CI's second pass) schedule every job, and each of today's slots
runs once — one daily report, one weekly report, one standup prompt."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import JOBS, RETENTION_AT
from storage.db import Database
from tests.e2e.test_clock_teams import team_file
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN, EXAMPLE, SIGNING_SECRET

SPRINTBOT = [sys.executable, "-m", "bot.cli"]


def sprint_for_today(tmp_path: Path) -> Path:
    """The example sprint, moved so that today (UTC) is its day 3 and a weekly report day,
    with every daily job at 00:00 so that all of today's slots have passed at start."""
    start = (datetime.now(UTC) - timedelta(days=2)).date()
    text = EXAMPLE.read_text(encoding="utf-8")
    for pattern, repl in (
        (r"(?m)^start = .*$", f"start = {start.isoformat()}"),
        (r"(?m)^timezone = .*$", 'timezone = "UTC"'),
        (r"(?m)^participants = .*$", 'participants = ["U0DEV1"]'),
        (
            r"(?m)^(daily_report|standup_prompt|standup_reminder|standup_digest) = .*$",
            r'\1 = "00:00"',
        ),
        (r"(?m)^weekly_report_days = .*$", "weekly_report_days = [3, 7]"),
    ):
        text, count = re.subn(pattern, repl, text)
        assert count, pattern
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_two_clocks_schedule_every_job_and_post_each_slot_once(
    tmp_path: Path, fake_slack: FakeSlack, db: Database, database_url: str
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SPRINTBOT_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "SPRINTBOT_CONFIG": str(sprint_for_today(tmp_path)),
        "SPRINTBOT_LOG_LEVEL": "DEBUG",  # the catch-up's line says when it is done
    }
    paths = [tmp_path / f"clock-{i}.log" for i in range(2)]
    files = [p.open("w") for p in paths]
    clocks = [
        subprocess.Popen(
            [*SPRINTBOT, "clock"], env=env, cwd=tmp_path, stdout=f, stderr=subprocess.STDOUT
        )
        for f in files
    ]
    try:
        # Each clock logs this once its start-up catch-up has run or skipped every slot.
        deadline = time.monotonic() + 60
        while not all("missed slots before" in p.read_text() for p in paths):
            assert all(c.poll() is None for c in clocks), "a clock exited"
            assert time.monotonic() < deadline, "clocks did not catch up"
            time.sleep(0.2)
        # The clocks' outbox workers deliver what the jobs queued: two charts (the daily
        # and weekly reports'), a standup prompt and a reminder.
        fake_ok = time.monotonic() + 20
        while (
            len(fake_slack.calls_to("files.completeUploadExternal")) < 2
            or len(_posted_to(fake_slack, "U0DEV1")) < 2
        ):
            assert time.monotonic() < fake_ok, "charts or DMs not delivered"
            time.sleep(0.1)
        time.sleep(0.5)  # a doubled post, were there one, would come about now
    finally:
        for c in clocks:
            c.terminate()
        for c in clocks:
            c.wait(timeout=20)
        for f in files:
            f.close()
    logs = [p.read_text() for p in paths]
    for out in logs:
        assert (
            "clock started for sprint in UTC with jobs: " + ", ".join(j.name for j in JOBS) in out
        ), out
        for job in JOBS:
            assert f'Added job "{job.name}" to job store "default"' in out, out
    sent = fake_slack.calls_to("chat.postMessage")
    status = [c.args["text"] for c in sent if c.args.get("channel") == "#sprint-status"]
    assert sorted(t.split(" — ")[0] for t in status) == ["Daily report", "Weekly report"]
    # One standup prompt and one reminder for the participant, not two of each.
    dms = _posted_to(fake_slack, "U0DEV1")
    assert len(dms) == 2 and len(set(dms)) == 2, dms
    # Every daily slot ran in one clock and was found taken in the other.
    for job in ("daily-report", "weekly-report", "standup-prompt", "standup-digest"):
        skipped = f"{job} for {datetime.now(UTC).date().isoformat()} already ran; skipping"
        assert sum(out.count(skipped) for out in logs) == 1, logs
    # (Retention's slot too, once its time of day has passed: the clock ran it on start.)
    pruned = ["retention"] if _past_retention(UTC) else []
    assert sorted(job for job, _ in _job_runs(db)) == sorted(
        [
            "daily-report",
            "standup-digest",
            "standup-prompt",
            "standup-reminder",
            "weekly-report",
            *pruned,
        ]
    )
    assert BOT_TOKEN not in "".join(logs)


def test_one_clock_process_serves_every_team_in_its_zone(
    tmp_path: Path, fake_slack: FakeSlack, db: Database, database_url: str
) -> None:
    # Two teams a day apart in their zones, every daily job at 00:00 local: at start each
    # clock catches up each team's passed slots, for the team's local date, into the team's
    # channels; two clocks run each team's slot once.
    folder = tmp_path / "teams"
    folder.mkdir()
    today, pruned = {}, {}
    for team, zone in (("kiwi", "Pacific/Auckland"), ("coast", "America/Los_Angeles")):
        today[team] = datetime.now(ZoneInfo(zone)).date()
        pruned[team] = ("retention",) if _past_retention(ZoneInfo(zone)) else ()
        team_file(
            folder,
            team,
            zone,
            [(f"{team} sprint", today[team] - timedelta(days=2), 14)],
            [f"U0{team.upper()}"],
            at="00:00",
            later=("00:00", "00:00"),
            workdays='"mon", "tue", "wed", "thu", "fri", "sat", "sun"',
        )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SPRINTBOT_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "SPRINTBOT_CONFIG": str(folder),
        "SPRINTBOT_LOG_LEVEL": "DEBUG",  # the catch-up's line says when it is done
    }
    paths = [tmp_path / f"clock-{i}.log" for i in range(2)]
    files = [p.open("w") for p in paths]
    clocks = [
        subprocess.Popen(
            [*SPRINTBOT, "clock"], env=env, cwd=tmp_path, stdout=f, stderr=subprocess.STDOUT
        )
        for f in files
    ]
    try:
        deadline = time.monotonic() + 60
        # (Each team's report and its two DMs go out in lanes of their own: waited for all.)
        while not all(p.read_text().count("missed slots before") == 2 for p in paths) or any(
            len(_posted_to(fake_slack, f"U0{team.upper()}")) < 2
            or not _posted_to(fake_slack, f"#{team}-status")
            for team in today
        ):
            assert all(c.poll() is None for c in clocks), "a clock exited"
            assert time.monotonic() < deadline, [p.read_text()[-2000:] for p in paths]
            time.sleep(0.2)
        time.sleep(0.5)  # a doubled post, were there one, would come about now
    finally:
        for c in clocks:
            c.terminate()
        for c in clocks:
            c.wait(timeout=20)
        for f in files:
            f.close()
    logs = [p.read_text() for p in paths]
    for out in logs:
        assert (
            "clock started for coast in America/Los_Angeles, kiwi in Pacific/Auckland with jobs"
        ) in out, out
        assert 'Added job "kiwi:daily-report" to job store "default"' in out, out
        assert 'Added job "coast:daily-report" to job store "default"' in out, out
        assert 'Added job "outbox" to job store "default"' in out, out
    for team in today:
        [report] = _posted_to(fake_slack, f"#{team}-status")
        assert report.startswith(f"Daily report — Day 3 of 14, {today[team].isoformat()}"), report
        prompt, reminder = _posted_to(fake_slack, f"U0{team.upper()}")
        assert prompt != reminder
    assert sorted(_job_runs(db)) == sorted(
        (job, today[team].isoformat())
        for team in today
        for job in (
            "daily-report",
            "standup-digest",
            "standup-prompt",
            "standup-reminder",
            *pruned[team],
        )
    )


def _past_retention(zone: tzinfo) -> bool:
    """Whether retention's time of day has passed where `zone` is (its slot is caught up
    on start then)."""
    return datetime.now(zone).time() >= RETENTION_AT


def _posted_to(fake: FakeSlack, channel: str) -> list[str]:
    return [
        c.args["text"]
        for c in fake.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
    ]


def _job_runs(db: Database) -> list[tuple[str, str]]:
    from sqlmodel import select

    from storage.models import JobRun
    from storage.queries.monitoring import HEARTBEAT_JOB

    with db.session() as s:  # the jobs' slots (the clock's heartbeat is a row of its own)
        rows = s.exec(select(JobRun).where(JobRun.job != HEARTBEAT_JOB)).all()
        return [(r.job, r.slot) for r in rows]

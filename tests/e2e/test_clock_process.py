"""`sprintbot clock` as real processes: two of them started at once against the same
database (PostgreSQL in CI's second pass) schedule every job, and each of today's slots
runs once — one daily report, one weekly report, one standup prompt."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import JOBS
from storage.db import Database
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
        fake_ok = time.monotonic() + 10
        while len(fake_slack.calls_to("files.completeUploadExternal")) < 2:
            assert time.monotonic() < fake_ok, "charts not uploaded"
            time.sleep(0.1)
    finally:
        for c in clocks:
            c.terminate()
        for c in clocks:
            c.wait(timeout=20)
        for f in files:
            f.close()
    logs = [p.read_text() for p in paths]
    for out in logs:
        assert "clock started in UTC with jobs: " + ", ".join(j.name for j in JOBS) in out, out
        for job in JOBS:
            assert f'Added job "{job.name}" to job store "default"' in out, out
    sent = fake_slack.calls_to("chat.postMessage")
    status = [c.args["text"] for c in sent if c.args.get("channel") == "#sprint-status"]
    assert sorted(t.split(" — ")[0] for t in status) == ["Daily report", "Weekly report"]
    # One standup prompt and one reminder for the participant, not two of each.
    dms = [c.args["text"] for c in sent if c.args.get("channel") == "U0DEV1"]
    assert len(dms) == 2 and len(set(dms)) == 2, dms
    # Every daily slot ran in one clock and was found taken in the other.
    for job in ("daily-report", "weekly-report", "standup-prompt", "standup-digest"):
        skipped = f"{job} for {datetime.now(UTC).date().isoformat()} already ran; skipping"
        assert sum(out.count(skipped) for out in logs) == 1, logs
    assert sorted(job for job, _ in _job_runs(db)) == [
        "daily-report",
        "standup-digest",
        "standup-prompt",
        "standup-reminder",
        "weekly-report",
    ]
    assert BOT_TOKEN not in "".join(logs)


def _job_runs(db: Database) -> list[tuple[str, str]]:
    from sqlmodel import select

    from storage.models import JobRun

    with db.session() as s:
        return [(r.job, r.slot) for r in s.exec(select(JobRun)).all()]

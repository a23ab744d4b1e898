"""`sprintbot job run retention` and the clock's daily run prune a season's old history
through the real command line and runtime, and every figure of the sprint stays."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import func, select

from bot.cli import main
from bot.clock import _schedule, scheduled_prune
from storage.db import Database
from storage.models import TestResult
from tests.support.fakeslack import FakeSlack
from tests.support.history import GOLDEN, KEPT, NOW, SPRINT, build, figures_at
from tests.support.server import BOT_TOKEN, SIGNING_SECRET, Server

pytestmark = pytest.mark.usefixtures("clean_env")


def results(db: Database) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(TestResult)).one())


def test_job_run_retention_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db: Database,
    database_url: str,
    fake_slack: FakeSlack,
) -> None:
    sprint = build(db)
    pinned = {at.isoformat(): json.loads(GOLDEN.read_text())[at.isoformat()] for at in KEPT}
    before = results(db)
    path = tmp_path / "sprint.toml"
    path.write_text(SPRINT)
    for name, value in (
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", fake_slack.url),
        ("DATABASE_URL", database_url),
        ("SPRINTBOT_CONFIG", str(path)),
    ):
        monkeypatch.setenv(name, value)

    assert main(["job", "list"]) == 0
    assert "retention" in capsys.readouterr().out
    assert main(["job", "run", "retention", "--at", NOW.isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.startswith("retention: pruned ") and "status changes" in out, out
    assert 0 < results(db) < before
    assert figures_at(db, sprint, KEPT) == pinned

    assert main(["job", "run", "retention", "--at", NOW.isoformat()]) == 0
    assert capsys.readouterr().out.startswith("retention: pruned nothing")


def test_the_clock_prunes_once_a_day_every_day(server: Server, db: Database) -> None:
    sprint = build(db)
    scheduler = BackgroundScheduler(timezone=sprint.sprint.tz)
    _schedule(scheduler, server.runtime)
    job = scheduler.get_job("retention")
    assert job is not None and str(job.trigger).startswith("cron[")
    # Every day at 03:30 local, sprint or not.
    assert "hour='3', minute='30'" in str(job.trigger)
    assert "day_of_week" not in str(job.trigger)

    runtime = replace(server.runtime, sprint=sprint, now=lambda: NOW)
    before = results(db)
    first = scheduled_prune(runtime)
    assert first.startswith("retention: pruned ") and results(db) < before, first
    assert scheduled_prune(runtime) == "retention: already ran for 2025-11-02"

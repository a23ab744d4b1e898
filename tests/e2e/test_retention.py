"""`sprintbot job run retention` and the clock's daily run prune a season's old history
through the real command line and runtime, and every figure of the sprint stays."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import func, select

from bot import clock as bot_clock
from bot.cli import main
from bot.clock import _schedule, scheduled_prune
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, TestResult
from tests.support import httpc
from tests.support.e2e import AUTH, at, home_opened, text_of
from tests.support.fakeslack import Call, FakeSlack
from tests.support.history import GOLDEN, KEPT, NOW, SPRINT, build, figures_at
from tests.support.listeners import listeners_done
from tests.support.reports import report
from tests.support.server import BOT_TOKEN, SIGNING_SECRET, Server
from tests.support.slack import slash

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


def sent(server: Server) -> list[Call]:
    """What the bot made Slack show: posts, updates, uploads and Home tabs."""
    shown = ("chat.postMessage", "chat.update", "files.completeUploadExternal", "views.publish")
    return [c for c in server.slack.calls if c.method in shown]


def test_old_messages_lose_their_contents_never_their_keys(server: Server) -> None:
    # Day 3, 09:00 New York: a blocker is filed, the daily report goes out, someone opens
    # Home; all of it delivered to Slack.
    t0 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    at(server, t0)
    filed = slash(server.url, "/blocker", "P0 swarm coordination: deadlock", user_id="U0DEV")
    assert filed.json()["text"].startswith(":no_entry: B-001 filed")
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    home_opened(server, "U0DEV")
    listeners_done()
    server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        delivered = {m.key: m for m in s.exec(select(OutboxMessage)).all()}
    assert {"blocker:1", "daily-report:2025-10-31"} <= delivered.keys(), delivered.keys()
    assert all(m.status == OutboxStatus.SENT and m.payload for m in delivered.values())
    calls = len(sent(server))

    # 31 days on (the example's outbox_days = 30), the daily retention run.
    at(server, t0 + timedelta(days=31))
    summary = bot_clock.run_job(server.runtime, "retention")
    assert f"{len(delivered)} delivered messages' contents" in summary, summary
    with server.runtime.db.read() as s:
        kept = {m.key: m for m in s.exec(select(OutboxMessage)).all()}
    assert kept.keys() == delivered.keys()
    for key, m in kept.items():
        assert (m.payload, m.status, m.result) == ({}, OutboxStatus.SENT, delivered[key].result)
    assert len(sent(server)) == calls  # (nothing sent meanwhile)

    # That day's report again: its key is still there, so nothing is posted twice.
    at(server, t0)
    assert bot_clock.run_job(server.runtime, "daily-report") == (
        "daily-report: already posted today"
    )
    server.runtime.sender.drain()
    assert len(sent(server)) == calls
    # Resolving the blocker a month later updates the message Slack holds, where it is.
    at(server, t0 + timedelta(days=31, hours=1))
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV")
    assert done.json()["text"] == ":white_check_mark: B-001 resolved."
    server.runtime.sender.drain()
    update = server.slack.calls_to("chat.update")[-1]
    posted = delivered["blocker:1"].result
    assert (update.args["channel"], update.args["ts"]) == (posted["channel"], posted["ts"])
    assert "~deadlock~" in text_of(update)
    # And Home opens as ever.
    home_opened(server, "U0DEV")
    listeners_done()
    server.runtime.sender.drain()
    assert server.slack.calls_to("views.publish")[-1].args["user_id"] == "U0DEV"


def test_an_artifact_uploaded_again_after_retention_is_a_replay(server: Server) -> None:
    """CI uploads a months-old run's JUnit file again: 200 with that run's reply (its lists
    of tests pruned), nothing stored or alerted, and the figures as they were."""

    def upload(doc: bytes, run: str, when: datetime) -> httpx.Response:
        at(server, when)
        return httpc.post(
            f"{server.url}/api/v1/test-runs?{urlencode({'run': run})}",
            content=doc,
            headers=AUTH,
            timeout=30,
        )

    red, green = report({"api/a": "failed"}), report({"api/a": "passed"})
    first = upload(red, "ci-1001", datetime(2025, 6, 1, 12, tzinfo=UTC))
    assert first.status_code == 201
    assert upload(green, "ci-1002", datetime(2025, 6, 2, 12, tzinfo=UTC)).status_code == 201
    now = datetime(2025, 10, 31, 13, tzinfo=UTC)  # day 3 of the sprint
    at(server, now)
    assert bot_clock.run_job(server.runtime, "retention").startswith("retention: pruned ")
    listeners_done()
    server.runtime.sender.drain()
    before = (len(server.slack.calls), figures_now(server))

    again = upload(red, "ci-1001", now)
    assert again.status_code == 200, again.text
    body = again.json()
    assert (body["report"], body["failed"], body["pruned"]) == (first.json()["report"], 1, True)
    listeners_done()
    server.runtime.sender.drain()
    assert (len(server.slack.calls), figures_now(server)) == before


def figures_now(server: Server) -> dict[str, object]:
    """GET /api/v1/sprint: every figure, as any surface shows it."""
    got = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30)
    assert got.status_code == 200, got.text
    figures: dict[str, object] = got.json()
    return figures


def test_a_test_failing_for_months_is_failing_since_it_broke_after_retention(
    server: Server,
) -> None:
    """/tests show through the API: the change that broke the test is pruned, every run
    since still says it fails; it is failing since it broke, not since the oldest run
    retention kept."""

    def upload(doc: bytes, run: str, when: datetime) -> None:
        at(server, when)
        url = f"{server.url}/api/v1/test-runs?{urlencode({'run': run})}"
        assert httpc.post(url, content=doc, headers=AUTH, timeout=30).status_code == 201

    upload(report({"api/a": "passed"}), "r1", datetime(2025, 6, 1, 12, tzinfo=UTC))
    broke = datetime(2025, 6, 2, 12, tzinfo=UTC)
    upload(report({"api/a": "failed"}), "r2", broke)
    for day in range(20):  # failing every day since, up to day 3 of the sprint
        doc = report({"api/a": "failed"}) + b" " * (day + 1)
        upload(doc, f"n{day}", datetime(2025, 10, 12, 12, tzinfo=UTC) + timedelta(days=day))
    at(server, datetime(2025, 10, 31, 14, tzinfo=UTC))
    assert "status changes" in bot_clock.run_job(server.runtime, "retention")

    got = httpc.get(f"{server.url}/api/v1/tests/1", headers=AUTH, timeout=30).json()
    assert got["status"] == "failed"
    assert got["first_failure"]["at"] == broke.isoformat()

"""Operator logs: a quiet start, JSON lines with team, job and outbox key, no secrets."""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import logs
from bot.cli import main
from bot.outbox import Sender
from storage import queries
from storage.db import Database
from storage.migrate import upgrade
from tests.support import httpc
from tests.support.fakeslack import FakeSlack
from tests.support.server import (
    BOT_TOKEN,
    INGEST_TOKEN,
    SIGNING_SECRET,
    Clock,
    free_port,
    process_env,
)

SPRINTBOT = [sys.executable, "-m", "bot.cli"]


@pytest.fixture
def own_logging() -> Iterator[None]:
    """`logs.configure` patched to see the root logger as a process has it (pytest adds its
    own handlers as each test starts), and everything restored after."""
    root = logging.getLogger()
    level = root.level
    chatty = {name: logging.getLogger(name).level for name in logs.CHATTY}
    held: list[logging.Handler] = []
    real = logs.configure

    def configure(*args: Any, **kwargs: Any) -> None:
        for h in root.handlers[:]:
            if not isinstance(h, logs._Stderr):
                held.append(h)
                root.removeHandler(h)
        real(*args, **kwargs)

    logs.configure = configure  # type: ignore[assignment]
    yield
    logs.configure = real  # type: ignore[assignment]
    for h in root.handlers[:]:
        if isinstance(h, logs._Stderr):
            root.removeHandler(h)
    for h in held:
        root.addHandler(h)
    root.setLevel(level)
    for name, was in chatty.items():
        logging.getLogger(name).setLevel(was)


def test_run_starts_with_one_line_and_no_chatter(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_port()
    env = process_env(tmp_path, fake_slack, port)
    # The database migrated as `sprintbot db upgrade` would, in-process: a process of its own
    # only to migrate cost ~0.5 s of start-up (that command is tested on its own).
    upgrade(env["DATABASE_URL"])
    proc = subprocess.Popen(
        [*SPRINTBOT, "run"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                health = httpc.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                if health.status_code == 200 and health.json()["clock"] == "ok":
                    break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "run did not come up"
            time.sleep(0.02)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert f"INFO bot.cli: sprintbot run: web on http://127.0.0.1:{port}, clock for " in (
        lines[0].replace("__main__", "bot.cli")
    ), err
    assert "daily-report" in lines[0] and "database SQLite" in lines[0]
    for chatter in ("Adding job tentatively", "executed successfully", "will be unused", "Uvicorn"):
        assert chatter not in err
    assert BOT_TOKEN not in err and SIGNING_SECRET not in err and INGEST_TOKEN not in err


def test_json_lines_carry_team_job_and_outbox_key_and_mask_secrets(
    own_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "json", secrets=[BOT_TOKEN])
    log = logging.getLogger("bot.clock")
    with logs.fields(team="platform", job="daily-report"):
        log.info("daily-report: posted with %s", BOT_TOKEN)
    log.warning("outbox: retrying", extra={"outbox_key": "daily-report:1"})
    log.debug("not shown at INFO")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(r["level"], r["logger"]) for r in lines] == [
        ("INFO", "bot.clock"),
        ("WARNING", "bot.clock"),
    ]
    first, second = lines
    assert (first["team"], first["job"]) == ("platform", "daily-report")
    assert first["message"] == "daily-report: posted with [redacted]"
    assert second["outbox_key"] == "daily-report:1" and "team" not in second


def test_a_retried_delivery_logs_its_outbox_key(
    own_logging: None,
    capsys: pytest.CaptureFixture[str],
    db: Database,
    fake_slack: FakeSlack,
    clock: Clock,
) -> None:
    from bot.outbox import make_client

    logs.configure("INFO", "json")
    with db.session() as session:
        queries.enqueue(
            session=session,
            key="note:1",
            method="chat.postMessage",
            payload={"channel": "#general", "text": "hi"},
            now=clock(),
        )
        session.commit()
    fake_slack.fail("chat.postMessage", error="service_unavailable")
    sender = Sender(db, make_client(BOT_TOKEN, fake_slack.url), now=clock)
    assert sender.drain().retrying == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    [retry] = [r for r in lines if r["level"] == "WARNING"]
    assert retry["outbox_key"] == "note:1" and "service_unavailable" in retry["message"]


def test_clock_jobs_carry_their_team_and_name(
    own_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "json")

    def job() -> str:
        logging.getLogger("bot.clock").info("standup-prompt: 2 prompts sent")
        return "done"

    assert logs.with_fields(job, team="mobile", job="standup-prompt")() == "done"
    logging.getLogger("bot.clock").info("after the job")
    first, after = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert (first["team"], first["job"]) == ("mobile", "standup-prompt")
    assert "team" not in after and "job" not in after


def test_log_level_and_chatty_libraries(
    own_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("WARNING", "text")
    logging.getLogger("bot.clock").info("quiet")
    logging.getLogger("apscheduler.scheduler").info("Adding job tentatively")
    logging.getLogger("bot.bolt").warning("As you gave `client` as well, `token` will be unused.")
    logging.getLogger("bot.outbox").warning("outbox: loud")
    assert capsys.readouterr().err.splitlines()[-1].endswith("WARNING bot.outbox: outbox: loud")
    logs.configure("DEBUG", "text")
    logging.getLogger("apscheduler.scheduler").info("Added job")
    assert "INFO apscheduler.scheduler: Added job" in capsys.readouterr().err


def test_the_database_is_named_without_its_password() -> None:
    url = "postgres://bot:s3cret-pw@db.example.com:5432/sprintbot"
    assert logs.database_kind(url) == "PostgreSQL db.example.com:5432/sprintbot"
    assert logs.database_kind("sqlite:///sprintbot.db") == "SQLite sprintbot.db"


def test_a_bad_log_level_is_one_line(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPRINTBOT_LOG_LEVEL", "loud")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    assert main(["job", "run", "outbox"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("SPRINTBOT_LOG_LEVEL: Input should be 'DEBUG'") and err.count("\n") == 1


def test_a_secret_with_quotes_is_masked_in_json(
    own_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure("INFO", "json", secrets=['tok"en\\12345'])
    logging.getLogger("bot").warning("auth header Bearer %s", 'tok"en\\12345')
    [line] = capsys.readouterr().err.splitlines()
    assert json.loads(line)["message"] == "auth header Bearer [redacted]"

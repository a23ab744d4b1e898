"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via SPRINTBOT_TEST_DATABASE_URL),
per-test transactions, the fake Slack, and the real web server on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
import uvicorn
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, build_settings
from jobs.config import Sprint, load_sprint
from storage.db import Database, make_engine, normalize_url
from storage.migrate import upgrade
from tests.fakeslack import FakeSlack

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "sprint.example.toml"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
INGEST_TOKEN = "test-ingest-token"


def _database_url(tmp_dir: str) -> str:
    return os.environ.get("SPRINTBOT_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/test.db"


def _reset(url: str) -> None:
    """Start from an empty database."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    tmp = tempfile.mkdtemp(prefix="sprintbot-test-")
    url = normalize_url(_database_url(tmp))
    _reset(url)
    upgrade(url)
    yield url
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test
    (SQLAlchemy's "join an external transaction" recipe)."""
    conn = database.engine.connect()
    outer = conn.begin()
    s = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield s
    finally:
        s.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The database for tests whose work commits across connections; emptied afterwards."""
    yield database
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Ids start at 1 again (B-001, R-001), as they do on an emptied SQLite table.
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No sprintbot settings from the machine's environment, and no stray .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def example() -> Sprint:
    return load_sprint(EXAMPLE)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


class Clock:
    """A settable clock for code that takes `now`."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    # Day 3 of the example sprint, 10:00 in New York.
    return Clock(datetime(2025, 10, 31, 14, 0, tzinfo=UTC))


def make_settings(fake: FakeSlack, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": database_url,
        "SPRINTBOT_CONFIG": str(EXAMPLE),
        "SPRINTBOT_INGEST_TOKEN": INGEST_TOKEN,
        "SLACK_APP_TOKEN": None,
        "SPRINTBOT_SMTP_URL": None,
    }
    values.update(overrides)
    return build_settings(**values)


@dataclass
class Server:
    url: str
    runtime: Runtime
    slack: FakeSlack


def serve(app: object) -> tuple[str, Callable[[], None]]:
    """Run an ASGI app under uvicorn on a free loopback port; return its URL and a stopper."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture
def make_server(
    db: Database, fake_slack: FakeSlack, database_url: str, clock: Clock
) -> Iterator[Callable[..., Server]]:
    """Start the real web app (Bolt + Starlette under uvicorn) against the fake Slack."""
    stops: list[Callable[[], None]] = []

    def start(**overrides: object) -> Server:
        settings = make_settings(fake_slack, database_url, **overrides)
        runtime = build_runtime(settings, now=clock)
        url, stop = serve(runtime.web_app())
        stops.append(stop)
        stops.append(runtime.db.dispose)
        return Server(url=url, runtime=runtime, slack=fake_slack)

    yield start
    for stop in stops:
        stop()


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    return make_server()


def together(count: int, run: Callable[[], T], *, timeout: float = 120) -> list[T]:
    """`count` threads call `run` at the same moment (released by a barrier); their results."""
    start = threading.Barrier(count)
    out: list[T] = []

    def one() -> None:
        start.wait()
        out.append(run())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return out

"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via SPRINTBOT_TEST_DATABASE_URL),
per-test transactions, the fake Slack, and the real web server on loopback."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlmodel import Session

from bot import acks as acks_module
from bot import outbox as outbox_module
from bot import runtime as runtime_module
from bot.runtime import build_runtime
from bot.settings import Settings
from jobs.config import Sprint, load_sprint
from storage.db import Database, make_engine, normalize_url
from storage.migrate import upgrade
from tests.support.db import empty, restart_ids, shared_compiled_statements
from tests.support.fakeslack import FakeSlack
from tests.support.listeners import listeners_done
from tests.support.server import (
    EXAMPLE,
    TEST_PACE,
    Clock,
    Server,
    make_settings,
    uvicorn_on_loopback,
)

SPREAD_OVER = 0.7  # of the run: its last part, short tests only, fills in the workers' ends


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fault tests spread evenly over the run, each between two modules: they wait out
    whole seconds of Slack's (Retry-After, a channel's pace, a lock held past Slack's 3 s),
    and pytest-xdist hands out runs of consecutive tests, so together they piled up on one
    worker while the others had finished (17 s of a 63 s run)."""
    faults = [item for item in items if item.get_closest_marker("faults") is not None]
    if not faults or len(faults) == len(items):
        return
    rest = [item for item in items if item.get_closest_marker("faults") is None]
    every = len(rest) * SPREAD_OVER / (len(faults) + 1)
    spread: list[pytest.Item] = []
    due = every
    for n, item in enumerate(rest):
        if n and item.path != rest[n - 1].path:  # (a module's fixtures stay set up through it)
            while faults and n >= due:
                spread.append(faults.pop(0))
                due += every
        spread.append(item)
    items[:] = spread + faults


def _database_url(tmp_dir: str) -> str:
    """SPRINTBOT_TEST_DATABASE_URL, or a new SQLite file. Under pytest-xdist each worker
    has a database of its own on that server (`<name>_gw0`, …), created on demand."""
    url = os.environ.get("SPRINTBOT_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir}/test.db"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return url
    given = make_url(normalize_url(url))
    own = given.set(database=f"{given.database}_{worker}")
    engine = make_engine(given.render_as_string(hide_password=False))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
        ).first()
        if exists is None:
            name = conn.dialect.identifier_preparer.quote(str(own.database))
            conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return own.render_as_string(hide_password=False)


def _reset(url: str) -> None:
    """Start from an empty database."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _shared_compiled_statements() -> Iterator[None]:
    with shared_compiled_statements():
        yield


# The SQLite database in memory where the machine has a RAM file system: each commit's
# fsync to a disk cost ~0.18 ms, ~0.01 ms there (tens of thousands of commits a run).
# (mkdtemp makes a private directory there, as under /tmp.)
_SHM = Path("/dev/shm")  # noqa: S108
_MEMORY_DIR = str(_SHM) if _SHM.is_dir() and os.access(_SHM, os.W_OK) else None


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    tmp = tempfile.mkdtemp(prefix="sprintbot-test-", dir=_MEMORY_DIR)
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
    restart_ids(database)
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
    restart_ids(database)
    yield database
    empty(database)


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


@pytest.fixture
def clock() -> Clock:
    # Day 3 of the example sprint, 10:00 in New York.
    return Clock(datetime(2025, 10, 31, 14, 0, tzinfo=UTC))


class Loopback:
    """A uvicorn server on loopback that serves the app of the test holding it. Tests take
    one from a pool rather than each starting its own: stopping uvicorn waits out two of
    its 0.1 s ticks, about 0.15 s of every end-to-end test's teardown."""

    def __init__(self) -> None:
        self.app: Callable[..., Awaitable[None]] | None = None
        self.url, self._server, self.stop = uvicorn_on_loopback(self)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self.app
        if app is None:
            raise RuntimeError(f"a request reached {self.url} while no test held it")
        await app(scope, receive, send)

    def release(self) -> None:
        """Wait for the requests in flight (as stopping uvicorn would), then let the app go."""
        deadline = time.monotonic() + 10
        while self._server.server_state.tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        self.app = None


@pytest.fixture(scope="session")
def loopbacks() -> Iterator[list[Loopback]]:
    """The idle servers of the pool; stopped at the end of the session."""
    idle: list[Loopback] = []
    yield idle
    for loopback in idle:
        loopback.stop()


@pytest.fixture
def make_server(
    db: Database,
    fake_slack: FakeSlack,
    database_url: str,
    clock: Clock,
    loopbacks: list[Loopback],
) -> Iterator[Callable[..., Server]]:
    """Serve the real web app (Bolt + Starlette under uvicorn) against the fake Slack."""
    stops: list[Callable[[], None]] = []

    def start(**overrides: object) -> Server:
        settings = make_settings(fake_slack, database_url, **overrides)
        runtime = build_runtime(settings, now=clock, pace=TEST_PACE)
        loopback = loopbacks.pop() if loopbacks else Loopback()
        loopback.app = runtime.web_app()

        def release() -> None:
            loopback.release()
            loopbacks.append(loopback)

        stops.append(release)
        # The work its listeners took on after answering, done before the database is
        # emptied: a sign-off request posted after the test ended left its rows behind, and
        # the next test's report got a 500 on PostgreSQL.
        stops.append(listeners_done)
        stops.append(runtime.ready.settle)
        stops.append(runtime.db.dispose)
        return Server(url=loopback.url, runtime=runtime, slack=fake_slack, clock=clock)

    yield start
    # Every step, whichever fails (a listener still blocked past the wait): the server
    # released and the connections closed all the same; the first failure is raised.
    with contextlib.ExitStack() as steps:
        for stop in reversed(stops):
            steps.callback(stop)


@pytest.fixture(autouse=True)
def quick_client_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Web API clients made in-process wait a hundredth of the production pause
    between their own quick retries of a 5xx or a refused connection: still retried the
    same, but a test with Slack down no longer waits out ~1 s of backoff per call (7 s
    for one clock test). Where a test measures the waits it makes its own client."""
    monkeypatch.setattr(
        outbox_module, "CONNECT_RETRY_BACKOFF", outbox_module.CONNECT_RETRY_BACKOFF / 100
    )
    monkeypatch.setattr(
        outbox_module, "SERVER_RETRY_BACKOFF", outbox_module.SERVER_RETRY_BACKOFF / 100
    )
    # And the senders' pauses before trying a post Slack answered 5xx again (the same
    # tries): ~1 s per drain while a test's Slack refuses a post (15 s for one test).
    monkeypatch.setattr(outbox_module, "SAFE_RETRY_BACKOFF", outbox_module.SAFE_RETRY_BACKOFF / 100)


@pytest.fixture(autouse=True)
def patient_acks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the fault tests (which measure it), a listener has 20 s to acknowledge
    before one is given in its stead: on a loaded CI host a form's submission took over the
    production 2 s (a test of text limits got Bolt's 404 for it, the form kept open, as a
    slow database gets by design: `tests/faults/test_slow_database.py`)."""
    if request.node.get_closest_marker("faults") is None:
        monkeypatch.setattr(acks_module, "ACK_WITHIN", 20.0)


@pytest.fixture
def quick_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Processes the test runs in-process (`sprintbot job run`) pace posts by TEST_PACE."""
    monkeypatch.setattr(
        runtime_module, "build_runtime", functools.partial(build_runtime, pace=TEST_PACE)
    )


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    return make_server()

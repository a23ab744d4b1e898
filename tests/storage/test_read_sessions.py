"""Read sessions (issue 12, fault 3): reads never wait for a writer, and never write."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from storage import queries
from storage.db import Database, ReadOnlySessionError
from storage.models import Lesson

AT = datetime(2025, 10, 31, 14, tzinfo=UTC)


def test_reads_do_not_wait_for_a_writer(db: Database) -> None:
    """Every transaction began IMMEDIATE, so /healthz waited for a 10 s ingest to commit."""
    with db.session() as writer:
        # A write in progress (on SQLite it now holds the write lock) ...
        writer.add(Lesson(kind="went_well", text="in flight", author="U1", at=AT))
        writer.flush()
        took: list[float] = []

        def read() -> None:
            started = time.monotonic()
            with db.read() as session:
                queries.ping(session=session)
                # ... is neither waited for nor seen.
                assert session.exec(select(func.count()).select_from(Lesson)).one() == 0
            took.append(time.monotonic() - started)

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(10)
        writer.rollback()
    assert took and took[0] < 1.0, took


def test_a_read_session_refuses_to_write(db: Database) -> None:
    with db.read() as session:
        session.add(Lesson(kind="went_well", text="sneaky", author="U1", at=AT))
        with pytest.raises(ReadOnlySessionError):
            session.flush()


def test_a_read_session_sees_the_last_commit(db: Database) -> None:
    with db.session() as writer:
        writer.add(Lesson(kind="went_well", text="done", author="U1", at=AT))
        writer.commit()
    with db.read() as session:
        assert session.exec(select(Lesson.text)).all() == ["done"]
        if session.get_bind().dialect.name == "postgresql":
            # PostgreSQL enforces it as well.
            assert session.execute(text("SHOW transaction_read_only")).scalar() == "on"


def test_postgresql_sessions_are_in_utc_whatever_the_server_zone(database_url: str) -> None:
    """Timestamps come back in UTC, as they are stored, with no conversion through the
    server's zone per row; options given in the URL are kept beside it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL: set SPRINTBOT_TEST_DATABASE_URL")
    from storage.db import make_engine

    engine = make_engine(f"{database_url}?options=-c%20statement_timeout%3D12345")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "12345ms"
            stamp = conn.exec_driver_sql("SELECT TIMESTAMPTZ '2025-10-31 10:00-04'").scalar()
    finally:
        engine.dispose()
    assert stamp == datetime(2025, 10, 31, 14, tzinfo=UTC)
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0

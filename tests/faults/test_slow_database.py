"""A slow database — another writer holding the lock for seconds (the clock's job, a
migration, a long transaction) — must not make Slack show an error for a command or a click
that sprintbot then carries out anyway: it is acknowledged within Slack's 3 s, and its
answer follows by the request's response_url once the write is done. On SQLite (another
connection's write lock) and on PostgreSQL (a lock on the blocker table that lets reads
through).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlmodel import select

from storage.models import Blocker
from tests.faults.test_ack_during_ingest import ACK_LIMIT, take_ownership
from tests.support.e2e import post_report
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults

HOLD = 4.0  # seconds the other writer keeps the lock: more than Slack waits


@contextmanager
def writes_held(server: Server, table: str = "blocker") -> Iterator[threading.Thread]:
    """Another connection takes the write lock (SQLite) or locks `table` against writes
    (PostgreSQL) and keeps it HOLD seconds, in a thread of its own."""
    engine = server.runtime.db.engine
    taken = threading.Event()

    def hold() -> None:
        with engine.begin() as conn:  # (on SQLite: BEGIN IMMEDIATE, the write lock)
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
            taken.set()
            time.sleep(HOLD)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield holder
    finally:
        holder.join()


def timed(call: object) -> tuple[object, float]:
    start = time.monotonic()
    result = call() if callable(call) else call
    return result, time.monotonic() - start


def test_a_command_waiting_on_the_database_is_acknowledged_then_answered(server: Server) -> None:
    url = server.slack.response_url("cmd")
    typed = "P0 Swarm Coordination: deadlock under partition"
    with writes_held(server):
        ack, took = timed(lambda: slash(server.url, "/blocker", typed, response_url=url))
    assert (ack.status_code, ack.text) == (200, "")  # type: ignore[attr-defined]
    assert took < ACK_LIMIT
    listeners_done()
    # The answer the acknowledgement would have held, to the user alone, by response_url.
    answered = server.slack.calls_to("response/cmd")
    assert len(answered) == 1
    assert answered[0].args["text"].startswith(":no_entry: B-001 filed")
    assert answered[0].args["response_type"] == "ephemeral"
    with server.runtime.db.read() as session:
        assert len(session.exec(select(Blocker)).all()) == 1


def test_a_click_waiting_on_the_database_is_acknowledged_then_done(server: Server) -> None:
    filed = slash(server.url, "/blocker", "P1 Swarm Coordination: flaky leader election")
    assert "B-001 filed" in filed.json()["text"]
    with writes_held(server):
        ack, took = timed(lambda: take_ownership(server, 1))
    assert ack.status_code == 200  # type: ignore[attr-defined]
    assert took < ACK_LIMIT
    listeners_done()
    with server.runtime.db.read() as session:
        assert session.exec(select(Blocker.owner)).one() == "U0TECHLEAD"


def test_tests_quarantine_waiting_on_the_database_is_acknowledged_then_answered(
    server: Server,
) -> None:
    assert post_report(server, "pytest-xunit2-run1.xml", run="r1").status_code == 201
    url = server.slack.response_url("cmd")
    typed = "quarantine 1 for 7d because it races"
    with writes_held(server, "quarantine"):
        ack, took = timed(lambda: slash(server.url, "/tests", typed, response_url=url))
    assert (ack.status_code, ack.text) == (200, "")  # type: ignore[attr-defined]
    assert took < ACK_LIMIT
    listeners_done()
    answered = server.slack.calls_to("response/cmd")
    assert len(answered) == 1 and answered[0].args["text"].startswith("Quarantined "), answered

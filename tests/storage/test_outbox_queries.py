"""The outbox's lane heads (claim_due, lane_heads) and migration 0003's lane backfill."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from storage import queries
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import OutboxMessage, OutboxStatus
from tests.support.threads import run_switching_often

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _add(session: Session, key: str, lane: str | None, status: OutboxStatus, **kw: Any) -> int:
    row = OutboxMessage(
        key=key,
        method=kw.pop("method", "chat.postMessage"),
        payload={"channel": lane, "text": key},
        status=status,
        created_at=NOW,
        next_attempt_at=kw.pop("next_attempt_at", NOW),
        lane=lane,
        **kw,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _claim(session: Session, **kw: Any) -> list[str]:
    return [m.key for m in queries.claim_due(session=session, now=NOW, lease=LEASE, **kw)]


def test_each_lane_gives_its_oldest_undelivered_row(session: Session) -> None:
    _add(session, "a:sent", "CA", OutboxStatus.SENT, next_attempt_at=NOW - timedelta(hours=1))
    _add(session, "a:failed", "CA", OutboxStatus.FAILED)
    _add(session, "a:1", "CA", OutboxStatus.PENDING)
    _add(session, "a:2", "CA", OutboxStatus.PENDING)
    _add(session, "b:1", "CB", OutboxStatus.PENDING)
    _add(session, "b:2", "CB", OutboxStatus.PENDING)
    _add(session, "none:1", None, OutboxStatus.PENDING)
    _add(session, "none:2", None, OutboxStatus.PENDING)
    # Sent and failed rows do not block their lane; rows without a lane are their own.
    assert len(queries.lane_heads(session=session, lease=LEASE)) == 4
    assert _claim(session) == ["a:1", "b:1", "none:1", "none:2"]
    assert _claim(session) == []  # each lane's head is now being sent
    assert len(queries.lane_heads(session=session, lease=LEASE)) == 4  # now sending


def test_a_row_waits_behind_a_sending_row_and_a_pending_row_not_yet_due(
    session: Session,
) -> None:
    _add(session, "a:1", "CA", OutboxStatus.SENDING, claimed_at=NOW - timedelta(minutes=1))
    _add(session, "a:2", "CA", OutboxStatus.PENDING)
    _add(session, "b:1", "CB", OutboxStatus.PENDING, next_attempt_at=NOW + timedelta(minutes=1))
    _add(session, "b:2", "CB", OutboxStatus.PENDING)
    assert _claim(session) == []
    heads = sorted(h.due_at for h in queries.lane_heads(session=session, lease=LEASE))
    assert heads == [NOW + timedelta(minutes=1), NOW + timedelta(minutes=4)]
    # The sending row's lease runs out: it is claimed again, a:2 still waits behind it.
    later = queries.claim_due(session=session, now=NOW + timedelta(minutes=5), lease=LEASE)
    assert [m.key for m in later] == ["a:1", "b:1"]


def test_a_paced_lane_head_waits_and_the_limit_takes_the_oldest_heads(session: Session) -> None:
    _add(session, "a:sent", "CA", OutboxStatus.SENT, next_attempt_at=NOW + timedelta(seconds=1))
    _add(session, "a:1", "CA", OutboxStatus.PENDING)
    for lane in ("CB", "CC", "CD"):
        _add(session, f"{lane}:1", lane, OutboxStatus.PENDING)
    assert _claim(session, limit=2, wall=NOW) == ["CB:1", "CC:1"]
    heads = queries.lane_heads(session=session, lease=LEASE)
    assert [h.paced_until for h in heads if h.paced_until] == [NOW + timedelta(seconds=1)]


def test_concurrent_claims_take_disjoint_heads(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises senders; SKIP LOCKED is PostgreSQL's")
    with db.session() as s:
        for lane in ("CA", "CB"):
            for i in range(3):
                _add(s, f"{lane}:{i}", lane, OutboxStatus.PENDING)
        s.commit()
    with db.session() as first, db.session() as second:
        second.execute(sa.text("SET LOCAL lock_timeout = '5s'"))  # fail, not hang
        a = _claim(first, limit=1)
        b = _claim(second)  # a's head is locked, not committed: skipped, not waited for
        assert (a, b) == (["CA:0"], ["CB:0"])
        first.commit()
        second.commit()
    with db.session() as s:
        assert _claim(s) == []


def _fresh_outbox_queries() -> ModuleType:
    """storage/queries/outbox.py loaded anew, as a new process has it: its aliases never
    used yet (SQLAlchemy keeps, per alias, each column as first adapted)."""
    spec = importlib.util.spec_from_file_location("fresh_outbox_queries", queries.outbox.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclass looks its module up there)
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_senders_claiming_together_first_still_pace_each_lane_by_its_own_sends(
    db: Database,
) -> None:
    # Fault: two senders of a new process claiming at once, for the first time, could leave
    # one lane query with the table's own column where its alias's belonged (SAWarning "Did
    # not locate an expression in selectable for attribute 'lane'"), kept for the life of
    # the process: the pace check joined `outbox` whole and any busy lane held back every
    # lane. One process in three or four hit it; here sixteen processes' first claims, each
    # thread switching to the next as often as the interpreter can (`run_switching_often`).
    warned: list[str] = []
    with db.session() as s:
        _add(s, "a:sent", "CA", OutboxStatus.SENT, next_attempt_at=NOW + timedelta(seconds=1))
        _add(s, "a:1", "CA", OutboxStatus.PENDING)
        _add(s, "b:1", "CB", OutboxStatus.PENDING)
        s.commit()
    for _ in range(16):
        outbox = _fresh_outbox_queries()
        start = threading.Barrier(4)

        def claim(outbox: ModuleType = outbox, start: threading.Barrier = start) -> None:
            with db.session() as s:
                start.wait()
                outbox.claim_due(session=s, now=NOW, lease=LEASE, wall=NOW)
                s.rollback()

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run_switching_often([threading.Thread(target=claim) for _ in range(4)])
            warned += [str(w.message) for w in caught]
        with db.session() as s:
            claimed = outbox.claim_due(session=s, now=NOW, lease=LEASE, wall=NOW)
            assert [m.key for m in claimed] == ["b:1"]
            s.rollback()
    assert warned == []


def test_a_key_queued_by_two_transactions_at_once_is_one_message(db: Database) -> None:
    """The second waits for the first (PostgreSQL: its row lock on the key; SQLite: the
    write lock) and, the key taken, queues nothing, its transaction intact."""
    taken = threading.Event()
    second: list[OutboxMessage | None] = []

    def enqueue(session: Session, text: str) -> OutboxMessage | None:
        return queries.enqueue(
            session=session,
            key="daily-report:2025-10-31",
            method="chat.postMessage",
            payload={"channel": "#status", "text": text},
            now=NOW,
        )

    def other() -> None:
        taken.wait(10)
        with db.session() as s:
            second.append(enqueue(s, "the second"))
            _add(s, "after", "C9", OutboxStatus.PENDING)  # the transaction goes on
            s.commit()

    thread = threading.Thread(target=other)
    thread.start()
    with db.session() as s:
        first = enqueue(s, "the first")
        assert first is not None and first.id is not None
        taken.set()
        time.sleep(0.3)  # the other transaction is at its insert meanwhile
        s.commit()
    thread.join(10)
    assert second == [None]
    with db.read() as s:
        rows = s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.key, m.payload.get("text")) for m in rows] == [
        ("daily-report:2025-10-31", "the first"),
        ("after", "after"),
    ]
    assert rows[0].id == first.id and rows[0].lane == "#status"


def test_each_queued_row_is_its_own(session: Session) -> None:
    """What `enqueue` returns shares nothing with the next row it queues."""
    first = queries.enqueue(
        session=session, key="a", method="chat.postMessage", payload={"channel": "C1"}, now=NOW
    )
    assert first is not None
    first.result["ts"] = "1.0"  # (a caller's change to its own copy)
    second = queries.enqueue(
        session=session, key="b", method="chat.postMessage", payload={"channel": "C1"}, now=NOW
    )
    assert second is not None and second.result == {}
    stored = session.exec(select(OutboxMessage).where(OutboxMessage.key == "b")).one()
    assert stored.result == {}


# -- migration 0003 ------------------------------------------------------------------

_OLD_COLUMNS = (
    "key",
    "method",
    "payload",
    "parent_key",
    "status",
    "attempts",
    "created_at",
    "next_attempt_at",
    "claimed_at",
    "result",
)
# What 0002's outbox held: (key, method, payload, parent_key, status).
_OLD_ROWS = [
    ("mail", "email.send", {"to": "a@example.com"}, None, "pending"),
    ("home", "views.publish", {"user_id": "U1", "view": {}}, None, "sending"),
    ("post", "chat.postMessage", {"channel": "#general", "text": "x"}, None, "pending"),
    ("nowhere", "chat.postMessage", {"text": "x"}, None, "pending"),
    ("parent:sent", "chat.postMessage", {"channel": "C1", "text": "x"}, None, "sent"),
    ("reply", "chat.update", {"text": "y"}, "parent:sent", "pending"),
    ("reply:reply", "chat.postMessage", {"text": "z"}, "reply", "pending"),
    ("parent:pending", "chat.postMessage", {"channel": "C2", "text": "x"}, None, "pending"),
    ("note", "chat.postMessage", {"channel": "#other", "text": "x"}, "parent:pending", "sending"),
    ("orphan", "chat.postMessage", {"text": "x"}, "gone", "pending"),
    ("failed", "chat.postMessage", {"channel": "C3", "text": "x"}, None, "failed"),
    ("team:1", "chat.postMessage", {"channel": "C0TEAM", "text": "1"}, None, "pending"),
    ("team:2", "chat.postMessage", {"channel": "C0TEAM", "text": "2"}, None, "pending"),
    ("team:3", "chat.postMessage", {"channel": "C0TEAM", "text": "3"}, None, "pending"),
]


def test_upgrade_gives_rows_queued_before_it_their_lanes(db: Database, database_url: str) -> None:
    columns = OutboxMessage.__table__.c  # type: ignore[attr-defined]
    old = sa.table("outbox", *(sa.column(n, columns[n].type) for n in _OLD_COLUMNS))
    db.engine.dispose()
    downgrade(database_url, revision="0002")
    try:
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(old),
                [
                    {
                        "key": key,
                        "method": method,
                        "payload": payload,
                        "parent_key": parent,
                        "status": status,
                        "attempts": 1 if status == "sending" else 0,
                        "created_at": NOW,
                        "next_attempt_at": NOW,
                        "claimed_at": NOW - timedelta(hours=1) if status == "sending" else None,
                        "result": {},
                    }
                    for key, method, payload, parent, status in _OLD_ROWS
                ],
            )
    finally:
        db.engine.dispose()
        upgrade(database_url)
    with db.session() as s:
        lanes = dict(s.exec(select(OutboxMessage.key, OutboxMessage.lane)).all())
        assert lanes == {
            "mail": "email",
            "home": "home:U1",
            "post": "#general",
            "nowhere": None,
            "parent:sent": None,  # delivered: left as it was
            "reply": "C1",  # its parent's lane
            "reply:reply": "C1",  # its parent's, which is its own parent's
            "parent:pending": "C2",
            "note": "C2",  # its parent's lane, not its own channel
            "orphan": "thread:gone",
            "failed": None,
            "team:1": "C0TEAM",
            "team:2": "C0TEAM",
            "team:3": "C0TEAM",
        }
        # The same rule as enqueue's.
        for key, method, payload, parent, status in _OLD_ROWS:
            if status in ("pending", "sending") and parent != "reply":
                assert lanes[key] == queries.outbox_lane(
                    session=s, method=method, payload=payload, parent_key=parent
                ), key
        # Rows of one channel queued before the upgrade go one at a time again.
        claimed = _claim(s, wall=NOW, paced_methods=("chat.postMessage",))
        assert [k for k in claimed if k.startswith("team:")] == ["team:1"]
        s.rollback()


def test_withdrawing_takes_back_only_what_still_waits_and_the_replies_under_it(
    session: Session,
) -> None:
    _add(session, "dm:ana", "DANA", OutboxStatus.PENDING)
    _add(session, "dm:ben", "DBEN", OutboxStatus.SENDING, claim_token="t", claimed_at=NOW)
    _add(session, "dm:cy", "DCY", OutboxStatus.SENT)
    _add(session, "b:1:step:2", "CB", OutboxStatus.PENDING)
    _add(session, "b:1:step:2:reply", "CB", OutboxStatus.PENDING, parent_key="b:1:step:2")
    _add(session, "b:10:step:2", "CB", OutboxStatus.PENDING)
    keys = ["dm:ana", "dm:ben", "dm:cy", "dm:nobody"]
    assert queries.withdraw(session=session, keys=keys) == 1
    assert queries.withdraw(session=session, key_prefix="b:1:step:") == 2
    assert queries.withdraw(session=session) == 0
    statuses = {m.key: m.status for m in session.exec(select(OutboxMessage)).all()}
    assert statuses == {
        "dm:ana": OutboxStatus.WITHDRAWN,
        "dm:ben": OutboxStatus.SENDING,  # (going now: it stays as the sender leaves it)
        "dm:cy": OutboxStatus.SENT,
        "b:1:step:2": OutboxStatus.WITHDRAWN,
        "b:1:step:2:reply": OutboxStatus.WITHDRAWN,
        "b:10:step:2": OutboxStatus.PENDING,  # (another blocker's: not under the prefix)
    }
    # The one being sent is marked: not sent again if this attempt fails.
    marked = session.exec(select(OutboxMessage.key).where(OutboxMessage.withdrawn)).all()
    assert marked == ["dm:ben"]
    # Taken back, they hold up nothing: the lane's next row goes.
    _add(session, "dm:ana:2", "DANA", OutboxStatus.PENDING)
    assert "dm:ana:2" in _claim(session)

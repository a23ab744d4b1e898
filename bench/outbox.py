"""What the outbox costs per message over calling Slack directly.

Both sides post the same messages to the fake Slack on loopback through the same
WebClient; the baseline calls chat.postMessage in a loop, the outbox path enqueues each
message in its own transaction and then drains them (claim, call, record).

Then the cost of finding the lanes' heads (claim_due, lane_heads) behind a backlog of
5,000 and 20,000 pending rows in one lane, against the anti-join the heads were found
with before (kept here as the baseline): quadratic in a lane's backlog on PostgreSQL.
Run: .venv/bin/python -m bench.outbox [--postgres] [--backlog-only]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col

from bench.common import fresh_database, table
from bot.outbox import Sender, make_client
from storage import queries
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.queries import outbox as outbox_queries
from tests.support.fakeslack import FakeSlack

COUNT = 500
NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)
BACKLOGS = (5_000, 20_000)
LEASE = timedelta(minutes=5)
PACED = ("chat.postMessage",)


def _anti_join_heads() -> Any:
    """The baseline: the lane-head condition before the fix (a row is a head when no
    older undelivered row of its lane exists)."""
    head = aliased(OutboxMessage, name="head")
    older = aliased(OutboxMessage, name="older")
    is_head = ~(
        sa_select(col(older.id))
        .where(
            col(older.lane) == col(head.lane),
            col(older.status).in_(queries.UNDELIVERED),
            col(older.id) < col(head.id),
        )
        .exists()
    )
    return head, col(head.status).in_(queries.UNDELIVERED) & is_head


@contextmanager
def _heads_by(heads: Callable[[], Any] | None) -> Iterator[None]:
    """Run claim_due and lane_heads with `heads` as their lane-head condition."""
    current = outbox_queries._lane_heads
    if heads is not None:
        outbox_queries._lane_heads = heads  # type: ignore[assignment]
    try:
        yield
    finally:
        outbox_queries._lane_heads = current  # type: ignore[assignment]


def _fill(db: Database, pending: int) -> None:
    """A backlog of `pending` rows in one channel, behind 1,000 delivered ones."""
    rows = [
        {
            "key": f"{status}:{i}",
            "method": "chat.postMessage",
            "payload": {"channel": "C0TEAM", "text": str(i)},
            "status": status,
            "attempts": 0,
            "created_at": NOW,
            "next_attempt_at": NOW - timedelta(days=1),
            "result": {},
            "lane": "C0TEAM",
        }
        for status, n in ((OutboxStatus.SENT, 1_000), (OutboxStatus.PENDING, pending))
        for i in range(n)
    ]
    with db.session() as s:
        for i in range(0, len(rows), 5_000):
            s.execute(insert(OutboxMessage), rows[i : i + 5_000])
        s.commit()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE outbox" if conn.dialect.name == "postgresql" else "ANALYZE"))


def _time(fn: Callable[[], object], repeat: int) -> float:
    """The best of `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def _claim_and_heads(db: Database, repeat: int) -> tuple[float, float]:
    def claim() -> None:
        with db.session() as s:
            got = queries.claim_due(session=s, now=NOW, lease=LEASE, wall=NOW, paced_methods=PACED)
            assert len(got) == 1
            s.rollback()

    def heads() -> None:
        with db.session() as s:
            assert len(queries.lane_heads(session=s, lease=LEASE, paced_methods=PACED)) == 1

    return _time(claim, repeat), _time(heads, repeat)


def backlog(kinds: list[str]) -> None:
    """claim_due and lane_heads behind a backlog, with the baseline's heads and ours."""
    rows = []
    for kind in kinds:
        for pending in BACKLOGS:
            with fresh_database(kind) as db:
                _fill(db, pending)
                with _heads_by(_anti_join_heads):
                    # The baseline takes seconds on PostgreSQL: one run is enough.
                    old_claim, old_heads = _claim_and_heads(db, repeat=1)
                with _heads_by(None):
                    new_claim, new_heads = _claim_and_heads(db, repeat=5)
            rows.append(
                [
                    kind,
                    f"{pending:,}",
                    f"{old_claim:.1f}",
                    f"{new_claim:.1f}",
                    f"{old_heads:.1f}",
                    f"{new_heads:.1f}",
                ]
            )
    print("Pending rows in one lane (behind 1,000 sent):")
    print(
        table(
            [
                "database",
                "backlog",
                "claim_due before (ms)",
                "claim_due after (ms)",
                "lane_heads before (ms)",
                "lane_heads after (ms)",
            ],
            rows,
        )
    )


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    if "--backlog-only" not in sys.argv:
        per_message(kinds)
        print()
    backlog(kinds)


def per_message(kinds: list[str]) -> None:
    """The outbox's cost per message over calling Slack directly."""
    fake = FakeSlack().start()
    client = make_client("xoxb-bench", fake.url)
    rows = []
    try:
        start = time.perf_counter()
        for i in range(COUNT):
            client.chat_postMessage(channel="#sprint-status", text=f"direct {i}")
        direct = (time.perf_counter() - start) * 1000 / COUNT
        for kind in kinds:
            with fresh_database(kind) as db:
                start = time.perf_counter()
                for i in range(COUNT):
                    with db.session() as s:
                        queries.enqueue(
                            session=s,
                            key=f"bench:{i}",
                            method="chat.postMessage",
                            payload={"channel": "#sprint-status", "text": str(i)},
                            now=NOW,
                        )
                        s.commit()
                enqueue = (time.perf_counter() - start) * 1000 / COUNT
                start = time.perf_counter()
                # Unpaced: this measures the outbox's own cost per message, not Slack's
                # one post a second per channel (bench.faults measures delivery pace).
                sender = Sender(db, client, now=lambda: NOW, pace=timedelta(0))
                result = sender.drain(limit=COUNT)
                drain = (time.perf_counter() - start) * 1000 / COUNT
                assert result.sent == COUNT
                rows.append(
                    [
                        kind,
                        f"{direct:.2f}",
                        f"{enqueue:.2f}",
                        f"{drain:.2f}",
                        f"{(enqueue + drain) / direct:.2f}x",
                    ]
                )
    finally:
        fake.stop()
    print(f"{COUNT} messages, per message:")
    print(
        table(
            [
                "database",
                "direct chat.postMessage (ms)",
                "enqueue (ms)",
                "drain (ms)",
                "outbox / direct",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()

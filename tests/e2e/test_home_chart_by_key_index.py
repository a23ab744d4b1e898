"""App Home scans the whole outbox (every team's messages, of all time) for a burn-down chart.

`jobs.reports._newest_chart` looks for this sprint's newest chart with
`storage.queries.outbox.keyed_messages`: `key LIKE prefix% AND key LIKE %:chart AND
created_at >= sprint start ORDER BY id DESC LIMIT 1`. SQLite's LIKE is case-insensitive,
so the unique index on `key` is not used, and nothing indexes `created_at`: the plan is
`SCAN outbox`, newest row first, until one matches. When the newest chart was not
delivered (files:write missing after an upgrade refuses every upload; or one still being
uploaded) it asks again for a delivered one, and that scan walks every row the outbox
ever held (rows are never deleted: `[retention]` only empties old payloads) -- on every
Home open, every Home button click, and every morning's refresh of each user's Home.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col

from storage import queries
from storage.models import OutboxMessage, OutboxStatus
from tests.support.e2e import home_opened
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.work import Work, flat


def test_app_home_work_does_not_grow_with_the_outbox(make_server: Callable[..., Server]) -> None:
    server = make_server()
    db = server.runtime.db
    work = Work(db.engine)

    def queue_old(first: int, count: int) -> None:
        """Messages of past sprints (delivered): the outbox's history."""
        old = datetime(2025, 9, 1, 13, tzinfo=UTC)
        with db.session() as session:
            for n in range(first, first + count):
                row = queries.enqueue(
                    session=session,
                    key=f"standup-prompt:U0OLD{n}:2025-09-{1 + n % 28:02d}",
                    method="chat.postMessage",
                    payload={"channel": "D0OLD", "text": f"old {n}"},
                    now=old + timedelta(minutes=n),
                )
                assert row is not None
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.key).contains("U0OLD"))
                .values(status=OutboxStatus.SENT)
            )
            session.commit()

    def chart_refused() -> None:
        """This morning's chart, refused by Slack (missing files:write)."""
        with db.session() as session:
            queries.enqueue(
                session=session,
                key="daily-report:2025-10-31:chart",
                method="files.upload_v2",
                payload={"channel": "#status", "text": "chart"},
                now=datetime(2025, 10, 31, 13, tzinfo=UTC),
            )
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.key).endswith(":chart"))
                .values(status=OutboxStatus.FAILED, last_error="missing_scope")
            )
            session.commit()

    def open_home() -> None:
        home_opened(server, "U0ALICE")
        listeners_done()

    seen: dict[int, int] = {}
    queue_old(0, 20)
    chart_refused()
    open_home()
    work.measure(open_home)
    seen[20] = work.reading("outbox")
    # The outbox's history before this morning: 980 more rows of past sprints, queued (as
    # they were) before this morning's chart.
    with db.session() as session:
        session.execute(delete(OutboxMessage).where(col(OutboxMessage.key).contains(":chart")))
        session.commit()
    queue_old(20, 980)
    chart_refused()
    open_home()
    work.measure(open_home)
    seen[1000] = work.reading("outbox")

    assert flat(seen[20], seen[1000]), (
        f"App Home's reads of the outbox grew from {seen[20]} to {seen[1000]} (x100 SQLite VM "
        f"steps) as the outbox's past-sprint history grew from 20 to 1000 rows: "
        + "; ".join(f"{n}: {k}" for k, n in work.steps.most_common(3))
    )

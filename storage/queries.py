"""Typed queries. Functions flush; the caller owns the transaction and commits once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar
from uuid import uuid4

from sqlalchemy import (
    Boolean,
    bindparam,
    case,
    func,
    or_,
    text,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.db import READ_ONLY
from storage.models import (
    Alert,
    Away,
    Blocker,
    Event,
    JobRun,
    KnownTest,
    Lesson,
    ManualScore,
    MetricSample,
    OutboxMessage,
    OutboxStatus,
    ReadinessSnapshot,
    Risk,
    Signoff,
    Standup,
    TestReport,
    TestResult,
    TestStatus,
)
from storage.types import UTCDateTime


def ping(*, session: Session) -> None:
    """Round-trip to the database; raises when it is unreachable."""
    session.execute(text("SELECT 1"))


# -- readiness inputs --------------------------------------------------------------------


def component_test_counts(
    *, session: Session, branch: str = "main"
) -> dict[str | None, tuple[int, int]]:
    """Per component (None for unmapped tests): (passed, total) over the branch's known tests."""
    passed = func.sum(case((col(KnownTest.status) == TestStatus.PASSED, 1), else_=0))
    rows = session.exec(
        select(KnownTest.component, passed, func.count())
        .where(KnownTest.branch == branch)
        .group_by(col(KnownTest.component))
    ).all()
    return {c: (int(p or 0), int(n)) for c, p, n in rows}


def failing_count(*, session: Session, branch: str = "main") -> int:
    """How many of the branch's known tests fail (failed or error) now."""
    return int(
        session.exec(
            select(func.count()).where(
                KnownTest.branch == branch,
                col(KnownTest.status).in_([TestStatus.FAILED, TestStatus.ERROR]),
            )
        ).one()
    )


def latest_manual_scores(*, session: Session) -> dict[str, float]:
    """The newest score set for each manual component."""
    newest = (
        select(ManualScore.component, func.max(ManualScore.id).label("id"))
        .group_by(col(ManualScore.component))
        .subquery()
    )
    rows = session.exec(select(ManualScore).join(newest, col(ManualScore.id) == newest.c.id)).all()
    return {r.component: r.score for r in rows}


def add_manual_score(
    *,
    session: Session,
    component: str,
    score: float,
    previous: float | None,
    user_id: str,
    at: datetime,
) -> ManualScore:
    """Record a manual score; it becomes the component's current score."""
    row = ManualScore(
        component=component, score=score, previous=previous, set_by=user_id, set_at=at
    )
    session.add(row)
    session.flush()
    return row


def latest_metric_values(*, session: Session) -> dict[str, float]:
    """The most recent sample of each metric (by measurement time, then arrival)."""
    ranked = select(
        MetricSample.name,
        MetricSample.value,
        func.row_number()
        .over(
            partition_by=MetricSample.name,
            order_by=(col(MetricSample.at).desc(), col(MetricSample.id).desc()),
        )
        .label("rank"),
    ).subquery()
    rows = session.execute(select(ranked.c.name, ranked.c.value).where(ranked.c.rank == 1)).all()
    return {str(n): float(v) for n, v in rows}


def add_snapshot(
    *, session: Session, at: datetime, score: float | None, cause: str, breakdown: dict[str, Any]
) -> ReadinessSnapshot:
    """Store readiness as computed now."""
    row = ReadinessSnapshot(at=at, score=score, cause=cause, breakdown=breakdown)
    session.add(row)
    session.flush()
    return row


def latest_snapshot(*, session: Session) -> ReadinessSnapshot | None:
    """The most recent readiness snapshot."""
    return session.exec(
        select(ReadinessSnapshot).order_by(col(ReadinessSnapshot.id).desc()).limit(1)
    ).first()


def open_blockers(*, session: Session, severity: str | None = None) -> list[Blocker]:
    """Unresolved blockers, most severe and oldest first."""
    q = select(Blocker).where(col(Blocker.resolved_at).is_(None))
    if severity is not None:
        q = q.where(Blocker.severity == severity)
    return list(session.exec(q.order_by(col(Blocker.severity), col(Blocker.reported_at))).all())


# -- outbox ------------------------------------------------------------------------------
# Delivery order: rows of one lane (a channel, a user's Home, e-mail) go one at a time,
# oldest first; a row waits behind an older undelivered (pending or sending) row of its
# lane. Pacing: a sent row's `next_attempt_at` is reused as the time its lane may send
# again, so every sender (thread or process) sees the lane's pace in the database.

UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def lane_for(
    method: str,
    payload: dict[str, Any],
    parent_key: str | None,
    parent: tuple[str | None, dict[str, Any]] | None,
) -> str | None:
    """The lane rule without a session: `parent` is the parent row's (lane, payload), or
    None when there is no parent row (migration 0003 backfills lanes with it)."""
    if method == "email.send":
        return "email"
    if method == "views.publish":
        return f"home:{payload.get('user_id', '')}"[:300]
    if parent_key is not None and parent is not None:
        lane, parent_payload = parent
        if lane or (parent_payload or {}).get("channel"):
            return str(lane or parent_payload["channel"])[:300]
    channel = payload.get("channel")
    if channel:
        return str(channel)[:300]
    return f"thread:{parent_key}"[:300] if parent_key is not None else None


def outbox_lane(
    *, session: Session, method: str, payload: dict[str, Any], parent_key: str | None
) -> str | None:
    """The lane a message is delivered in: its channel as the payload names it (a thread
    reply, update or file joins its parent's lane), `home:<user>` for an App Home,
    `email` for e-mail; None (a lane of its own) when nothing names one."""
    parent = None
    if parent_key is not None and method not in ("email.send", "views.publish"):
        row = session.exec(
            select(OutboxMessage.lane, OutboxMessage.payload).where(OutboxMessage.key == parent_key)
        ).first()
        if row is not None:
            parent = (row[0], dict(row[1] or {}))
    return lane_for(method, payload, parent_key, parent)


def enqueue(
    *,
    session: Session,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    parent_key: str | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox; None (and nothing added) when `key` is already there."""
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).first() is not None:
        return None
    row = OutboxMessage(
        key=key,
        method=method,
        payload=payload,
        parent_key=parent_key,
        created_at=now,
        next_attempt_at=now,
        lane=outbox_lane(session=session, method=method, payload=payload, parent_key=parent_key),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another process enqueued the same key between our look-up and insert.
        return None
    return row


def outbox_message(*, session: Session, key: str) -> OutboxMessage | None:
    """The outbox row for `key`."""
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def _lane_heads() -> Any:
    """(the row alias, a condition) selecting rows with no older undelivered row in their
    lane; rows without a lane are each their own.

    The heads are the oldest undelivered id of each lane (one aggregate over the
    undelivered rows) plus the undelivered rows without a lane, selected in a subquery:
    an anti-join against every older row of the lane grows with the square of a lane's
    backlog on PostgreSQL, and FOR UPDATE (claim_due) cannot share a SELECT with GROUP BY.
    """
    head = aliased(OutboxMessage, name="head")
    first = aliased(OutboxMessage, name="first")
    lone = aliased(OutboxMessage, name="lone")
    head_ids = union_all(
        sa_select(func.min(col(first.id)))
        .where(col(first.status).in_(UNDELIVERED), col(first.lane).is_not(None))
        .group_by(col(first.lane)),
        sa_select(col(lone.id)).where(col(lone.status).in_(UNDELIVERED), col(lone.lane).is_(None)),
    )
    return head, col(head.id).in_(head_ids)


def _paced(head: Any, wall: datetime, methods: Sequence[str] | None) -> Any:
    """Whether `head` (if one of the paced `methods`; None: any) must wait because its
    lane sent a message less than its pace ago (on the wall clock)."""
    recent = aliased(OutboxMessage, name="recent")
    lane_busy = (
        sa_select(col(recent.id))
        .where(
            col(recent.lane) == col(head.lane),
            col(recent.status) == OutboxStatus.SENT,
            col(recent.next_attempt_at) > wall,
        )
        .exists()
    )
    return lane_busy if methods is None else col(head.method).in_(methods) & lane_busy


def claim_due(
    *,
    session: Session,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
    wall: datetime | None = None,
    reclaimed_error: str = "uncertain: the previous claim expired mid-send",
    paced_methods: Sequence[str] | None = None,
) -> list[OutboxMessage]:
    """Claim up to `limit` due messages, at most one per lane (its oldest undelivered),
    each with a fresh `claim_token`; safe against concurrent senders.

    A lane's head is due when pending and its next attempt has come, or when a sender
    claimed it longer than `lease` ago and died (its `last_error` becomes
    `reclaimed_error`: it may have reached Slack); and, when it is one of `paced_methods`
    (None: any), once its lane's pace has passed at `wall` (the real time; `now` is the
    scheduling clock, which tests and backfills move). One UPDATE claims the candidates:
    on PostgreSQL they are selected FOR UPDATE SKIP LOCKED, so racing senders take
    disjoint rows; on SQLite the write lock serialises them.
    """
    head, is_head = _lane_heads()
    due = or_(
        (col(head.status) == OutboxStatus.PENDING) & (col(head.next_attempt_at) <= now),
        (col(head.status) == OutboxStatus.SENDING) & (col(head.claimed_at) < now - lease),
    )
    candidates = (
        sa_select(col(head.id))
        .where(is_head, due, ~_paced(head, wall or now, paced_methods))
        .order_by(col(head.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    token = uuid4().hex
    claimed_ids = (
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(candidates.scalar_subquery()))
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=now,
                attempts=col(OutboxMessage.attempts) + 1,
                claim_token=token,
                last_error=case(
                    (col(OutboxMessage.status) == OutboxStatus.SENDING, reclaimed_error),
                    else_=col(OutboxMessage.last_error),
                ),
            )
            .returning(col(OutboxMessage.id))
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if not claimed_ids:
        return []
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(claimed_ids))
        .order_by(col(OutboxMessage.id))
        .execution_options(populate_existing=True)
    ).all()
    return list(rows)


@dataclass(frozen=True)
class LaneHead:
    """When a lane's oldest undelivered row may next be claimed: `due_at` on the
    scheduling clock, `paced_until` (its lane's last send plus pace) on the wall clock."""

    due_at: datetime
    paced_until: datetime | None


def lane_heads(
    *, session: Session, lease: timedelta, paced_methods: Sequence[str] | None = None
) -> list[LaneHead]:
    """The head of every lane with undelivered rows, for a sender deciding how long to
    sleep; only heads of `paced_methods` (None: any) wait for their lane's pace."""
    head, is_head = _lane_heads()
    recent = aliased(OutboxMessage, name="recent")
    paced_until = (
        sa_select(func.max(col(recent.next_attempt_at)))
        .where(col(recent.lane) == col(head.lane), col(recent.status) == OutboxStatus.SENT)
        .scalar_subquery()
    )
    rows = session.execute(
        sa_select(
            col(head.method),
            col(head.status),
            col(head.next_attempt_at),
            col(head.claimed_at),
            paced_until,
        ).where(is_head)
    ).all()
    heads = []
    for method, status, next_attempt_at, claimed_at, paced in rows:
        due_at = next_attempt_at
        if status == OutboxStatus.SENDING and claimed_at is not None:
            due_at = claimed_at + lease
        if paced_methods is not None and method not in paced_methods:
            paced = None
        heads.append(LaneHead(due_at=due_at, paced_until=paced))
    return heads


def renew_claim(*, session: Session, message_id: int, claim_token: str, now: datetime) -> bool:
    """Extend a claim's lease; False when the row is no longer held by `claim_token`."""
    renewed = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.claim_token) == claim_token,
            col(OutboxMessage.status) == OutboxStatus.SENDING,
        )
        .values(claimed_at=now)
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    ).all()
    return bool(renewed)


def finish_message(
    *,
    session: Session,
    message_id: int,
    status: OutboxStatus,
    now: datetime,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
    attempts: int | None = None,
    claim_token: str | None = None,
    lane_free_at: datetime | None = None,
) -> bool:
    """Record a delivery outcome: sent, failed for good, or pending again at `retry_at`.

    With `claim_token`, only while the row is still held by it (a sender whose lease
    expired and whose row another sender re-claimed must not overwrite that one's
    outcome); returns whether the row was updated. `lane_free_at` (sent rows) is when
    the next row of its lane may go.
    """
    values: dict[str, Any] = {"status": status, "last_error": error, "claim_token": None}
    if attempts is not None:
        values["attempts"] = attempts
    if status is OutboxStatus.SENT:
        values.update(sent_at=now, result=result or {})
        if lane_free_at is not None:
            values["next_attempt_at"] = lane_free_at
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    query = update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
    if claim_token is not None:
        query = query.where(
            col(OutboxMessage.claim_token) == claim_token,
            col(OutboxMessage.status) == OutboxStatus.SENDING,
        )
    finished = session.execute(
        query.values(**values)
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    ).all()
    return bool(finished)


def retry_now(*, session: Session, now: datetime, error_prefixes: Sequence[str]) -> int:
    """Bring forward the pending rows backing off after an error starting with one of
    `error_prefixes` (the destination is reachable again); how many."""
    if not error_prefixes:
        return 0
    moved = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) > now,
            or_(
                *(
                    col(OutboxMessage.last_error).startswith(p, autoescape=True)
                    for p in error_prefixes
                )
            ),
        )
        .values(next_attempt_at=now)
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    ).all()
    return len(moved)


def lane_channel(*, session: Session, lane: str | None) -> str | None:
    """The channel ID Slack reported for the newest delivered message of `lane`."""
    if lane is None:
        return None
    rows = session.exec(
        select(OutboxMessage.result)
        .where(OutboxMessage.lane == lane, OutboxMessage.status == OutboxStatus.SENT)
        .order_by(col(OutboxMessage.id).desc())
        .limit(20)
    ).all()
    for result in rows:
        channel = (result or {}).get("channel")
        if isinstance(channel, str) and channel:
            return channel
    return None


def outbox_counts(*, session: Session) -> dict[str, int]:
    """How many outbox rows are in each status."""
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    ).all()
    return {str(s): int(n) for s, n in rows}


def failed_messages(*, session: Session, limit: int = 20) -> Sequence[OutboxMessage]:
    """Messages Slack refused for good, newest first."""
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()


def release_claim(*, session: Session, message_id: int, claim_token: str) -> bool:
    """Give back a row claimed but not attempted (its sender is stopping): pending again,
    its attempt undone, its last error kept; False when `claim_token` no longer holds it."""
    released = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.claim_token) == claim_token,
            col(OutboxMessage.status) == OutboxStatus.SENDING,
        )
        .values(
            status=OutboxStatus.PENDING,
            claim_token=None,
            attempts=col(OutboxMessage.attempts) - 1,
        )
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    ).all()
    return bool(released)


# -- test history ------------------------------------------------------------------------


def lock_branch(*, session: Session, branch: str) -> None:
    """Serialise ingestion per branch across processes (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"sprintbot:{branch}"}
        )


def report_by_digest(*, session: Session, run: str, digest: str) -> TestReport | None:
    """The report of `run` with this exact document, if it was received before."""
    return session.exec(
        select(TestReport).where(TestReport.run == run, TestReport.digest == digest)
    ).first()


def branch_version(*, session: Session, branch: str) -> int:
    """The newest report of a branch (0: none). Only ingestion changes a branch's tests and
    ingests of a branch are serialised, so the same number means the same known tests."""
    found = session.execute(
        sa_select(func.max(TestReport.id)).where(col(TestReport.branch) == branch)
    ).scalar()
    return int(found or 0)


def _placeholder(session: Session) -> str:
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def _scan_hint(placeholder: str) -> str:
    # Whole-branch reads: on SQLite a table scan beats walking the (branch, key) index row
    # by row; PostgreSQL's planner chooses well by itself.
    return " NOT INDEXED" if placeholder == "?" else ""


KnownRow = tuple[str, str, int, str, str | None]


def branch_tests(*, session: Session, branch: str, batch: int = 10_000) -> Iterator[KnownRow]:
    """Every known test of a branch as (classname, name, id, status, component), streamed.

    Read through the DB-API cursor in batches (a server-side cursor on PostgreSQL): a 1M-test
    suite is read on every report, and neither SQLAlchemy's row objects nor the whole result
    at once should cost memory per test.
    """
    p = _placeholder(session)
    raw = session.connection().connection
    cursor = raw.cursor("known_tests") if p == "%s" else raw.cursor()
    try:
        cursor.execute(
            "SELECT classname, name, id, status, component "  # noqa: S608
            f"FROM known_test{_scan_hint(p)} WHERE branch = {p}",  # (a placeholder, not data)
            (branch,),
        )
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def alerted_tests(*, session: Session, branch: str) -> dict[int, int]:
    """The branch's tests that an open regression alert holds: test id → alert id."""
    rows = session.execute(
        sa_select(col(KnownTest.id), col(KnownTest.alert_id)).where(
            col(KnownTest.alert_id).is_not(None), col(KnownTest.branch) == branch
        )
    ).all()
    return {int(i): int(a) for i, a in rows}


def muted_among(*, session: Session, branch: str, ids: Sequence[int]) -> set[int]:
    """Which of these tests of a branch are muted as flaky."""
    if not ids:
        return set()
    query = sa_select(col(KnownTest.id)).where(col(KnownTest.muted))
    if len(ids) > 5000:  # many: one pass over the branch beats thousands of look-ups
        wanted = set(ids)
        found = session.execute(query.where(col(KnownTest.branch) == branch)).scalars()
        return {int(i) for i in found if i in wanted}
    out: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        found = session.execute(query.where(col(KnownTest.id).in_(chunk))).scalars()
        out.update(int(i) for i in found)
    return out


def add_report(*, session: Session, report: TestReport) -> TestReport:
    """Store a report row (its id is then set)."""
    session.add(report)
    session.flush()
    return report


# New tests wait in a temporary table of the connection that will insert them, filled
# before the write transaction begins: the Python work of binding a million rows is done
# without SQLite's write lock, and the insert under it is one statement.
STAGED_TEST_COLUMNS = ("n", "key", "classname", "name", "file", "component", "status", "message")


def stage_tests(*, connection: Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Put new tests (values of STAGED_TEST_COLUMNS in order: `n` counts from 1 in the order
    of the unique keys) in `connection`'s staging table, replacing what it held. Outside a
    transaction it runs in its own one, which on SQLite takes no write lock (it writes only
    to the connection's TEMP schema)."""
    postgres = connection.dialect.name == "postgresql"
    if connection.in_transaction():
        _stage(connection, rows, postgres=postgres)
        return
    connection.execution_options(**{READ_ONLY: not postgres})
    with connection.begin():
        _stage(connection, rows, postgres=postgres)


def _stage(connection: Connection, rows: Iterable[tuple[Any, ...]], *, postgres: bool) -> None:
    columns = ", ".join(STAGED_TEST_COLUMNS)
    cursor = connection.connection.cursor()
    try:
        if postgres:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS staged_test (n integer, "
                "key varchar(32) PRIMARY KEY, classname text, name text, file text, "
                "component text, status varchar(10), message text)"
            )
            cursor.execute("TRUNCATE staged_test")
            with cursor.copy(f"COPY staged_test ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # Keyed by `key`, so the insert walks it in the order of known_test's index.
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS staged_test (n INTEGER, key TEXT PRIMARY KEY, "
                "classname TEXT, name TEXT, file TEXT, component TEXT, status TEXT, "
                "message TEXT) WITHOUT ROWID"
            )
            cursor.execute("DELETE FROM staged_test")
            for batch in _batches(rows):
                cursor.executemany(
                    f"INSERT INTO staged_test ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                    batch,
                )
    finally:
        cursor.close()


def unstage_tests(*, connection: Connection) -> None:
    """Drop the staging table (its connection goes back to the pool)."""
    if connection.invalidated:
        return  # the connection is gone, and its TEMP tables with it
    if connection.in_transaction():
        connection.exec_driver_sql("DROP TABLE IF EXISTS staged_test")
        return
    connection.execution_options(**{READ_ONLY: connection.dialect.name != "postgresql"})
    with connection.begin():
        connection.exec_driver_sql("DROP TABLE IF EXISTS staged_test")


def insert_staged_tests(
    *, session: Session, branch: str, report_id: int, first_seen_at: datetime, at: datetime
) -> None:
    """Add the staged tests to the branch's known tests, each with a result unless it passed
    (a new test that passes needs none: known_test says when it was first seen)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    base = _max_test_id(session) if sqlite else 0
    inserted = session.execute(
        text(
            "INSERT INTO known_test (branch, key, classname, name, file, component, status, "
            "message, first_seen_at, changed_at, last_report_id, muted) "
            "SELECT :branch, key, classname, name, file, component, status, message, "
            ":seen, :at, :report, :muted FROM staged_test ORDER BY key"
        ).bindparams(
            bindparam("seen", type_=UTCDateTime),
            bindparam("at", type_=UTCDateTime),
            bindparam("muted", False, type_=Boolean),
        ),
        {"branch": branch, "report": report_id, "seen": first_seen_at, "at": at},
    ).rowcount  # type: ignore[attr-defined]
    if sqlite and _max_test_id(session) == base + inserted and _ids_follow(session, base):
        # Under SQLite's write lock the rows took the next ids, in key order, which is the
        # staged order `n`: no need to look each up again.
        session.execute(
            text(
                "INSERT INTO test_result (report_id, test_id, status, previous_status, message) "
                "SELECT :report, :base + n, status, NULL, message FROM staged_test "
                "WHERE status <> 'passed'"
            ),
            {"report": report_id, "base": base},
        )
        return
    session.execute(
        text(
            "INSERT INTO test_result (report_id, test_id, status, previous_status, message) "
            "SELECT :report, k.id, s.status, NULL, s.message FROM staged_test s "
            "JOIN known_test k ON k.branch = :branch AND k.key = s.key "
            "WHERE s.status <> 'passed'"
        ),
        {"branch": branch, "report": report_id},
    )


def _max_test_id(session: Session) -> int:
    return int(session.execute(sa_select(func.max(KnownTest.id))).scalar() or 0)


def _ids_follow(session: Session, base: int) -> bool:
    """Whether the first and the last staged test got ids base + their `n`."""
    found = session.execute(
        text(
            "SELECT s.n, k.id FROM staged_test s JOIN known_test k ON k.key = s.key "
            "WHERE s.n IN (1, (SELECT max(n) FROM staged_test)) AND k.id > :base"
        ),
        {"base": base},
    ).all()
    return bool(found) and all(int(i) == base + int(n) for n, i in found)


UPDATED_TEST_COLUMNS = ("status", "component", "message", "last_report_id", "file")


def update_tests(
    *,
    session: Session,
    rows: Iterable[tuple[Any, ...]],
    changed_at: datetime | None,
) -> None:
    """Update known tests in bulk: each row holds the values of UPDATED_TEST_COLUMNS, then
    the test's id; `changed_at` (when their status changed) is set on each if given."""
    p = _placeholder(session)
    columns = [f"{c} = {p}" for c in UPDATED_TEST_COLUMNS]
    stamp: tuple[Any, ...] = ()
    if changed_at is not None:
        columns.append(f"changed_at = {p}")
        stamp = (_bind_time(session, changed_at),)
    _executemany(
        session,
        f"UPDATE known_test SET {', '.join(columns)} WHERE id = {p}",  # noqa: S608
        ((*row[:-1], *stamp, row[-1]) for row in rows),
    )


def add_results(*, session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """Record the tests a report changed: (report_id, test_id, status, previous_status,
    message) each."""
    p = _placeholder(session)
    _executemany(
        session,
        "INSERT INTO test_result (report_id, test_id, status, previous_status, message) "  # noqa: S608
        f"VALUES ({p}, {p}, {p}, {p}, {p})",  # (placeholders, not data)
        rows,
    )


def _executemany(session: Session, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    # The DB-API's executemany (pipelined on psycopg): SQLAlchemy binds row by row in Python.
    cursor = session.connection().connection.cursor()
    try:
        for batch in _batches(rows):
            cursor.executemany(sql, batch)
    finally:
        cursor.close()


def _batches(
    rows: Iterable[tuple[Any, ...]], size: int = 10_000
) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bind_time(session: Session, value: datetime) -> Any:
    """A timestamp as the ORM would store it (SQLite: its text form)."""
    dialect = session.get_bind().dialect
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor is not None else value


def tests_by_id(*, session: Session, ids: Sequence[int]) -> list[KnownTest]:
    """Known tests by id, in id order."""
    if not ids:
        return []
    return list(session.exec(select(KnownTest).where(col(KnownTest.id).in_(ids))).all())


def alert_tests(*, session: Session, alert_id: int) -> list[KnownTest]:
    """The tests an alert still holds (cleared as each recovers)."""
    return list(session.exec(select(KnownTest).where(KnownTest.alert_id == alert_id)).all())


def clear_alert(*, session: Session, test_ids: Sequence[int]) -> None:
    """Release recovered tests from their alerts."""
    if test_ids:
        session.execute(
            update(KnownTest).where(col(KnownTest.id).in_(test_ids)).values(alert_id=None)
        )


def set_alert(*, session: Session, test_ids: Sequence[int], alert_id: int) -> None:
    """Tie regressed tests to the alert that announced them."""
    if test_ids:
        session.execute(
            update(KnownTest).where(col(KnownTest.id).in_(test_ids)).values(alert_id=alert_id)
        )


def mute_tests(*, session: Session, alert_id: int) -> int:
    """Mark an alert's tests as flaky; returns how many."""
    result = session.execute(
        update(KnownTest).where(col(KnownTest.alert_id) == alert_id).values(muted=True)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- alerts ------------------------------------------------------------------------------


def add_alert(*, session: Session, alert: Alert) -> Alert:
    """Store an alert (its id is then set)."""
    session.add(alert)
    session.flush()
    return alert


def alert_by_id(*, session: Session, alert_id: int) -> Alert | None:
    """One alert."""
    return session.get(Alert, alert_id)


def open_alert(*, session: Session, kind: str, subject: str) -> Alert | None:
    """The unresolved alert of this kind about `subject`, if any."""
    return session.exec(
        select(Alert).where(
            Alert.kind == kind, Alert.subject == subject, col(Alert.resolved_at).is_(None)
        )
    ).first()


def alerts_to_follow_up(*, session: Session, kind: str, created_before: datetime) -> list[Alert]:
    """Alerts of `kind` nobody acknowledged, unresolved, not yet followed up."""
    return list(
        session.exec(
            select(Alert)
            .where(
                Alert.kind == kind,
                col(Alert.created_at) <= created_before,
                col(Alert.acknowledged_at).is_(None),
                col(Alert.resolved_at).is_(None),
                col(Alert.followed_up_at).is_(None),
            )
            .order_by(col(Alert.id))
        ).all()
    )


def add_metric_samples(*, session: Session, samples: list[MetricSample]) -> None:
    """Store benchmark figures."""
    session.add_all(samples)
    session.flush()


# -- standups ----------------------------------------------------------------------------


def standup_for(*, session: Session, user_id: str, day: date) -> Standup | None:
    """One person's standup row for a local date."""
    return session.exec(
        select(Standup).where(Standup.user_id == user_id, Standup.day == day)
    ).first()


def standups_on(*, session: Session, day: date) -> list[Standup]:
    """Every standup row (answers and skips) of a local date."""
    return list(session.exec(select(Standup).where(Standup.day == day)).all())


def latest_standup_before(*, session: Session, user_id: str, day: date) -> Standup | None:
    """The person's most recent answer before `day` (for carry-over)."""
    return session.exec(
        select(Standup)
        .where(Standup.user_id == user_id, col(Standup.day) < day, col(Standup.skipped).is_(False))
        .order_by(col(Standup.day).desc())
        .limit(1)
    ).first()


def away_on(*, session: Session, day: date) -> set[str]:
    """Who is away on a local date."""
    rows = session.exec(
        select(Away.user_id).where(col(Away.start) <= day, col(Away.end) >= day)
    ).all()
    return set(rows)


def blocker_like(*, session: Session, description: str, reported_by: str) -> bool:
    """Whether this person already has an open blocker with this text (standup re-edits)."""
    return (
        session.exec(
            select(Blocker.id).where(
                Blocker.description == description,
                Blocker.reported_by == reported_by,
                col(Blocker.resolved_at).is_(None),
            )
        ).first()
        is not None
    )


def risk_like(*, session: Session, description: str, created_by: str) -> bool:
    """Whether this person already recorded a risk with this text."""
    return (
        session.exec(
            select(Risk.id).where(Risk.description == description, Risk.created_by == created_by)
        ).first()
        is not None
    )


_Keyed = TypeVar("_Keyed", Blocker, Risk)


def add_blocker(*, session: Session, blocker: Blocker) -> Blocker:
    """Insert a blocker; when its request_key is taken, the blocker that holds it instead
    (nothing inserted). A concurrent insert of the same key waits for the first on
    PostgreSQL, then finds it."""
    return _add_keyed(session, blocker, Blocker)


def add_risk(*, session: Session, risk: Risk) -> Risk:
    """Insert a risk; when its request_key is taken, the risk that holds it instead."""
    return _add_keyed(session, risk, Risk)


def _add_keyed(session: Session, row: _Keyed, table: type[_Keyed]) -> _Keyed:
    def holder() -> _Keyed | None:
        found: _Keyed | None = session.exec(
            select(table).where(table.request_key == row.request_key)
        ).first()
        return found

    if row.request_key is not None and (found := holder()) is not None:
        return found
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = holder() if row.request_key is not None else None
        if found is None:
            raise
        return found
    return row


def count_events(*, session: Session, subject: str, subject_id: int, action: str) -> int:
    """How many times `action` happened to a blocker or risk."""
    return session.exec(
        select(func.count())
        .select_from(Event)
        .where(Event.subject == subject, Event.subject_id == subject_id, Event.action == action)
    ).one()


def all_risks(*, session: Session) -> list[Risk]:
    """Every risk, oldest first."""
    return list(session.exec(select(Risk).order_by(col(Risk.id))).all())


# -- reports -----------------------------------------------------------------------------


def snapshots_between(
    *, session: Session, start: datetime, end: datetime
) -> list[ReadinessSnapshot]:
    """Readiness snapshots taken in [start, end), oldest first."""
    return list(
        session.exec(
            select(ReadinessSnapshot)
            .where(col(ReadinessSnapshot.at) >= start, col(ReadinessSnapshot.at) < end)
            .order_by(col(ReadinessSnapshot.at), col(ReadinessSnapshot.id))
        ).all()
    )


def snapshot_before(*, session: Session, at: datetime) -> ReadinessSnapshot | None:
    """The last snapshot taken before `at`."""
    return session.exec(
        select(ReadinessSnapshot)
        .where(col(ReadinessSnapshot.at) < at)
        .order_by(col(ReadinessSnapshot.at).desc(), col(ReadinessSnapshot.id).desc())
        .limit(1)
    ).first()


def reports_between(
    *, session: Session, start: datetime, end: datetime, branch: str
) -> list[TestReport]:
    """Test reports of a branch received in [start, end), oldest first."""
    return list(
        session.exec(
            select(TestReport)
            .where(
                TestReport.branch == branch,
                col(TestReport.received_at) >= start,
                col(TestReport.received_at) < end,
            )
            .order_by(col(TestReport.id))
        ).all()
    )


def changes_between(
    *, session: Session, start: datetime, end: datetime, branch: str
) -> list[dict[str, Any]]:
    """Status changes recorded by a branch's reports in [start, end): regression, new
    (first seen failing), fixed or other; with each test's status now."""
    failing = (TestStatus.FAILED, TestStatus.ERROR)
    rows = session.execute(
        sa_select(
            col(TestResult.status),
            col(TestResult.previous_status),
            col(KnownTest.classname),
            col(KnownTest.name),
            col(KnownTest.component),
            col(KnownTest.status),
        )
        .join(TestReport, col(TestReport.id) == col(TestResult.report_id))
        .join(KnownTest, col(KnownTest.id) == col(TestResult.test_id))
        .where(
            col(TestReport.branch) == branch,
            col(TestReport.received_at) >= start,
            col(TestReport.received_at) < end,
            or_(
                col(TestResult.previous_status).is_(None),
                col(TestResult.status) != col(TestResult.previous_status),
            ),
        )
        .order_by(col(TestResult.id))
    ).all()
    out = []
    for status, previous, classname, name, component, now in rows:
        if status in failing and previous == TestStatus.PASSED:
            kind = "regression"
        elif status in failing and previous is None:
            kind = "new"
        elif status == TestStatus.PASSED and previous in failing:
            kind = "fixed"
        else:
            kind = "other"
        out.append(
            {"id": f"{classname}::{name}", "component": component, "kind": kind, "now": str(now)}
        )
    return out


# -- job runs ----------------------------------------------------------------------------


def last_job_slots(*, session: Session) -> dict[str, str]:
    """Each job's newest slot claimed (slots are ISO dates, so the greatest is the newest)."""
    rows = session.exec(select(JobRun.job, func.max(JobRun.slot)).group_by(col(JobRun.job)))
    return {job: slot for job, slot in rows.all() if slot}


def claim_job_slot(*, session: Session, job: str, slot: str, now: datetime) -> JobRun | None:
    """Claim (job, slot); None when another run already has it (on PostgreSQL a concurrent
    claimer waits for the first to commit, then gets None)."""
    if (
        session.exec(select(JobRun.id).where(JobRun.job == job, JobRun.slot == slot)).first()
        is not None
    ):
        return None
    row = JobRun(job=job, slot=slot, started_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


# -- milestones, the review, the dashboard -----------------------------------------------


def file_counts(*, session: Session, branch: str) -> tuple[int, int]:
    """(files all of whose tests pass, files) over the branch's known tests with a file."""
    not_passing = func.sum(case((col(KnownTest.status) == TestStatus.PASSED, 0), else_=1))
    rows = session.exec(
        select(KnownTest.file, not_passing)
        .where(KnownTest.branch == branch, col(KnownTest.file).is_not(None))
        .group_by(col(KnownTest.file))
    ).all()
    return sum(1 for _, bad in rows if not bad), len(rows)


def signoffs(*, session: Session, milestone_day: int) -> list[Signoff]:
    return list(
        session.exec(
            select(Signoff)
            .where(Signoff.milestone_day == milestone_day)
            .order_by(col(Signoff.at), col(Signoff.id))
        ).all()
    )


def add_signoff(*, session: Session, signoff: Signoff) -> Signoff | None:
    """Record a sign-off; None when the role has signed this milestone already."""
    try:
        with session.begin_nested():
            session.add(signoff)
    except IntegrityError:
        return None
    return signoff


def lessons(*, session: Session) -> list[Lesson]:
    return list(session.exec(select(Lesson).order_by(col(Lesson.at), col(Lesson.id))).all())


def resolved_blockers(*, session: Session) -> list[Blocker]:
    return list(
        session.exec(
            select(Blocker)
            .where(col(Blocker.resolved_at).is_not(None))
            .order_by(col(Blocker.resolved_at), col(Blocker.id))
        ).all()
    )


def latest_report(*, session: Session, branch: str) -> TestReport | None:
    return session.exec(
        select(TestReport)
        .where(TestReport.branch == branch)
        .order_by(col(TestReport.received_at).desc(), col(TestReport.id).desc())
        .limit(1)
    ).first()


def latest_message(
    *, session: Session, key_prefix: str, key_suffix: str = "", sent_only: bool = False
) -> OutboxMessage | None:
    """The newest outbox message whose key starts (and ends) so; only delivered ones if
    `sent_only`."""
    query = select(OutboxMessage).where(
        col(OutboxMessage.key).startswith(key_prefix, autoescape=True),
        col(OutboxMessage.key).endswith(key_suffix, autoescape=True),
    )
    if sent_only:
        query = query.where(OutboxMessage.status == OutboxStatus.SENT)
    return session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(1)).first()


def events(*, session: Session, limit: int = 200) -> list[Event]:
    """The newest audit events (blockers, risks), oldest first."""
    rows = session.exec(
        select(Event).order_by(col(Event.at).desc(), col(Event.id).desc()).limit(limit)
    ).all()
    return list(reversed(rows))


def manual_scores(*, session: Session) -> list[ManualScore]:
    return list(
        session.exec(select(ManualScore).order_by(col(ManualScore.set_at), col(ManualScore.id)))
    )


def reports_of_branch(*, session: Session, branch: str, limit: int = 200) -> list[TestReport]:
    """The branch's newest reports, oldest first (without their packed statuses)."""
    rows = session.exec(
        select(TestReport)
        .where(TestReport.branch == branch)
        .order_by(col(TestReport.received_at).desc(), col(TestReport.id).desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def home_users(*, session: Session, key_prefix: str, since: datetime) -> list[str]:
    """Users whose Home was published for them (key `prefix + user + ":…"`) since `since`."""
    keys = session.exec(
        select(OutboxMessage.key).where(
            col(OutboxMessage.key).startswith(key_prefix, autoescape=True),
            col(OutboxMessage.created_at) >= since,
        )
    ).all()
    return sorted({k.removeprefix(key_prefix).split(":", 1)[0] for k in keys})


# -- sprint history (every figure as of an instant) ---------------------------------------


class HistoryTest(NamedTuple):
    """A known test as the sprint's figures need it (a tuple: a suite has a million)."""

    id: int
    classname: str
    name: str
    file: str | None
    component: str | None
    status: str  # latest
    first_seen_at: datetime | None  # None: before the `seen_since` asked for


class HistoryChange(NamedTuple):
    """A status change a report recorded (`previous` None: the test's first status)."""

    test_id: int
    status: str
    previous: str | None
    at: datetime  # when sprintbot received the report
    report_id: int


class HistorySample(NamedTuple):
    """A benchmark sample as the figures read it."""

    name: str
    value: float
    at: datetime
    received_at: datetime


def history_tests(
    *, session: Session, branch: str, seen_since: datetime | None = None
) -> list[HistoryTest]:
    """Every known test of a branch, with its latest status and when it was first seen
    (None when that was before `seen_since`: the caller needs no earlier time, and
    converting a timestamp per test is a good part of reading a large suite)."""
    first_seen: Any = col(KnownTest.first_seen_at)
    if seen_since is not None:
        first_seen = case((first_seen >= seen_since, first_seen), else_=None).label("seen")
    rows = session.execute(
        sa_select(
            col(KnownTest.id),
            col(KnownTest.classname),
            col(KnownTest.name),
            col(KnownTest.file),
            col(KnownTest.component),
            col(KnownTest.status),
            type_coerce(first_seen, UTCDateTime),
        ).where(col(KnownTest.branch) == branch)
    )
    return list(map(HistoryTest._make, rows))


def history_changes(
    *, session: Session, branch: str, since: datetime | None = None
) -> list[HistoryChange]:
    """The status changes the branch's reports recorded (those received at or after `since`,
    if given), in the order they were received."""
    query = (
        sa_select(
            col(TestResult.test_id),
            col(TestResult.status),
            col(TestResult.previous_status),
            col(TestReport.received_at),
            col(TestReport.id),
        )
        .join(TestReport, col(TestReport.id) == col(TestResult.report_id))
        .where(
            col(TestReport.branch) == branch,
            or_(
                col(TestResult.previous_status).is_(None),
                col(TestResult.status) != col(TestResult.previous_status),
            ),
        )
        .order_by(col(TestReport.received_at), col(TestReport.id), col(TestResult.id))
    )
    if since is not None:
        query = query.where(col(TestReport.received_at) >= since)
    return list(map(HistoryChange._make, session.execute(query)))


def first_report_since(*, session: Session, branch: str, at: datetime) -> datetime | None:
    """When the branch's first report at or after `at` was received."""
    found = session.exec(
        select(func.min(TestReport.received_at)).where(
            TestReport.branch == branch, col(TestReport.received_at) >= at
        )
    ).one()
    return found if isinstance(found, datetime) else None


def manual_score_history(*, session: Session, until: datetime) -> list[ManualScore]:
    """Manual scores set up to `until`, oldest first (the latest per component counts)."""
    return list(
        session.exec(
            select(ManualScore)
            .where(col(ManualScore.set_at) <= until)
            .order_by(col(ManualScore.set_at), col(ManualScore.id))
        )
    )


def metric_history(*, session: Session, until: datetime) -> list[HistorySample]:
    """Benchmark samples received up to `until`, by measurement time then arrival."""
    rows = session.execute(
        sa_select(
            col(MetricSample.name),
            col(MetricSample.value),
            col(MetricSample.at),
            col(MetricSample.received_at),
        )
        .where(col(MetricSample.received_at) <= until)
        .order_by(col(MetricSample.at), col(MetricSample.id))
    )
    return list(map(HistorySample._make, rows))


def blockers_open_at(*, session: Session, at: datetime) -> list[Blocker]:
    """Blockers reported by `at` and not resolved by then, most severe and oldest first."""
    return list(
        session.exec(
            select(Blocker)
            .where(
                col(Blocker.reported_at) <= at,
                or_(col(Blocker.resolved_at).is_(None), col(Blocker.resolved_at) > at),
            )
            .order_by(col(Blocker.severity), col(Blocker.reported_at), col(Blocker.id))
        ).all()
    )


def risks_at(*, session: Session, at: datetime) -> list[Risk]:
    """Risks recorded by `at`, oldest first."""
    return list(
        session.exec(select(Risk).where(col(Risk.created_at) <= at).order_by(col(Risk.id))).all()
    )


def risk_status_changes(*, session: Session, after: datetime) -> list[Event]:
    """Risk events after `at` that changed a status (their detail holds the old one)."""
    return list(
        session.exec(
            select(Event)
            .where(Event.subject == "risk", col(Event.at) > after)
            .order_by(col(Event.at), col(Event.id))
        ).all()
    )

"""Typed queries. Functions flush; the caller owns the transaction and commits once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, text, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

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


def claim_due(
    *, session: Session, now: datetime, lease: timedelta, limit: int = 50
) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for sending; safe against concurrent senders.

    A row is due when pending and its next attempt has come, or when a sender claimed it
    longer than `lease` ago and died. The claim is one UPDATE that re-checks dueness on
    each row, so of two senders racing for a row exactly one wins it (on SQLite the write
    lock serialises them; on PostgreSQL the row lock and re-check do).
    """
    due = or_(
        (col(OutboxMessage.status) == OutboxStatus.PENDING)
        & (col(OutboxMessage.next_attempt_at) <= now),
        (col(OutboxMessage.status) == OutboxStatus.SENDING)
        & (col(OutboxMessage.claimed_at) < now - lease),
    )
    candidates = select(OutboxMessage.id).where(due).order_by(col(OutboxMessage.id)).limit(limit)
    claimed_ids = (
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(candidates.scalar_subquery()), due)
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=now,
                attempts=col(OutboxMessage.attempts) + 1,
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
) -> None:
    """Record a delivery outcome: sent, failed for good, or pending again at `retry_at`."""
    values: dict[str, Any] = {"status": status, "last_error": error}
    if attempts is not None:
        values["attempts"] = attempts
    if status is OutboxStatus.SENT:
        values.update(sent_at=now, result=result or {})
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


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


# -- test history ------------------------------------------------------------------------


@dataclass(slots=True)
class TestRow:
    """A known test as ingestion needs it (read without the ORM: there may be 100k+)."""

    __test__ = False  # not a pytest class

    id: int
    status: str
    component: str | None
    muted: bool
    alert_id: int | None


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


def _placeholder(session: Session) -> str:
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def _scan_hint(placeholder: str) -> str:
    # Whole-branch reads: on SQLite a table scan beats walking the (branch, key) index row
    # by row; PostgreSQL's planner chooses well by itself.
    return " NOT INDEXED" if placeholder == "?" else ""


def branch_tests(*, session: Session, branch: str) -> dict[tuple[str, str], TestRow]:
    """Every known test of a branch by (classname, name).

    Read through the DB-API cursor: a 200k-test suite is read on every report, and
    SQLAlchemy's row objects would cost several times the query itself.
    """
    p = _placeholder(session)
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            "SELECT classname, name, id, status, component, muted, alert_id "  # noqa: S608
            f"FROM known_test{_scan_hint(p)} WHERE branch = {p}",  # (a placeholder, not data)
            (branch,),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    shared: dict[str, str] = {}  # one copy of each repeated classname, status, component
    out: dict[tuple[str, str], TestRow] = {}
    for c, n, i, st, comp, m, a in rows:
        c = shared.setdefault(c, c)
        out[(c, n)] = TestRow(
            i, shared.setdefault(st, st), comp and shared.setdefault(comp, comp), bool(m), a
        )
    return out


KNOWN_TEST_COLUMNS = (
    "branch",
    "key",
    "classname",
    "name",
    "file",
    "component",
    "status",
    "message",
    "first_seen_at",
    "changed_at",
    "last_report_id",
    "muted",
)


def add_report(*, session: Session, report: TestReport) -> TestReport:
    """Store a report row (its id is then set)."""
    session.add(report)
    session.flush()
    return report


def insert_tests(
    *, session: Session, branch: str, report_id: int, rows: list[tuple[Any, ...]]
) -> list[int]:
    """Insert new known tests in bulk; their ids, in the order of `rows`. Each row holds the
    values of KNOWN_TEST_COLUMNS in order.

    A DB-API executemany (COPY on PostgreSQL): the ORM's bulk path with RETURNING is
    quadratic in rows, and even Core spends most of its time binding values row by row.
    Ids come back in insertion order: SQLite assigns rowids in order under its write lock,
    and PostgreSQL's sequence hands COPY increasing values in row order.
    """
    if not rows:
        return []
    table = KnownTest.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect
    stamp = table.c.first_seen_at.type.bind_processor(dialect)
    bound: dict[Any, Any] = {}  # a report's rows share their timestamps: bind each once
    if stamp is not None:
        # In place, so a 200k-test first report does not hold two copies of its rows.
        for n, row in enumerate(rows):
            values = list(row)
            for i in (8, 9):
                if values[i] not in bound:
                    bound[values[i]] = stamp(values[i])
                values[i] = bound[values[i]]
            rows[n] = tuple(values)
    p = _placeholder(session)
    columns = ", ".join(KNOWN_TEST_COLUMNS)
    cursor = session.connection().connection.cursor()
    try:
        if p == "%s":
            # PostgreSQL: COPY is several times faster than even a pipelined executemany.
            with cursor.copy(f"COPY known_test ({columns}) FROM STDIN") as copy:
                for param in rows:
                    copy.write_row(param)
        else:
            cursor.executemany(
                f"INSERT INTO known_test ({columns}) "  # noqa: S608
                f"VALUES ({', '.join([p] * len(KNOWN_TEST_COLUMNS))})",
                rows,
            )
        # Called before the report's updates, so only the rows just inserted carry it.
        cursor.execute(
            f"SELECT id FROM known_test{_scan_hint(p)} "  # noqa: S608
            f"WHERE branch = {p} AND last_report_id = {p} ORDER BY id",
            (branch, report_id),
        )
        ids = [int(r[0]) for r in cursor.fetchall()]
    finally:
        cursor.close()
    if len(ids) != len(rows):
        raise RuntimeError(f"inserted {len(rows)} tests but read back {len(ids)} ids")
    return ids


def update_tests(*, session: Session, rows: list[dict[str, Any]]) -> None:
    """Update known tests in bulk; each row holds `id` and the columns to set."""
    if rows:
        session.execute(update(KnownTest), rows)


def add_results(*, session: Session, rows: list[dict[str, Any]]) -> None:
    """Record the tests a report changed."""
    if rows:
        session.execute(TestResult.__table__.insert(), rows)  # type: ignore[attr-defined]


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


def resolve_blocker(
    *, session: Session, blocker_id: int, user_id: str, at: datetime, note: str
) -> None:
    """Mark an open blocker resolved."""
    session.execute(
        update(Blocker)
        .where(col(Blocker.id) == blocker_id, col(Blocker.resolved_at).is_(None))
        .values(resolved_at=at, resolved_by=user_id, resolution=note)
    )


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


@dataclass(slots=True, frozen=True)
class HistoryTest:
    """A known test as the sprint's figures need it."""

    id: int
    classname: str
    name: str
    file: str | None
    component: str | None
    status: str  # latest
    first_seen_at: datetime


@dataclass(slots=True, frozen=True)
class HistoryChange:
    """A status change a report recorded (`previous` None: the test's first status)."""

    test_id: int
    status: str
    previous: str | None
    at: datetime  # when sprintbot received the report
    report_id: int


def history_tests(*, session: Session, branch: str) -> list[HistoryTest]:
    """Every known test of a branch, with its latest status and when it was first seen."""
    rows = session.execute(
        sa_select(
            col(KnownTest.id),
            col(KnownTest.classname),
            col(KnownTest.name),
            col(KnownTest.file),
            col(KnownTest.component),
            col(KnownTest.status),
            col(KnownTest.first_seen_at),
        ).where(col(KnownTest.branch) == branch)
    ).all()
    return [HistoryTest(*row) for row in rows]


def history_changes(*, session: Session, branch: str) -> list[HistoryChange]:
    """Every status change the branch's reports recorded, in the order they were received."""
    rows = session.execute(
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
    ).all()
    return [HistoryChange(*row) for row in rows]


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


def metric_history(*, session: Session, until: datetime) -> list[MetricSample]:
    """Benchmark samples received up to `until`, by measurement time then arrival."""
    return list(
        session.exec(
            select(MetricSample)
            .where(col(MetricSample.received_at) <= until)
            .order_by(col(MetricSample.at), col(MetricSample.id))
        )
    )


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

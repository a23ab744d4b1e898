"""CI test reports and the status changes their results recorded."""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from storage.ingest import LATE
from storage.models import KnownTest, TestReport, TestResult
from storage.scope import column_rows, team_of


def lock_branch(*, session: Session, branch: str) -> None:
    """Serialise ingestion per branch across processes (PostgreSQL; SQLite has one writer)."""
    lock_named(session=session, name=branch)


def lock_named(*, session: Session, name: str) -> None:
    """Hold the team's lock `name` to the end of the transaction: the writers that take it
    one after another across processes, each seeing what the one before committed
    (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"sprintbot:{team_of(session)}:{name}"},
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


def add_report(*, session: Session, report: TestReport) -> TestReport:
    """Store a report row (its id is then set)."""
    session.add(report)
    session.flush()
    return report


# Reports read for their counts only: the packed columns (statuses, durations, positions:
# tens of kilobytes a report at 20k tests) stay in the database, and reading one raises
# rather than quietly querying again.
_COUNTS_ONLY = tuple(
    defer(getattr(TestReport, name), raiseload=True)
    for name in ("statuses", "durations", "positions")
)


def reports_between(
    *, session: Session, start: datetime, end: datetime, branch: str
) -> list[TestReport]:
    """Test reports of a branch received in [start, end), oldest first (without their packed
    columns)."""
    return list(
        session.exec(
            select(TestReport)
            .options(*_COUNTS_ONLY)
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
    """Status changes recorded by a branch's reports in [start, end): each test's status
    then and before it (None: first seen), from skipped the one it last ran with, its
    status now, and its id."""
    rows = session.execute(
        sa_select(
            col(TestResult.status),
            col(TestResult.previous_status),
            col(TestResult.ran_before),
            col(KnownTest.classname),
            col(KnownTest.name),
            col(KnownTest.component),
            col(KnownTest.status),
            col(TestResult.test_id),
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
    return [
        {
            "id": f"{classname}::{name}",
            "component": component,
            "status": str(status),
            "previous": None if previous is None else str(previous),
            "ran": None if ran is None else str(ran),
            "now": str(now),
            "test": test,
        }
        for status, previous, ran, classname, name, component, now, test in rows
    ]


class RunTotals(NamedTuple):
    """A CI run as its shards add up: the newest shard's run id, time, commit and link."""

    run: str
    received_at: datetime
    passed: int
    failed: int  # failures and errors
    skipped: int
    commit: str | None
    url: str | None
    flaky: int = 0  # passed once, failed too (every test of the run in one of the four)


_PAGE = 20  # reports read at a time, the last received first


def _newest_received(session: Session, branch: str, before: datetime, late: timedelta) -> Any:
    """(run, received_at, commit, url) of the branch's report received last before
    `before` that the figures took in: not a late one, whose run's time (given) is more
    than `late` older than a run given its time and received before it (a retried upload
    of an older run: its tests kept the newer run's statuses, and the last run showed its
    failures beside "0 failing now"; found by review). As ingestion judges it
    (`storage.ingest.later_runs`): an untimed run's report protects nothing, so a timed
    one after it is taken in, and is the last run (found by review). Read down the
    received index, its columns only (sorting the branch's every report, blobs and all,
    made App Home slower with each run received; found by review)."""
    mine = (col(TestReport.team_id) == team_of(session), col(TestReport.branch) == branch)
    below: tuple[Any, ...] = ()
    while True:
        page = session.execute(
            sa_select(
                col(TestReport.run),
                col(TestReport.received_at),
                col(TestReport.commit),
                col(TestReport.url),
                col(TestReport.at),
                col(TestReport.timed),
                col(TestReport.id),
            )
            .where(*mine, col(TestReport.received_at) < before, *below)
            .order_by(col(TestReport.received_at).desc(), col(TestReport.id).desc())
            .limit(_PAGE)
        ).all()
        for run, received_at, commit, url, at, timed, _ in page:
            if not timed or not _late(session, mine, received_at, at + late, late):
                return run, received_at, commit, url
        if len(page) < _PAGE:
            return None
        last = page[-1]
        below = (
            or_(
                col(TestReport.received_at) < last.received_at,
                and_(
                    col(TestReport.received_at) == last.received_at,
                    col(TestReport.id) < last.id,
                ),
            ),
        )


def _late(
    session: Session, mine: tuple[Any, ...], received: datetime, after: datetime, slack: timedelta
) -> bool:
    """Whether a run given its time, later than `after`, was received before `received`
    (not stamped more than `slack` after its arrival: a clock ahead)."""
    rows = session.execute(
        sa_select(col(TestReport.at), col(TestReport.received_at)).where(
            *mine,
            col(TestReport.timed).is_(True),
            col(TestReport.at) > after,
            col(TestReport.received_at) < received,
        )
    ).all()
    return any(at <= got + slack for at, got in rows)


def latest_run(
    *, session: Session, branch: str, before: datetime, late: timedelta = LATE
) -> RunTotals | None:
    """The branch's last CI run received before `before` that the figures took in (a late
    one, `late` older than one received before it, is not: `_newest_received`), each of its
    tests counted once over its reports: its shards added up, a shard sent again (a job
    re-run under the same run id) counted as its latest report says."""
    newest = _newest_received(session, branch, before, late)
    if newest is None:
        return None
    run, received_at, commit, url = newest
    # Its reports by the run's own index (team, run): the branch is told apart here, so that
    # the planner does not walk the branch's every earlier report for the run's few.
    rows = session.execute(
        sa_select(
            col(TestReport.branch),
            col(TestReport.id),
            col(TestReport.passed),
            (col(TestReport.failed) + col(TestReport.errors)).label("failing"),
            col(TestReport.skipped),
            col(TestReport.flaky),
            col(TestReport.statuses).is_(None).label("unpacked"),
        )
        .where(
            col(TestReport.team_id) == team_of(session),
            col(TestReport.run) == run,
            col(TestReport.received_at) < before,
        )
        .order_by(col(TestReport.received_at), col(TestReport.id))
    ).all()
    reports = [r for r in rows if r.branch == branch]
    if len(reports) == 1 or any(r.unpacked for r in reports):
        passed = sum(r.passed for r in reports)
        failed = sum(r.failing for r in reports)
        skipped = sum(r.skipped for r in reports)
        flaky = sum(r.flaky for r in reports)
    else:
        latest: dict[tuple[str, str], str] = {}
        for r in reports:  # one blob at a time, oldest first
            statuses = session.execute(
                sa_select(col(TestReport.statuses)).where(col(TestReport.id) == r.id)
            ).scalar_one()
            for status, classname, name in unpack_statuses(statuses or b""):
                latest[classname, name] = status
        kinds = Counter(latest.values())
        passed, skipped, flaky = kinds["passed"], kinds["skipped"], kinds["flaky"]
        failed = kinds["failed"] + kinds["error"]
    return RunTotals(
        run=run,
        received_at=received_at,
        passed=passed,
        failed=failed,
        skipped=skipped,
        commit=commit,
        url=url,
        flaky=flaky,
    )


def unpack_statuses(blob: bytes) -> list[tuple[str, str, str]]:
    """(status, classname, name) per test of a report's packed statuses (`TestReport.
    statuses`, packed by `jobs.ingest`: zlib over `status\tclassname\tname` lines)."""
    out = []
    for line in zlib.decompress(blob).decode().split("\n"):
        if line:
            status, classname, name = line.split("\t", 2)
            out.append((status, classname, name))
    return out


def reports_after(*, session: Session, branch: str, at: datetime) -> bool:
    """Whether the branch received a report after `at` (its known tests have moved on)."""
    return (
        session.exec(
            select(TestReport.id)
            .where(TestReport.branch == branch, col(TestReport.received_at) > at)
            .limit(1)
        ).first()
        is not None
    )


def failure_messages_at(*, session: Session, branch: str, at: datetime) -> list[str]:
    """The messages of the branch's tests failing at `at`, from the changes recorded by
    then: each test's latest change by `at`, where it was a failure with a message."""
    rows = session.execute(
        sa_select(col(TestResult.test_id), col(TestResult.status), col(TestResult.message))
        .join(TestReport, col(TestReport.id) == col(TestResult.report_id))
        .where(col(TestReport.branch) == branch, col(TestReport.received_at) <= at)
        .order_by(col(TestReport.received_at), col(TestResult.id))
    ).all()
    last = {test_id: (status, message) for test_id, status, message in rows}
    return [m for s, m in last.values() if m is not None and str(s) in ("failed", "error")]


def reports_of_branch(
    *, session: Session, branch: str, until: datetime | None = None, limit: int = 200
) -> list[TestReport]:
    """The branch's newest reports (received by `until`), oldest first (without their
    packed columns)."""
    query = select(TestReport).options(*_COUNTS_ONLY).where(TestReport.branch == branch)
    if until is not None:
        query = query.where(col(TestReport.received_at) <= until)
    rows = session.exec(
        query.order_by(col(TestReport.received_at).desc(), col(TestReport.id).desc()).limit(limit)
    ).all()
    return list(reversed(rows))


class HistoryChange(NamedTuple):
    """A status change a report recorded (`previous` None: the test's first status)."""

    test_id: int
    status: str
    previous: str | None
    at: datetime  # when sprintbot received the report
    report_id: int
    ran_before: str | None  # from skipped: the status the test last ran with (None: none)


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
            col(TestResult.ran_before),
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
    return list(map(HistoryChange._make, column_rows(session, query)))


def first_report_since(*, session: Session, branch: str, at: datetime) -> datetime | None:
    """When the branch's first report at or after `at` was received."""
    found = session.exec(
        select(func.min(TestReport.received_at)).where(
            TestReport.branch == branch, col(TestReport.received_at) >= at
        )
    ).one()
    return found if isinstance(found, datetime) else None

"""One test's history: finding it by id or name, its status changes, and the branch's latest
reports with their packed statuses and durations (`/tests show`, `GET /api/v1/tests/{id}`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, func, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import KnownTest, TestReport, TestResult


def test_by_id(*, session: Session, test_id: int) -> KnownTest | None:
    """The known test with that id, if it is the session's team's."""
    return session.exec(select(KnownTest).where(KnownTest.id == test_id)).first()


def tests_by_key(*, session: Session, branch: str, keys: Sequence[str]) -> list[KnownTest]:
    """The branch's known tests with those keys (any order)."""
    if not keys:
        return []
    return list(
        session.exec(
            select(KnownTest).where(KnownTest.branch == branch, col(KnownTest.key).in_(keys))
        ).all()
    )


def tests_named(*, session: Session, branch: str, name: str, limit: int) -> list[KnownTest]:
    """The branch's known tests whose name (without its class) is `name`."""
    return list(
        session.exec(
            select(KnownTest)
            .where(KnownTest.branch == branch, KnownTest.name == name)
            .order_by(col(KnownTest.classname), col(KnownTest.id))
            .limit(limit)
        ).all()
    )


def tests_like(*, session: Session, branch: str, text: str, limit: int) -> list[KnownTest]:
    """The branch's known tests whose `classname::name` holds `text`, case-insensitively."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    full = func.lower(col(KnownTest.classname) + literal("::") + col(KnownTest.name))
    return list(
        session.exec(
            select(KnownTest)
            .where(KnownTest.branch == branch, full.like(f"%{escaped}%", escape="\\"))
            .order_by(col(KnownTest.classname), col(KnownTest.name), col(KnownTest.id))
            .limit(limit)
        ).all()
    )


class Change(NamedTuple):
    """A status change of one test, with the report that made it."""

    status: str
    previous: str | None
    report_id: int
    at: datetime
    commit: str | None
    url: str | None
    run: str


def changes_of(*, session: Session, test_id: int) -> list[Change]:
    """Every recorded status change of a test, oldest first."""
    rows = session.execute(
        sa_select(
            col(TestResult.status),
            col(TestResult.previous_status),
            col(TestResult.report_id),
            col(TestReport.at),
            col(TestReport.commit),
            col(TestReport.url),
            col(TestReport.run),
        )
        .join(TestReport, col(TestReport.id) == col(TestResult.report_id))
        .where(col(TestResult.test_id) == test_id)
        .order_by(col(TestResult.id))
    ).all()
    return [
        Change(str(s), None if p is None else str(p), r, a, c, u, n) for s, p, r, a, c, u, n in rows
    ]


def packed_reports(
    *, session: Session, branch: str, runs: int, page: int = 200
) -> Iterator[TestReport]:
    """Every report that still holds its packed statuses of the branch's newest `runs`
    runs by their time (a run's reports together: one file per test class is hundreds a
    run, and the newest 60 reports were a fraction of one; found by review), newest first
    in one time order (a run id used again much later keeps its old reports where they
    were), read `page` at a time as they are consumed."""
    kept = (col(TestReport.branch) == branch, col(TestReport.statuses).is_not(None))
    names = _newest_runs(session, kept, runs)
    if not names:
        return
    after: tuple[Any, ...] = ()
    while True:
        reports = list(
            session.exec(
                select(TestReport)
                .where(*kept, col(TestReport.run).in_(names), *after)
                .order_by(col(TestReport.at).desc(), col(TestReport.id).desc())
                .limit(page)
            ).all()
        )
        yield from reports
        if len(reports) < page:
            return
        last = reports[-1]
        # (by the last row read, not an offset: a report received meanwhile moves no page)
        after = (
            or_(
                col(TestReport.at) < last.at,
                and_(col(TestReport.at) == last.at, col(TestReport.id) < (last.id or 0)),
            ),
        )


def timed_reports(
    *, session: Session, branch: str, runs: int, before: datetime | None = None
) -> list[TestReport]:
    """Every report that holds durations of the branch's newest `runs` runs that hold any
    (a sharded run's reports together), newest first; only those received before `before`
    if given."""
    timed = (
        col(TestReport.branch) == branch,
        col(TestReport.statuses).is_not(None),
        col(TestReport.durations).is_not(None),
        *(() if before is None else (col(TestReport.received_at) < before,)),
    )
    return _reports_of(session, timed, _newest_runs(session, timed, runs))


def _newest_runs(session: Session, where: tuple[Any, ...], runs: int) -> list[str]:
    """The newest `runs` runs of the reports `where` picks (by their newest report)."""
    return list(
        session.execute(
            sa_select(col(TestReport.run))
            .where(*where)
            .group_by(col(TestReport.run))
            .order_by(func.max(col(TestReport.at)).desc(), func.max(col(TestReport.id)).desc())
            .limit(runs)
        ).scalars()
    )


def _reports_of(session: Session, where: tuple[Any, ...], runs: list[str]) -> list[TestReport]:
    """The reports `where` picks of these runs, newest first."""
    if not runs:
        return []
    return list(
        session.exec(
            select(TestReport)
            .where(*where, col(TestReport.run).in_(runs))
            .order_by(col(TestReport.at).desc(), col(TestReport.id).desc())
        ).all()
    )

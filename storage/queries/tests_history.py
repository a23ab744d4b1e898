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
from storage.queries.quarantine import WALK
from storage.scope import team_of


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
    """The branch's known tests whose `classname::name` holds `text`, case-insensitively:
    both lowered by the database's `lower()` (Python's lowered the text typed, PostgreSQL's
    the names: "İstanbul" typed as written found nothing there; found by review)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    full = func.lower(col(KnownTest.classname) + literal("::") + col(KnownTest.name))
    pattern = func.lower(literal(f"%{escaped}%"))
    return list(
        session.exec(
            select(KnownTest)
            .where(KnownTest.branch == branch, full.like(pattern, escape="\\"))
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
    kept = (col(TestReport.statuses).is_not(None),)
    return _reports_of(session, branch, kept, _newest_runs(session, branch, kept, runs), page)


def timed_reports(
    *, session: Session, branch: str, runs: int, before: datetime | None = None
) -> list[TestReport]:
    """Every report that holds durations of the branch's newest `runs` runs that hold any
    (a sharded run's reports together), newest first; only those received before `before`
    if given."""
    timed = (
        col(TestReport.statuses).is_not(None),
        col(TestReport.durations).is_not(None),
        *(() if before is None else (col(TestReport.received_at) < before,)),
    )
    return list(_reports_of(session, branch, timed, _newest_runs(session, branch, timed, runs)))


def _older(at: datetime, report_id: int) -> Any:
    """Reports before this one in the time order (`at`, then id), newest first."""
    return or_(
        col(TestReport.at) < at,
        and_(col(TestReport.at) == at, col(TestReport.id) < report_id),
    )


def _newest_runs(session: Session, branch: str, where: tuple[Any, ...], runs: int) -> list[str]:
    """The newest `runs` runs of the branch's reports `where` picks (by their newest
    report): read from the newest report down its (at, id) index, WALK at a time, to the
    last of them. (A GROUP BY over the team's every report grew with the season's history;
    found by review.)"""
    mine = (col(TestReport.team_id) == team_of(session), col(TestReport.branch) == branch)
    found: dict[str, None] = {}
    after: tuple[Any, ...] = ()
    while True:
        rows = session.execute(
            sa_select(col(TestReport.id), col(TestReport.at), col(TestReport.run))
            .where(*mine, *where, *after)
            .order_by(col(TestReport.at).desc(), col(TestReport.id).desc())
            .limit(WALK)
        ).all()
        for _, _, run in rows:
            found.setdefault(run)
            if len(found) == runs:
                return list(found)
        if len(rows) < WALK:
            return list(found)
        report_id, at, _ = rows[-1]
        after = (_older(at, report_id),)


def _reports_of(
    session: Session, branch: str, where: tuple[Any, ...], runs: list[str], page: int = 200
) -> Iterator[TestReport]:
    """The branch's reports `where` picks of these runs, newest first, `page` at a time.
    Looked up by the runs' own index (team, run): the branch is told apart here, as with
    the branch in the statement the planner walked the branch's every report for them."""
    if not runs:
        return
    after: tuple[Any, ...] = ()
    while True:
        reports = list(
            session.exec(
                select(TestReport)
                .where(
                    col(TestReport.team_id) == team_of(session),
                    col(TestReport.run).in_(runs),
                    *where,
                    *after,
                )
                .order_by(col(TestReport.at).desc(), col(TestReport.id).desc())
                .limit(page)
            ).all()
        )
        yield from (r for r in reports if r.branch == branch)
        if len(reports) < page:
            return
        # (by the last row read, not an offset: a report received meanwhile moves no page)
        last = reports[-1]
        after = (_older(last.at, last.id or 0),)

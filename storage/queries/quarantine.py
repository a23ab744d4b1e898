"""Quarantined tests, and what flaky detection reads: a test's recent status changes and
the reports of one commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import KnownTest, Quarantine, TestReport, TestResult
from storage.scope import team_of

WALK = 1000  # reports read at a time, walking back to a window's start
_BATCH = 500


def _held_at(at: datetime | None) -> Any:
    """Quarantines held: not released, and (`at` given) not past their `until` by `at`. A
    quarantine past its `until` ends then, though the clock releases it (with a notice)
    only at its next tick: until then a failure must not be taken for flaky."""
    held = col(Quarantine.released_at).is_(None)
    if at is None:
        return held
    return and_(held, or_(col(Quarantine.until).is_(None), col(Quarantine.until) > at))


def _open_ids(at: datetime | None = None) -> Any:
    """The tests in quarantine (`_held_at`), as a subquery: a test of the branch is looked
    up by id from it. (Joined instead, SQLite, which keeps no statistics of its tables, read
    every known test of the branch to find the few quarantined: 1.4 ms a query at 20k
    tests, 0.1 ms this way.)"""
    return sa_select(col(Quarantine.test_id)).where(_held_at(at))


def open_quarantines(
    *,
    session: Session,
    branch: str | None = None,
    test_ids: Sequence[int] | None = None,
    at: datetime | None = None,
) -> list[tuple[Quarantine, KnownTest]]:
    """Quarantines not yet released, with their tests, oldest first; of one branch or of
    some tests. With `at`, those past their `until` by then are left out (the clock has yet
    to release them with a notice); without, they are in."""
    query = (
        select(Quarantine, KnownTest)
        .join(KnownTest, col(KnownTest.id) == col(Quarantine.test_id))
        .where(_held_at(at))
        .order_by(col(Quarantine.since), col(Quarantine.id))
    )
    if branch is not None:
        query = query.where(col(KnownTest.branch) == branch, col(KnownTest.id).in_(_open_ids(at)))
    if test_ids is None:
        return [(q, t) for q, t in session.exec(query).all()]
    found: list[tuple[Quarantine, KnownTest]] = []
    for start in range(0, len(test_ids), _BATCH):
        chunk = list(test_ids[start : start + _BATCH])
        found += session.exec(query.where(col(Quarantine.test_id).in_(chunk))).all()
    return found


class QuarantineSpan(NamedTuple):
    test_id: int
    since: datetime
    released_at: datetime | None


def quarantine_spans(*, session: Session, branch: str, until: datetime) -> list[QuarantineSpan]:
    """When each of the branch's tests was in quarantine (begun before `until`): each span
    ends when it was released or its `until` passed, whichever came first."""
    rows = session.execute(
        sa_select(
            col(Quarantine.test_id),
            col(Quarantine.since),
            col(Quarantine.released_at),
            col(Quarantine.until),
        )
        .join(KnownTest, col(KnownTest.id) == col(Quarantine.test_id))
        .where(
            col(KnownTest.branch) == branch,
            col(Quarantine.since) < until,
            # (Found by id from the quarantines, as `_open_ids` says why.)
            col(KnownTest.id).in_(
                sa_select(col(Quarantine.test_id)).where(col(Quarantine.since) < until)
            ),
        )
    ).all()
    return [
        QuarantineSpan(int(t), s, min(r, u) if r is not None and u is not None else r or u)
        for t, s, r, u in rows
    ]


def quarantined_states(
    *, session: Session, branch: str, at: datetime | None = None
) -> list[tuple[str | None, str]]:
    """(component, status) of each of the branch's quarantined tests, as stored now (read
    as columns: ORM objects loaded earlier in the session would give their old status),
    for `numbers.quarantine_counted`."""
    rows = session.execute(
        sa_select(col(KnownTest.component), col(KnownTest.status)).where(
            col(KnownTest.id).in_(_open_ids(at)), col(KnownTest.branch) == branch
        )
    ).all()
    return [(c, str(st)) for c, st in rows]


def open_test_ids(*, session: Session, branch: str, at: datetime | None = None) -> set[int]:
    """The ids of the branch's tests in quarantine (`open_quarantines`'s, with `at`)."""
    rows = session.execute(
        sa_select(col(KnownTest.id)).where(
            col(KnownTest.id).in_(_open_ids(at)), col(KnownTest.branch) == branch
        )
    ).scalars()
    return {int(i) for i in rows}


def expired(*, session: Session, now: datetime) -> list[tuple[Quarantine, KnownTest]]:
    """Open quarantines whose time is up."""
    return [
        (q, t)
        for q, t in session.exec(
            select(Quarantine, KnownTest)
            .join(KnownTest, col(KnownTest.id) == col(Quarantine.test_id))
            .where(col(Quarantine.released_at).is_(None), col(Quarantine.until) <= now)
            .order_by(col(Quarantine.until), col(Quarantine.id))
        ).all()
    ]


def latest_of(*, session: Session, test_id: int) -> Quarantine | None:
    """The test's newest quarantine, open or released."""
    return session.exec(
        select(Quarantine)
        .where(Quarantine.test_id == test_id)
        .order_by(col(Quarantine.since).desc(), col(Quarantine.id).desc())
        .limit(1)
    ).first()


def count_run(
    *, session: Session, run: str, seen: Sequence[int], passed: Sequence[int], reset: Sequence[int]
) -> None:
    """A CI run's verdict on quarantines (by id), one statement a batch: each `seen` one
    remembers the run, `passed` ones count a pass in a row, `reset` ones start again."""
    passed_set, reset_set = set(passed), set(reset)
    for start in range(0, len(seen), _BATCH):
        chunk = list(seen[start : start + _BATCH])
        ups = [i for i in chunk if i in passed_set]
        downs = [i for i in chunk if i in reset_set]
        passes = case(
            (col(Quarantine.id).in_(ups or [-1]), col(Quarantine.passes) + 1),
            (col(Quarantine.id).in_(downs or [-1]), 0),
            else_=col(Quarantine.passes),
        )
        session.execute(
            update(Quarantine)
            .where(col(Quarantine.id).in_(chunk))
            .values(last_run=run, passes=passes)
            .execution_options(synchronize_session=False)
        )


def run_window_start(*, session: Session, branch: str, runs: int) -> int | None:
    """The first report id of the branch's last `runs` CI runs (a run's shards together),
    before the report being ingested; None when the branch has no report yet. Read from the
    newest report down, WALK at a time, to the first report of a run before them: by runs,
    however many reports each has (20 reports a run at most were read, so a run of 100
    made the "last 20 runs" four; found by review), never over the whole history."""
    mine = (col(TestReport.team_id) == team_of(session), col(TestReport.branch) == branch)
    seen: set[str] = set()
    first: int | None = None
    below: tuple[Any, ...] = ()
    while True:
        rows = session.execute(
            sa_select(col(TestReport.id), col(TestReport.run))
            .where(*mine, *below)
            .order_by(col(TestReport.id).desc())
            .limit(WALK)
        ).all()
        for report_id, run in rows:
            if run not in seen:
                if len(seen) == runs:
                    return first
                seen.add(run)
            first = int(report_id)
        if len(rows) < WALK:
            return first
        below = (col(TestReport.id) < rows[-1][0],)


def changes_since(
    *, session: Session, test_ids: Sequence[int], report_id: int
) -> list[tuple[int, str, str | None]]:
    """(test id, status, previous status) of the tests' changes from that report on,
    oldest first."""
    rows: list[tuple[int, str, str | None]] = []
    for start in range(0, len(test_ids), _BATCH):
        chunk = list(test_ids[start : start + _BATCH])
        rows += [
            (int(t), str(s), None if p is None else str(p))
            for t, s, p in session.execute(
                sa_select(
                    col(TestResult.test_id),
                    col(TestResult.status),
                    col(TestResult.previous_status),
                )
                .where(col(TestResult.test_id).in_(chunk), col(TestResult.report_id) >= report_id)
                .order_by(col(TestResult.id))
            ).all()
        ]
    return rows


def last_changes_before(
    *, session: Session, test_ids: Sequence[int], report_id: int | None = None
) -> dict[int, tuple[str, str | None]]:
    """(status, previous status) of each test's last change before that report (None: its
    last change of all), for those that changed before it: where it stood when the report's
    window began."""
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(test_ids), _BATCH):
        chunk = list(test_ids[start : start + _BATCH])
        last = sa_select(func.max(col(TestResult.id))).where(col(TestResult.test_id).in_(chunk))
        if report_id is not None:
            last = last.where(col(TestResult.report_id) < report_id)
        last = last.group_by(col(TestResult.test_id))
        for t, s, p in session.execute(
            sa_select(
                col(TestResult.test_id), col(TestResult.status), col(TestResult.previous_status)
            ).where(col(TestResult.id).in_(last))
        ).all():
            found[int(t)] = (str(s), None if p is None else str(p))
    return found


def commit_statuses(*, session: Session, branch: str, commit: str) -> list[bytes]:
    """The packed statuses of the branch's reports of this commit that still hold them,
    newest first: other runs', and the same run's earlier attempts (a CI job re-run keeps
    its run id). All of them: a matrix of 21 shards put a pass beyond a limit of 20 (found
    by review); only the column is read, a few bytes a test."""
    return [
        bytes(statuses)
        for statuses in session.execute(
            sa_select(col(TestReport.statuses))
            .where(
                col(TestReport.team_id) == team_of(session),
                col(TestReport.branch) == branch,
                col(TestReport.commit) == commit,
                col(TestReport.statuses).is_not(None),
            )
            .order_by(col(TestReport.id).desc())
        ).scalars()
    ]

"""Queries of JUnit ingestion that look a report's tests up by key, batch by batch."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from storage.models import KnownTest, TestReport
from storage.queries.known_tests import KnownRow
from storage.scope import team_of

# Keys per look-up (SQLite allows 32766 bound values a statement). PostgreSQL's planner
# finds 1,000 keys of a 200k-test branch in its index (~11 ms) but filters the whole
# branch for 2,000 (~38 ms: its cost model prices each probe as a read from disk).
LOOKUP_BATCH = 1000
# A run reported this much earlier than a run already received is a late one (a slow
# pipeline, a retried upload): a test the later run reported keeps the later run's status.
# Closer than this, two runners' clocks may disagree: the report that came last counts.
LATE = timedelta(minutes=10)


def branch_size(
    *, session: Session, branch: str, counted: dict[tuple[str | None, str], int] | None = None
) -> int:
    """How many known tests the session's team has on a branch: from its `counted` tests
    (`report_tally`) where given, else counted on its (team, branch, key) index (~60 ms
    at 200k tests on PostgreSQL; named here too, for a session without a scope)."""
    if counted is not None:
        return sum(counted.values())
    found = session.execute(
        sa_select(func.count())
        .select_from(KnownTest)
        .where(col(KnownTest.team_id) == team_of(session), col(KnownTest.branch) == branch)
    ).scalar()
    return int(found or 0)


def known_tests_by_key(
    *, session: Session, branch: str, keys: Iterable[str], batch: int = LOOKUP_BATCH
) -> Iterator[KnownRow]:
    """The known tests of the session's team on a branch with these keys (known_test.key), as
    (classname, name, id, status, component, file): a report's tests looked up `batch` keys a
    statement, so a shard of a large suite reads only its own tests. SQL on the DB-API
    cursor, which the team scope does not see: it names the team itself."""
    sqlite = session.get_bind().dialect.paramstyle == "qmark"
    p = "?" if sqlite else "%s"
    team = team_of(session)
    cursor = session.connection().connection.cursor()
    try:
        wanted = iter(keys)
        while chunk := list(islice(wanted, batch)):
            # PostgreSQL takes the keys as one array: a statement of thousands of
            # placeholders cost psycopg ~20 ms a batch to convert, and the server to plan.
            keyed = f"IN ({', '.join([p] * len(chunk))})" if sqlite else "= ANY(%s)"
            cursor.execute(
                "SELECT classname, name, id, status, component, file FROM known_test "  # noqa: S608
                f"WHERE team_id = {p} AND branch = {p} AND key {keyed}",  # (placeholders)
                (team, branch, *chunk) if sqlite else (team, branch, chunk),
            )
            yield from cursor.fetchall()
    finally:
        cursor.close()


def branch_counts(*, session: Session, branch: str) -> dict[tuple[str | None, str], int]:
    """How many of the session's team's known tests of a branch there are per (component,
    status): one pass over the branch, counted by the database (SQL on the DB-API cursor,
    which names the team itself: the team scope does not see it)."""
    sqlite = session.get_bind().dialect.paramstyle == "qmark"
    p = "?" if sqlite else "%s"
    # On SQLite a table scan beats walking the (branch, key) index to every row.
    table = "known_test NOT INDEXED" if sqlite else "known_test"
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(
            f"SELECT component, status, count(*) FROM {table} "  # noqa: S608
            f"WHERE team_id = {p} AND branch = {p} "  # (placeholders, not data)
            "GROUP BY component, status",
            (team_of(session), branch),
        )
        return {(component, status): int(n) for component, status, n in cursor.fetchall()}
    finally:
        cursor.close()


def report_tally(*, session: Session, report_id: int) -> dict[tuple[str | None, str], int] | None:
    """The branch's tests per (component, status) as report `report_id` left them (the
    branch's newest report: `queries.branch_version`), as `branch_counts` counts them;
    None where the report kept no tally."""
    rows = session.execute(
        sa_select(col(TestReport.tally)).where(col(TestReport.id) == report_id)
    ).scalar()
    if rows is None:
        return None
    return {(component, status): int(n) for component, status, n in rows}


def report_positions(*, session: Session, report_id: int, identity: str) -> bytes | None:
    """Where report `report_id` left the branch's tests, by position (`TestReport.positions`),
    if it kept that and named the same tests (`identity`)."""
    found = session.execute(
        sa_select(col(TestReport.positions)).where(
            col(TestReport.id) == report_id, col(TestReport.identity) == identity
        )
    ).scalar()
    return bytes(found) if found is not None else None


def drop_positions(*, session: Session, branch: str, before: int) -> None:
    """Drop the positions of the branch's reports older than `before` (its newest keeps its
    own: `TestReport.positions`)."""
    session.execute(
        update(TestReport)
        .where(
            col(TestReport.team_id) == team_of(session),
            col(TestReport.branch) == branch,
            col(TestReport.id) < before,
            col(TestReport.positions).is_not(None),
        )
        .values(positions=None)
        .execution_options(synchronize_session=False)
    )


def files_of(*, session: Session, ids: Sequence[int]) -> dict[int, str | None]:
    """The file each of these known tests has (looked up by id, in batches)."""
    found: dict[int, str | None] = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        chunk = list(ids[start : start + LOOKUP_BATCH])
        rows = session.execute(
            sa_select(col(KnownTest.id), col(KnownTest.file)).where(col(KnownTest.id).in_(chunk))
        )
        found.update((int(i), file) for i, file in rows)
    return found


def alerted_among(*, session: Session, ids: Sequence[int]) -> set[int]:
    """Which of these tests an open regression alert holds (looked up by id, in batches)."""
    found: set[int] = set()
    for start in range(0, len(ids), LOOKUP_BATCH):
        chunk = list(ids[start : start + LOOKUP_BATCH])
        rows = session.execute(
            sa_select(col(KnownTest.id)).where(
                col(KnownTest.id).in_(chunk), col(KnownTest.alert_id).is_not(None)
            )
        ).scalars()
        found.update(int(i) for i in rows)
    return found


def later_runs(
    *, session: Session, branch: str, after: datetime, slack: timedelta
) -> list[bytes | None]:
    """The packed statuses (None where retention dropped them) of the branch's reports of
    runs later than `after` (by the run's time, `at`), already received: of those whose
    time was given (`timed`, not now's or a CI machine's local time), and not after they
    were received by more than `slack` (a clock ahead, not a later run)."""
    rows = session.execute(
        sa_select(col(TestReport.statuses), col(TestReport.at), col(TestReport.received_at)).where(
            col(TestReport.team_id) == team_of(session),
            col(TestReport.branch) == branch,
            col(TestReport.at) > after,
            col(TestReport.timed).is_(True),
        )
    ).all()
    return [statuses for statuses, at, received in rows if at <= received + slack]

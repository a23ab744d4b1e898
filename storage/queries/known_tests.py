"""Known tests: every test seen on a branch with its latest status, and counts over them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import KnownTest, TestStatus
from storage.scope import column_rows, team_of
from storage.types import UTCDateTime

from ._common import placeholder


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


def _scan_hint(marker: str) -> str:
    # Whole-branch reads: on SQLite a table scan beats walking the (branch, key) index row
    # by row; PostgreSQL's planner chooses well by itself.
    return " NOT INDEXED" if marker == "?" else ""


KnownRow = tuple[str, str, int, str, str | None, str | None]  # (…, component, file)


def branch_tests(*, session: Session, branch: str, batch: int = 10_000) -> Iterator[KnownRow]:
    """Every known test of a branch as (classname, name, id, status, component, file),
    streamed.

    Read through the DB-API cursor in batches (a server-side cursor on PostgreSQL): a 1M-test
    suite is read on every report, and neither SQLAlchemy's row objects nor the whole result
    at once should cost memory per test.
    """
    p = placeholder(session)
    raw = session.connection().connection
    cursor = raw.cursor("known_tests") if p == "%s" else raw.cursor()
    try:
        cursor.execute(
            "SELECT classname, name, id, status, component, file "  # noqa: S608
            f"FROM known_test{_scan_hint(p)} WHERE team_id = {p} AND branch = {p}",
            (team_of(session), branch),
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


def tests_by_id(*, session: Session, ids: Sequence[int]) -> list[KnownTest]:
    """Known tests by id, in id order."""
    if not ids:
        return []
    return list(session.exec(select(KnownTest).where(col(KnownTest.id).in_(ids))).all())


def file_counts(*, session: Session, branch: str) -> tuple[int, int]:
    """(files all of whose tests pass, files) over the branch's known tests with a file."""
    not_passing = func.sum(case((col(KnownTest.status) == TestStatus.PASSED, 0), else_=1))
    rows = session.exec(
        select(KnownTest.file, not_passing)
        .where(KnownTest.branch == branch, col(KnownTest.file).is_not(None))
        .group_by(col(KnownTest.file))
    ).all()
    return sum(1 for _, bad in rows if not bad), len(rows)


def key_prefix(classname: str) -> str:
    """What a test's key hashes before its name: `classname::`, or the classname and a NUL
    where it holds `::` itself or ends in `:` (XML text holds no NUL). So the text is one
    test's only: ("a", "b::c") and ("a::b", "c") no longer both read `a::b::c` (cargo-nextest
    puts `::` on both sides), while every other test keeps the key it was stored with."""
    return classname + ("\0" if "::" in classname or classname.endswith(":") else "::")


def test_key(classname: str, name: str) -> str:
    """known_test.key: blake2b (16 bytes, as hex) of key_prefix(classname) and the name."""
    return hashlib.blake2b((key_prefix(classname) + name).encode(), digest_size=16).hexdigest()


class HistoryTest(NamedTuple):
    """A known test as the sprint's figures need it (a tuple: a suite has a million)."""

    id: int
    classname: str
    name: str
    file: str | None
    component: str | None
    status: str  # latest
    first_seen_at: datetime | None  # None: before the `seen_since` asked for


def history_tests(
    *, session: Session, branch: str, seen_since: datetime | None = None
) -> list[HistoryTest]:
    """Every known test of a branch, with its latest status and when it was first seen
    (None when that was before `seen_since`: the caller needs no earlier time, and
    converting a timestamp per test is a good part of reading a large suite)."""
    first_seen: Any = col(KnownTest.first_seen_at)
    if seen_since is not None:
        first_seen = case((first_seen >= seen_since, first_seen), else_=None).label("seen")
    rows = column_rows(
        session,
        sa_select(
            col(KnownTest.id),
            col(KnownTest.classname),
            col(KnownTest.name),
            col(KnownTest.file),
            col(KnownTest.component),
            col(KnownTest.status),
            type_coerce(first_seen, UTCDateTime),
        ).where(col(KnownTest.branch) == branch),
    )
    return list(map(HistoryTest._make, rows))


def first_seen(*, session: Session, test_ids: Sequence[int]) -> dict[int, datetime]:
    """When each of these known tests was first seen (in chunks a statement can bind)."""
    out: dict[int, datetime] = {}
    for start in range(0, len(test_ids), 10_000):
        chunk = list(test_ids[start : start + 10_000])
        query = sa_select(col(KnownTest.id), col(KnownTest.first_seen_at))
        for i, seen in session.execute(query.where(col(KnownTest.id).in_(chunk))):
            out[int(i)] = seen
    return out

"""Ingestion's bulk writes of known tests and results, through the DB-API."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice, repeat, tee
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from storage.db import READ_ONLY
from storage.scope import team_of
from storage.types import UTCDateTime

from ._common import placeholder

# On SQLite new tests wait in a temporary table of the connection that will insert them,
# filled before the write transaction begins: the Python work of binding a million rows is
# done without the write lock, and the insert under it is one statement. (PostgreSQL has
# no such lock on readers or other branches' writers: `copy_tests` streams them in.)
STAGED_TEST_COLUMNS = ("n", "key", "classname", "name", "file", "component", "status", "message")


def stage_tests(*, connection: Connection, columns: Sequence[Iterable[Any]]) -> None:
    """SQLite (`stages_tests`): put new tests (the values of STAGED_TEST_COLUMNS, column by
    column: `n` counts from 1 in the order of the unique keys) in `connection`'s staging
    table, replacing what it held. Outside a transaction it runs in its own one, which
    takes no write lock (it writes only to the connection's TEMP schema)."""
    if connection.in_transaction():
        _stage(connection, columns)
        return
    connection.execution_options(**{READ_ONLY: True})
    with connection.begin():
        _stage(connection, columns)


# sqlite3 binds None through its adapters (`__conform__` looked up on each), ~0.7 µs a
# value where an int or a str is bound directly: a million new tests with no file and no
# message took 1.8 s more to stage (4.7 s against 2.9). These columns are staged with 0
# in None's place; having no type, they keep a text '0' as text, and `NULLIF(…, 0)`
# turns only the 0 back.
_NULLABLE = ("file", "component", "message")
_ZERO_FOR_NONE = {None: 0}


def _stage(connection: Connection, columns: Sequence[Iterable[Any]]) -> None:
    names = ", ".join(STAGED_TEST_COLUMNS)
    bound = [
        _zero_for_none(values) if name in _NULLABLE else values
        for name, values in zip(STAGED_TEST_COLUMNS, columns, strict=True)
    ]
    cursor = connection.connection.cursor()
    try:
        # Keyed by `n`, the order of the keys the rows come in: the insert walks it in the
        # order of known_test's index, and filling it appends (no index of text).
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS staged_test (n INTEGER PRIMARY KEY, key TEXT, "
            "classname TEXT, name TEXT, file, component, status TEXT, message)"
        )
        cursor.execute("DELETE FROM staged_test")
        for batch in _batches(zip(*bound, strict=True)):
            cursor.executemany(
                f"INSERT INTO staged_test ({names}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                batch,
            )
    finally:
        cursor.close()


def _zero_for_none(values: Iterable[Any]) -> Iterator[Any]:
    """Each value, 0 where it is None (mapped in C: `{None: 0}.get(v, v)`)."""
    keys, defaults = tee(values)
    return map(_ZERO_FOR_NONE.get, keys, defaults)


def stages_tests(*, connection: Connection) -> bool:
    """Whether new tests are staged before the write transaction (`stage_tests`, then
    `insert_staged_tests`: SQLite), or copied straight into known_test in it (`copy_tests`:
    PostgreSQL)."""
    return connection.dialect.name != "postgresql"


def add_new_tests(
    *,
    session: Session,
    branch: str,
    report_id: int,
    first_seen_at: datetime,
    at: datetime,
    columns: Callable[[], Sequence[Iterable[Any]]],
) -> Sequence[int]:
    """A report's new tests into the branch's known tests, each with a result unless it
    passed: the staged ones inserted (`insert_staged_tests`, SQLite), or `columns()` copied
    in (`copy_tests`, PostgreSQL). Returns their ids in the order they came."""
    if stages_tests(connection=session.connection()):
        return insert_staged_tests(
            session=session, branch=branch, report_id=report_id, first_seen_at=first_seen_at, at=at
        )
    return copy_tests(
        session=session,
        branch=branch,
        report_id=report_id,
        first_seen_at=first_seen_at,
        at=at,
        columns=columns(),
    )


def copy_tests(
    *,
    session: Session,
    branch: str,
    report_id: int,
    first_seen_at: datetime,
    at: datetime,
    columns: Sequence[Iterable[Any]],
) -> Sequence[int]:
    """PostgreSQL: add new tests to the branch's known tests, each with a result unless it
    passed, as `insert_staged_tests` does; `columns`: STAGED_TEST_COLUMNS' values, `n`
    first (left out: the rows come in its order).

    The rows stream into known_test by COPY, so the server inserts them while Python is
    still binding the next ones (staged first, the two took turns: a tenth of a 1M-test
    first report), and nothing is written twice."""
    team = team_of(session)
    # Every team's highest id (SQL text, which the team scope leaves alone): the rows
    # copied take ids above it, which finds them again for their results.
    base = int(session.execute(text("SELECT max(id) FROM known_test")).scalar() or 0)
    head = "\t".join(_copy_texts([str(team), branch]))
    tail = "\t".join(
        _copy_texts(
            [
                _bind_time(session, first_seen_at).isoformat(),
                _bind_time(session, at).isoformat(),
                str(report_id),
            ]
        )
    )
    cursor = session.connection().connection.cursor()
    try:
        with cursor.copy(
            "COPY known_test (team_id, branch, key, classname, name, file, component, status, "
            "message, first_seen_at, changed_at, last_report_id) FROM STDIN"
        ) as copy:
            encoding = cursor.connection.info.encoding
            for chunk in _copy_chunks(columns[1:], head=head, tail=tail, encoding=encoding):
                copy.write(chunk)
    finally:
        cursor.close()
    # The rows above `base` this report last wrote are the ones just copied: their results
    # in the order of their ids, as an insert returning them would give them.
    session.execute(
        text(
            "INSERT INTO test_result (report_id, test_id, status, previous_status, message) "
            "SELECT :report, id, status, NULL, message FROM known_test "
            "WHERE id > :base AND team_id = :team AND branch = :branch "
            "AND last_report_id = :report AND status <> 'passed' ORDER BY id"
        ),
        {"report": report_id, "base": base, "team": team, "branch": branch},
    )
    return _new_ids(session, base=base, team=team, branch=branch, report_id=report_id)


def _new_ids(
    session: Session, *, base: int, team: int, branch: str, report_id: int
) -> Sequence[int]:
    """The ids of the tests a report just added to its branch, ascending: the order they
    were inserted in (each row's id is drawn as it is inserted). Where no other insert drew
    ids in between (the usual case) they are a range, found without reading each."""
    params = {"report": report_id, "base": base, "team": team, "branch": branch}
    where = "WHERE id > :base AND team_id = :team AND branch = :branch AND last_report_id = :report"
    count, low, high = session.execute(
        text(f"SELECT count(*), min(id), max(id) FROM known_test {where}"),  # noqa: S608
        params,
    ).one()
    if not count:
        return []
    if high - low + 1 == count:
        return range(low, high + 1)
    return list(
        session.execute(text(f"SELECT id FROM known_test {where} ORDER BY id"), params).scalars()  # noqa: S608
    )


def _copy_chunks(
    columns: Sequence[Iterable[str | None]],
    *,
    head: str,
    tail: str,
    encoding: str,
    size: int = 1024,
) -> Iterator[bytes]:
    """Rows of COPY's text format, `size` at a time: `head`, the columns' values, `tail`
    (both already in that format). Each column is escaped for a chunk at once in C (a
    Python call per value, psycopg's write_row, was most of the copy's Python time)."""
    iterators = [iter(c) for c in columns]
    while True:
        values = [list(islice(i, size)) for i in iterators]
        if not values[0]:
            return
        lines = map(
            "\t".join,
            zip(repeat(head), *map(_copy_texts, values), repeat(tail), strict=False),
        )
        yield ("\n".join(lines) + "\n").encode(encoding)


def _copy_texts(values: list[str | None]) -> list[str]:
    """Values in COPY's text format: a backslash, tab, newline and carriage return escaped,
    None as \\N. Each distinct value escaped once, all of them joined by NUL (which no text
    PostgreSQL stores holds) and escaped in four passes of `str.replace`."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == len(values) and None not in distinct:  # e.g. names
        return _escaped(values)
    escaped = _escaped(distinct)
    memo = dict(zip(distinct, escaped, strict=True))
    return list(map(memo.__getitem__, values))


def _escaped(values: Sequence[str | None]) -> list[str]:
    texts = ["" if v is None else v for v in values]
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:
        raise ValueError("a NUL character in a text to store")  # (PostgreSQL refuses it too)
    out = (
        joined.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .split("\0")
    )
    if None in values:  # (a few distinct values, where any is None)
        for j, value in enumerate(values):
            if value is None:
                out[j] = "\\N"
    return out


def unstage_tests(*, connection: Connection) -> None:
    """Drop the staging table (its connection goes back to the pool)."""
    if connection.invalidated:
        return  # the connection is gone, and its TEMP tables with it
    if connection.in_transaction():
        connection.exec_driver_sql("DROP TABLE IF EXISTS staged_test")
        return
    connection.execution_options(**{READ_ONLY: True})
    with connection.begin():
        connection.exec_driver_sql("DROP TABLE IF EXISTS staged_test")


def insert_staged_tests(
    *, session: Session, branch: str, report_id: int, first_seen_at: datetime, at: datetime
) -> Sequence[int]:
    """SQLite: add the staged tests to the branch's known tests, each with a result unless
    it passed (a new test that passes needs none: known_test says when it was first seen)."""
    team = team_of(session)
    params = {"team": team, "branch": branch, "report": report_id, "seen": first_seen_at, "at": at}
    insert = (
        "INSERT INTO known_test (team_id, branch, key, classname, name, file, component, "
        "status, message, first_seen_at, changed_at, last_report_id) "
        "SELECT :team, :branch, key, classname, name, NULLIF(file, 0), NULLIF(component, 0), "
        "status, NULLIF(message, 0), :seen, :at, :report FROM staged_test"
    )
    times = (bindparam("seen", type_=UTCDateTime), bindparam("at", type_=UTCDateTime))
    base = _max_test_id(session)
    inserted = session.execute(text(f"{insert} ORDER BY n").bindparams(*times), params).rowcount  # type: ignore[attr-defined]
    if _max_test_id(session) == base + inserted and _ids_follow(session, base, team, branch):
        # Under SQLite's write lock the rows took the next ids, in key order, which is the
        # staged order `n`: no need to look each up again.
        session.execute(
            text(
                "INSERT INTO test_result (report_id, test_id, status, previous_status, message) "
                "SELECT :report, :base + n, status, NULL, NULLIF(message, 0) FROM staged_test "
                "WHERE status <> 'passed'"
            ),
            {"report": report_id, "base": base},
        )
        return range(base + 1, base + inserted + 1)
    session.execute(
        text(
            "INSERT INTO test_result (report_id, test_id, status, previous_status, message) "
            "SELECT :report, k.id, s.status, NULL, NULLIF(s.message, 0) FROM staged_test s "
            "JOIN known_test k ON k.team_id = :team AND k.branch = :branch AND k.key = s.key "
            "WHERE s.status <> 'passed'"
        ),
        {"team": team, "branch": branch, "report": report_id},
    )
    # (Their ids in the staged order `n`, whatever order the insert gave them.)
    return list(
        session.execute(
            text(
                "SELECT k.id FROM staged_test s JOIN known_test k ON k.team_id = :team "
                "AND k.branch = :branch AND k.key = s.key ORDER BY s.n"
            ),
            {"team": team, "branch": branch},
        ).scalars()
    )


def _max_test_id(session: Session) -> int:
    # Every team's: the ids the insert takes follow the table's highest, whoever's it is
    # (SQL text, which the team scope leaves alone).
    return int(session.execute(text("SELECT max(id) FROM known_test")).scalar() or 0)


def _ids_follow(session: Session, base: int, team: int, branch: str) -> bool:
    """Whether the first and the last staged test got ids base + their `n` (looked up on
    known_test's whole (team, branch, key) index)."""
    found = session.execute(
        text(
            "SELECT s.n, k.id FROM staged_test s "
            "JOIN known_test k ON k.team_id = :team AND k.branch = :branch AND k.key = s.key "
            "WHERE s.n IN (1, (SELECT max(n) FROM staged_test)) AND k.id > :base"
        ),
        {"base": base, "team": team, "branch": branch},
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
    p = placeholder(session)
    # A report that names no file for a test leaves the file the branch has (pytest's
    # xunit2 gives none: it erased the file, and "test files passing" counted that file's
    # failing test nowhere; found by review).
    columns = [
        f"{c} = COALESCE({p}, {c})" if c == "file" else f"{c} = {p}" for c in UPDATED_TEST_COLUMNS
    ]
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
    ran_before, message) each."""
    p = placeholder(session)
    _executemany(
        session,
        "INSERT INTO test_result "  # noqa: S608
        "(report_id, test_id, status, previous_status, ran_before, message) "
        f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",  # (placeholders, not data)
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
    rows = iter(rows)
    while batch := list(islice(rows, size)):  # (filled in C)
        yield batch


def _bind_time(session: Session, value: datetime) -> Any:
    """A timestamp as the ORM would store it (SQLite: its text form)."""
    dialect = session.get_bind().dialect
    processor = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor is not None else value

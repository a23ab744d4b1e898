"""Emptying the test database between tests; engines sharing their compiled statements."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    TextClause,
    event,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.engine.interfaces import Dialect
from sqlmodel import SQLModel

import storage.db
from storage.db import Database
from storage.models import SprintRow, Team
from storage.scope import LEGACY

LEGACY_SEQUENCES = ("team_id_seq", "sprint_id_seq")


def legacy_rows(conn: Connection) -> None:
    """Team 1 and its sprint 1, as the migration leaves them (rows outside any scope go
    there), in a database just emptied (`restart_ids` has their sequences follow them)."""
    conn.execute(insert(Team).values(id=LEGACY.team_id, slug=None, name=""))
    conn.execute(insert(SprintRow).values(id=LEGACY.sprint_id, team_id=LEGACY.team_id, name=""))


def empty(database: Database) -> None:
    """Every table emptied, ids from 1 again (B-001, R-001), and the legacy team's rows back.

    Only the tables holding rows are touched (one statement counts them all: a test fills
    a few of 30); on PostgreSQL one holding thousands (a big report's tests) is truncated:
    deleting 250k known tests row by row, each checked against the results that refer to
    it, took 6 s. Row by row otherwise: TRUNCATE of every table (new files for each) took
    0.2 s after every test that commits, most of the suite's time there."""
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    postgres = database.engine.dialect.name == "postgresql"
    with database.engine.begin() as conn:
        held = [(t, n) for t, n in zip(tables, _counts(conn, tables), strict=True) if n]
        big = [f'"{t.name}"' for t, n in held if n > BIG and postgres]
        if big:
            # (CASCADE: with the tables that refer to them, which are emptied anyway.)
            conn.execute(text(f"TRUNCATE {', '.join(big)} CASCADE"))
        for table, _ in held:  # (children before their parents)
            conn.execute(table.delete())
        restart_ids(database, conn)
        legacy_rows(conn)


BIG = 5_000  # rows: a table holding more is truncated on PostgreSQL


def _counts(conn: Connection, tables: list[Table]) -> tuple[int, ...]:
    """Each table's rows, counted up to BIG + 1, in one statement."""
    return tuple(conn.execute(_counts_statement(conn.dialect, tuple(tables))).one())


@functools.cache
def _counts_statement(dialect: Dialect, tables: tuple[Table, ...]) -> TextClause:
    """`_counts`' statement, built once as SQL text: built for every test, its thirty
    subqueries took longer to construct and key than to run."""
    statement = select(
        *(
            select(func.count())
            .select_from(select(literal(1)).select_from(t).limit(BIG + 1).subquery())
            .scalar_subquery()
            for t in tables
        )
    )
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return text(str(compiled))


def restart_ids(database: Database, conn: Connection | None = None) -> None:
    """Ids start at 1 (B-001, R-001) as on an empty SQLite table: on PostgreSQL a rolled-back
    or emptied test still used up the sequences' numbers."""
    if database.engine.dialect.name != "postgresql":
        return
    if conn is None:
        with database.engine.begin() as own:
            own.execute(text(_restart_statement(database)))
    else:
        conn.execute(text(_restart_statement(database)))


@functools.cache
def _restart_statement(database: Database) -> str:
    """One statement restarting every sequence (the schema is fixed for the session)."""
    with database.engine.connect() as conn:
        names = conn.execute(text("SELECT sequence_name FROM information_schema.sequences"))
        # Team 1 and its sprint 1 are the migration's (storage.scope.LEGACY): others follow.
        # (setval, not ALTER SEQUENCE … RESTART: no catalog change, a tenth of the time.)
        return "SELECT " + ", ".join(
            f"setval('\"{n}\"', 1, {'true' if n in LEGACY_SEQUENCES else 'false'})"
            for n in names.scalars()
        )


@contextmanager
def shared_compiled_statements() -> Iterator[None]:
    """Engines made for the same database (URL and options) share one dialect and one cache
    of compiled statements, as the one engine of a long-running process does: each test's
    server and processes make engines of their own, and compiling every statement again
    for each was a fifth of the end-to-end tests' time. (SQLAlchemy keys a compiled
    statement by its dialect instance, so sharing the cache alone would find nothing.)

    An engine's dialect is shared from the moment its first connection has initialised it
    (a pool listener after SQLAlchemy's own: never reached if initialising failed); engines
    made before that keep their own. Each engine's pool connects and initialises through
    its own dialect, so, unlike in production, an engine made after that is initialised
    before its first connection. The engine's and its pool's listeners stay its own, but
    SQLAlchemy's dialect events (`do_connect`, `do_execute`, `handle_error`, …) attach to
    the dialect: a test listening for them gives `make_engine` an option of its own, and
    so its engine a dialect of its own."""
    shared: dict[tuple[str, str], tuple[Dialect, Any]] = {}
    create: Callable[..., Engine] = storage.db.create_engine

    def create_sharing(url: str, **kwargs: Any) -> Engine:
        engine = create(url, **kwargs)
        key = (str(url), repr(sorted(kwargs.items(), key=lambda item: item[0])))
        if key in shared:
            engine.dialect, engine._compiled_cache = shared[key]
            return engine

        def initialised(*_: Any) -> None:
            shared.setdefault(key, (engine.dialect, engine._compiled_cache))

        event.listen(engine.pool, "connect", initialised, once=True)
        return engine

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage.db, "create_engine", create_sharing)
        yield

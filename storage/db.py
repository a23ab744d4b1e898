"""Engine and sessions for any SQLAlchemy URL (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from storage.ready import WriteSession
from storage.scope import Scope, activate, bind_scope

# An execution option: transactions on a connection carrying it only read.
READ_ONLY = "sprintbot_read_only"


class ReadOnlySessionError(RuntimeError):
    """Something tried to write through a read session (a programming error)."""


def normalize_url(url: str) -> str:
    """Map `postgres://` and `postgresql://` (as Heroku and others hand out) to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _lower(value: object) -> object:
    """SQL's lower() on SQLite, as Python lowers text."""
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets real transactions (BEGIN, SAVEPOINT) and foreign keys."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from None
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, **kwargs)

        # Sessions in UTC, as every stored instant is: psycopg then hands timestamps back
        # in UTC rather than converting each through the server's zone (a ZoneInfo, whose
        # conversions of a large read left hundreds of objects alive, holding memory). Set
        # by a statement, SQLAlchemy's recipe, not by the `options` startup parameter, which
        # PgBouncer before 1.20 refuses; PgBouncer tracks TimeZone in any pool mode.
        @event.listens_for(engine, "connect", insert=True)
        def _on_connect_pg(dbapi_connection: Any, _record: Any) -> None:
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            dbapi_connection.execute("SET TIME ZONE 'UTC'")
            dbapi_connection.autocommit = autocommit

        @event.listens_for(engine, "begin")
        def _on_begin_pg(conn: Connection) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")

        return engine

    memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
        **kwargs,
    )

    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; take it over
    # (the recipe from SQLAlchemy's SQLite dialect documentation).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        # SQLite's lower() changes ASCII letters alone: a test named "Écran_affiche" was
        # not found by the same text typed (found by review). PostgreSQL's is Unicode's.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        # LIKE as PostgreSQL's, case-sensitive: then a key's prefix (`startswith`) is looked
        # up on its index; SQLite's own LIKE, case-insensitive, scanned the whole outbox for
        # App Home's chart, every row any team ever posted (found by review).
        cur.execute("PRAGMA case_sensitive_like=ON")
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    # Writes are IMMEDIATE: take the write lock when the transaction starts. A deferred
    # transaction that reads and then writes fails at once ("database is locked") if another
    # process (web and clock are two) committed in between; an immediate one waits its turn.
    # Reads are DEFERRED and never write: in WAL mode they read the last commit while a
    # writer writes, so /healthz and the figures never wait for an ingest.
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _refuse_flush(session: OrmSession, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError("a read session cannot write; use Database.session()")


class Database:
    """The engine plus a way to open sessions; handed to listeners, jobs and the web app."""

    def __init__(
        self, engine: Engine, *, scope: Scope | None = None, reader: Engine | None = None
    ) -> None:
        self.engine = engine
        self.scope = scope  # whose rows its sessions see and write (None: every team's)
        self._reader = reader or engine.execution_options(**{READ_ONLY: True})

    def scoped(self, scope: Scope | None) -> Database:
        """The same database seen as one team's sprint (`storage.scope`): its sessions read
        and write that team's rows only, and that sprint's where rows belong to a sprint.
        (Cheap: every request takes one; the read-only engine is shared.)"""
        return Database(self.engine, scope=scope, reader=self._reader)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @contextmanager
    def session(self, *, connection: Connection | None = None) -> Iterator[Session]:
        """A session whose transaction the caller commits; rolled back on error.

        On SQLite it holds the write lock from its first statement to its end: keep it for
        writing (and the reads a write depends on), not for reads alone.
        """
        if connection is not None:
            connection.execution_options(**{READ_ONLY: False})
        with (
            activate(self.scope),
            WriteSession(connection or self.engine, expire_on_commit=False) as session,
        ):
            bind_scope(session, self.scope)
            try:
                yield session
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self, *, connection: Connection | None = None) -> Iterator[Session]:
        """A session that only reads: it never takes SQLite's write lock, so it neither waits
        for a writer nor makes one wait (PostgreSQL runs it READ ONLY). Flushing a change
        raises ReadOnlySessionError. Closing it ends the transaction; what it loaded stays
        loaded."""
        if connection is not None:
            connection.execution_options(**{READ_ONLY: True})
        bind = connection if connection is not None else self._reader
        with (
            activate(self.scope),
            Session(bind, expire_on_commit=False, autoflush=False) as session,
        ):
            bind_scope(session, self.scope)
            event.listen(session, "before_flush", _refuse_flush)
            yield session

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """One pooled connection to run several transactions on in turn (`read(connection=)`,
        `session(connection=)`), for work that stages data on it before taking the lock."""
        with self.engine.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()

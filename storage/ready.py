"""The ready state's storage: which commits make it stale, and its row.

A write session that changes a table the sprint's figures are computed from bumps the
ready state's generation in the same transaction, just before it commits: no write path
has to remember to. Core statements run through `Session.execute` are seen as well as ORM
objects; a statement run on the raw connection is not, so such code also adds or changes
one ORM row of a watched table (ingestion adds its `TestReport`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Table, and_, bindparam, case, cast, event, literal, true, union
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, SessionTransaction
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from storage.models import (
    Blocker,
    Event,
    KnownTest,
    ManualScore,
    MetricSample,
    Quarantine,
    ReadyState,
    Risk,
    SprintRow,
    TestReport,
    TestResult,
)
from storage.scope import LEGACY, Scope, scope_of

FIGURES = "figures"
# What jobs.figures reads: a change to any of them can change a figure.
WATCHED: frozenset[str] = frozenset(
    m.__tablename__
    for m in (
        TestReport,
        KnownTest,
        TestResult,
        ManualScore,
        MetricSample,
        Blocker,
        Risk,
        Event,
        Quarantine,
    )
)
_STALE = "sprintbot_ready_stale"


class _Commits:
    """How many commits in this process changed a watched table: a copy built before the
    count moved is stale, and a refresher waiting on it wakes at once."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.count = 0

    def bump(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait(self, *, seen: int, timeout: float) -> int:
        """Wait until the count differs from `seen` (or `timeout` seconds); the count."""
        with self._changed:
            self._changed.wait_for(lambda: self.count != seen, timeout=timeout)
            return self.count


local_commits = _Commits()


def _watched(instances: Any) -> bool:
    return any(getattr(type(obj), "__tablename__", None) in WATCHED for obj in instances)


def _on_flush(session: OrmSession, _context: Any, _instances: Any) -> None:
    if _watched(session.new) or _watched(session.dirty) or _watched(session.deleted):
        session.info[_STALE] = True


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if isinstance(table, Table) and table.name in WATCHED:
        state.session.info[_STALE] = True


def _on_commit(session: OrmSession) -> None:
    session.flush()  # so that the objects still pending are seen by _on_flush
    if session.info.pop(_STALE, False):
        bump(session=session)
        session.info["sprintbot_ready_bumped"] = True


def _after_commit(session: OrmSession) -> None:
    if session.info.pop("sprintbot_ready_bumped", False):
        local_commits.bump()


def _after_transaction_end(session: OrmSession, transaction: SessionTransaction) -> None:
    """The session's transaction is over (committed or rolled back): its flags go. Not a
    savepoint's end: a key already taken rolls one back, and the watched writes flushed
    before it still commit."""
    if transaction.parent is None:
        session.info.pop(_STALE, None)
        session.info.pop("sprintbot_ready_bumped", None)


def figures_name(session: OrmSession) -> str:
    """The ready state of the figures of the session's team and sprint: `figures` for the
    first team's first sprint (and outside any scope), as before teams existed."""
    return name_of(scope_of(session))


def name_of(scope: Scope | None) -> str:
    """The ready state of the figures of `scope`'s team and sprint (`figures_name`)."""
    if scope is None or scope == LEGACY:
        return FIGURES
    return f"{FIGURES}:{scope.team_id}:{scope.sprint_id or 0}"


def bump(*, session: OrmSession, name: str | None = None) -> None:
    """One more generation of the session's figures and of every other sprint's of its
    team (each row made if it is missing: a sprint not built yet, an emptied table): what a
    team's sprints' figures read is the team's rows (its reports, blockers, scores),
    whichever sprint's scope wrote them — say a CI report received before midnight and
    written after it, once the next sprint is served. An unscoped session's write bumps
    every team's. One statement, its rows in the order of their names: two commits take
    them in the same order."""
    name = name or figures_name(session)
    scope = scope_of(session)
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {"ready_name": name}
    if scope is not None:
        params["ready_team"] = scope.team_id
    # (On the connection: the ORM would take the parameters for rows to insert.)
    session.connection().execute(_bump_statement(dialect, scoped=scope is not None), params)


@functools.lru_cache(maxsize=8)
def _bump_statement(dialect: str, *, scoped: bool) -> Any:
    """`bump`'s upsert, its name (and team, when `scoped`) as parameters: built once, as
    building it cost more than running it (a commit of a watched change runs it)."""
    team, sprint = col(SprintRow.team_id), col(SprintRow.id)
    legacy = and_(team == LEGACY.team_id, sprint == LEGACY.sprint_id)
    each = case(
        (legacy, literal(FIGURES)),
        else_=literal(f"{FIGURES}:") + cast(team, String) + literal(":") + cast(sprint, String),
    )
    sprints = select(each.label("name"))
    if scoped:
        sprints = sprints.where(team == bindparam("ready_team"))
    names = union(sprints, select(bindparam("ready_name", type_=String).label("name"))).subquery()
    rows = select(names.c.name, literal(1)).where(true()).order_by(names.c.name)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # (`WHERE true`: SQLite's upsert from a SELECT needs a WHERE to parse.)
    return (
        insert(ReadyState)
        .from_select(["name", "generation"], rows)
        .on_conflict_do_update(
            index_elements=["name"], set_={"generation": col(ReadyState.generation) + 1}
        )
    )


class WriteSession(Session):
    """The session `Database.session()` opens: its commits keep the ready state honest."""


def watch(cls: type[OrmSession]) -> None:
    """Make every session of `cls` bump the generation when it commits a watched change."""
    event.listen(cls, "before_flush", _on_flush)
    event.listen(cls, "do_orm_execute", _on_execute)
    event.listen(cls, "before_commit", _on_commit)
    event.listen(cls, "after_commit", _after_commit)
    event.listen(cls, "after_transaction_end", _after_transaction_end)


watch(WriteSession)


@dataclass(frozen=True)
class Version:
    """The ready state's row without its payload: enough to know whether a copy is current."""

    generation: int
    built: int | None
    valid_until: datetime | None
    fingerprint: str | None


def version(*, session: Session, name: str | None = None) -> Version:
    """The state's generation and what its stored build is (a missing row reads as 0)."""
    name = name or figures_name(session)
    return versions(session=session, names=[name])[name]


def versions(*, session: Session, names: Sequence[str]) -> dict[str, Version]:
    """`version` of each of `names`, in one statement (a refresher looking at many teams'
    figures at once)."""
    table = ReadyState.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(
        sa_select(
            table.name, table.generation, table.built, table.valid_until, table.fingerprint
        ).where(table.name.in_(list(names)))
    ).all()
    found = {row[0]: Version(*row[1:]) for row in rows}
    return {name: found.get(name, Version(0, None, None, None)) for name in names}


def payload(*, session: Session, name: str | None = None) -> tuple[int | None, bytes | None]:
    """The stored build: (the generation it was built from, its bytes)."""
    name = name or figures_name(session)
    row = session.exec(
        select(ReadyState.built, ReadyState.payload).where(ReadyState.name == name)
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def store(
    *,
    session: Session,
    built: int,
    built_at: datetime,
    valid_until: datetime,
    fingerprint: str,
    data: bytes,
    name: str | None = None,
) -> bool:
    """Keep a build while it is of the current generation and no older than the stored
    one; True when it was kept."""
    name = name or figures_name(session)
    row = session.get(ReadyState, name)
    if row is None and built == 0:  # an emptied table: generation 0 until a write
        row = ReadyState(name=name, generation=0)
        session.add(row)
    if row is None or row.generation != built:
        return False
    if row.built == built and row.built_at is not None and row.built_at > built_at:
        return False
    row.built, row.built_at, row.valid_until = built, built_at, valid_until
    row.fingerprint, row.payload = fingerprint, data
    session.flush()
    return True

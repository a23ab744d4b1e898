"""Whose rows a session sees and writes: one team, and within it one sprint.

Every row of a team's data carries `team_id` (`TeamScoped`); the rows that belong to one
sprint (readiness snapshots, standups, sign-offs, lessons) also carry `sprint_id`
(`SprintScoped`). A session opened from a scoped `Database` (`Database.scoped`) carries its
`Scope` in `session.info`, and two session events do the rest, so that the queries and jobs
written for one sprint serve any team's sprint unchanged:

- every ORM SELECT, UPDATE and DELETE it runs is limited to the scope's rows wherever a
  scoped table appears in it (its entities, a FROM, a WHERE, a subquery: SQLAlchemy's
  `with_loader_criteria`, the "global WHERE criteria" recipe of its ORM documentation);
  `ALL_SPRINTS` as an execution option lifts the sprint's limit (a team's past sprints);
- every row it adds is stamped with the scope's team and sprint;
- a statement on a team's tables that the criteria cannot limit is refused (`ScopeError`,
  saying what to write instead): one of Core columns, a UNION run as it is, an INSERT …
  SELECT.

Rows inserted by Core statements take the scope the thread is in (`activate`, entered by
the scoped session) through the columns' defaults. Outside any scope — tests, `db upgrade`,
a database from before teams — rows belong to the first team and its first sprint, the
rows the migration made for the data that was there before teams existed (`LEGACY`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, TypeVarTuple

from sqlalchemy import CompoundSelect, Delete, Insert, Result, Select, Table, Update, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.util import find_tables
from sqlmodel import Field, SQLModel, col

INFO = "sprintbot_scope"
_Ts = TypeVarTuple("_Ts")
ALL_SPRINTS = "sprintbot_all_sprints"  # an execution option: every sprint of the team


class ScopeError(RuntimeError):
    """A statement a team's session cannot limit to the team's rows (a programming error)."""


@dataclass(frozen=True)
class Scope:
    """A team's row id and, for its sprint's rows, the sprint's row id."""

    team_id: int
    sprint_id: int | None = None

    @property
    def key_prefix(self) -> str:
        """What this team's outbox keys start with: nothing for the first team (its keys are
        those every database held before teams), `t<id>:` for the others."""
        return "" if self.team_id == LEGACY.team_id else f"t{self.team_id}:"


LEGACY = Scope(team_id=1, sprint_id=1)
_current: ContextVar[Scope | None] = ContextVar(INFO, default=None)


def current() -> Scope:
    """The scope this thread is in (`LEGACY` outside any)."""
    return _current.get() or LEGACY


@contextmanager
def activate(scope: Scope | None) -> Iterator[None]:
    """Rows inserted in this block (by Core statements too) belong to `scope`."""
    token = _current.set(scope)
    try:
        yield
    finally:
        _current.reset(token)


def current_team() -> int:
    """The team of the scope rows are written in now (a team-scoped row's default)."""
    return current().team_id


def _sprint_default() -> int:
    sprint_id = current().sprint_id
    if sprint_id is None:
        raise RuntimeError("a sprint's row was written in a scope without a sprint")
    return sprint_id


class TeamScoped(SQLModel):
    """A row of one team's data."""

    team_id: int = Field(default_factory=current_team, foreign_key="team.id", index=True)


class SprintScoped(TeamScoped):
    """A row of one sprint's data (and so of its team's)."""

    sprint_id: int = Field(default_factory=_sprint_default, foreign_key="sprint.id", index=True)


def scope_of(session: Session) -> Scope | None:
    """The scope a session was opened in; None for an unscoped session (every team's rows)."""
    scope: Scope | None = session.info.get(INFO)
    return scope


def team_of(session: Session) -> int:
    """The team a session writes for: its scope's, else the thread's (`LEGACY` outside any);
    for statements written in SQL, which the session's events do not see."""
    return (scope_of(session) or current()).team_id


def key_prefix(session: Session) -> str:
    """The prefix of the outbox keys of the session's team (see `Scope.key_prefix`)."""
    scope = scope_of(session) or _current.get()
    return scope.key_prefix if scope is not None else ""


def bind_scope(session: Session, scope: Scope | None) -> None:
    """Scope a session: its queries see, and its inserts take, `scope`'s rows only."""
    if scope is None:
        session.info.pop(INFO, None)
    else:
        session.info[INFO] = scope


@cache
def _scoped_tables() -> dict[Table, type[TeamScoped]]:
    """The tables of the team's rows and their classes (all defined by then: a scoped
    session's first statement comes after `storage.models` is imported)."""
    found: dict[Table, type[TeamScoped]] = {}
    pending = list(TeamScoped.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        table = vars(cls).get("__table__")
        if isinstance(table, Table):
            found[table] = cls
    return found


def _limit(state: ORMExecuteState) -> None:
    scope = scope_of(state.session)
    if scope is None or state.is_column_load or state.is_relationship_load:
        return
    statement = state.statement
    if isinstance(statement, (Select, Update, Delete)):
        state.statement = _limited(statement, scope, state.execution_options)
    elif isinstance(statement, CompoundSelect):
        _refuse(statement, "a UNION", "select from it as a subquery, which is limited")
    elif isinstance(statement, Insert) and statement.select is not None:
        _refuse(statement.select, "an INSERT … SELECT", "insert the rows the SELECT returns")
    # (SQL text uses `team_of`; a plain INSERT takes the scope's team and sprint.)


def _refuse(statement: Any, kind: str, instead: str) -> None:
    """ScopeError if `statement` names a team's table: the ORM's criteria limit a SELECT,
    an UPDATE or a DELETE (and what is nested in one), not `kind` run as it is."""
    tables = _scoped_tables()
    names = sorted({str(t.name) for t in find_tables(statement) if t in tables})
    if names:
        raise ScopeError(
            f"{kind} of {', '.join(names)} in a team's session would read every team's "
            f"rows: {instead}, or write SQL text that filters by team_of(session)"
        )


def _limited(statement: Any, scope: Scope, options: Mapping[str, Any]) -> Any:
    """`statement` limited to `scope`'s rows (its sprint's too, unless its execution
    `options` say `ALL_SPRINTS`).

    Every scoped table the statement names, not only its entities: a table named only in
    a FROM, a WHERE or a subquery (`select(func.count()).select_from(Blocker)`) is limited
    as well. Which tables a statement names is remembered by its shape, and the criteria
    are built once per scope and set of tables: a scoped statement cost twice an
    unscoped one when each was searched and given criteria of its own (a simple SELECT,
    ~300 µs against ~160 µs; ~240 µs now). The criteria are not carried with
    the loaded rows (there are no relationships to load lazily): a row pickled into the
    ready state stays plain. SQLAlchemy limits an aliased() table in a FROM or a subquery,
    not as a JOIN's target: join a scoped table's alias through a subquery (or an EXISTS)
    instead."""
    if statement._propagate_attrs.get("compile_state_plugin") != "orm":
        # Not ORM-enabled (no model attribute in it): the criteria are the ORM's, so a
        # statement of Table columns would run for every team.
        tables = _scoped_tables()
        named = find_tables(statement, include_aliases=True, include_crud=True)
        names = sorted({str(t.name) for t in named if t in tables})
        if not names:
            return statement
        raise ScopeError(
            f"a Core statement on {', '.join(names)} in a team's session would read or "
            "change every team's rows: select the model's attributes (KnownTest.id, not its "
            "Table's columns), or write SQL text that filters by team_of(session)"
        )
    classes = _classes(statement)
    if not classes:
        return statement
    every_sprint = scope.sprint_id is None or bool(options.get(ALL_SPRINTS, False))
    return statement.options(*_criteria(scope, classes, every_sprint=every_sprint))


_CLASSES: dict[Any, frozenset[type[TeamScoped]]] = {}
_CLASSES_KEPT = 4096  # statements' shapes remembered (a few hundred are written)


def _classes(statement: Any) -> frozenset[type[TeamScoped]]:
    """The classes of the team's tables `statement` names anywhere, remembered by the
    statement's shape (its SQL cache key, which SQLAlchemy memoizes on it and needs
    anyway): searching the statement cost a third of a scoped query's overhead."""
    key = statement._generate_cache_key()
    shape = None if key is None else key.key
    found = None if shape is None else _CLASSES.get(shape)
    if found is None:
        tables = _scoped_tables()
        named = find_tables(statement, include_aliases=True, include_crud=True)
        found = frozenset(tables[t] for t in named if t in tables)
        if shape is not None:
            if len(_CLASSES) >= _CLASSES_KEPT:
                _CLASSES.clear()
            _CLASSES[shape] = found
    return found


@lru_cache(maxsize=1024)
def _criteria(
    scope: Scope, classes: frozenset[type[TeamScoped]], *, every_sprint: bool
) -> tuple[Any, ...]:
    """The loader criteria limiting `classes` to `scope`'s team and, unless `every_sprint`,
    the sprint-scoped ones to its sprint (built once per scope and set of tables)."""
    limits: list[Any] = []
    for cls in sorted(classes, key=lambda c: c.__name__):
        criteria = [col(cls.team_id) == scope.team_id]
        if issubclass(cls, SprintScoped) and not every_sprint:
            criteria.append(col(cls.sprint_id) == scope.sprint_id)
        limits += [
            with_loader_criteria(cls, c, include_aliases=True, propagate_to_loaders=False)
            for c in criteria
        ]
    return tuple(limits)


def column_rows(session: Session, statement: Select[*_Ts]) -> Result[*_Ts]:
    """The rows of a SELECT of columns, limited to the session's scope as `Session.execute`
    limits them, without the ORM's loading of each row (a Python call per row and column:
    a quarter of the figures' time at 20k tests). `ALL_SPRINTS` on the statement lifts the
    sprint's limit, as it does there. Pending changes are flushed first, as the session's
    autoflush would."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    scope = scope_of(session)
    if scope is not None:
        statement = _limited(statement, scope, statement.get_execution_options())
    return session.connection().execute(statement)


def _stamp(session: Session, _context: Any, _instances: Any) -> None:
    scope = scope_of(session)
    if scope is None:
        return
    for obj in session.new:
        if isinstance(obj, TeamScoped):
            obj.team_id = scope.team_id
        if isinstance(obj, SprintScoped) and scope.sprint_id is not None:
            obj.sprint_id = scope.sprint_id


event.listen(Session, "do_orm_execute", _limit)
event.listen(Session, "before_flush", _stamp)

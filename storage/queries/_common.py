"""Private helpers that several query modules share."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Blocker, Lesson, Risk


def placeholder(session: Session) -> str:
    """The DB-API parameter marker of the session's driver, for SQL run on its cursor."""
    return "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"


def insert_unless_taken(session: Session, row: Any) -> bool:
    """Insert `row` in a savepoint; False (nothing inserted, the transaction intact) when
    one of its unique keys is taken, by a row already there or by a concurrent insert."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


Keyed = TypeVar("Keyed", Blocker, Risk, Lesson)


def add_keyed(session: Session, row: Keyed, table: type[Keyed]) -> Keyed:
    """Insert `row` unless its `request_key` is taken; else the row holding the key."""

    def holder() -> Keyed | None:
        found: Keyed | None = session.exec(
            select(table).where(table.request_key == row.request_key)
        ).first()
        return found

    if row.request_key is not None and (found := holder()) is not None:
        return found
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = holder() if row.request_key is not None else None
        if found is None:
            raise
        return found
    return row

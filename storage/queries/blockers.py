"""Blockers: filed, open, resolved, and open as of an instant."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import Blocker

from ._common import add_keyed


def open_blockers(*, session: Session, severity: str | None = None) -> list[Blocker]:
    """Unresolved blockers, most severe and oldest first."""
    q = select(Blocker).where(col(Blocker.resolved_at).is_(None))
    if severity is not None:
        q = q.where(Blocker.severity == severity)
    return list(session.exec(q.order_by(col(Blocker.severity), col(Blocker.reported_at))).all())


def blocker_like(*, session: Session, description: str, reported_by: str) -> bool:
    """Whether this person already has an open blocker with this text (standup re-edits)."""
    return (
        session.exec(
            select(Blocker.id).where(
                Blocker.description == description,
                Blocker.reported_by == reported_by,
                col(Blocker.resolved_at).is_(None),
            )
        ).first()
        is not None
    )


def blocker_by_id(*, session: Session, blocker_id: int) -> Blocker | None:
    """One blocker, open or resolved."""
    return session.get(Blocker, blocker_id)


def blocker_codes(*, session: Session, ids: Collection[int]) -> dict[int, str]:
    """The codes (B-007: the team's numbers) of blockers by their row ids."""
    rows = session.exec(select(Blocker).where(col(Blocker.id).in_(list(ids)))).all()
    return {int(b.id or 0): b.code for b in rows}


def add_blocker(*, session: Session, blocker: Blocker) -> Blocker:
    """Insert a blocker; when its request_key is taken, the blocker that holds it instead
    (nothing inserted). A concurrent insert of the same key waits for the first on
    PostgreSQL, then finds it."""
    return add_keyed(session, blocker, Blocker)


def resolved_blockers(*, session: Session) -> list[Blocker]:
    """Resolved blockers, in the order they were resolved."""
    return list(
        session.exec(
            select(Blocker)
            .where(col(Blocker.resolved_at).is_not(None))
            .order_by(col(Blocker.resolved_at), col(Blocker.id))
        ).all()
    )


def blockers_open_at(*, session: Session, at: datetime) -> list[Blocker]:
    """Blockers reported by `at` and not resolved by then, most severe and oldest first."""
    return list(
        session.exec(
            select(Blocker)
            .where(
                col(Blocker.reported_at) <= at,
                or_(col(Blocker.resolved_at).is_(None), col(Blocker.resolved_at) > at),
            )
            .order_by(col(Blocker.severity), col(Blocker.reported_at), col(Blocker.id))
        ).all()
    )

"""The audit trail: every state change of a blocker or risk, recorded and read."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Event


def audit(
    *,
    session: Session,
    subject: str,
    subject_id: int,
    action: str,
    actor: str,
    at: datetime,
    **detail: Any,
) -> None:
    """Record a state change of a blocker or risk (`subject`), with who, when and `detail`."""
    session.add(
        Event(
            subject=subject, subject_id=subject_id, action=action, actor=actor, at=at, detail=detail
        )
    )
    session.flush()


def count_events(*, session: Session, subject: str, subject_id: int, action: str) -> int:
    """How many times `action` happened to a blocker or risk."""
    return session.exec(
        select(func.count())
        .select_from(Event)
        .where(Event.subject == subject, Event.subject_id == subject_id, Event.action == action)
    ).one()


def event_counts(
    *, session: Session, subject: str, subject_ids: Collection[int], action: str
) -> dict[int, int]:
    """`count_events` of many blockers or risks in one query, by id (0 where none)."""
    if not subject_ids:
        return {}
    rows = session.exec(
        select(Event.subject_id, func.count())
        .where(
            Event.subject == subject,
            col(Event.subject_id).in_(list(subject_ids)),
            Event.action == action,
        )
        .group_by(col(Event.subject_id))
    ).all()
    found = {int(i): int(n) for i, n in rows}
    return {i: found.get(i, 0) for i in subject_ids}


def events(*, session: Session, until: datetime | None = None, limit: int = 200) -> list[Event]:
    """The newest audit events (blockers, risks) by `until`, oldest first."""
    query = select(Event)
    if until is not None:
        query = query.where(col(Event.at) <= until)
    rows = session.exec(
        query.order_by(col(Event.at).desc(), col(Event.id).desc()).limit(limit)
    ).all()
    return list(reversed(rows))


def last_event(*, session: Session, subject: str, subject_id: int) -> Event | None:
    """The newest audit event of a blocker or risk."""
    return session.exec(
        select(Event)
        .where(Event.subject == subject, Event.subject_id == subject_id)
        .order_by(col(Event.id).desc())
        .limit(1)
    ).first()


def risk_status_changes(*, session: Session, after: datetime) -> list[Event]:
    """Risk events after `at` that changed a status (their detail holds the old one)."""
    return list(
        session.exec(
            select(Event)
            .where(Event.subject == "risk", col(Event.at) > after)
            .order_by(col(Event.at), col(Event.id))
        ).all()
    )

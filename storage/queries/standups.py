"""Standup answers, skips and absences."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from storage.models import Away, Standup
from storage.scope import ALL_SPRINTS


def standup_for(*, session: Session, user_id: str, day: date) -> Standup | None:
    """One person's standup row for a local date."""
    return session.exec(
        select(Standup).where(Standup.user_id == user_id, Standup.day == day)
    ).first()


def save_standup(*, session: Session, standup: Standup) -> Standup:
    """Store a new or changed standup row (its id is then set)."""
    session.add(standup)
    session.flush()
    return standup


def add_away(*, session: Session, away: Away) -> Away:
    """Record an absence (its id is then set)."""
    session.add(away)
    session.flush()
    return away


def standups_on(*, session: Session, day: date) -> list[Standup]:
    """Every standup row (answers and skips) of a local date."""
    return list(session.exec(select(Standup).where(Standup.day == day)).all())


def latest_standup_before(*, session: Session, user_id: str, day: date) -> Standup | None:
    """The person's most recent answer before `day` (for carry-over): of the team's sprint
    before too (day 1's form carries over the last day's plan)."""
    return session.exec(
        select(Standup)
        .where(Standup.user_id == user_id, col(Standup.day) < day, col(Standup.skipped).is_(False))
        .order_by(col(Standup.day).desc())
        .limit(1)
        .execution_options(**{ALL_SPRINTS: True})
    ).first()


def away_on(*, session: Session, day: date) -> set[str]:
    """Who is away on a local date."""
    rows = session.exec(
        select(Away.user_id).where(col(Away.start) <= day, col(Away.end) >= day)
    ).all()
    return set(rows)

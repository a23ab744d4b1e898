"""Milestone sign-offs and the lessons the sprint review collects."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import Lesson, Signoff

from ._common import add_keyed, insert_unless_taken


def signoffs(*, session: Session, milestone_day: int) -> list[Signoff]:
    """The sign-offs of a milestone, in the order they were given."""
    return list(
        session.exec(
            select(Signoff)
            .where(Signoff.milestone_day == milestone_day)
            .order_by(col(Signoff.at), col(Signoff.id))
        ).all()
    )


def add_signoff(*, session: Session, signoff: Signoff) -> Signoff | None:
    """Record a sign-off; None when the role has signed this milestone already."""
    return signoff if insert_unless_taken(session, signoff) else None


def add_lesson(*, session: Session, lesson: Lesson) -> Lesson:
    """Store a lesson for the sprint review (its id is then set); one whose request key is
    taken already is not stored again, the stored one returned."""
    stored = add_keyed(session, lesson, Lesson)
    session.flush()
    return stored


def lessons(*, session: Session) -> list[Lesson]:
    """Every lesson recorded for the sprint review, oldest first."""
    return list(session.exec(select(Lesson).order_by(col(Lesson.at), col(Lesson.id))).all())

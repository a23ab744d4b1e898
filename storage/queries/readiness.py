"""Readiness inputs set by hand and the readiness snapshots computed from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import ManualScore, ReadinessSnapshot


def latest_manual_scores(*, session: Session) -> dict[str, float]:
    """The newest score set for each manual component."""
    newest = (
        select(ManualScore.component, func.max(ManualScore.id).label("id"))
        .group_by(col(ManualScore.component))
        .subquery()
    )
    rows = session.exec(select(ManualScore).join(newest, col(ManualScore.id) == newest.c.id)).all()
    return {r.component: r.score for r in rows}


def add_manual_score(
    *,
    session: Session,
    component: str,
    score: float,
    previous: float | None,
    user_id: str,
    at: datetime,
) -> ManualScore:
    """Record a manual score; it becomes the component's current score."""
    row = ManualScore(
        component=component, score=score, previous=previous, set_by=user_id, set_at=at
    )
    session.add(row)
    session.flush()
    return row


def add_snapshot(
    *, session: Session, at: datetime, score: float | None, cause: str, breakdown: dict[str, Any]
) -> ReadinessSnapshot:
    """Store readiness as computed now."""
    row = ReadinessSnapshot(at=at, score=score, cause=cause, breakdown=breakdown)
    session.add(row)
    session.flush()
    return row


def latest_snapshot(*, session: Session) -> ReadinessSnapshot | None:
    """The most recent readiness snapshot."""
    return session.exec(
        select(ReadinessSnapshot).order_by(col(ReadinessSnapshot.id).desc()).limit(1)
    ).first()


def snapshots_between(
    *, session: Session, start: datetime, end: datetime
) -> list[ReadinessSnapshot]:
    """Readiness snapshots taken in [start, end), oldest first."""
    return list(
        session.exec(
            select(ReadinessSnapshot)
            .where(col(ReadinessSnapshot.at) >= start, col(ReadinessSnapshot.at) < end)
            .order_by(col(ReadinessSnapshot.at), col(ReadinessSnapshot.id))
        ).all()
    )


def snapshot_before(*, session: Session, at: datetime) -> ReadinessSnapshot | None:
    """The last snapshot taken before `at`."""
    return session.exec(
        select(ReadinessSnapshot)
        .where(col(ReadinessSnapshot.at) < at)
        .order_by(col(ReadinessSnapshot.at).desc(), col(ReadinessSnapshot.id).desc())
        .limit(1)
    ).first()


def manual_score_history(*, session: Session, until: datetime) -> list[ManualScore]:
    """Manual scores set up to `until`, oldest first (the latest per component counts)."""
    return list(
        session.exec(
            select(ManualScore)
            .where(col(ManualScore.set_at) <= until)
            .order_by(col(ManualScore.set_at), col(ManualScore.id))
        )
    )

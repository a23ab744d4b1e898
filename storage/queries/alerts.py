"""Alerts, and the regressed tests each one holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import Alert, KnownTest

from .quarantine import open_quarantines


def alert_tests(*, session: Session, alert_id: int) -> list[KnownTest]:
    """The tests an alert still holds (cleared as each recovers)."""
    return list(session.exec(select(KnownTest).where(KnownTest.alert_id == alert_id)).all())


def quarantined_whole(*, session: Session, alert_id: int, at: datetime) -> bool:
    """Whether every test the alert still holds is in quarantine at `at` (someone answered
    it with "Quarantine as flaky"): none alerts while there, so none is followed up."""
    tests = alert_tests(session=session, alert_id=alert_id)
    if not tests:
        return False
    held = {
        q.test_id
        for q, _ in open_quarantines(session=session, test_ids=[t.id or 0 for t in tests], at=at)
    }
    return all(t.id in held for t in tests)


def clear_alert(*, session: Session, test_ids: Sequence[int]) -> None:
    """Release recovered tests from their alerts."""
    if test_ids:
        session.execute(
            update(KnownTest).where(col(KnownTest.id).in_(test_ids)).values(alert_id=None)
        )


def set_alert(*, session: Session, test_ids: Sequence[int], alert_id: int) -> None:
    """Tie regressed tests to the alert that announced them."""
    if test_ids:
        session.execute(
            update(KnownTest).where(col(KnownTest.id).in_(test_ids)).values(alert_id=alert_id)
        )


def add_alert(*, session: Session, alert: Alert) -> Alert:
    """Store an alert (its id is then set)."""
    session.add(alert)
    session.flush()
    return alert


def alert_by_id(*, session: Session, alert_id: int, for_update: bool = False) -> Alert | None:
    """One alert; `for_update`: its row locked until the transaction ends (PostgreSQL; on
    SQLite the one writer serialises), for a change decided on what it holds."""
    return session.get(
        Alert, alert_id, with_for_update=for_update or None, populate_existing=for_update
    )


def open_alert(*, session: Session, kind: str, subject: str) -> Alert | None:
    """The unresolved alert of this kind about `subject`, if any."""
    return session.exec(
        select(Alert).where(
            Alert.kind == kind, Alert.subject == subject, col(Alert.resolved_at).is_(None)
        )
    ).first()


def alerts_to_follow_up(*, session: Session, kind: str, created_before: datetime) -> list[Alert]:
    """Alerts of `kind` nobody acknowledged, unresolved, not yet followed up."""
    return list(
        session.exec(
            select(Alert)
            .where(
                Alert.kind == kind,
                col(Alert.created_at) <= created_before,
                col(Alert.acknowledged_at).is_(None),
                col(Alert.resolved_at).is_(None),
                col(Alert.followed_up_at).is_(None),
            )
            .order_by(col(Alert.id))
        ).all()
    )

"""Risks of the risk matrix."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Risk

from ._common import add_keyed


def risk_like(*, session: Session, description: str, created_by: str) -> bool:
    """Whether this person already has a risk with this text that is not resolved (one
    resolved and raised again is a new risk, as a blocker is)."""
    return (
        session.exec(
            select(Risk.id).where(
                Risk.description == description,
                Risk.created_by == created_by,
                Risk.status != "Resolved",
            )
        ).first()
        is not None
    )


def risk_by_id(*, session: Session, risk_id: int) -> Risk | None:
    """One risk of the register."""
    return session.get(Risk, risk_id)


def risk_codes(*, session: Session, ids: Collection[int]) -> dict[int, str]:
    """The codes (R-003: the team's numbers) of risks by their row ids."""
    rows = session.exec(select(Risk).where(col(Risk.id).in_(list(ids)))).all()
    return {int(r.id or 0): r.code for r in rows}


def add_risk(*, session: Session, risk: Risk) -> Risk:
    """Insert a risk; when its request_key is taken, the risk that holds it instead."""
    return add_keyed(session, risk, Risk)


def all_risks(*, session: Session) -> list[Risk]:
    """Every risk, oldest first."""
    return list(session.exec(select(Risk).order_by(col(Risk.id))).all())


def risks_at(*, session: Session, at: datetime) -> list[Risk]:
    """Risks recorded by `at`, oldest first."""
    return list(
        session.exec(select(Risk).where(col(Risk.created_at) <= at).order_by(col(Risk.id))).all()
    )

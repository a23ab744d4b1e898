"""Whether the database answers."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def ping(*, session: Session) -> None:
    """Round-trip to the database; raises when it is unreachable."""
    session.execute(text("SELECT 1"))

"""Small factories for domain rows that tests need as background (a blocker, ...), filed
through the domain functions so that they are what a user would have made."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from jobs import blockers
from jobs.config import Sprint
from storage.models import Blocker


def blocker(
    session: Session,
    sprint: Sprint,
    *,
    now: datetime,
    component: str = "Core",
    description: str = "deadlock",
    severity: str = "P0",
    reporter: str = "U01",
    request_key: str | None = None,
) -> Blocker:
    """A blocker filed with `/blocker` as `reporter` at `now` (its first steps fired)."""
    return blockers.file_blocker(
        session=session,
        sprint=sprint,
        component=component,
        description=description,
        severity=severity,
        reporter=reporter,
        now=now,
        request_key=request_key,
    )

"""Reading what a job queued: the outbox rows' keys and the data their messages show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import queries
from storage.db import Database
from storage.models import OutboxMessage


def queued(session: Session, key: str) -> dict[str, Any]:
    """The data of the message queued under `key` (AssertionError when there is none)."""
    row = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()
    assert row is not None, f"nothing queued as {key!r}; queued: {keys(session)}"
    data: dict[str, Any] = row.payload["data"]
    return data


def keys(session: Session, prefix: str = "") -> list[str]:
    """The keys queued so far that start with `prefix`, oldest first."""
    session.flush()
    rows = session.exec(
        select(OutboxMessage.key)
        .where(col(OutboxMessage.key).startswith(prefix, autoescape=True))
        .order_by(col(OutboxMessage.id))
    )
    return list(rows.all())


def queue_post(db: Database, key: str, channel: str, now: datetime) -> None:
    """Queue a chat.postMessage saying `key` to `channel` at `now`, committed."""
    with db.session() as session:
        queries.enqueue(
            session=session,
            key=key,
            method="chat.postMessage",
            payload={"channel": channel, "text": key},
            now=now,
        )
        session.commit()

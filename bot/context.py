"""What every listener needs, put into Bolt's context by one middleware."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.settings import Settings
from jobs.config import Sprint
from jobs.ready import Ready
from storage.db import Database


@dataclass(frozen=True)
class AppContext:
    """The sprint, the database, the clock and the figures kept ready.

    Listeners open their own session from `db` (or `write()`): with Bolt's ack-first
    threading a session opened in middleware would close before the listener finishes.
    """

    settings: Settings
    sprint: Sprint
    db: Database
    now: Callable[[], datetime]
    notify_outbox: Callable[[], None]
    ready: Ready  # the sprint's figures, kept current by every write

    @classmethod
    def of(
        cls,
        settings: Settings,
        *,
        sprint: Sprint,
        db: Database,
        now: Callable[[], datetime],
        notify_outbox: Callable[[], None],
        ready: Ready | None,
    ) -> AppContext:
        """The context, keeping the figures ready itself unless `ready` is given."""
        return cls(
            settings=settings,
            sprint=sprint,
            db=db,
            now=now,
            notify_outbox=notify_outbox,
            ready=ready or Ready(db=db, sprint=sprint),
        )

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on a clean exit, rolled back on an exception.

        After the commit the outbox is woken, so whatever the transaction queued goes out
        now rather than at the sender's next tick (and never before it is committed).
        """
        with self.db.session() as session:
            yield session
            session.commit()
        self.notify_outbox()

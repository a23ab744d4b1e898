"""What every listener needs, put into Bolt's context by one middleware."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.settings import Settings
from jobs.config import Sprint
from jobs.ready import Ready
from storage.db import Database


@dataclass(frozen=True)
class AppContext:
    """The sprint, the database, the clock and the figures kept ready.

    Listeners open their own session from `db`: with Bolt's ack-first threading a
    session opened in middleware would close before the listener finishes.
    """

    settings: Settings
    sprint: Sprint
    db: Database
    now: Callable[[], datetime]
    notify_outbox: Callable[[], None]
    ready: Ready  # the sprint's figures, kept current by every write

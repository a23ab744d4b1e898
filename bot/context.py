"""What every listener needs, put into Bolt's context by one middleware."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot.settings import Settings
from jobs import standups
from jobs.config import Sprint, Team
from jobs.errors import SprintError
from jobs.ready import Ready, Together
from jobs.teams import Served, Teams
from storage.db import Database
from storage.scope import Scope


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
    team: Team | None = None  # None: a context built without teams (tests of one sprint)
    running: bool = True  # today is one of the sprint's days
    teams: Teams | None = None  # every team of the deployment (None: built without teams)

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
            ready=ready or Ready(db=db, sprint=sprint, clock=now),
        )

    def require_running(self) -> None:
        """Raise SprintError saying that no sprint runs (and when the next starts) unless
        one does: between sprints there is no standup to take."""
        if not self.running:
            raise SprintError(standups.no_sprint_running(self.sprint, self.now()))

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


class Contexts:
    """Every team's `AppContext`, by the sprint each team is served at the moment asked
    (`jobs.teams`): a request, a job or an API call takes its team's from here. One
    `Ready` per team's sprint is kept for the life of the process."""

    def __init__(
        self,
        settings: Settings,
        *,
        teams: Teams,
        db: Database,
        now: Callable[[], datetime],
        notify_outbox: Callable[[], None],
        ready: dict[Scope, Ready] | None = None,
    ) -> None:
        self.settings = settings
        self.teams = teams
        self.db = db  # every team's rows (the outbox's sender, health)
        self.now = now
        self.notify_outbox = notify_outbox
        self._ready: dict[Scope, Ready] = dict(ready or {})
        self._lock = threading.Lock()
        self._together = Together()

    def served(self, team: Team) -> Served:
        return self.teams.serve(team, now=self.now())

    def ready(self, served: Served) -> Ready:
        """The figures of a team's sprint, kept ready (made on first use)."""
        with self._lock:
            ready = self._ready.get(served.scope)
            if ready is None:
                db = self.db.scoped(served.scope)
                ready = Ready(db=db, sprint=served.sprint, clock=self.now)
                self._ready[served.scope] = ready
            return ready

    def for_team(self, team: Team, sprint: date | None = None) -> AppContext:
        """`team`'s context now: its served sprint, its rows, its figures. With `sprint`
        (a start date, as a button or form of a sprint's messages names it), that sprint of
        the team's instead, whichever runs now; the served one if the team has no such
        sprint (its file changed since)."""
        served = None
        if sprint is not None:
            served = self.teams.serve_sprint(team, sprint, now=self.now())
        served = served or self.served(team)
        return AppContext(
            settings=self.settings,
            sprint=served.sprint,
            db=self.db.scoped(served.scope),
            now=self.now,
            notify_outbox=self.notify_outbox,
            ready=self.ready(served),
            team=team,
            running=served.running,
            teams=self.teams,
        )

    def served_readies(self) -> list[Ready]:
        """The figures of every team's sprint served now."""
        return [self.ready(self.served(t)) for t in self.teams.all]

    def fresh(self) -> bool:
        """Whether every team's figures as of now are in memory (nothing to read or build):
        asked on every Slack request, each team's only once something may have moved."""
        return self._together.fresh(self.now(), self.served_readies)

    @property
    def first(self) -> AppContext:
        """The first team's context (the only team's, in a one-team deployment)."""
        return self.for_team(self.teams.first)

"""Who is in a team as Slack knows it, for routing a request by its user: a team whose
`[people] participants` is `"team"` (the team channel's members) or names user groups
(S…) has members its file does not list. They are read from Slack in the background, at
most once per `refresh_every`, and kept in memory; a request never waits for Slack longer
than `wait`, and only when nothing was read yet."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from slack_sdk import WebClient

from bot.people import participants
from jobs.config import Sprint, Team, sprint_to_serve
from jobs.teams import Teams

log = logging.getLogger(__name__)

REFRESH_EVERY = 300.0
WAIT = 1.0


class WouldWait(Exception):
    """Routing a request needs what Slack is being asked meanwhile, and its caller may not
    wait for it (a request answered on the event loop: `bot.web`)."""


def _needs_slack(sprint: Sprint) -> bool:
    listed = sprint.people.get("participants", [])
    return listed == "team" or any(e.startswith("S") for e in listed if isinstance(e, str))


class TeamMembers:
    """Each such team's participants, as `bot.people.participants` reads them."""

    def __init__(
        self,
        client: WebClient | None,
        teams: Teams,
        *,
        refresh_every: float = REFRESH_EVERY,
        wait: float | None = None,
    ) -> None:
        self.client = client
        self.teams = teams
        self.refresh_every = refresh_every
        self.wait = WAIT if wait is None else wait
        self._members: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._last = float("-inf")

    def teams_of(self, user_id: str, *, now: datetime, wait: bool = True) -> list[Team]:
        """The teams whose Slack-read participants include `user_id`, in file order.
        `wait=False`: WouldWait rather than wait for Slack (a caller on the event loop)."""
        wanted = [t for t in self.teams.all if _needs_slack(sprint_to_serve(t, now=now))]
        if not wanted or self.client is None:
            return []
        first = not self._members
        self._refresh_in_background(now)
        if first and not self._done.is_set():
            if not wait:
                raise WouldWait
            self._done.wait(self.wait)
        return [t for t in wanted if user_id in self._members.get(t.id, frozenset())]

    def learn(self, now: datetime) -> None:
        """Read the members of every team that needs Slack for them (the background work)."""
        if self.client is None:
            return
        found: dict[str, frozenset[str]] = {}
        for team in self.teams.all:
            sprint = sprint_to_serve(team, now=now)
            if not _needs_slack(sprint):
                continue
            try:
                found[team.id] = frozenset(participants(self.client, sprint, apps=True))
            except Exception:  # Slack unreachable: route by the files until the next try
                log.warning("could not read the members of team %s", team.id, exc_info=True)
        with self._lock:
            self._members.update(found)

    def _refresh_in_background(self, now: datetime) -> None:
        with self._lock:
            started = time.monotonic()
            if not self._done.is_set() or started - self._last < self.refresh_every:
                return
            self._last = started
            self._done.clear()

        def run() -> None:
            try:
                self.learn(now)
            finally:
                self._done.set()

        threading.Thread(target=run, name="team-members", daemon=True).start()

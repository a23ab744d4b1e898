"""Every team a deployment serves, and which of its sprints it serves now.

`Teams` is built once at start from SPRINTBOT_CONFIG (`jobs.config.load_org`) and the team
and sprint rows kept in step with it (`storage.queries.teams`). A team's sprint is chosen at
every use, not at start: the process that served a team's first sprint serves its second
from the morning it starts. Between sprints a team is served its next sprint (whose phase
says when it starts: nothing daily is posted), after its last sprint that one (ended).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session

from jobs.config import Org, Sprint, Team, sprint_at, sprint_to_serve
from storage import queries
from storage.db import Database
from storage.queries.teams import SprintDates, TeamRows, team_rows
from storage.scope import LEGACY, Scope

log = logging.getLogger(__name__)


class LegacyData(Exception):
    """The data of a database from before teams, and several teams that could take it."""


def team_named(teams: Sequence[Team], word: str) -> Team | None:
    """The team a word names (`/standup platform`, `team=`, `--team`): its id or its name,
    in any case — a team's id before another team's name (ids are unique, names need
    not be, and CI names teams by id)."""
    w = word.strip().lower()
    by_id = next((t for t in teams if t.id == w), None)
    return by_id or next((t for t in teams if t.name.strip().lower() == w), None)


@dataclass(frozen=True)
class Served:
    """A team's sprint as served at one instant."""

    team: Team
    sprint: Sprint
    scope: Scope
    running: bool  # today is one of the sprint's days


class Teams:
    """The org's teams with their rows' ids."""

    def __init__(self, org: Org, rows: dict[str, TeamRows]) -> None:
        self.org = org
        self.rows = rows
        self.by_id = {t.id: t for t in org.teams}
        # What each team was last served, and the local day it holds for: [start, end).
        self._served: dict[str, tuple[datetime, datetime, Served]] = {}
        self._channel_index: tuple[datetime, datetime, dict[str, Team]] | None = None
        self._team_channels: dict[str, Team] = {}  # of the index: the teams' team channels

    @classmethod
    def sync(cls, org: Org, *, db: Database, now: datetime) -> Teams:
        """The teams, their rows made or updated from the files (one transaction).

        A config of one team is the deployment's one team whatever its file is called: a
        database holding one team row takes it under the team's id (the migration's row
        with the data held before teams existed, or the row of the same team's file before
        it was renamed, moved into a directory or given a `[team] id`), so its history,
        outbox keys and job slots stay its own. With several teams an unknown id is a new
        team, and the data of a database from before teams raises LegacyData rather than
        guessing whose it is (an empty database's placeholder is taken by the first team)."""
        rows: dict[str, TeamRows] = {}
        with db.session() as session:
            refusal = start_refusal(org, session=session)
            if refusal is not None:
                raise LegacyData(refusal)
            for team in org.teams:
                rows[team.id] = queries.sync_team(
                    session=session,
                    slug=team.id,
                    name=team.name,
                    sprints=[
                        SprintDates(s.sprint.name, s.sprint.start, s.sprint.end)
                        for s in team.sprints
                    ],
                    adopt=_adoptable(session, team, alone=len(org.teams) == 1),
                    now=now,
                )
            session.commit()
        return cls(org, rows)

    @property
    def all(self) -> list[Team]:
        return list(self.org.teams)

    @property
    def several(self) -> bool:
        return len(self.org.teams) > 1

    @property
    def first(self) -> Team:
        return self.org.teams[0]

    def get(self, team_id: str) -> Team | None:
        return self.by_id.get(team_id)

    def scope(self, team: Team, sprint: Sprint) -> Scope:
        """The rows of `team`'s `sprint` (one of its file's sprints)."""
        ids = self.rows[team.id]
        return Scope(team_id=ids.team_id, sprint_id=ids.sprints[sprint.sprint.start])

    def serve(self, team: Team, *, now: datetime) -> Served:
        """`team`'s sprint at `now`: the running one, else the next, else the last. It can
        only change at the team's midnight, so it is kept for the rest of the local day
        (asked several times a request, it was a twelfth of an acknowledgement's time)."""
        kept = self._served.get(team.id)
        if kept is not None and kept[0] <= now < kept[1] and kept[2].team is team:
            return kept[2]
        sprint = sprint_to_serve(team, now=now)
        running = sprint_at(team, now=now) is not None
        served = Served(team=team, sprint=sprint, scope=self.scope(team, sprint), running=running)
        self._served[team.id] = (*_local_day(team, now), served)
        return served

    def serve_sprint(self, team: Team, start: date, *, now: datetime) -> Served | None:
        """`team`'s sprint starting on `start` (the one a button or form of its messages
        names), served at `now` whichever sprint runs then; None if the team has none."""
        sprint = next((s for s in team.sprints if s.sprint.start == start), None)
        if sprint is None:
            return None
        running = sprint_at(team, now=now) is sprint
        return Served(team=team, sprint=sprint, scope=self.scope(team, sprint), running=running)

    def owning(self, scope: Scope | None) -> Team | None:
        """The team whose rows `scope` is (None: unscoped, or a team no file lists)."""
        if scope is None:
            return None
        return next((t for t in self.org.teams if self.rows[t.id].team_id == scope.team_id), None)

    def named(self, word: str) -> Team | None:
        """The team a word names: its id or its name, in any case."""
        return team_named(self.org.teams, word)

    def of_user(self, user_id: str, *, now: datetime) -> list[Team]:
        """The teams whose current sprint names `user_id` in any role, in file order."""
        return [
            t
            for t in self.org.teams
            if any(user_id in ids for ids in _roles(sprint_to_serve(t, now=now)).values())
        ]

    def of_channel(
        self, channel: str | None, *, now: datetime, name: str | None = None
    ) -> Team | None:
        """The team whose team channel `channel` is (an ID or a name, as its file writes
        it); else the one team whose file names it at all (status, blockers).

        `name` ("#blockers"): the same channel's name, where the request says it. A channel
        one file writes by its ID and another by its name is then both teams' (a team
        channel still its team's): not the team of whichever spelling came first (found by
        review; `sprintbot doctor` asks for one spelling)."""
        if not channel:
            return None
        index = self._channels(now)
        found = index.get(channel)
        if name is None or name == channel:
            return found
        other = index.get(name)
        if found is None or other is None or other is found:
            return found or other
        owners = [self._team_channels[c] for c in (channel, name) if c in self._team_channels]
        return owners[0] if len(owners) == 1 else None

    def _channels(self, now: datetime) -> dict[str, Team]:
        """`of_channel`'s answers as of `now`, kept while every team is served the same
        sprint (every command is routed by its channel: working out each team's sprint on
        every request was 43 % of an acknowledgement's time with 50 teams)."""
        kept = self._channel_index
        if kept is not None and kept[0] <= now < kept[1]:
            return kept[2]
        since, until = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
        index: dict[str, Team] = {}
        naming: dict[str, list[Team]] = {}
        for team in self.org.teams:
            midnight, next_midnight = _local_day(team, now)
            since, until = max(since, midnight), min(until, next_midnight)
            channels = sprint_to_serve(team, now=now).channels
            index.setdefault(channels.team, team)
            for name in {v for v in channels.model_dump().values() if isinstance(v, str)}:
                naming.setdefault(name, []).append(team)
        self._team_channels = dict(index)
        for name, teams in naming.items():
            if name not in index and len(teams) == 1:
                index[name] = teams[0]
        self._channel_index = (since, until, index)
        return index


def _local_day(team: Team, now: datetime) -> tuple[datetime, datetime]:
    """The instants `team`'s local day holding `now` starts and ends at (what it is served
    can change only between two), in UTC, the zone `now` comes in: bounds in the team's
    zone made each comparison look up its offsets (half of `serve`'s time every request)."""
    midnight = datetime.combine(now.astimezone(team.tz).date(), time(), tzinfo=team.tz)
    return midnight.astimezone(UTC), (midnight + timedelta(days=1)).astimezone(UTC)


def start_refusal(org: Org, *, session: Session) -> str | None:
    """Why the teams of `org` may not start on this database (None: they may): with several
    teams, data none of them can be told to be its — a database from before teams, or one
    team's database whose team no file names (its file moved into a directory of teams
    under another name: started, its history was silently left behind; found by review)."""
    if len(org.teams) < 2:
        return None
    alone = "start once with that team's file alone (SPRINTBOT_CONFIG=DIR/TEAM.toml) so that "
    if queries.legacy_team_free(session=session) and queries.legacy_team_holds_data(
        session=session
    ):
        return (
            "the database holds a sprint from before teams and SPRINTBOT_CONFIG names "
            f"{len(org.teams)} teams: {alone}it takes the data, then the directory"
        )
    existing = team_rows(session=session)
    ids = {t.id for t in org.teams}
    if len(existing) == 1 and existing[0].slug not in ids:
        [row] = existing
        if row.slug is not None and queries.team_holds_data(session=session, team_id=row.id or 0):
            return (
                f'the database holds the data of team "{row.slug}", and SPRINTBOT_CONFIG names '
                f"{len(org.teams)} teams, none of them {row.slug}: give that team's file "
                f'[team] id = "{row.slug}", or {alone}it takes the data, then the directory'
            )
    # A team's file renamed beside others (its id the file's name): started, it was a new
    # team and its history was silently left under the old id (found by review).
    known = {row.slug for row in existing}
    named_anew = [t for t in org.teams if t.id not in known and not t.id_given]
    left = [
        row.slug
        for row in existing
        if row.slug is not None
        and row.slug not in ids
        and queries.team_holds_data(session=session, team_id=row.id or 0)
    ]
    if named_anew and left:
        new = named_anew[0]
        olds = " or ".join(f'"{slug}"' for slug in left)
        return (
            f"the database holds the data of team {olds}, which no file names, and "
            f'{Path(new.path).name} is a new team "{new.id}" by its file\'s name: if it is '
            f'{olds} under a new file name, give it [team] id = "{left[0]}"; if it is a new '
            f'team, say so with [team] id = "{new.id}"'
        )
    return None


def _adoptable(session: Session, team: Team, *, alone: bool) -> int | None:
    """The team row `team` takes when none has its id yet: the one row of a database
    holding one (`alone`: a config of one team), else the migration's while no team took it."""
    existing = team_rows(session=session)
    if any(t.slug == team.id for t in existing):
        return None
    if alone and len(existing) == 1:
        [row] = existing
        if row.slug is not None:
            log.warning(
                "team row %s (was %r) is now team %r: SPRINTBOT_CONFIG names one team and "
                "the database holds one, so its data, outbox keys and job slots stay this team's",
                row.id,
                row.slug,
                team.id,
            )
        return row.id
    return LEGACY.team_id if queries.legacy_team_free(session=session) else None


def _roles(sprint: Sprint) -> dict[str, list[str]]:
    return {role: sprint.role(role) for role in sprint.people}

"""Team and sprint rows, kept in step with the sprint files at start."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from storage.models import SprintRow, Team
from storage.scope import LEGACY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SprintDates:
    """A sprint as its team file gives it."""

    name: str
    start: date
    end: date


@dataclass(frozen=True)
class TeamRows:
    """A team's row id and its sprints' row ids by start date."""

    team_id: int
    sprints: dict[date, int]


def sync_team(
    *,
    session: Session,
    slug: str,
    name: str,
    sprints: Sequence[SprintDates],
    adopt: int | None,
    now: datetime,
) -> TeamRows:
    """The team's rows, made or brought up to date from its file.

    A team with no row under its slug yet takes the row `adopt` names (the migration's,
    for the data held before teams, or the one team of a one-team database under another
    slug: `jobs.teams.Teams.sync` decides), else a new one. Each sprint of the file is
    its row of the same start; else the team's row of the same name (in any case) that no
    sprint of the file has (its start was corrected: its dates follow the file); else the
    migration's sprint (no start), for the earliest; else a new row. Rows the file no
    longer lists are kept (their rows too) but not `listed`: no sprint comes after them."""
    team = session.exec(select(Team).where(Team.slug == slug)).first()
    if team is None and adopt is not None:
        team = session.get(Team, adopt)
    if team is None:
        team = Team(slug=slug)
    team.slug, team.name, team.synced_at = slug, name, now
    session.add(team)
    session.flush()
    team_id = int(team.id or 0)  # set by the flush
    rows = session.exec(
        select(SprintRow).where(SprintRow.team_id == team_id).order_by(col(SprintRow.id))
    ).all()
    free: dict[date, SprintRow] = {r.start: r for r in rows if r.start is not None}
    unclaimed = next((r for r in rows if r.start is None), None)
    ordered = sorted(sprints, key=lambda s: s.start)
    taken: dict[date, SprintRow] = {s.start: free.pop(s.start) for s in ordered if s.start in free}
    for s in ordered:
        if s.start in taken:
            continue
        named = s.name.strip().lower()
        key = next((k for k, r in sorted(free.items()) if r.name.strip().lower() == named), None)
        if key is not None:
            row = free.pop(key)
            log.info(
                "team %s: sprint %r moved from %s to %s; its rows follow it",
                slug,
                s.name,
                row.start,
                s.start,
            )
        elif unclaimed is not None:
            row, unclaimed = unclaimed, None
        else:
            row = SprintRow(team_id=team_id)
        taken[s.start] = row
    ids: dict[date, int] = {}
    for s in ordered:
        row = taken[s.start]
        if (row.start, row.end) != (s.start, s.end):
            row.outcome = None  # computed for other dates
        row.name, row.start, row.end, row.listed = s.name, s.start, s.end, True
        session.add(row)
        session.flush()
        ids[s.start] = int(row.id or 0)  # set by the flush
    for row in free.values():
        if row.listed:
            row.listed = False
            session.add(row)
    session.flush()
    return TeamRows(team_id=team_id, sprints=ids)


def legacy_team_free(*, session: Session) -> bool:
    """Whether the migration's team has no team of the files yet."""
    row = session.get(Team, LEGACY.team_id)
    return row is not None and row.slug is None


def team_rows(*, session: Session) -> list[Team]:
    """Every team row, in the order they were made."""
    return list(session.exec(select(Team).order_by(col(Team.id))).all())


def legacy_team_holds_data(*, session: Session) -> bool:
    """Whether any row of team data, in any table of a team's rows, belongs to the
    migration's team (data from before teams)."""
    return team_holds_data(session=session, team_id=LEGACY.team_id)


def team_holds_data(*, session: Session, team_id: int) -> bool:
    """Whether any row of team data, in any table of a team's rows, is the team's."""
    for table in SQLModel.metadata.sorted_tables:
        if "team_id" not in table.c or table.name == SprintRow.__tablename__:
            continue
        found = session.execute(
            sa_select(table.c.team_id).where(table.c.team_id == team_id).limit(1)
        ).first()
        if found is not None:
            return True
    return False


def sprint_rows(*, session: Session, team_id: int) -> list[SprintRow]:
    """A team's sprints its file lists, earliest first (with the migration's, before a
    team takes it): the rows of sprints dropped from the file are kept but left out."""
    return list(
        session.exec(
            select(SprintRow)
            .where(SprintRow.team_id == team_id, col(SprintRow.listed))
            .order_by(col(SprintRow.start))
        ).all()
    )


def team_slug_known(*, session: Session, slug: str) -> bool:
    """Whether a team row holds `slug`: a team this database served (its file since gone,
    where the files have no such team), not one whose file was renamed (its row took the
    new id)."""
    return session.exec(select(Team.id).where(Team.slug == slug)).first() is not None

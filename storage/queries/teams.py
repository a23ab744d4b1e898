"""Team and sprint rows, kept in step with the sprint files at start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from storage.models import (
    Blocker,
    MetricSample,
    ReadinessSnapshot,
    Risk,
    SprintRow,
    Standup,
    Team,
    TestReport,
)
from storage.scope import LEGACY


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
    adopt: bool,
    now: datetime,
) -> TeamRows:
    """The team's rows, made or brought up to date from its file. With `adopt`, a team with
    no row yet takes the team the migration made for the data held before teams existed
    (no slug), and its earliest sprint without a row takes that team's sprint (no start)."""
    team = session.exec(select(Team).where(Team.slug == slug)).first()
    if team is None and adopt:
        team = session.exec(select(Team).where(col(Team.slug).is_(None))).first()
    if team is None:
        team = Team(slug=slug)
    team.slug, team.name, team.synced_at = slug, name, now
    session.add(team)
    session.flush()
    team_id = int(team.id or 0)  # set by the flush
    rows = {
        r.start: r
        for r in session.exec(select(SprintRow).where(SprintRow.team_id == team_id)).all()
    }
    unclaimed = rows.pop(None, None)
    ids: dict[date, int] = {}
    for s in sorted(sprints, key=lambda s: s.start):
        row = rows.get(s.start)
        if row is None and unclaimed is not None:
            row, unclaimed = unclaimed, None
        if row is None:
            row = SprintRow(team_id=team_id)
        row.name, row.start, row.end = s.name, s.start, s.end
        session.add(row)
        session.flush()
        ids[s.start] = int(row.id or 0)  # set by the flush
    return TeamRows(team_id=team_id, sprints=ids)


def legacy_team_free(*, session: Session) -> bool:
    """Whether the migration's team has no team of the files yet."""
    row = session.get(Team, LEGACY.team_id)
    return row is not None and row.slug is None


def legacy_team_holds_data(*, session: Session) -> bool:
    """Whether any row of team data belongs to the migration's team (data from before teams)."""
    for table in (TestReport, Blocker, Risk, Standup, ReadinessSnapshot, MetricSample):
        found = session.exec(
            select(table.id).where(table.team_id == LEGACY.team_id).limit(1)
        ).first()
        if found is not None:
            return True
    return False


def sprint_rows(*, session: Session, team_id: int) -> list[SprintRow]:
    """A team's sprints, earliest first (those the files no longer list too)."""
    return list(
        session.exec(
            select(SprintRow).where(SprintRow.team_id == team_id).order_by(col(SprintRow.start))
        ).all()
    )

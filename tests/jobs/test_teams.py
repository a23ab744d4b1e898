"""Which team takes the data of a database from before teams, and which sprint a team is
served as the days go by."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from jobs import teams as teams_module
from jobs.config import load_org, sprint_to_serve, team_today
from jobs.teams import LegacyData, Teams
from storage.db import Database
from storage.models import Blocker, SprintRow, Team

ROOT = Path(__file__).resolve().parents[2]
TEAMS = ROOT / "examples" / "teams"
NOW = datetime(2025, 11, 5, 15, tzinfo=UTC)


def _old_blocker(db: Database) -> None:
    """A blocker filed before teams existed: it belongs to the migration's team 1."""
    with db.session() as session:
        session.add(
            Blocker(
                component="API",
                description="filed before teams",
                severity="P1",
                reported_by="U1",
                reported_at=NOW,
            )
        )
        session.commit()


def test_several_teams_refuse_to_guess_whose_old_data_it_is(db: Database) -> None:
    _old_blocker(db)
    with pytest.raises(LegacyData, match="start once with that team's file alone"):
        Teams.sync(load_org(TEAMS), db=db, now=NOW)
    with db.read() as session:  # nothing was recorded
        assert session.exec(select(Team.slug)).all() == [None]


def test_one_team_takes_the_old_data_then_the_directory_keeps_it(db: Database) -> None:
    _old_blocker(db)
    alone = Teams.sync(load_org(TEAMS / "platform.toml"), db=db, now=NOW)
    assert alone.rows["platform"].team_id == 1
    both = Teams.sync(load_org(TEAMS), db=db, now=NOW)
    assert both.rows["platform"].team_id == 1
    assert both.rows["mobile"].team_id != 1
    platform = both.get("platform")
    assert platform is not None
    with db.scoped(both.serve(platform, now=NOW).scope).read() as session:
        assert [b.description for b in session.exec(select(Blocker)).all()] == [
            "filed before teams"
        ]
    mobile = both.get("mobile")
    assert mobile is not None
    with db.scoped(both.serve(mobile, now=NOW).scope).read() as session:
        assert session.exec(select(Blocker)).all() == []


def test_an_empty_database_is_taken_by_the_first_team(db: Database) -> None:
    teams = Teams.sync(load_org(TEAMS), db=db, now=NOW)
    assert teams.rows[teams.first.id].team_id == 1
    again = Teams.sync(load_org(TEAMS), db=db, now=NOW)
    assert again.rows == teams.rows  # nothing new the second time
    with db.read() as session:
        assert len(session.exec(select(SprintRow)).all()) == 3  # platform 2, mobile 1


def test_a_team_is_served_its_next_sprint_from_its_first_morning() -> None:
    platform = next(t for t in load_org(TEAMS).teams if t.id == "platform")
    last_evening = datetime(2025, 11, 11, 23, 59, tzinfo=UTC)  # 18:59 in New York
    first_morning = datetime(2025, 11, 12, 5, 1, tzinfo=UTC)  # 00:01 in New York
    assert sprint_to_serve(platform, now=last_evening) is platform.sprints[0]
    assert sprint_to_serve(platform, now=first_morning) is platform.sprints[1]


def test_the_sprint_served_follows_the_team_s_days_whichever_way_the_clock_goes(
    db: Database,
) -> None:
    """`Teams.serve` keeps what it served for the rest of the team's local day (answers ask
    it several times a request): across New York's midnights — the one between its two
    sprints, the night the clocks went back (2 November 2025), a clock set back a day —
    what it serves is what the team's days say at each instant."""
    teams = Teams.sync(load_org(TEAMS), db=db, now=NOW)
    platform = teams.get("platform")
    assert platform is not None
    instants = [
        datetime(2025, 11, 11, 23, 59, tzinfo=UTC),  # 18:59 on the first sprint's last day
        datetime(2025, 11, 12, 4, 59, tzinfo=UTC),  # 23:59
        datetime(2025, 11, 12, 5, 0, tzinfo=UTC),  # 00:00 on the second's first
        datetime(2025, 11, 11, 12, tzinfo=UTC),  # the clock set back a day
        datetime(2025, 11, 2, 3, 59, tzinfo=UTC),  # 23:59 on 1 November (EDT)
        datetime(2025, 11, 2, 4, 0, tzinfo=UTC),  # 00:00 on 2 November (EDT)
        datetime(2025, 11, 3, 4, 59, tzinfo=UTC),  # 23:59 on 2 November (EST: 25 hours)
        datetime(2025, 11, 3, 5, 0, tzinfo=UTC),  # 00:00 on 3 November
        datetime(2025, 11, 22, 5, 0, tzinfo=UTC),  # after the last sprint ended
        datetime(2025, 10, 28, 12, tzinfo=UTC),  # before the first began
    ]
    for now in instants:
        served = teams.serve(platform, now=now)
        sprint = sprint_to_serve(platform, now=now)
        assert served.sprint is sprint, now
        assert served.scope == teams.scope(platform, sprint), now
        assert served.running == (
            sprint.sprint.start <= team_today(platform, now=now) <= sprint.sprint.end
        ), now


def test_a_channel_s_team_is_found_without_working_out_every_team_s_sprint(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command typed in a channel is routed by it: each team's served sprint's
    channels were worked out from its days on every request (43 % of an acknowledgement's
    time with 50 teams). They are now kept while every team is served the same sprint,
    and found as before: a team's own channel, else the one team whose file names it."""
    teams = Teams.sync(load_org(TEAMS), db=db, now=NOW)
    worked_out: list[str] = []
    real = sprint_to_serve

    def counted(team: Any, *, now: datetime) -> Any:
        worked_out.append(team.id)
        return real(team, now=now)

    monkeypatch.setattr(teams_module, "sprint_to_serve", counted)
    for _ in range(100):
        assert teams.of_channel("#platform", now=NOW) is teams.get("platform")
        assert teams.of_channel("#mobile", now=NOW) is teams.get("mobile")
        assert teams.of_channel("#mobile-blockers", now=NOW) is teams.get("mobile")
        assert teams.of_channel("#sprint-status", now=NOW) is None  # shared: whose?
        assert teams.of_channel("#random", now=NOW) is None
    assert len(worked_out) <= 2 * len(teams.all)  # once a team (and once its next day)
    assert teams.of_channel("#platform", now=datetime(2025, 12, 1, tzinfo=UTC)) is teams.get(
        "platform"
    )

"""The team and sprint rows kept in step with edited files: a one-team deployment whose file
is renamed (or moved into a directory, or given a `[team] id`) keeps its data, its outbox
keys and its job slots (end to end too), a sprint
whose start date is corrected keeps its standups and its resolved blockers, and the data
of a database from before teams is found in every table of a team's rows."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import clock
from jobs import review
from jobs.config import load_org
from jobs.teams import LegacyData, Teams
from storage import queries
from storage.db import Database
from storage.models import Blocker, JobRun, ManualScore, SprintRow, Standup, Team
from storage.scope import LEGACY
from tests.support.e2e import at, blocks_text, posts
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash

ROOT = Path(__file__).resolve().parents[2]
TEAMS = ROOT / "examples" / "teams"
NOW = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)  # day 3 of the example's sprint


def _seed(db: Database, teams: Teams, now: datetime = NOW) -> None:
    served = teams.serve(teams.first, now=now)
    with db.scoped(served.scope).session() as s:
        s.add(
            Blocker(
                component="Swarm Coordination",
                description="broker down",
                severity="P1",
                reported_by="U01",
                reported_at=now - timedelta(days=2),
                resolved_at=now - timedelta(days=1),
                resolved_by="U01",
            )
        )
        s.add(Standup(user_id="U01", day=now.date(), sprint_day=3, created_at=now, updated_at=now))
        s.commit()


def _seen(db: Database, teams: Teams, now: datetime = NOW) -> tuple[list[str], int, int]:
    """What the first team's served sprint shows: its blockers' codes, its standups, and
    the blockers its review counts as resolved in the sprint."""
    served = teams.serve(teams.first, now=now)
    with db.scoped(served.scope).read() as s:
        codes = [b.code for b in s.exec(select(Blocker)).all()]
        standups = len(s.exec(select(Standup)).all())
        resolved = len(review.resolved_in(session=s, sprint=served.sprint, at=now))
    return codes, standups, resolved


def _teams(db: Database) -> list[tuple[int, str | None]]:
    with db.read() as s:
        return [(int(t.id or 0), t.slug) for t in s.exec(select(Team).order_by(Team.id)).all()]


@pytest.mark.parametrize("where", ["renamed", "moved into a directory", "given a team id"])
def test_the_one_team_keeps_its_data_when_its_file_changes_name(
    tmp_path: Path, db: Database, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = tmp_path / "sprint.toml"
    first.write_text(EXAMPLE.read_text())
    teams = Teams.sync(load_org(first), db=db, now=NOW)
    _seed(db, teams)
    before = _seen(db, teams)
    assert before == (["B-001"], 1, 1)

    if where == "renamed":
        config = tmp_path / "phase4.toml"
        config.write_text(EXAMPLE.read_text())
    elif where == "moved into a directory":
        (tmp_path / "teams").mkdir()
        (tmp_path / "teams" / "platform.toml").write_text(EXAMPLE.read_text())
        config = tmp_path / "teams"
    else:
        config = first
        config.write_text('[team]\nid = "swarm"\nname = "Swarm"\n\n' + EXAMPLE.read_text())
    with caplog.at_level(logging.INFO, logger="jobs.teams"):
        again = Teams.sync(load_org(config), db=db, now=NOW)
    slug = again.first.id
    assert slug != teams.first.id
    # The same row, under its new slug: the same data, the same outbox keys and job slots.
    assert _teams(db) == [(LEGACY.team_id, slug)]
    assert again.rows[slug] == teams.rows[teams.first.id]
    assert _seen(db, again) == before
    assert f"is now team {slug!r}" in caplog.text


def test_with_several_teams_an_unknown_team_is_a_new_one(tmp_path: Path, db: Database) -> None:
    Teams.sync(load_org(TEAMS), db=db, now=NOW)
    (tmp_path / "platform.toml").write_text((TEAMS / "platform.toml").read_text())
    (tmp_path / "web.toml").write_text(
        (TEAMS / "mobile.toml").read_text().replace('id = "mobile"', 'id = "web"')
    )
    teams = Teams.sync(load_org(tmp_path), db=db, now=NOW)
    slugs = {s: i for i, s in _teams(db)}
    assert set(slugs) == {"platform", "mobile", "web"}
    assert teams.rows["web"].team_id == slugs["web"]


def test_a_one_team_file_beside_several_team_rows_is_a_new_team(
    tmp_path: Path, db: Database
) -> None:
    Teams.sync(load_org(TEAMS), db=db, now=NOW)
    alone = tmp_path / "web.toml"
    alone.write_text((TEAMS / "mobile.toml").read_text().replace('id = "mobile"', 'id = "web"'))
    before = _teams(db)
    teams = Teams.sync(load_org(alone), db=db, now=NOW)
    assert _teams(db) == [*before, (teams.rows["web"].team_id, "web")]


@pytest.mark.parametrize("moved_to", ["2025-10-28", "2025-10-30"])
def test_correcting_a_sprints_start_keeps_its_data(
    tmp_path: Path, db: Database, moved_to: str
) -> None:
    config = tmp_path / "sprint.toml"
    config.write_text(EXAMPLE.read_text())
    teams = Teams.sync(load_org(config), db=db, now=NOW)
    _seed(db, teams)
    before = _seen(db, teams)
    config.write_text(EXAMPLE.read_text().replace("2025-10-29", moved_to, 1))
    again = Teams.sync(load_org(config), db=db, now=NOW)
    assert again.first.sprints[0].sprint.start.isoformat() == moved_to
    assert _seen(db, again) == before  # the standup, and the blocker resolved in the sprint
    with db.read() as s:
        rows = s.exec(select(SprintRow)).all()
    assert [(r.id, r.start.isoformat() if r.start else None) for r in rows] == [(1, moved_to)]


def test_a_sprint_dropped_from_the_file_keeps_its_row_but_not_its_place(
    tmp_path: Path, db: Database
) -> None:
    # platform: sprint 1 from 2025-10-29 (14 days), sprint 2 from 2025-11-12.
    text = (TEAMS / "platform.toml").read_text()
    config = tmp_path / "platform.toml"
    config.write_text(text)
    teams = Teams.sync(load_org(config), db=db, now=NOW)
    ids = dict(teams.rows["platform"].sprints)
    # The second sprint renamed and moved two days later: it is another sprint.
    first, second = teams.first.sprints
    edited = text.replace(f'name = "{second.sprint.name}"', 'name = "Hardening"')
    edited = edited.replace(second.sprint.start.isoformat(), "2025-11-14")
    config.write_text(edited)
    later = datetime(2025, 11, 14, 15, tzinfo=UTC)
    again = Teams.sync(load_org(config), db=db, now=later)
    new = again.rows["platform"].sprints
    assert new[first.sprint.start] == ids[first.sprint.start]
    assert set(new.values()) & {ids[second.sprint.start]} == set()
    with db.read() as s:
        listed = queries.sprint_rows(session=s, team_id=again.rows["platform"].team_id)
        every = s.exec(select(SprintRow)).all()
    assert len(every) == 3  # the dropped sprint's row (and its rows) is kept …
    # … but the sprint before "Hardening" is the first one, not the dropped one.
    assert [r.name for r in listed] == [first.sprint.name, "Hardening"]


@pytest.mark.parametrize(
    "row",
    [
        ManualScore(component="Docs", score=60, set_by="U1", set_at=NOW),
        JobRun(job="daily_report", slot="2025-10-30", started_at=NOW),
    ],
    ids=["manual score", "job run"],
)
def test_old_data_in_any_team_table_is_not_guessed_away(
    db: Database, row: ManualScore | JobRun
) -> None:
    with db.session() as session:
        session.add(row)
        session.commit()
    with pytest.raises(LegacyData, match="start once with that team's file alone"):
        Teams.sync(load_org(TEAMS), db=db, now=NOW)


def test_a_renamed_sprint_file_serves_the_same_team_end_to_end(
    tmp_path: Path, make_server: Callable[..., Server]
) -> None:
    """Signed Slack requests in, Web API calls out: after the sprint file is renamed and the
    bot restarted, /sprint still lists the team's blocker and today's report (already
    posted) is not posted again."""
    before = tmp_path / "sprint.toml"
    before.write_text(EXAMPLE.read_text())
    first = make_server(SPRINTBOT_CONFIG=str(before))
    at(first, NOW)
    slash(first.url, "/blocker", "P0 Swarm Coordination: consensus broken", user_id="U0DEV")
    listeners_done()
    assert clock.scheduled(first.runtime, "daily-report") == "daily-report: posted"
    reports = len(posts(first))

    before.rename(tmp_path / "phase4.toml")
    second = make_server(SPRINTBOT_CONFIG=str(tmp_path / "phase4.toml"))
    body = slash(second.url, "/sprint", user_id="U0DEV").json()
    assert "*B-001* P0 · Swarm Coordination — consensus broken" in blocks_text(body["blocks"])
    assert clock.scheduled(second.runtime, "daily-report") == (
        "daily-report: already ran for 2025-10-31"
    )
    assert len(posts(second)) == reports  # nothing posted twice

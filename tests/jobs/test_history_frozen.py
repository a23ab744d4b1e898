"""An ended sprint's outcome is kept on its sprint row the first time it is computed after
the sprint ended, and read back from then on: the retention job pruning the sprint's raw
history months later (it keeps them first) changes nothing /sprint history, App Home or
the API show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import select

from bot import clock as bot_clock
from jobs import history, retention
from jobs.config import Team, load_org
from jobs.teams import Teams
from storage.db import Database
from storage.models import ReadinessSnapshot, SprintRow, Standup, TestResult
from tests.jobs.test_history import AFTER_B, TEAM, run
from tests.support import httpc
from tests.support.e2e import AUTH, at, blocks_text
from tests.support.server import Server
from tests.support.slack import slash

LATER = datetime(2026, 3, 20, 9, tzinfo=UTC)  # ~4 months on, during sprint C (moved there)
SHOWN = ("readiness_start", "readiness_end", "tests_fixed", "regressions_introduced")


def _team(tmp_path: Path, db: Database) -> tuple[Teams, Team]:
    text = TEAM.replace(
        'name = "Sprint C"\nstart = 2025-11-17', 'name = "Sprint C"\nstart = 2026-03-16'
    )
    text += (
        "\n[retention]\nresults_days = 30\nstatuses_days = 7\nstandups_days = 30\nmargin_days = 1\n"
    )
    (tmp_path / "core.toml").write_text(text)
    teams = Teams.sync(load_org(tmp_path), db=db, now=AFTER_B)
    team = teams.first
    run(db, teams, team, team.sprints[0])
    run(db, teams, team, team.sprints[1])
    return teams, team


def _computed(db: Database, teams: Teams, team: Team) -> list[history.SprintOutcome]:
    """Sprints A and B's outcomes from their rows, nothing kept or read back."""
    out = []
    for s in team.sprints[:2]:
        with db.scoped(teams.scope(team, s)).read() as session:
            out.append(history.outcome_of(session=session, sprint=s, now=LATER))
    return out


def _kept(db: Database) -> dict[str, object]:
    with db.read() as session:
        return {r.name: r.outcome for r in session.exec(select(SprintRow)).all()}


def test_the_retention_job_keeps_ended_sprints_outcomes_before_pruning(
    tmp_path: Path, db: Database
) -> None:
    teams, team = _team(tmp_path, db)
    before = _computed(db, teams, team)
    assert [(o["readiness_start"], o["readiness_end"]) for o in before] == [
        (53.33, 70.0),
        (70.0, 86.67),
    ]
    assert set(_kept(db).values()) == {None}  # nothing asked for them yet

    served = teams.serve(team, now=LATER)
    summary = retention.run_all(
        db=db.scoped(served.scope), sprint=served.sprint, now=LATER, team=team
    )
    assert summary.startswith("pruned ") and "reports" in summary
    with db.read() as session:  # most of A's and B's CI history is gone
        assert session.exec(select(TestResult)).all() == []
    # Computed from what is left, sprint A would now read 86.67 → 86.67 with nothing fixed …
    assert _computed(db, teams, team) != before
    # … but what the team is shown is what it was.
    assert history.outcomes(db, teams, team, LATER)[:2] == before
    shown = history.sprint_history(db.scoped(served.scope), team, served.sprint, LATER)
    assert shown["sprints"][1:] == list(reversed(before))
    kept = _kept(db)
    assert kept["Sprint A"] == before[0] and kept["Sprint B"] == before[1]
    assert kept["Sprint C"] is None  # running: not final


def test_an_outcome_seen_after_the_end_is_kept_and_read_back(tmp_path: Path, db: Database) -> None:
    teams, team = _team(tmp_path, db)
    seen = history.outcomes(db, teams, team, LATER)[:2]
    assert _kept(db)["Sprint A"] == seen[0]
    served = teams.serve(team, now=LATER)
    retention.run_all(db=db.scoped(served.scope), sprint=served.sprint, now=LATER)
    assert history.outcomes(db, teams, team, LATER)[:2] == seen
    assert {k: seen[0][k] for k in SHOWN} == {
        "readiness_start": 53.33,
        "readiness_end": 70.0,
        "tests_fixed": 1,
        "regressions_introduced": 1,
    }


def test_retention_prunes_the_ended_sprints_rows_too(tmp_path: Path, db: Database) -> None:
    """Readiness snapshots and standups belong to a sprint: the job (run as the sprint
    served now) prunes the ended sprints' as well, each sprint keeping its newest
    snapshot, or a season of sprints would keep them all."""
    teams, team = _team(tmp_path, db)
    with db.session() as session:
        for sprint_id, day in ((1, date(2025, 10, 30)), (2, date(2025, 11, 4))):
            stamp = datetime.combine(day, datetime.min.time(), UTC)
            session.add(
                Standup(
                    team_id=1,
                    sprint_id=sprint_id,
                    user_id="U01",
                    day=day,
                    sprint_day=2,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
        session.commit()
    served = teams.serve(team, now=LATER)
    retention.run_all(db=db.scoped(served.scope), sprint=served.sprint, now=LATER, team=team)
    with db.read() as session:
        snapshots = session.exec(select(ReadinessSnapshot.sprint_id, ReadinessSnapshot.at)).all()
        standups = session.exec(select(Standup)).all()
    assert sorted((i, str(at.date())) for i, at in snapshots) == [
        (1, "2025-11-01"),
        (2, "2025-11-04"),
    ]
    assert standups == []


def test_a_running_sprint_is_not_kept_and_a_moved_one_is_computed_again(
    tmp_path: Path, db: Database
) -> None:
    teams, team = _team(tmp_path, db)
    during_b = datetime(2025, 11, 5, 12, tzinfo=UTC)
    history.outcomes(db, teams, team, during_b)
    kept = _kept(db)
    assert kept["Sprint A"] is not None and kept["Sprint B"] is None
    # Sprint B's last day corrected (one day shorter): its kept outcome is another sprint's.
    history.outcomes(db, teams, team, LATER)
    text = (tmp_path / "core.toml").read_text()
    b_block = 'name = "Sprint B"\nstart = 2025-11-03\ndays = 5'
    (tmp_path / "core.toml").write_text(text.replace(b_block, b_block[:-1] + "4"))
    again = Teams.sync(load_org(tmp_path), db=db, now=LATER)
    assert _kept(db)["Sprint B"] is None
    b = history.outcomes(db, again, again.first, LATER)[1]
    assert (b["end"], b["days"]) == ("2025-11-06", 4)


def test_sprint_history_after_the_clocks_retention_run_end_to_end(
    tmp_path: Path, db: Database, make_server: Callable[..., Server]
) -> None:
    """Signed Slack requests in: months on, the clock's retention job ran (nobody had asked
    for the history before), and /sprint history still shows sprint A as it ended."""
    _team(tmp_path, db)
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path))
    at(server, LATER)
    done = bot_clock.run_job(server.runtime, "retention", team=server.runtime.teams.first)
    assert done.startswith("retention: pruned ") and " reports" in done
    body = slash(server.url, "/sprint", "history", user_id="U01").json()
    lines = blocks_text(body["blocks"]).splitlines()
    assert lines[5] == "*Sprint A* (2025-10-29 → 2025-11-02)"
    assert lines[6].startswith("Readiness 53.33 % → 70 % (")
    assert " · 1 test fixed · 1 regression introduced · 2 blockers resolved" in lines[6]


def test_an_ended_sprints_figures_in_the_api_stay_as_it_ended_end_to_end(
    tmp_path: Path, db: Database, make_server: Callable[..., Server]
) -> None:
    """Months on, the retention job pruned sprint A's history (nobody had asked for it):
    `GET /api/v1/sprint?sprint=Sprint A` still gives its final figures, the ones /sprint
    history shows; an instant inside it, whose changes are gone, is refused, not guessed."""
    _team(tmp_path, db)
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path))
    at(server, LATER)
    bot_clock.run_job(server.runtime, "retention", team=server.runtime.teams.first)
    url = f"{server.url}/api/v1/sprint"
    got = httpc.get(url, params={"sprint": "Sprint A"}, headers=AUTH)
    assert got.status_code == 200, got.text
    fig = got.json()
    assert fig["sprint"]["status"] == "ended"
    assert fig["readiness"]["baseline"]["measured"] == 53.33
    assert fig["readiness"]["score"] == 70.0
    assert (fig["tests"]["fixed"], fig["tests"]["regressions_introduced"]) == (1, 1)
    assert httpc.get(url, params={"sprint": "Sprint A"}, headers=AUTH).json() == fig

    # An instant after its end: its final figures, as kept (not computed from what is left).
    after = {"sprint": "Sprint A", "at": "2026-03-20T08:00:00Z"}
    assert httpc.get(url, params=after, headers=AUTH).json() == fig
    inside = {"sprint": "Sprint A", "at": "2025-10-31T12:00:00Z"}
    gone = httpc.get(url, params=inside, headers=AUTH)
    assert gone.status_code == 410
    assert gone.json()["error"] == (
        "figures as of 2025-10-31T12:00:00+00:00 are not kept: [retention] results_days = 30 "
        "keeps them from 2026-02-20 on; without `at`, an ended sprint's answer is its final "
        "figures"
    )

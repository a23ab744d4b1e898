"""A team's sprints one after another, worked out by hand: each sprint's outcome from its
own figures, blockers resolved in the sprint they were resolved in, the second sprint's
baseline from its own start, and the review against the sprint before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.blocks.review import previous_lines
from jobs import blockers, figures, history, review
from jobs.config import Sprint, Team, load_org
from jobs.teams import Teams
from storage import queries
from storage.db import Database
from storage.models import Blocker
from tests.support import factories
from tests.support.small_sprint import ingest

# Europe/Berlin; sprint A from Wed 2025-10-29 for 5 days (to Sun 11-02), sprint B from Mon
# 11-03 for 5 days. Core: tests, weight 2; Docs: manual, weight 1, score 60. So readiness
# is (2 · Core pass rate + 60) / 3.
TEAM = """
[team]
id = "core"
name = "Core"
timezone = "Europe/Berlin"

[[sprints]]
name = "Sprint A"
start = 2025-10-29
days = 5
targets = { readiness = 85.0, pass_rate = 87.0 }

[[sprints]]
name = "Sprint B"
start = 2025-11-03
days = 5
targets = { readiness = 85.0, pass_rate = 87.0 }

[[sprints]]
name = "Sprint C"
start = 2025-11-17
days = 5
targets = { readiness = 85.0, pass_rate = 87.0 }

[channels]
team = "#core"
status = "#status"
blockers = "C0BLOCKERS"

[people]
participants = ["U01", "U02"]
tech_lead = ["U01"]
admins = ["U01"]

[[components]]
name = "Core"
weight = 2
target = 90
source = "tests"
tests = ["tests/core/**"]
score = 60

[[components]]
name = "Docs"
weight = 1
target = 100
source = "manual"
score = 60
"""

P, F = "passed", "failed"
A_DAY1 = datetime(2025, 10, 29, 18, tzinfo=UTC)
B_DAY1 = datetime(2025, 11, 3, 18, tzinfo=UTC)
AFTER_B = datetime(2025, 11, 10, 9, tzinfo=UTC)  # between sprint B and sprint C


def h(hours: float) -> timedelta:
    return timedelta(hours=hours)


@pytest.fixture
def core(tmp_path: Path, db: Database) -> tuple[Teams, Team]:
    (tmp_path / "core.toml").write_text(TEAM)
    teams = Teams.sync(load_org(tmp_path), db=db, now=A_DAY1)
    return teams, teams.first


def run(db: Database, teams: Teams, team: Team, sprint: Sprint) -> None:
    """The two sprints' CI and blockers, each written in its sprint's scope."""
    a, b = team.sprints[0], team.sprints[1]
    with db.scoped(teams.scope(team, sprint)).session() as s:
        if sprint is a:
            # Day 1: a, b pass; c, d fail (the baseline). Day 2: a regresses, c is fixed.
            # Day 4: a passes again. So sprint A ends with d failing, 3 of 4 passing:
            # readiness (2·75 + 60) / 3 = 70, from 53.33; 1 fixed (c), 1 regression (a).
            ingest(s, a, {"core/a": P, "core/b": P, "core/c": F, "core/d": F}, "a1", A_DAY1)
            ingest(s, a, {"core/a": F, "core/c": P}, "a2", A_DAY1 + h(24))
            ingest(s, a, {"core/a": P}, "a4", A_DAY1 + h(72))
            resolved_after(s, a, A_DAY1 - h(8), 4)  # B-001, 4 h
            resolved_after(s, a, A_DAY1 + h(16), 26)  # B-002, 26 h
            factories.blocker(s, a, description="carried over", now=A_DAY1 + h(64))  # B-003
        else:
            # B's baseline is each test's status at its start: A's end (d failing). Day 1:
            # b regresses. Day 2: d is fixed and b passes again. Sprint B ends with all 4
            # passing: readiness 86.67, from 70; 1 fixed (d), 1 regression introduced (b).
            ingest(s, b, {"core/b": F}, "b1", B_DAY1)
            ingest(s, b, {"core/b": P, "core/d": P}, "b2", B_DAY1 + h(24))
            carried = next(x for x in blockers_open(s) if x.description == "carried over")
            blockers.resolve(
                session=s,
                sprint=b,
                blocker_id=carried.id or 0,
                user_id="U01",
                note="done",
                now=datetime(2025, 11, 4, 10, tzinfo=UTC),  # 72 h after it was filed
            )
        s.commit()


def blockers_open(s: Session) -> list[Blocker]:
    return queries.blockers_open_at(session=s, at=datetime(2025, 11, 4, tzinfo=UTC))


def resolved_after(s: Session, sprint: Sprint, filed: datetime, hours: float) -> None:
    b = factories.blocker(s, sprint, description=f"{hours} h", severity="P1", now=filed)
    blockers.resolve(
        session=s,
        sprint=sprint,
        blocker_id=b.id or 0,
        user_id="U01",
        note="fixed",
        now=filed + h(hours),
    )


def test_each_sprint_has_its_own_outcome(core: tuple[Teams, Team], db: Database) -> None:
    teams, team = core
    a, b, _ = team.sprints
    run(db, teams, team, a)
    run(db, teams, team, b)
    done = history.outcomes(db, teams, team, AFTER_B)
    assert [(o["name"], o["status"]) for o in done] == [
        ("Sprint A", "ended"),
        ("Sprint B", "ended"),
    ]
    first, second = done
    assert (first["readiness_start"], first["readiness_end"]) == (53.33, 70.0)
    assert (first["tests_fixed"], first["regressions_introduced"]) == (1, 1)
    # B-001 (4 h) and B-002 (26 h): the median is 15 h. B-003, filed in A, is B's.
    assert (first["blockers_resolved"], first["median_resolution_hours"]) == (2, 15.0)
    # Readiness 70 < 85, pass rate 75 < 87, 1 fixed of the 2 needed, 1 regression.
    assert (first["goals_met"], first["goals"]) == (0, 4)
    # Sprint B's baseline is its own start: the tests as A ended them.
    assert (second["readiness_start"], second["readiness_end"]) == (70.0, 86.67)
    assert (second["tests_fixed"], second["regressions_introduced"]) == (1, 1)
    assert (second["blockers_resolved"], second["median_resolution_hours"]) == (1, 72.0)
    # 86.67 ≥ 85, 100 ≥ 87, d fixed (the 1 needed); b regressed.
    assert (second["goals_met"], second["goals"]) == (3, 4)


def test_a_running_sprint_is_counted_as_of_now(core: tuple[Teams, Team], db: Database) -> None:
    teams, team = core
    a, b, _ = team.sprints
    run(db, teams, team, a)
    run(db, teams, team, b)
    now = B_DAY1 + h(1)  # sprint B's day 1, after its first report
    done = history.outcomes(db, teams, team, now)
    assert [(o["name"], o["status"]) for o in done] == [
        ("Sprint A", "ended"),
        ("Sprint B", "running"),
    ]
    # As of day 1: b and d failing of 4: (2·50 + 60) / 3 = 53.33.
    assert (done[1]["readiness_start"], done[1]["readiness_end"]) == (70.0, 53.33)
    assert (done[1]["tests_fixed"], done[1]["regressions_introduced"]) == (0, 1)


def test_the_second_sprints_figures_start_from_its_own_baseline(
    core: tuple[Teams, Team], db: Database
) -> None:
    teams, team = core
    a, b, _ = team.sprints
    run(db, teams, team, a)
    run(db, teams, team, b)
    with db.scoped(teams.scope(team, b)).read() as s:
        fig = figures.compute(session=s, sprint=b, at=history.end_instant(b))
    assert fig.baseline_measured == pytest.approx(70.0)
    assert (fig.tests.baseline_known, fig.tests.baseline_failing) == (4, 1)
    assert fig.tests.fixed_ids == ("tests.core.test_it::d",)
    assert fig.tests.regressions_introduced_ids == ("tests.core.test_it::b",)
    # The blocker filed in sprint A and resolved in B is no longer open; none carried on.
    assert fig.blockers == []


def test_history_lists_newest_first_with_the_next_sprint(
    core: tuple[Teams, Team], db: Database
) -> None:
    teams, team = core
    a, b, _ = team.sprints
    run(db, teams, team, a)
    run(db, teams, team, b)
    scoped = db.scoped(teams.scope(team, team.sprints[2]))  # served between B and C
    data = history.sprint_history(scoped, team, team.sprints[2], AFTER_B)
    assert data["team"] == "Core"
    assert [o["name"] for o in data["sprints"]] == ["Sprint B", "Sprint A"]
    assert data["upcoming"] == "Sprint C — starts on 2025-11-17"
    assert data["total"] == 2
    assert [o["name"] for o in history.past(scoped, team, b, AFTER_B)] == ["Sprint B", "Sprint A"]
    listed = history.listing(scoped, team, b, AFTER_B)
    assert [(x["name"], x["status"]) for x in listed] == [
        ("Sprint A", "ended"),
        ("Sprint B", "ended"),
        ("Sprint C", "before"),
    ]
    assert listed[2]["outcome"] is None
    assert listed[1]["outcome"] == history.outcomes(db, teams, team, AFTER_B)[1]


def test_the_review_compares_with_the_sprint_before(core: tuple[Teams, Team], db: Database) -> None:
    teams, team = core
    a, b, _ = team.sprints
    run(db, teams, team, a)
    run(db, teams, team, b)
    end_b = history.end_instant(b)
    scoped = db.scoped(teams.scope(team, b))
    before = history.previous(scoped, team, b, end_b)
    assert before is not None and before["name"] == "Sprint A"
    assert history.previous(db.scoped(teams.scope(team, a)), team, a, end_b) is None
    with scoped.read() as s:
        data = review.sprint_review(session=s, sprint=b, now=end_b, previous=before)
    # Only B-003 was resolved in sprint B; A's two are A's.
    assert [x["code"] for x in data["blockers_resolved"]] == ["B-003"]
    assert data["previous"] == before
    assert previous_lines(data, before) == [
        "*vs previous sprint* (Sprint A)",
        "• Readiness at the end: 86.67 % (+16.67 pts, was 70 %)",
        "• Tests fixed: 1 (±0, was 1)",
        "• Regressions introduced: 1 (±0, was 1)",
        "• Blockers resolved: 1 (-1, was 2)",
    ]


def test_a_sprint_is_found_by_name_or_start(core: tuple[Teams, Team]) -> None:
    _, team = core
    a, b, _ = team.sprints
    assert history.find(team, a, "sprint b") is b
    assert history.find(team, a, "2025-10-29") is a
    assert history.find(team, a, "Sprint Z") is None

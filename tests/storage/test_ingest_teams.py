"""Two teams whose CI runs the same suite on a branch of the same name (a monorepo): a CI
shard of one team (a report much smaller than its branch, looked up key by key) changes and
counts that team's known tests only — the other team's tests, their counts and its sprint's
figures stay as they were."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from jobs import figures
from jobs.config import load_org
from jobs.teams import Served, Teams
from storage.db import Database
from storage.ingest import branch_counts, branch_size, known_tests_by_key
from storage.models import KnownTest, ReadinessSnapshot, TestReport, TestResult
from tests.support.reports import receive, report

NOW = datetime(2025, 11, 4, 14, tzinfo=UTC)

TEAM = """
[team]
id = "{id}"
name = "{id}"
timezone = "Europe/Berlin"

[[sprints]]
name = "Sprint A"
start = 2025-11-03
days = 10
targets = {{ readiness = 85.0, pass_rate = 87.0 }}

[channels]
team = "#{id}"
status = "#{id}-status"
blockers = "#{id}-blockers"

[people]
participants = ["U01", "U02"]
tech_lead = ["U01"]
admins = ["U01"]
qa_lead = ["U02"]

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


def _teams(directory: Path, db: Database) -> tuple[Served, Served]:
    directory.mkdir(parents=True, exist_ok=True)
    for slug in ("alpha", "beta"):
        (directory / f"{slug}.toml").write_text(TEAM.format(id=slug), encoding="utf-8")
    teams = Teams.sync(load_org(directory), db=db, now=NOW)
    alpha, beta = teams.get("alpha"), teams.get("beta")
    assert alpha is not None and beta is not None
    return teams.serve(alpha, now=NOW), teams.serve(beta, now=NOW)


def _state(db: Database, served: Served) -> tuple[list[tuple[str, str]], Any, float | None]:
    """A team's known tests (name, status), its sprint's readiness and its newest snapshot's."""
    with db.scoped(served.scope).read() as session:
        tests = sorted((t.name, t.status) for t in session.exec(select(KnownTest)).all())
        score = round(figures.compute(session=session, sprint=served.sprint, at=NOW).score, 2)
        snap = session.exec(
            select(ReadinessSnapshot).order_by(col(ReadinessSnapshot.id).desc())
        ).first()
    return tests, score, round(snap.score, 2) if snap else None


def test_a_shard_of_one_team_leaves_the_other_teams_tests_counts_and_figures(
    tmp_path: Path, db: Database
) -> None:
    alpha, beta = _teams(tmp_path / "teams", db)
    adb, bdb = db.scoped(alpha.scope), db.scoped(beta.scope)
    # Same branch ("main"), same test names: alpha's 8 pass, beta's 40 (t0..t39) fail.
    receive(adb, alpha.sprint, report({f"core/t{i}": "passed" for i in range(8)}), "a-full")
    receive(bdb, beta.sprint, report({f"core/t{i}": "failed" for i in range(40)}), "b-full")
    beta_before = _state(db, beta)

    # Alpha's shard: 2 of its 8 tests (looked up by key), t0 now failing.
    reply = receive(adb, alpha.sprint, report({"core/t0": "failed", "core/t1": "passed"}), "a-2")

    tests, score, snapshot = _state(db, alpha)
    assert dict(tests) == {"t0": "failed"} | {f"t{i}": "passed" for i in range(1, 8)}
    # The shard's reply counts alpha's tests only: what /sprint shows, what the snapshot holds.
    assert reply["readiness"]["score"] == score
    assert snapshot == score
    # Beta: its 40 tests still fail, its readiness and snapshot are as they were.
    assert _state(db, beta) == beta_before
    assert {status for _, status in beta_before[0]} == {"failed"}
    # The shard's results were recorded against alpha's tests, not beta's namesakes.
    with db.read() as session:
        shard = session.exec(select(TestReport).where(TestReport.run == "a-2")).one()
        owners = session.exec(
            select(KnownTest.team_id, KnownTest.name, TestResult.status)
            .join(TestResult, col(TestResult.test_id) == col(KnownTest.id))
            .where(TestResult.report_id == shard.id)
        ).all()
    assert owners == [(alpha.scope.team_id, "t0", "failed")]


def test_the_lookups_by_key_and_the_counts_name_the_team(tmp_path: Path, db: Database) -> None:
    alpha, beta = _teams(tmp_path / "teams", db)
    adb, bdb = db.scoped(alpha.scope), db.scoped(beta.scope)
    receive(adb, alpha.sprint, report({f"core/t{i}": "passed" for i in range(3)}), "a")
    receive(bdb, beta.sprint, report({f"core/t{i}": "failed" for i in range(5)}), "b")
    with adb.read() as session:
        keys = [k.key for k in session.exec(select(KnownTest)).all()]
        found = list(known_tests_by_key(session=session, branch="main", keys=keys))
        counts = branch_counts(session=session, branch="main")
        size = branch_size(session=session, branch="main")
    assert sorted((name, status) for _, name, _, status, _, _ in found) == [
        ("t0", "passed"),
        ("t1", "passed"),
        ("t2", "passed"),
    ]
    assert counts == {("Core", "passed"): 3}
    assert size == 3

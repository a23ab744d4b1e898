"""Each report keeps its branch's known tests counted per (component, status) as it left
them (`TestReport.tally`), so that a CI shard of the tracked branch takes the rest of the
branch from its last report instead of counting the whole branch: the same counts, to the
last test, as the branch counted by the database."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select, update

from jobs import ingest
from jobs.config import Sprint
from jobs.ingest import RunInfo, receive_junit
from storage.db import Database
from storage.ingest import branch_counts, report_tally
from storage.models import ReadinessSnapshot, TestReport
from tests.jobs.test_ingest_shards import SHARD, SUITE, branches_asked, report
from tests.support.reports import NOW, receive


def last_report(db: Database, branch: str) -> TestReport:
    with db.read() as session:
        found = session.exec(
            select(TestReport).where(TestReport.branch == branch).order_by(TestReport.id.desc())  # type: ignore[union-attr]
        ).first()
    assert found is not None
    return found


def kept_and_counted(db: Database, branch: str) -> tuple[Any, Any]:
    """The branch as its last report kept it counted, and as the database counts it."""
    with db.read() as session:
        kept = report_tally(session=session, report_id=last_report(db, branch).id or 0)
        counted = branch_counts(session=session, branch=branch)
    return kept, counted


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The branches counted whole by the database from now on."""
    return branches_asked(monkeypatch, ingest.ingest_queries, "branch_counts")


def test_every_report_keeps_its_branch_counted_as_the_database_counts_it(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = counting(monkeypatch)
    receive(db, example, report(SUITE), "r1")
    assert kept_and_counted(db, "main")[0] == kept_and_counted(db, "main")[1]
    # Shards of the tracked branch: regressions, a fix, an error, a skip, new tests ...
    receive(db, example, report(SHARD), "r2")
    more = {("misc.test_9", f"test_{i}"): "failed" for i in range(3)}
    more[("swarm.test_0", "test_1")] = "passed"
    receive(db, example, report(more), "r3")
    kept, by_database = kept_and_counted(db, "main")
    assert kept == by_database
    assert sum(kept.values()) == len(SUITE) + 2 + 3
    # ... each took the rest of the branch from the report before it, never counting it.
    assert counted == []
    # A shard of another branch than the tracked one counts nothing and keeps no tally
    # (its branch was empty: read whole, so it keeps one; its next shard keeps none).
    receive(db, example, report(SUITE), "f1", branch="feature")
    receive(db, example, report(SHARD), "f2", branch="feature")
    assert last_report(db, "feature").tally is None
    assert counted == []
    # The tracked branch's readiness is the same as from the branch counted whole.
    with db.read() as session:
        snapshot = session.exec(
            select(ReadinessSnapshot).order_by(ReadinessSnapshot.id.desc())  # type: ignore[union-attr]
        ).first()
    assert snapshot is not None and snapshot.breakdown["tests"]["known"] == len(SUITE) + 5


def test_a_shard_after_a_report_that_kept_no_tally_counts_the_branch_once(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports from before migration 0010 kept none: the next shard counts the branch (as
    every shard did before), and keeps the tally for the one after it."""
    receive(db, example, report(SUITE), "r1")
    with db.session() as session:
        session.execute(update(TestReport).values(tally=None))
        session.commit()
    counted = counting(monkeypatch)
    receive(db, example, report(SHARD), "r2")
    assert counted == ["main"]
    kept, by_database = kept_and_counted(db, "main")
    assert kept == by_database
    receive(db, example, report({("swarm.test_0", "test_1"): "passed"}), "r3")
    assert counted == ["main"]
    assert kept_and_counted(db, "main")[0] == kept_and_counted(db, "main")[1]


def test_a_late_report_keeps_its_branch_counted_as_the_database_counts_it(
    db: Database, example: Sprint
) -> None:
    """An older run's report and shard arriving after a newer run's: the tests the newer
    run reported keep its statuses, the others take the late ones, and the tally each
    report keeps is still the database's count."""

    def late(doc: bytes, run: str, hours: int) -> None:
        info = RunInfo(run=run, at=NOW - timedelta(hours=hours))
        digest = hashlib.sha256(doc).hexdigest()
        receive_junit(db=db, sprint=example, document=doc, digest=digest, info=info, now=NOW)

    receive(db, example, report(SUITE), "r2")
    before = kept_and_counted(db, "main")[1]
    late(report(dict.fromkeys(SUITE, "failed")), "r1", hours=3)  # every test: all held
    assert kept_and_counted(db, "main") == (before, before)
    new = {("misc.test_9", "test_late"): "failed"}
    late(report({**dict(list(SHARD.items())[:5]), **new}), "r1-shard", hours=3)
    kept, counted = kept_and_counted(db, "main")
    assert kept == counted and sum(counted.values()) > sum(before.values())  # its new tests

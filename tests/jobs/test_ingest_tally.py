"""The readiness tally exists twice: counted in memory by ingestion (what it hands to
readiness and the decline notice) and in SQL by `jobs.readiness.tally`. Every recorded JUnit
report, ingested one after another, leaves the two equal."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs import ingest, junit
from jobs.classify import StatusCounts
from jobs.config import Sprint
from jobs.ingest import RunInfo, receive_junit
from jobs.readiness import TestTally, snapshot_readiness, tally
from storage import ingest as ingest_queries
from storage import queries
from storage.db import Database

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "junit"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "junit"
FAMILIES = sorted({p.name.rsplit("-run", 1)[0] for p in FIXTURES.glob("*-run*.xml")})
PUBLIC = sorted(SHARED.glob("*.xml")) if SHARED.is_dir() else []
OTHER_BRANCH = "feature/tally"

Handed = list[tuple[str, TestTally]]  # (branch, tally) each report handed to readiness


@pytest.fixture
def handed(monkeypatch: pytest.MonkeyPatch) -> Handed:
    """The tallies ingestion hands to readiness, in the order it does."""
    seen: Handed = []

    def spy(**kwargs: Any) -> Any:
        seen.append((kwargs["branch"], kwargs["counts"]))
        return snapshot_readiness(**kwargs)

    monkeypatch.setattr(ingest, "snapshot_readiness", spy)
    return seen


def _ingester(db: Database, sprint: Sprint, handed: Handed) -> Callable[[Path, str, str], None]:
    """Ingest a report (committed) and check the tally it handed to readiness against SQL's."""

    def send(path: Path, run: str, branch: str) -> None:
        doc = path.read_bytes()
        received = receive_junit(
            db=db,
            sprint=sprint,
            document=doc,
            digest=hashlib.sha256(doc).hexdigest(),
            info=RunInfo(run=run, branch=branch, at=NOW),
            now=NOW,
        )
        assert received.created, run
        with db.read() as session:
            stored = tally(session=session, sprint=sprint)
        # The tracked branch's last tally in memory: another branch's report leaves it be.
        memory = next(t for b, t in reversed(handed) if b == sprint.sprint.branch)
        where = f"{path.name} as {run} on {branch}"
        assert memory.components == stored.components, where
        assert (memory.passed, memory.failing, memory.known) == (
            stored.passed,
            stored.failing,
            stored.known,
        ), where

    return send


@pytest.mark.parametrize("family", FAMILIES)
def test_a_recorded_run_family_keeps_both_tallies_equal(
    db: Database, example: Sprint, handed: Handed, family: str
) -> None:
    send = _ingester(db, example, handed)
    runs = sorted(FIXTURES.glob(f"{family}-run*.xml"))
    main = example.sprint.branch
    for n, path in enumerate(runs, 1):
        send(path, f"ci-{n}", main)
        send(path, f"ci-{n}-feature", OTHER_BRANCH)  # the same report on a feature branch
    send(runs[0], "ci-again", main)  # a re-run of the first report: everything moves back


def test_every_report_one_after_another_keeps_both_tallies_equal(
    db: Database, example: Sprint, handed: Handed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recorded and public reports into one branch: the small ones after a large one are
    looked up by key and take the rest of the branch from its counts (the shard path)."""
    by_key: list[str] = []
    look_up = ingest_queries.known_tests_by_key

    def spy(**kwargs: Any) -> Any:
        by_key.append(kwargs["branch"])
        return look_up(**kwargs)

    monkeypatch.setattr(ingest_queries, "known_tests_by_key", spy)
    send = _ingester(db, example, handed)
    reports = sorted(FIXTURES.glob("*.xml")) + PUBLIC
    for n, path in enumerate(reports, 1):
        send(path, f"all-{n}", example.sprint.branch)
        if n % 4 == 0:
            send(path, f"all-{n}-feature", OTHER_BRANCH)
    assert by_key, "no report took the shard path"
    assert any(t.components for _, t in handed), "no test maps to a component"


def test_the_columns_and_counts_ingest_names_follow_storage_and_junit() -> None:
    assert StatusCounts._fields == tuple(str(s) for s in junit.STATUSES)
    assert ingest._StagedTests._fields == queries.STAGED_TEST_COLUMNS
    assert ingest._UpdatedTests._fields == (*queries.UPDATED_TEST_COLUMNS, "id")

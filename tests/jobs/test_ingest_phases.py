"""Ingestion in phases (issue 12, deliverable 5): parsed and classified outside any lock,
written in one short transaction — and still right when another ingest of the branch
commits in between."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from jobs import ingest
from jobs.config import Sprint
from storage.db import Database
from storage.models import KnownTest, TestReport, TestResult
from tests.support.reports import receive

CLASS = "tests.swarm.test_coordination"


def report(statuses: dict[str, str]) -> bytes:
    body = {"passed": "", "failed": "<failure message='boom'/>"}
    cases = "".join(
        f"<testcase classname='{CLASS}' name='{name}'>{body[status]}</testcase>"
        for name, status in statuses.items()
    )
    return f"<testsuite name='s'>{cases}</testsuite>".encode()


def names(refs: list[dict[str, Any]]) -> list[str]:
    return sorted(r["name"] for r in refs)


def test_a_report_is_classified_again_when_another_one_lands_first(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    receive(db, example, report({"a": "passed", "b": "passed"}), "r1")
    classify = ingest._Plan.classify
    seen: list[int] = []

    def classify_then_race(self: Any, *, session: Any) -> None:
        classify(self, session=session)
        seen.append(self.version)
        if len(seen) == 1:  # r3 has read the branch; r2 (another CI job) commits now
            receive(db, example, report({"a": "failed", "b": "passed", "c": "passed"}), "r2")

    monkeypatch.setattr(ingest._Plan, "classify", classify_then_race)
    third = receive(db, example, report({"a": "failed", "b": "failed", "c": "passed"}), "r3")

    # r3 was classified on the branch as r1 left it, then again, under the lock, as r2 left it.
    assert len(seen) == 3 and seen[0] < seen[2]
    assert names(third["regressions"]) == ["b"]  # a already failed in r2
    assert third["still_failing"] == 1
    assert third["new_failures"] == []
    with db.read() as session:
        # c was inserted once (by r2), not again by r3.
        assert session.exec(select(func.count()).select_from(KnownTest)).one() == 3
        assert session.exec(select(func.count()).select_from(TestReport)).one() == 3
        changes = session.exec(select(TestResult.status, TestResult.previous_status)).all()
    assert sorted(changes) == [("failed", "passed")] * 2  # a in r2, b in r3


def test_a_report_that_fails_to_store_leaves_nothing(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest.queries, "add_results", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        receive(db, example, report({"a": "passed", "b": "failed"}), "r1")
    with db.read() as session:
        for model in (TestReport, KnownTest, TestResult):
            assert session.exec(select(func.count()).select_from(model)).one() == 0, model
    monkeypatch.undo()
    # The staging table was dropped with the failed attempt; the next report is whole.
    again = receive(db, example, report({"a": "passed", "b": "failed"}), "r1")
    assert (again["passed"], again["failed"]) == (1, 1)
    with db.read() as session:
        stored = session.exec(select(KnownTest.name, KnownTest.status)).all()
    assert sorted(stored) == [("a", "passed"), ("b", "failed")]

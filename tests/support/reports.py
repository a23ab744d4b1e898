"""JUnit reports for tests: documents built from statuses, and receiving them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from jobs.config import Sprint
from jobs.ingest import RunInfo, ingest_junit, receive_junit
from storage.db import Database


def report(statuses: dict[str, str], *, files: dict[str, str] | None = None) -> bytes:
    """`area/name` → passed/failed/skipped/flaky (passed on a rerun); a test's file is
    tests/<area>/test_it.py unless `files` says otherwise (its classname stays
    tests.<area>.test_it)."""
    body = {
        "failed": "<failure>boom</failure>",
        "skipped": "<skipped/>",
        "passed": "",
        "flaky": '<flakyFailure message="boom"/>',
    }
    cases = []
    for test, status in statuses.items():
        area, name = test.split("/")
        file = (files or {}).get(test, f"tests/{area}/test_it.py")
        cases.append(
            f'<testcase classname="tests.{area}.test_it" name="{name}" file="{file}">'
            f"{body[status]}</testcase>"
        )
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)  # when `receive` receives: day 3 of the example


def receive(
    db: Database,
    sprint: Sprint,
    doc: bytes,
    run: str,
    branch: str = "main",
    at: datetime = NOW,
) -> dict[str, Any]:
    """`doc` received as CI run `run` of `branch` at `at` through the real ingest path (its
    own transactions); the ingest's reply."""
    return receive_junit(
        db=db,
        sprint=sprint,
        document=doc,
        digest=hashlib.sha256(doc).hexdigest(),
        info=RunInfo(run=run, branch=branch, at=at),
        now=at,
    ).reply


def ingest(
    session: Session, sprint: Sprint, doc: bytes, *, run: str, at: datetime, branch: str = "main"
) -> dict[str, Any]:
    """`doc` ingested in the caller's transaction as CI run `run` of `branch`, received at
    `at`; the ingest's reply."""
    return ingest_junit(
        session=session,
        sprint=sprint,
        document=doc,
        digest=hashlib.sha256(doc).hexdigest(),
        info=RunInfo(run=run, branch=branch, at=at),
        now=at,
    ).reply

"""A small sprint with two days of CI worked out by hand, for tests of the reports, the
review and the milestones (figures small enough to check on paper)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from jobs.config import Sprint, validate_sprint
from tests.support import reports
from tests.support.sprints import minimal

# Europe/Berlin, from 2025-10-29 for 10 days; Core (tests, weight 2) and Docs (manual,
# weight 1, score 60). The report is due at 9:00 Berlin: 8:00 UTC in late October.
DAY1_CI = datetime(2025, 10, 29, 18, tzinfo=UTC)
DAY2_CI = datetime(2025, 10, 30, 18, tzinfo=UTC)
REPORT_DAY3 = datetime(2025, 10, 31, 8, 0, tzinfo=UTC)


def small(**overrides: Any) -> Sprint:
    """The small sprint (`minimal()` with `overrides`), validated."""
    return validate_sprint(minimal(**overrides))


def ingest(
    session: Session, sprint: Sprint, statuses: dict[str, str], run: str, at: datetime
) -> None:
    """One JUnit report of `area/name` → passed/failed/skipped, received at `at`."""
    reports.ingest(session, sprint, reports.report(statuses), run=run, at=at)


def two_days(session: Session, sprint: Sprint) -> None:
    """Day 1: a, b pass, c, d fail. Day 2: a regresses, c is fixed. So on day 3 Core
    passes 2 of 4 (50 %), readiness is (2·50 + 60) / 3 = 53.33 %, one test fixed of the
    two failing at the start, one regression introduced and still open."""
    day1 = {"core/a": "passed", "core/b": "passed", "core/c": "failed", "core/d": "failed"}
    day2 = {"core/a": "failed", "core/b": "passed", "core/c": "passed", "core/d": "failed"}
    ingest(session, sprint, day1, "d1", DAY1_CI)
    ingest(session, sprint, day2, "d2", DAY2_CI)

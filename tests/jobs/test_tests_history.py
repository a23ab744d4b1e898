"""Durations read from JUnit `time` and stored per report; one test's history; the slowest
tests; finding a test by id, name or part of its name."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from jobs import junit, tests_history
from jobs.config import Sprint, validate_sprint
from jobs.ingest import RunInfo, ingest_junit, unpack_durations
from jobs.tests_history import NoSuchTest
from storage.models import KnownTest, TestReport
from storage.queries import unpack_statuses
from storage.retention import drop_statuses
from tests.support.sprints import minimal

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)


def sprint() -> Sprint:
    return validate_sprint(minimal())


def doc(cases: str) -> bytes:
    return f'<testsuites><testsuite name="s">{cases}</testsuite></testsuites>'.encode()


def case(name: str, time: str | None = None, status: str = "passed", cls: str = "a.b") -> str:
    attr = f' time="{time}"' if time is not None else ""
    body = "<failure message='boom'>x</failure>" if status == "failed" else ""
    return f'<testcase classname="{cls}" name="{name}"{attr}>{body}</testcase>'


def send(session: Session, s: Sprint, document: bytes, run: str, minutes: int, **info: str) -> int:
    at = NOW - timedelta(hours=1) + timedelta(minutes=minutes)
    ingest_junit(
        session=session,
        sprint=s,
        document=document,
        digest=hashlib.sha256(document).hexdigest(),
        info=RunInfo(run=run, at=at, **info),
        now=NOW,
    )
    report = session.exec(select(TestReport).where(TestReport.run == run)).one()
    assert report.id is not None
    return report.id


def test_junit_time_is_read_per_test_and_a_rerun_adds_up() -> None:
    parsed = junit.parse(
        doc(
            case("t1", "1.5")
            + case("t2")
            + case("t3", "oops")
            + case("t4", "1,234.5")
            + case("t1", "0.25", "failed")  # a rerun of t1
            + case("t5", "-3")
        )
    )
    got = list(parsed.durations)
    assert got[0] == 1.75 and got[3] == 1234.5
    assert all(math.isnan(got[i]) for i in (1, 2, 4))
    assert str(parsed.status(0)) == "flaky"


def test_durations_are_stored_beside_the_statuses_in_order(session: Session) -> None:
    s = sprint()
    send(session, s, doc(case("t1", "2") + case("t2") + case("t3", "0.5")), "r1", 0)
    report = session.exec(select(TestReport)).one()
    names = [n for _, _, n in unpack_statuses(report.statuses or b"")]
    durations = unpack_durations(report.durations)
    assert names == ["t1", "t2", "t3"]
    assert durations[0] == 2 and math.isnan(durations[1]) and durations[2] == 0.5


def test_a_report_that_times_nothing_stores_no_durations(session: Session) -> None:
    send(session, sprint(), doc(case("t1") + case("t2")), "r1", 0)
    report = session.exec(select(TestReport)).one()
    assert report.durations is None
    assert list(unpack_durations(None)) == []


def test_history_reads_every_report_that_holds_the_test(session: Session) -> None:
    s = sprint()
    send(session, s, doc(case("t1", "1") + case("t2", "3")), "r1", 0, commit="c1")
    # A shard without t1: not in its timeline.
    send(session, s, doc(case("t2", "3")), "r2", 1, commit="c2")
    send(session, s, doc(case("t1", "2", "failed") + case("t2", "3")), "r3", 2, commit="c3")
    send(session, s, doc(case("t1", "4", "failed")), "r4", 3, commit="c4", url="https://ci/4")
    found = tests_history.find(session=session, sprint=s, text="a.b::t1")
    assert isinstance(found, KnownTest)
    h = tests_history.history(session=session, sprint=s, test=found, now=NOW)
    assert [(r["run"], r["status"], r["commit"], r["duration"]) for r in h["runs"]] == [
        ("r1", "passed", "c1", 1.0),
        ("r3", "failed", "c3", 2.0),
        ("r4", "failed", "c4", 4.0),
    ]
    assert h["runs"][-1]["url"] == "https://ci/4"
    assert h["first_failure"] is not None and h["first_failure"]["commit"] == "c3"
    assert (h["flips"], h["durations"], h["median_duration"]) == (1, [1.0, 2.0, 4.0], 2.0)
    assert h["owners"] is None  # no [[owners]] nor [codeowners]


def test_slowest_takes_each_tests_latest_duration(session: Session) -> None:
    s = sprint()
    send(session, s, doc(case("t1", "10") + case("t2", "5") + case("t3")), "r1", 0)
    send(session, s, doc(case("t1", "1") + case("t3", "7")), "r2", 1)
    slow = tests_history.slowest(session=session, sprint=s)
    assert [(t["name"], t["duration"]) for t in slow] == [("t3", 7.0), ("t2", 5.0), ("t1", 1.0)]
    assert all(t["id"] is not None for t in slow)


def test_find_by_id_name_or_part(session: Session) -> None:
    s = sprint()
    send(session, s, doc(case("t1") + case("t1", cls="c.d") + case("other_t")), "r1", 0)
    one = tests_history.find(session=session, sprint=s, text="other_t")
    assert isinstance(one, KnownTest)
    assert tests_history.find(session=session, sprint=s, text=f"#{one.id}") == one
    both = tests_history.find(session=session, sprint=s, text="t1")
    assert isinstance(both, list) and [t.classname for t in both] == ["a.b", "c.d"]
    part = tests_history.find(session=session, sprint=s, text="HER_")
    assert part == one  # case-insensitive, `_` taken literally
    with pytest.raises(NoSuchTest, match='No test on `main` has "%"'):
        tests_history.find(session=session, sprint=s, text="%")
    with pytest.raises(NoSuchTest, match="Say which test"):
        tests_history.find(session=session, sprint=s, text="  ")


def test_retention_drops_the_durations_with_the_packed_statuses(session: Session) -> None:
    s = sprint()
    send(session, s, doc(case("t1", "2")), "r1", 0)
    assert drop_statuses(session=session, before=NOW + timedelta(days=1), limit=10) == 1
    report = session.exec(select(TestReport)).one()
    session.refresh(report)
    assert (report.statuses, report.durations) == (None, None)
    assert tests_history.slowest(session=session, sprint=s) == []
    found = tests_history.find(session=session, sprint=s, text="t1")
    assert isinstance(found, KnownTest)
    h = tests_history.history(session=session, sprint=s, test=found, now=NOW)
    # The timeline is gone with the packed statuses; the streak is read from the changes.
    assert h["runs"] == [] and h["since"] is not None and h["since"]["status"] == "passed"

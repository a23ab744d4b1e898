"""Flaky across runs and quarantine's rules, without Slack: the `[flaky]` table, when a test
is judged flaky (the same commit, the flip rate over its last runs), and how readiness
counts quarantined tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select

from jobs import flaky, ingest, quarantine, tests_history
from jobs.config import Flaky, Sprint
from jobs.ingest import RunInfo, _pack, ingest_junit
from jobs.junit import parse
from jobs.numbers import TestCounts, quarantine_counted
from jobs.readiness import current_breakdown
from storage import queries
from storage.db import Database
from storage.models import Alert, KnownTest
from storage.queries import quarantine as quarantine_queries
from tests.support.outbox import keys, queued
from tests.support.reports import NOW, receive, report

T0 = datetime(2025, 10, 31, 12, tzinfo=UTC)


def test_flaky_table_defaults_and_refusals() -> None:
    f = Flaky()
    assert (f.window, f.flip_rate, f.quarantine_for, f.readiness) == (
        20,
        0.2,
        timedelta(days=14),
        "exclude",
    )
    assert f.flips == 4  # 0.2 x 20
    assert Flaky(window=6, flip_rate=0.5).flips == 3
    assert Flaky(window=7, flip_rate=0.3).flips == 3  # 2.1 rounds up
    with pytest.raises(ValidationError, match="make it at least 2"):
        Flaky(window=10, flip_rate=0.1)  # one change is a regression, not flakiness
    for bad, says in (
        ({"window": 1}, "greater than or equal to 2"),
        ({"flip_rate": 0}, "greater than 0"),
        ({"flip_rate": 1.5}, "less than or equal to 1"),
        ({"quarantine_for": "30m"}, "between 1h and 365d"),
        ({"quarantine_for": "soon"}, "is not a duration"),
        ({"readiness": "ignore"}, "'exclude' or 'failing'"),
        ({"quarantine": True}, "Extra inputs are not permitted"),
    ):
        with pytest.raises(ValidationError, match=says):
            Flaky.model_validate(bad)


def test_quarantined_tests_leave_readiness_or_count_as_failing() -> None:
    counts = {"Core": TestCounts(passed=6, total=10), "CLI": TestCounts(passed=2, total=2)}
    held = [("Core", "failed"), ("Core", "passed"), ("CLI", "passed"), (None, "failed")]
    out = "left out"
    assert quarantine_counted(counts, held, "exclude") == {
        "Core": TestCounts(passed=5, total=8, quarantined=2, quarantine_note=out),
        "CLI": TestCounts(passed=1, total=1, quarantined=1, quarantine_note=out),
    }
    failing = "counted as failing"
    assert quarantine_counted(counts, held, "failing") == {
        "Core": TestCounts(passed=5, total=10, quarantined=2, quarantine_note=failing),
        "CLI": TestCounts(passed=1, total=2, quarantined=1, quarantine_note=failing),
    }
    # A component left with no test has no score, as one with none known.
    assert quarantine_counted(counts, [("CLI", "passed")] * 2, "exclude")["CLI"].rate is None


@pytest.mark.parametrize("tests", [3, 40])  # found one by one, or read whole
def test_statuses_in_a_packed_report(tests: int) -> None:
    doc = report({f"core/t{i}": "failed" if i % 2 else "passed" for i in range(tests)})
    blob = _pack(parse(doc))
    names = {i: ("tests.core.test_it", f"t{i}") for i in range(tests)}
    names[999] = ("tests.core.test_it", "missing")
    found = flaky._statuses_in(blob, names)
    assert found == {i: "failed" if i % 2 else "passed" for i in range(tests)}


def _ingest(session: Session, sprint: Sprint, doc: bytes, run: str, commit: str, n: int) -> dict:
    return ingest_junit(
        session=session,
        sprint=sprint,
        document=doc,
        digest=hashlib.sha256(doc).hexdigest(),
        info=RunInfo(run=run, commit=commit, at=T0 + timedelta(minutes=n)),
        now=T0 + timedelta(minutes=n),
    ).reply


def test_a_failing_rerun_is_stored_flaky(session: Session, example: Sprint) -> None:
    up = report({"core/a": "passed", "core/b": "passed"})
    down = report({"core/a": "failed", "core/b": "passed"})
    _ingest(session, example, up, "r1", "c1", 1)
    # Failing on a re-run of c1: flaky, as if the report itself had re-run it.
    again = _ingest(session, example, down, "r2", "c1", 2)
    assert (again["regressions"], again["alert"]) == ([], None)
    assert (again["failed"], again["flaky_count"]) == (0, 1)  # counted as flaky, not failed
    assert [t["id"] for t in again["flaky"]] == ["tests.core.test_it::a"]
    assert [t["why"] for t in again["flaky_found"]] == ["passed on another run of c1"]
    [a] = [t for t in queries.tests_by_id(session=session, ids=[1, 2]) if t.name == "a"]
    assert (str(a.status), a.flaky_at, a.flaky_why) == (
        "flaky",
        T0 + timedelta(minutes=2),
        "passed on another run of c1",
    )
    assert queries.failing_count(session=session) == 0  # not failing now, in any figure


def test_passing_on_a_rerun_after_failing_is_found_flaky(session: Session, example: Sprint) -> None:
    _ingest(session, example, report({"core/a": "passed"}), "r1", "c1", 1)
    broke = _ingest(session, example, report({"core/a": "failed"}), "r2", "c2", 2)
    assert len(broke["regressions"]) == 1 and broke["alert"] is not None
    back = _ingest(session, example, report({"core/a": "passed"}), "r3", "c2", 3)
    assert [t["id"] for t in back["fixed"]] == ["tests.core.test_it::a"]  # the alert resolves
    assert [t["why"] for t in back["flaky_found"]] == ["failed on another run of c2"]


def test_changes_over_the_window_make_a_test_flaky(session: Session, example: Sprint) -> None:
    example = example.model_copy(update={"flaky": Flaky(window=5, flip_rate=0.6)})  # 3 in 5
    up, down = report({"core/a": "passed"}), report({"core/a": "failed"})
    _ingest(session, example, up, "r1", "c1", 1)
    assert len(_ingest(session, example, down, "r2", "c2", 2)["regressions"]) == 1  # 1 change
    assert len(_ingest(session, example, up, "r3", "c3", 3)["fixed"]) == 1  # 2 changes
    third = _ingest(session, example, down, "r4", "c4", 4)  # 3 changes in 4 runs
    assert (third["regressions"], third["alert"]) == ([], None)
    assert [t["why"] for t in third["flaky_found"]] == ["changed 3 times in its last 5 runs"]


def test_a_skip_between_a_pass_and_a_failure_is_still_a_change(
    session: Session, example: Sprint
) -> None:
    """passed → skipped → failed went from passing to failing: one change, as passed →
    failed is (found by review: neither step alone was counted, so a test that flipped
    across skips was never found flaky, and `/tests show` said "0 flips")."""
    example = example.model_copy(update={"flaky": Flaky(window=6, flip_rate=0.5)})  # 3 in 6
    up, down = report({"core/a": "passed"}), report({"core/a": "failed"})
    _ingest(session, example, up, "r1", "c1", 1)
    _ingest(session, example, report({"core/a": "skipped"}), "r2", "c2", 2)
    _ingest(session, example, down, "r3", "c3", 3)  # 1 change (across the skip)
    assert len(_ingest(session, example, up, "r4", "c4", 4)["fixed"]) == 1  # 2 changes
    [a] = queries.tests_by_id(session=session, ids=[1])
    assert (
        tests_history.history(session=session, sprint=example, test=a, now=T0 + timedelta(hours=1))[
            "flips"
        ]
        == 2
    )
    third = _ingest(session, example, down, "r5", "c5", 5)  # 3 changes in 5 runs
    assert [t["why"] for t in third["flaky_found"]] == ["changed 3 times in its last 6 runs"]
    assert (third["regressions"], third["alert"]) == ([], None)
    # A skip between two passes is none.
    assert flaky.flip_count([(None, "passed"), ("passed", "skipped"), ("skipped", "passed")]) == 0


def test_a_skip_begun_before_the_window_still_makes_its_failure_a_change(
    session: Session, example: Sprint
) -> None:
    """passed, then skipped from before the window, then failed inside it: the failure is a
    change between passing and failing (as `/tests show` counts it) that happened within
    the last runs, yet the window's first change (skipped → failed) is read as none, so a
    test that changed 3 times in its last 6 runs was not found flaky (found by review)."""
    example = example.model_copy(update={"flaky": Flaky(window=6, flip_rate=0.5)})  # 3 in 6
    up, down = report({"core/a": "passed"}), report({"core/a": "failed"})
    skip = report({"core/a": "skipped"})
    _ingest(session, example, up, "r1", "c1", 1)
    _ingest(session, example, skip, "r2", "c2", 2)
    _ingest(session, example, skip, "r3", "c3", 3)
    _ingest(session, example, skip, "r4", "c4", 4)
    _ingest(session, example, down, "r5", "c5", 5)  # 1 change (across the skip)
    _ingest(session, example, up, "r6", "c6", 6)  # 2 changes
    _ingest(session, example, up, "r7", "c7", 7)
    [a] = queries.tests_by_id(session=session, ids=[1])
    assert (
        tests_history.history(session=session, sprint=example, test=a, now=T0 + timedelta(hours=1))[
            "flips"
        ]
        == 2
    )
    third = _ingest(session, example, down, "r8", "c8", 8)  # 3 changes in r3..r8
    assert [t["why"] for t in third["flaky_found"]] == ["changed 3 times in its last 6 runs"]


def test_a_steady_test_that_breaks_is_a_regression(session: Session, example: Sprint) -> None:
    example = example.model_copy(update={"flaky": Flaky(window=5, flip_rate=0.6)})
    up = report({"core/a": "passed"})
    for n in range(1, 6):
        _ingest(session, example, up, f"r{n}", f"c{n}", n)
    broke = _ingest(session, example, report({"core/a": "failed"}), "r6", "c6", 6)
    assert [t["id"] for t in broke["regressions"]] == ["tests.core.test_it::a"]
    assert broke["flaky_found"] == []


def test_quarantine_period_words() -> None:
    sprint_default = Flaky().quarantine_for
    assert quarantine.period_text(sprint_default) == "14d"
    assert quarantine.period_text(timedelta(hours=36)) == "36h"


def test_auto_quarantine_sets_a_flaky_test_apart_at_once(session: Session, example: Sprint) -> None:
    example = example.model_copy(update={"flaky": Flaky(auto_quarantine=True, release_after=1)})
    _ingest(session, example, report({"core/a": "passed"}), "r1", "c1", 1)
    reply = _ingest(session, example, report({"core/a": "failed"}), "r2", "c1", 2)
    # The reply's readiness is readiness as it stands, the quarantine made in it included.
    score = current_breakdown(session=session, sprint=example, at=T0 + timedelta(minutes=2)).score
    assert score is not None and reply["readiness"]["score"] == round(score, 2)
    # The report that quarantined it does not count toward its release (release_after 1).
    [listed] = quarantine.listing(session=session, sprint=example, now=T0 + timedelta(hours=1))
    assert (listed["name"], listed["by"], listed["reason"]) == ("a", "sprintbot", "found flaky")
    # 14 days on New York's clock: an hour more than 14 x 24 h, over the end of summer time.
    assert listed["until"] == (T0 + timedelta(minutes=2, days=14, hours=1)).isoformat()
    [key] = [k for k in keys(session) if k.startswith("quarantine:")]
    change = queued(session, key)
    assert (change["action"], change["by"], change["count"]) == ("quarantined", "sprintbot", 1)
    assert change["tests"][0]["why"] == "passed on another run of c1"
    assert not [k for k in keys(session) if k.startswith("flaky:")]  # no notice to act on
    # The next run passes it: released (release_after 1), and found flaky afresh later.
    _ingest(session, example, report({"core/a": "passed"}), "r3", "c2", 3)
    assert quarantine.listing(session=session, sprint=example, now=T0 + timedelta(hours=1)) == []
    [a] = queries.tests_by_id(session=session, ids=[1])
    assert a.flaky_at is None


def test_passes_count_once_a_run_and_a_second_quarantine_extends_the_first(
    session: Session, example: Sprint
) -> None:
    example = example.model_copy(update={"flaky": Flaky(release_after=2)})
    _ingest(session, example, report({"core/a": "passed", "cli/b": "passed"}), "r1", "c1", 1)
    [a] = [t for t in queries.tests_by_id(session=session, ids=[1, 2]) if t.name == "a"]
    first = quarantine.quarantine(
        session=session, sprint=example, tests=[a], by="U0QALEAD", reason="x", now=T0
    )
    again = quarantine.quarantine(
        session=session, sprint=example, tests=[a], by="U0TECHLEAD", reason="y", now=T0
    )
    assert (first.added, first.extended, again.added, again.extended) == (1, 0, 0, 1)
    [held] = quarantine.listing(session=session, sprint=example, now=T0 + timedelta(hours=1))
    assert (held["by"], held["reason"]) == ("U0TECHLEAD", "y")
    # Two shards of one run (a matrix build) pass it: one run, one pass.
    _ingest(session, example, report({"core/a": "passed"}), "r2", "c2", 2)
    _ingest(session, example, report({"cli/b": "passed", "core/a": "passed"}), "r2", "c2", 3)
    assert (
        quarantine.listing(session=session, sprint=example, now=T0 + timedelta(hours=1))[0][
            "passes"
        ]
        == 1
    )
    # A run that skips it says nothing; the next passing run releases it.
    _ingest(session, example, report({"core/a": "skipped"}), "r3", "c3", 4)
    assert (
        quarantine.listing(session=session, sprint=example, now=T0 + timedelta(hours=1))[0][
            "passes"
        ]
        == 1
    )
    _ingest(session, example, report({"core/a": "passed"}), "r4", "c4", 5)
    assert quarantine.listing(session=session, sprint=example, now=T0 + timedelta(hours=1)) == []


def meanwhile(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> list[int]:
    """Run `action` (another process's write) once a report has been classified outside the
    lock, before it is written; the tests in quarantine at each classification."""
    classify = ingest._Plan.classify
    read: list[int] = []

    def classify_then_act(self: ingest._Plan, *, session: Session) -> None:
        classify(self, session=session)
        read.append(len(self.held))
        if len(read) == 1:
            action()

    monkeypatch.setattr(ingest._Plan, "classify", classify_then_act)
    return read


@pytest.mark.parametrize("released", ["before the report", "while it is read"])
def test_a_test_released_from_quarantine_fails_as_a_regression(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch, released: str
) -> None:
    """Released before the report is written — even while the report is parsed and read,
    outside the lock — a test that fails is a regression, alerted: not flaky."""
    receive(db, example, report({"api/a": "passed", "api/b": "passed"}), "r1")
    with db.session() as s:
        [test] = [t for t in s.exec(select(KnownTest)).all() if t.name == "a"]
        quarantine.quarantine(session=s, sprint=example, tests=[test], by="U1", reason="x", now=NOW)
        s.commit()

    def release() -> None:
        with db.session() as s:
            held = quarantine_queries.open_quarantines(session=s, branch="main")
            quarantine.release(
                session=s, sprint=example, held=held, by="U1", reason="fixed", now=NOW
            )
            s.commit()

    if released == "before the report":
        release()
    else:
        read = meanwhile(monkeypatch, release)
    reply = receive(db, example, report({"api/a": "failed", "api/b": "passed"}), "r2")
    assert [r["name"] for r in reply["regressions"]] == ["a"]
    assert (reply["flaky"], reply["flaky_count"]) == ([], 0)
    with db.read() as s:
        status = s.exec(select(KnownTest.status).where(KnownTest.name == "a")).one()
        alerts = s.exec(select(Alert.key)).all()
    assert (str(status), alerts) == ("failed", ["regression:2"])
    if released != "before the report":
        assert read == [1, 0]  # read again under the lock, the quarantine gone


def test_a_test_put_in_quarantine_while_a_report_is_read_fails_as_flaky(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    receive(db, example, report({"api/a": "passed", "api/b": "passed"}), "r1")

    def hold() -> None:
        with db.session() as s:
            [test] = [t for t in s.exec(select(KnownTest)).all() if t.name == "a"]
            quarantine.quarantine(
                session=s, sprint=example, tests=[test], by="U1", reason="x", now=NOW
            )
            s.commit()

    read = meanwhile(monkeypatch, hold)
    reply = receive(db, example, report({"api/a": "failed", "api/b": "passed"}), "r2")
    assert read == [0, 1]
    assert (reply["regressions"], reply["flaky_count"]) == ([], 1)
    assert [r["name"] for r in reply["flaky"]] == ["a"]
    with db.read() as s:
        assert s.exec(select(Alert.key)).all() == []


def test_a_test_failing_every_other_run_alerts_once_however_long_it_goes_on(
    session: Session, example: Sprint
) -> None:
    """A failure found flaky is stored `flaky`; the flip count read that as a pass, so the
    test's changes left its window as it slid and its next failure was a regression again:
    an alert every few runs for one flaky test (found by review)."""
    example = example.model_copy(update={"flaky": Flaky(window=5, flip_rate=0.6)})  # 3 in 5
    up, down = report({"core/a": "passed"}), report({"core/a": "failed"})
    alerts = []
    for n in range(1, 17):
        reply = _ingest(session, example, down if n % 2 == 0 else up, f"r{n}", f"c{n}", n)
        alerts += [n for _ in reply["regressions"]]
    assert alerts == [2]  # the first failure; every later one is flaky (r4 onwards)
    [a] = queries.tests_by_id(session=session, ids=[1])
    shown = tests_history.history(session=session, sprint=example, test=a, now=T0 + timedelta(1))
    assert shown["flips"] == 15  # passed and failed by turns over 16 runs


def test_a_quarantine_of_days_ends_at_the_same_local_time_across_a_dst_change(
    session: Session, example: Sprint
) -> None:
    """Quarantined at 10:00 New York on Oct 31 for 14d: it ran to 09:00 on Nov 14, as 14
    x 24 hours over the end of daylight saving, and the confirmation said "until Fri 14
    Nov 09:00" (found by review). Days are calendar days on the team's clock; hours are
    hours."""
    _ingest(session, example, report({"core/a": "passed"}), "r1", "c1", 1)
    [a] = queries.tests_by_id(session=session, ids=[1])
    ten = datetime(2025, 10, 31, 14, tzinfo=UTC)  # 10:00 EDT
    quarantine.quarantine(session=session, sprint=example, tests=[a], by="U1", reason="x", now=ten)
    [held] = quarantine.listing(session=session, sprint=example, now=ten)
    assert held["until"] == datetime(2025, 11, 14, 15, tzinfo=UTC).isoformat()  # 10:00 EST
    hours = quarantine.quarantine(
        session=session,
        sprint=example,
        tests=[a],
        by="U1",
        reason="x",
        now=ten,
        period=timedelta(hours=36),
    )
    assert hours.extended == 1
    [held] = quarantine.listing(session=session, sprint=example, now=ten)
    assert held["until"] == (ten + timedelta(hours=36)).isoformat()

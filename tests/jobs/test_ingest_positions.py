"""Issue 13, item 2: a report naming the same tests as its branch's newest report reads the
branch from where that report left them (`TestReport.positions`) instead of looking each
test up — with the same outcome, to the last count, as a report whose tests are looked up;
and wherever the positions could be stale (a late run's tests stored as a later run left
them, a shard in between, another file) it looks them up."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from jobs import ingest
from jobs.config import Sprint, validate_sprint
from jobs.ingest import RunInfo, receive_junit
from storage.db import Database
from storage.models import KnownTest, ReadinessSnapshot, TestReport, TestResult
from storage.queries import bulk
from storage.scope import team_of
from tests.support.db import empty
from tests.support.reports import report
from tests.support.sprints import minimal

T0 = datetime(2025, 10, 30, 8, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


def _sprint(*, api: bool) -> Sprint:
    raw = minimal()
    if api:
        raw["components"].append({**raw["components"][0], "name": "API", "tests": ["tests/api/**"]})
    return validate_sprint(raw)


CORE_ONLY = _sprint(api=False)
CORE_AND_API = _sprint(api=True)  # the api tests move to a component of their own

# (The api tests first: the component a report meets first is its first by number.)
SUITE = {f"{area}/test_{i}": "passed" for area in ("api", "core", "misc") for i in range(8)}


def _with(changes: dict[str, str], base: dict[str, str] | None = None) -> dict[str, str]:
    return {**(base or SUITE), **changes}


R2 = _with({"core/test_1": "failed", "api/test_2": "failed", "misc/test_3": "skipped"})
R3 = _with({"core/test_1": "passed", "api/test_4": "failed"}, R2)
R4 = _with({"core/test_5": "failed", "api/test_2": "passed"}, R3)  # late: before r3
R6 = _with({"misc/test_7": "flaky", "core/test_5": "passed"}, R4)
SHARD = {"core/test_0": "failed", "core/test_1": "passed", "api/new": "failed"}

# (run, statuses, branch, hours after T0, sprint, files moved); `positioned`: the runs whose
# tests the positions give (the rest are looked up).
STEPS: list[tuple[str, dict[str, str], str, float, Sprint, dict[str, str] | None]] = [
    ("r1", SUITE, "main", 0, CORE_ONLY, None),
    ("r2", R2, "main", 1, CORE_ONLY, None),
    ("r3", R3, "main", 2, CORE_AND_API, None),  # components moved: by name, not number
    ("r4", R4, "main", 1.5, CORE_AND_API, None),  # a late run: r3's tests keep r3's status,
    ("r5", R4, "main", 3, CORE_AND_API, None),  # so r4 keeps no positions
    ("f1", R2, "feature", 3, CORE_AND_API, None),  # another branch: main's newest stays r5
    ("r6", R6, "main", 4, CORE_AND_API, None),
    ("s1", SHARD, "main", 5, CORE_AND_API, None),  # a shard: its own identity
    ("r7", R6, "main", 6, CORE_AND_API, None),  # the shard is main's newest: looked up
    ("r8", R2, "main", 7, CORE_AND_API, None),
    ("r9", R2, "main", 8, CORE_AND_API, {"core/test_0": "tests/core/test_moved.py"}),
]
POSITIONED = {"r2", "r3", "r4", "r6", "r8"}


def _outcome(db: Database, monkeypatch: pytest.MonkeyPatch, *, positions: bool) -> list[Any]:
    """After each step: the reply (ids left out), and the branch's tests, results and
    readiness as stored; the runs whose tests came from positions."""
    used: list[str] = []
    real = ingest._positioned
    step = [""]

    def positioned(*args: Any, **kwargs: Any) -> bool:
        found = positions and real(*args, **kwargs)
        if found:
            used.append(step[0])
        return found

    monkeypatch.setattr(ingest, "_positioned", positioned)
    seen: list[Any] = []
    for run, statuses, branch, hours, sprint, files in STEPS:
        step[0] = run
        doc = report(statuses, files=files)
        reply = receive_junit(
            db=db,
            sprint=sprint,
            document=doc,
            digest=hashlib.sha256(doc).hexdigest(),
            info=RunInfo(run=run, branch=branch, at=T0 + timedelta(hours=hours)),
            now=NOW,
        ).reply
        with db.read() as session:
            tests = sorted(
                (t.branch, t.classname, t.name, str(t.status), t.component, t.file)
                for t in session.exec(select(KnownTest)).all()
            )
            by_id = {t.id: (t.classname, t.name) for t in session.exec(select(KnownTest)).all()}
            results = sorted(
                (by_id[r.test_id], str(r.status), str(r.previous_status))
                for r in session.exec(select(TestResult)).all()
            )
            snapshot = session.exec(
                select(ReadinessSnapshot).order_by(ReadinessSnapshot.id.desc())  # type: ignore[union-attr]
            ).first()
            kept = [
                r.run
                for r in session.exec(select(TestReport).order_by(TestReport.id)).all()  # type: ignore[arg-type]
                if r.positions is not None
            ]
        assert snapshot is not None
        shown = {k: v for k, v in reply.items() if k not in ("report", "alert")}
        seen.append((run, shown, tests, results, snapshot.score, snapshot.breakdown, kept))
    return [seen, used]


def test_a_repeat_report_reads_its_tests_from_positions_with_the_outcome_of_a_look_up(
    db: Database, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_whole: list[str] = []
    real_read = ingest.queries.branch_tests

    def reads_whole(**kwargs: Any) -> Any:
        read_whole.append(str(kwargs["branch"]))
        return real_read(**kwargs)

    monkeypatch.setattr(ingest.queries, "branch_tests", reads_whole)
    positioned, used = _outcome(db, monkeypatch, positions=True)
    assert set(used) == POSITIONED
    # The first report of each branch, r5 (after a late run), r7 (after a shard) and r9 (a
    # file moved) read the branch whole; the shard looked its tests up by key.
    assert len(read_whole) == len(STEPS) - len(POSITIONED) - 1
    # Only the branch's newest report keeps positions (r4, a late run's, kept none; nor
    # did the shard's successor lose the feature branch's).
    kept = {run: step[-1] for run, *step in positioned}
    assert kept["r3"] == ["r3"]
    assert kept["r4"] == []
    assert kept["f1"] == ["r5", "f1"]
    assert kept["r9"] == ["f1", "r9"]

    empty(database)
    looked_up, none = _outcome(db, monkeypatch, positions=False)
    assert none == []
    for a, b in zip(positioned, looked_up, strict=True):
        assert a[:-1] == b[:-1], a[0]
    # What the positions gave is what a user sees: r2's regressions, r3's moves.
    r2 = dict(positioned[1][1])
    assert sorted(t["name"] for t in r2["regressions"]) == ["test_1", "test_2"]
    r3_tests = {(c, n): comp for _, c, n, _, comp, _ in positioned[2][2]}
    assert r3_tests["tests.api.test_it", "test_0"] == "API"
    assert r3_tests["tests.core.test_it", "test_0"] == "Core"


def test_positions_read_back_as_packed() -> None:
    from array import array

    ids = array("q", [5, 2**40, 7])
    blob = ingest.pack_positions(ids, bytes([0, 1, 4]), array("I", [0, 2, 1]), [None, "ü", "b"])
    assert ingest.unpack_positions(blob) == (
        ids,
        bytes([0, 1, 4]),
        array("I", [0, 2, 1]),
        [None, "ü", "b"],
    )


def test_new_tests_drawn_between_another_branchs_are_found_by_id(db: Database) -> None:
    """The new tests' ids, where another branch's insert drew ids in between (a concurrent
    ingest on PostgreSQL): read one by one, not taken as a range."""
    with db.session() as session:
        report_row = TestReport(run="r", branch="main", at=T0, received_at=T0, digest="d")
        session.add(report_row)
        session.flush()
        rid = report_row.id or 0
        base = bulk._max_test_id(session)
        for i in range(6):
            branch = "main" if i % 3 else "other"
            session.add(
                KnownTest(
                    branch=branch,
                    key=f"k{i}",
                    classname="c",
                    name=f"t{i}",
                    status="passed",
                    first_seen_at=T0,
                    changed_at=T0,
                    last_report_id=rid if branch == "main" else None,
                )
            )
            session.flush()
        found = bulk._new_ids(
            session, base=base, team=team_of(session), branch="main", report_id=rid
        )
        assert list(found) == [base + 2, base + 3, base + 5, base + 6]
        assert not isinstance(found, range)
        session.rollback()


def test_a_first_report_of_more_new_tests_than_kept_in_order_leaves_positions_to_the_next(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "_POSITIONED_NEW", len(SUITE) - 1)
    runs = [("r1", SUITE, 0), ("r2", R2, 1), ("r3", R3, 2)]
    kept = []
    for run, statuses, hours in runs:
        doc = report(statuses)
        receive_junit(
            db=db,
            sprint=CORE_ONLY,
            document=doc,
            digest=hashlib.sha256(doc).hexdigest(),
            info=RunInfo(run=run, branch="main", at=T0 + timedelta(hours=hours)),
            now=NOW,
        )
        with db.read() as session:
            newest = session.exec(select(TestReport).where(TestReport.run == run)).one()
            kept.append(newest.positions is not None)
    assert kept == [False, True, True]


def test_new_tests_found_again_by_key_give_the_positions_their_ids(
    db: Database, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: where the new tests' ids did not follow their staged order (checked after the
    insert), they are found again by key, in that order, for the positions too."""
    monkeypatch.setattr(bulk, "_ids_follow", lambda *_: False)
    positioned, used = _outcome(db, monkeypatch, positions=True)
    assert set(used) == POSITIONED
    empty(database)
    looked_up, _ = _outcome(db, monkeypatch, positions=False)
    assert [step[:-1] for step in positioned] == [step[:-1] for step in looked_up]

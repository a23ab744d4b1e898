"""Issue 13, item 2: a report much smaller than its branch (a CI shard) looks its own tests
up by key instead of reading the whole branch — with the same outcome, to the last count,
as a report compared with the branch read whole."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from jobs import ingest
from jobs.config import Sprint
from storage.db import Database
from storage.models import KnownTest, ReadinessSnapshot, TestResult
from tests.support.db import empty
from tests.support.reports import NOW, receive

BODY = {
    "passed": "",
    "failed": "<failure message='boom'/>",
    "error": "<error message='crash'/>",
    "skipped": "<skipped/>",
}


def report(tests: dict[tuple[str, str], str]) -> bytes:
    cases = "".join(
        f"<testcase classname='{classname}' name='{name}'>{BODY[status]}</testcase>"
        for (classname, name), status in tests.items()
    )
    return f"<testsuite name='s'>{cases}</testsuite>".encode()


# A suite of 40 tests in four components (and some in none).
SUITE = {
    (f"{area}.test_{m}", f"test_{i}"): "failed" if i % 7 == 0 else "passed"
    for area in ("swarm", "memory", "orchestration", "misc")
    for m in range(2)
    for i in range(5)
}
# A shard of six: regressions, a fix, an error after a failure, a skip, two new tests.
SHARD = {
    ("swarm.test_0", "test_1"): "failed",
    ("swarm.test_0", "test_0"): "passed",
    ("memory.test_1", "test_0"): "error",
    ("orchestration.test_0", "test_2"): "skipped",
    ("memory.test_1", "test_new"): "failed",
    ("misc.test_9", "test_new"): "passed",
}


def outcome(db: Database, sprint: Sprint) -> tuple[dict[str, Any], list[Any], Any]:
    # (The day before: its day is the baseline's, the shard's new tests new ones.)
    receive(db, sprint, report(SUITE), "r1", at=NOW - timedelta(days=1))
    reply = receive(db, sprint, report(SHARD), "r2")
    with db.read() as session:
        known = sorted(
            (t.classname, t.name, t.status, t.component)
            for t in session.exec(select(KnownTest)).all()
        )
        snapshot = session.exec(
            select(ReadinessSnapshot).order_by(ReadinessSnapshot.id.desc())  # type: ignore[union-attr]
        ).first()
    assert snapshot is not None
    return reply, known, (snapshot.score, snapshot.breakdown)


def branches_asked(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[str]:
    """The branches `owner.name` (a query taking `branch=`) is called for from now on."""
    asked: list[str] = []
    real = getattr(owner, name)

    def spy(**kwargs: Any) -> Any:
        asked.append(kwargs["branch"])
        return real(**kwargs)

    monkeypatch.setattr(owner, name, spy)
    return asked


def test_a_shard_looks_its_tests_up_by_key_with_the_outcome_of_a_whole_read(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch, database: Database
) -> None:
    read_whole = branches_asked(monkeypatch, ingest.queries, "branch_tests")
    by_key = outcome(db, example)
    # The suite was compared with the branch read whole (it was empty); the shard was not.
    assert read_whole == ["main"]
    assert [r["name"] for r in by_key[0]["regressions"]] == ["test_1"]
    assert [r["name"] for r in by_key[0]["fixed"]] == ["test_0"]
    assert [r["id"] for r in by_key[0]["new_failures"]] == ["memory.test_1::test_new"]
    assert by_key[0]["still_failing"] == 1  # memory.test_1::test_0: failed, now an error
    assert [r["name"] for r in by_key[0]["newly_skipped"]] == ["test_2"]
    assert by_key[2][1]["tests"]["known"] == len(SUITE) + 2

    # The same two reports, the shard compared with the branch read whole, end the same.
    _empty(database)
    monkeypatch.setattr(ingest.ingest_queries, "branch_size", lambda **_: 0)
    whole = outcome(db, example)
    assert read_whole == ["main", "main", "main"]
    assert {k: v for k, v in whole[0].items() if k not in ("report", "alert")} == {
        k: v for k, v in by_key[0].items() if k not in ("report", "alert")
    }
    assert whole[1:] == by_key[1:]


def _empty(database: Database) -> None:
    empty(database)


# Names a key must survive: non-ASCII, `::` inside a name, and tests spread over
# classes out of order (a shard's look-up hashes them apart from the first report's insert).
ODD = {
    ("swarm.tést_ü", "test_ñ[µ]"): "failed",
    ("swarm.a", "b::c"): "passed",
    ("swarm.b", "c"): "error",
    ("memory.z", "test_0"): "passed",
    ("memory.a", "test_0"): "skipped",
}


def test_tests_first_seen_are_known_by_key_with_their_results(
    db: Database, example: Sprint
) -> None:
    first = receive(db, example, report(ODD), "r1")
    # (The sprint's first report: its tests are the baseline's, failing ones no new failures.)
    assert (first["failed"], first["errors"], first["new_failures"]) == (1, 1, [])
    with db.read() as session:
        tests = {(t.classname, t.name): t for t in session.exec(select(KnownTest)).all()}
        results = {
            (tests_by_id.classname, tests_by_id.name): (r.status, r.previous_status, r.message)
            for r, tests_by_id in session.exec(
                select(TestResult, KnownTest).where(TestResult.test_id == KnownTest.id)
            ).all()
        }
    # known_test.key: blake2b of `classname::name` (the keys stored before stay found).
    assert {t.key for t in tests.values()} == {
        hashlib.blake2b(f"{c}::{n}".encode(), digest_size=16).hexdigest() for c, n in ODD
    }
    # Each new test that did not pass has its result, on the test it belongs to.
    assert results == {
        ("swarm.tést_ü", "test_ñ[µ]"): ("failed", None, "boom"),
        ("swarm.b", "c"): ("error", None, "crash"),
        ("memory.a", "test_0"): ("skipped", None, None),
    }

    # A shard of the same tests, looked up by key: known, so only the moves are told.
    shard = {key: ODD[key] for key in list(ODD)[:3]}
    shard[("swarm.tést_ü", "test_ñ[µ]")] = "passed"
    again = receive(db, example, report({**shard, **dict.fromkeys(SUITE, "passed")}), "r2")
    assert [r["id"] for r in again["fixed"]] == ["swarm.tést_ü::test_ñ[µ]"]
    assert again["new_failures"] == []


def test_new_tests_are_stored_in_the_order_of_their_keys_even_when_keys_nearly_tie() -> None:
    # SQLite gives new tests their ids in the staged order: a key out of order would put a
    # first report's results on the wrong tests. Keys sharing their first 8 bytes (rare by
    # chance) are ordered by all 16.
    rng = random.Random(3)  # noqa: S311 (test data, not secrets)
    keys = [bytes([7] * 8) + rng.randbytes(8) for _ in range(40)]
    keys += [bytes([7]) + rng.randbytes(15) for _ in range(40)]
    keys += [rng.randbytes(16) for _ in range(2000)]
    rng.shuffle(keys)
    order = ingest._key_order(bytearray(b"".join(keys)))
    assert [keys[j] for j in order] == sorted(keys)


# cargo-nextest names a test's binary `crate::bin` and the test `module::test`: `::` on
# both sides of the join.
TWINS = {("swarm.a", "b::c"): "failed", ("swarm.a::b", "c"): "passed"}


def test_tests_whose_joined_names_read_alike_are_two_tests(db: Database, example: Sprint) -> None:
    """Fault: the key hashed `classname::name`, the same text for both of TWINS: a report
    holding them could not be stored (two new tests, one key), and across reports one was
    taken for the other."""
    first = receive(db, example, report(TWINS), "r1")
    assert (first["tests"], first["failed"]) == (2, 1)
    with db.read() as session:
        keys = {(t.classname, t.name): t.key for t in session.exec(select(KnownTest)).all()}
    assert len(set(keys.values())) == 2
    # A classname without `::` keeps the key it had: its tests stay found after upgrading.
    old = hashlib.blake2b(b"swarm.a::b::c", digest_size=16).hexdigest()
    assert keys[("swarm.a", "b::c")] == old
    # Next run, both flip (a shard: looked up by key): one fixed, the other regressed.
    flipped = {("swarm.a::b", "c"): "failed", ("swarm.a", "b::c"): "passed"}
    again = receive(db, example, report(flipped), "r2")
    assert [r["id"] for r in again["fixed"]] == ["swarm.a::b::c"]
    assert [r["id"] for r in again["regressions"]] == ["swarm.a::b::c"]
    assert again["new_failures"] == []

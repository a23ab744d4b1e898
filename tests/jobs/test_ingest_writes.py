"""What ingestion writes, held against odd text, concurrency and failure: new tests copied
into known_test on PostgreSQL (staged by `n` on SQLite), the component map a process
keeps, and the quarantine look-ups by id against the joins they replaced."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, col, select

import storage.queries as queries_module
from jobs import components, figures, junit
from jobs import ingest as ingest_module
from jobs.classify import Components
from jobs.config import Sprint, validate_sprint
from storage.db import Database
from storage.models import (
    KnownTest,
    Quarantine,
    SprintRow,
    Team,
    TestReport,
    TestResult,
    TestStatus,
)
from storage.queries import bulk
from storage.queries import quarantine as store
from storage.scope import LEGACY, Scope
from tests.support.reports import NOW, receive, report
from tests.support.sprints import minimal


def _postgres(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"


def _suite(prefix: str, n: int, *, failing_every: int = 3) -> bytes:
    cases = []
    for i in range(n):
        attrs = f'classname="{prefix}.c{i % 7}" name="t{i}" file="tests/{prefix}/f{i % 7}.py"'
        if i % failing_every == 0:
            cases.append(f'<testcase {attrs}><failure message="m{prefix}{i}"/></testcase>')
        else:
            cases.append(f"<testcase {attrs}/>")
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


@pytest.fixture
def teams(db: Database) -> Iterator[tuple[Database, Database]]:
    """Team 1 (legacy) and team 2, each as a scoped database."""
    with db.session() as s:
        s.add(Team(id=2, slug="mobile", name="Mobile"))
        s.flush()
        s.add(SprintRow(id=3, team_id=2, name="B1", start=date(2025, 11, 3)))
        s.commit()
    yield db.scoped(LEGACY), db.scoped(Scope(team_id=2, sprint_id=3))


# -- the shared component map --------------------------------------------------------------


@pytest.fixture
def _cold() -> Iterator[None]:
    components.clear_shared()
    yield
    components.clear_shared()


def _sprint_with_globs(globs: list[str]) -> Sprint:
    raw = minimal()
    raw["components"][0]["tests"] = globs
    return validate_sprint(raw)


@pytest.mark.usefixtures("_cold")
def test_components_mapped_from_threads_at_once_are_those_of_a_cold_map() -> None:
    """Threads sharing one kept map (and a changed sprint in between) map every test as a
    map of their own would."""
    cases = "".join(
        f'<testcase classname="tests.{a}.c{i}" name="t" file="tests/{a}/f{i}.py"/>'
        for i in range(300)
        for a in ("core", "ui")
    )
    parsed = junit.parse(f'<testsuite name="s">{cases}</testsuite>'.encode())
    sprints = [_sprint_with_globs(["tests/core/**"]), _sprint_with_globs(["tests/ui/**"])]
    expected = []
    for sprint in sprints:
        components.clear_shared()
        found = Components(parsed, sprint=sprint)
        expected.append([found.names[c] for c in found.of])
    components.clear_shared()
    errors: list[str] = []

    def work(k: int) -> None:
        for j in range(20):
            which = (k + j) % 2
            found = Components(parsed, sprint=sprints[which])
            if [found.names[c] for c in found.of] != expected[which]:
                errors.append(f"thread {k} round {j}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# -- COPY's text format ----------------------------------------------------------------------

ALPHABET = ["a", "\\", "\t", "\n", "\r", "N", "\\N", ".", "\\.", "é", "😀", " ", "\x0b", "\x0c"]


def _random_texts(rng: random.Random, n: int) -> list[str | None]:
    out: list[str | None] = []
    for _ in range(n):
        pick = rng.random()
        if pick < 0.1:
            out.append(None)
        elif pick < 0.2:
            out.append("")
        else:
            out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8))))
    return out


def test_copy_text_format_reads_back_every_value_exactly(db: Database) -> None:
    """What `_copy_chunks` writes, PostgreSQL reads back as the very values (None as NULL,
    '' as '', backslashes, tabs, line ends, \\N and \\. as text), row for row in order."""
    if not _postgres(db):
        pytest.skip("COPY: PostgreSQL only")
    rng = random.Random(7)  # noqa: S311  (test data, not secrets)
    n = 3_000  # (several chunks, and repeated values: `_copy_texts` memo path too)
    columns = [_random_texts(rng, n), [rng.choice(["x", None, "\\", ""]) for _ in range(n)]]
    columns[0][0] = "\\."  # a line starting as COPY's end-of-data marker
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE t (n int, h text, a text, b text, z text)")
        head = "\t".join(bulk._copy_texts(["1", "h\\\t"]))
        tail = "\t".join(bulk._copy_texts(["z\n"]))
        with cur.copy("COPY t (n, h, a, b, z) FROM STDIN") as copy:
            for chunk in bulk._copy_chunks(columns, head=head, tail=tail, encoding="utf-8"):
                copy.write(chunk)
        # (No key column to order by: the rows are read back in the order copied, which a
        # fresh temp table's sequential scan gives.)
        rows = cur.execute("SELECT h, a, b, z FROM t").fetchall()
        raw.rollback()
    assert rows == [("h\\\t", a, b, "z\n") for a, b in zip(*columns, strict=True)]


def test_carriage_returns_and_escapes_in_a_report_are_stored_as_parsed(
    db: Database, example: Sprint
) -> None:
    """Stored exactly as the parser reads them (which trims names and normalises line ends
    in messages the same on either database)."""
    odd = ["cr&#13;x", "crlf&#13;&#10;y", "\\r", "\\&#13;z", "&#9;\\N&#9;z", "\\\\N", "\\."]
    cases = "".join(
        f'<testcase classname="k{o}" name="t{o}" file="f{o}"><failure message="m{o}"/></testcase>'
        for o in odd
    )
    doc = f'<testsuite name="s">{cases}</testsuite>'.encode()
    p = junit.parse(doc)
    expected = {
        (p.classnames[p.class_of[i]], p.name(i), p.files[p.file_of[i]], p.messages.get(i))
        for i in range(len(odd))
    }
    assert any("\r" in (v or "") for e in expected for v in e)  # (a CR reaches storage)
    receive(db, example, doc, "r1")
    with db.read() as session:
        stored = set(
            session.exec(
                select(KnownTest.classname, KnownTest.name, KnownTest.file, KnownTest.message)
            ).all()
        )
        results = sorted(session.exec(select(col(TestResult.message))).all(), key=str)
    assert stored == expected
    assert results == sorted((m for *_, m in expected), key=str)


def test_a_file_component_or_message_of_0_is_stored_apart_from_none(db: Database) -> None:
    """SQLite stages new tests with 0 standing for None (binding None is slow): a file, a
    component and a failure's message that are the text "0" are stored as "0", and a test
    with none of them as NULL, in known_test and in its result."""
    raw = minimal()
    raw["components"][0].update(name="0", tests=["0"])
    sprint = validate_sprint(raw)
    doc = (
        b'<testsuite name="s">'
        b'<testcase classname="k" name="zero" file="0"><failure message="0"/></testcase>'
        b'<testcase classname="k" name="none"><failure/></testcase>'
        b"</testsuite>"
    )
    receive(db, sprint, doc, "r1")
    with db.read() as session:
        stored = set(
            session.exec(
                select(KnownTest.name, KnownTest.file, KnownTest.component, KnownTest.message)
            ).all()
        )
        results = set(
            session.exec(
                sa_select(KnownTest.name, TestResult.message).join(
                    TestResult, col(TestResult.test_id) == KnownTest.id
                )
            ).all()
        )
    assert stored == {("zero", "0", "0", "0"), ("none", None, None, None)}
    assert results == {("zero", "0"), ("none", None)}


# -- concurrency and failure on the write ------------------------------------------------------


class _Stored(NamedTuple):
    tests: int
    failing_results: int
    mismatched: int  # results whose test is of another team, branch or report


def _stored(db: Database, team: int, branch: str, report_run: str) -> _Stored:
    with db.engine.connect() as conn:
        report = conn.execute(
            text("SELECT id FROM test_report WHERE team_id = :t AND run = :r"),
            {"t": team, "r": report_run},
        ).scalar_one()
        tests = conn.execute(
            text("SELECT count(*) FROM known_test WHERE team_id = :t AND branch = :b"),
            {"t": team, "b": branch},
        ).scalar_one()
        failing = conn.execute(
            text("SELECT count(*) FROM test_result WHERE report_id = :r"), {"r": report}
        ).scalar_one()
        mismatched = conn.execute(
            text(
                "SELECT count(*) FROM test_result r JOIN known_test k ON k.id = r.test_id "
                "WHERE r.report_id = :r AND (k.team_id <> :t OR k.branch <> :b "
                "OR k.last_report_id <> :r OR k.status <> r.status "
                "OR k.message IS DISTINCT FROM r.message)"
            ),
            {"r": report, "t": team, "b": branch},
        ).scalar_one()
    return _Stored(int(tests), int(failing), int(mismatched))


def _at_once(
    monkeypatch: pytest.MonkeyPatch,
    jobs: Sequence[tuple[Database, bytes, str, str]],
    sprint: Sprint,
) -> list[BaseException]:
    """The ingests run in threads, each held after its first COPY chunk (PostgreSQL) until
    all have begun copying: their rows' ids interleave."""
    barrier = threading.Barrier(len(jobs), timeout=20)
    chunks = bulk._copy_chunks

    def held(*args: Any, **kwargs: Any) -> Iterator[bytes]:
        for k, chunk in enumerate(chunks(*args, **kwargs)):
            yield chunk
            if k == 0:
                barrier.wait()

    monkeypatch.setattr(bulk, "_copy_chunks", held)
    errors: list[BaseException] = []

    def run(job: tuple[Database, bytes, str, str]) -> None:
        scoped, doc, run_name, branch = job
        try:
            receive(scoped, sprint, doc, run_name, branch)
        except BaseException as e:
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_two_teams_and_two_branches_copying_at_once_keep_their_own_tests_and_results(
    db: Database,
    example: Sprint,
    teams: tuple[Database, Database],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not _postgres(db):
        pytest.skip("concurrent writers: PostgreSQL")
    a, b = teams
    n = 3_000
    jobs = [
        (a, _suite("a", n), "ra", "main"),
        (b, _suite("b", n + 7), "rb", "main"),  # same branch name, other team
        (a, _suite("c", n + 11), "rc", "feature"),  # same team, other branch
    ]
    assert _at_once(monkeypatch, jobs, example) == []
    for (team, branch, run_name), size in [
        ((1, "main", "ra"), n),
        ((2, "main", "rb"), n + 7),
        ((1, "feature", "rc"), n + 11),
    ]:
        failing = len(range(0, size, 3))
        assert _stored(db, team, branch, run_name) == _Stored(size, failing, 0)
    with db.engine.connect() as conn:
        spans = conn.execute(
            text(
                "SELECT min(id), max(id) FROM known_test GROUP BY team_id, branch ORDER BY min(id)"
            )
        ).all()
        # (The scenario: the ids the three copies took interleave.)
        assert spans[0][1] > spans[1][0], spans
        dup = conn.execute(
            text("SELECT count(*) - count(DISTINCT test_id) FROM test_result")
        ).scalar_one()
    assert dup == 0


def test_the_same_branch_received_twice_at_once_is_as_one_after_the_other(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reports of one branch with overlapping new tests, both classified before either
    takes the lock: the second is classified again under it, and copies (or stages) only
    the tests the first did not add."""
    first, second = _suite("a", 2_000), _suite("a", 2_500)
    barrier = threading.Barrier(2, timeout=20)
    lock = queries_module.lock_branch
    classified: list[int] = []
    classify = ingest_module._Plan.classify

    def counted(self: Any, **kwargs: Any) -> None:
        classified.append(1)
        classify(self, **kwargs)

    def late_lock(**kwargs: Any) -> None:
        barrier.wait()  # (both read and classified the branch without the lock)
        lock(**kwargs)

    monkeypatch.setattr(queries_module, "lock_branch", late_lock)
    monkeypatch.setattr(ingest_module._Plan, "classify", counted)
    errors: list[BaseException] = []

    def run(doc: bytes, name: str) -> None:
        try:
            receive(db, example, doc, name)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=x) for x in ((first, "r1"), (second, "r2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.engine.connect() as conn:
        tests = conn.execute(text("SELECT count(*) FROM known_test")).scalar_one()
        results = conn.execute(
            text("SELECT count(*), count(DISTINCT test_id) FROM test_result")
        ).one()
    assert tests == 2_500
    assert len(classified) == 3  # each once without the lock, the second again under it
    # Every failing test has exactly one result (when it was first seen failing).
    assert tuple(results) == (len(range(0, 2_500, 3)), len(range(0, 2_500, 3)))


def test_an_ingest_failing_midway_through_the_copy_leaves_nothing(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _suite("a", 5_000)
    if _postgres(db):
        chunks = bulk._copy_chunks

        def broken(*args: Any, **kwargs: Any) -> Iterator[bytes]:
            for k, chunk in enumerate(chunks(*args, **kwargs)):
                if k == 2:
                    raise RuntimeError("lost midway")
                yield chunk

        monkeypatch.setattr(bulk, "_copy_chunks", broken)
    else:
        staged = bulk.insert_staged_tests

        def broken_insert(**kwargs: Any) -> None:
            staged(**kwargs)
            raise RuntimeError("lost midway")

        monkeypatch.setattr(bulk, "insert_staged_tests", broken_insert)
        monkeypatch.setattr(queries_module, "insert_staged_tests", broken_insert)
    with pytest.raises(RuntimeError, match="lost midway"):
        receive(db, example, doc, "r1")
    with db.engine.connect() as conn:
        for table in ("known_test", "test_result", "test_report"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0  # noqa: S608
    monkeypatch.undo()
    # The pool's connections still work: the same report goes in whole.
    reply = receive(db, example, doc, "r1")
    assert reply["unique_tests"] == 5_000
    assert _stored(db, 1, "main", "r1") == _Stored(5_000, len(range(0, 5_000, 3)), 0)
    with db.read() as session:  # the times copied as text read back as given (UTC)
        times = set(session.exec(select(KnownTest.first_seen_at, KnownTest.changed_at)).all())
    assert times == {(NOW, NOW)}


# -- quarantine look-ups: as the joins before 49d61c8 -----------------------------------------


def _old_open_quarantines(
    session: Session, branch: str | None, test_ids: Sequence[int] | None
) -> list[tuple[Quarantine, KnownTest]]:
    query = (
        select(Quarantine, KnownTest)
        .join(KnownTest, col(KnownTest.id) == col(Quarantine.test_id))
        .where(col(Quarantine.released_at).is_(None))
        .order_by(col(Quarantine.since), col(Quarantine.id))
    )
    if branch is not None:
        query = query.where(col(KnownTest.branch) == branch)
    if test_ids is None:
        return [(q, t) for q, t in session.exec(query).all()]
    return [
        (q, t) for q, t in session.exec(query.where(col(Quarantine.test_id).in_(test_ids))).all()
    ]


def _old_spans(session: Session, branch: str, until: datetime) -> list[tuple[Any, ...]]:
    """The join's spans, each ending at its release or its `until`, whichever came first."""
    rows = session.execute(
        sa_select(
            col(Quarantine.test_id),
            col(Quarantine.since),
            col(Quarantine.released_at),
            col(Quarantine.until),
        )
        .join(KnownTest, col(KnownTest.id) == col(Quarantine.test_id))
        .where(col(KnownTest.branch) == branch, col(Quarantine.since) < until)
    ).all()
    return [
        (int(t), s, min(x for x in (r, u) if x is not None) if r or u else None)
        for t, s, r, u in rows
    ]


def _old_states(session: Session, branch: str) -> list[tuple[str | None, str]]:
    rows = session.execute(
        sa_select(col(KnownTest.component), col(KnownTest.status))
        .join(Quarantine, col(Quarantine.test_id) == col(KnownTest.id))
        .where(col(Quarantine.released_at).is_(None), col(KnownTest.branch) == branch)
    ).all()
    return [(c, str(st)) for c, st in rows]


def _old_open_ids(session: Session, branch: str) -> set[int]:
    rows = session.execute(
        sa_select(col(Quarantine.test_id))
        .join(KnownTest, col(KnownTest.id) == col(Quarantine.test_id))
        .where(col(Quarantine.released_at).is_(None), col(KnownTest.branch) == branch)
    ).scalars()
    return {int(i) for i in rows}


T0 = datetime(2025, 10, 20, 9, tzinfo=UTC)


def _fill_quarantines(scoped: Database, team: int) -> None:
    """Tests on two branches, some quarantined now, some released, some both (released,
    then quarantined again), over a span of days."""
    with scoped.session() as s:
        report = TestReport(run=f"r{team}", at=T0, received_at=T0, digest=f"d{team}")
        s.add(report)
        s.flush()
        tests = []
        for i in range(24):
            t = KnownTest(
                branch="main" if i % 3 else "dev",
                key=f"{team:02d}{i:030d}",
                classname=f"c{i}",
                name=f"t{i}",
                component=["Core", None, "UI"][i % 3],
                status=list(TestStatus)[i % len(TestStatus)],
                first_seen_at=T0,
                changed_at=T0,
                last_report_id=report.id,
            )
            s.add(t)
            tests.append(t)
        s.flush()
        for i, t in enumerate(tests):
            assert t.id is not None
            since = T0 + timedelta(days=i % 5)
            if i % 4 in (1, 2):  # released
                s.add(
                    Quarantine(
                        test_id=t.id,
                        by="U1",
                        reason="r",
                        since=since,
                        until=since + timedelta(days=7),
                        released_at=since + timedelta(days=1),
                    )
                )
            if i % 4 in (2, 3):  # open (after a released one, for i % 4 == 2)
                s.add(
                    Quarantine(
                        test_id=t.id,
                        by="U1",
                        reason="r",
                        since=since + timedelta(days=2),
                        until=since + timedelta(days=9),
                    )
                )
        s.commit()


def _quarantine_views(session: Session) -> list[Any]:
    out: list[Any] = []
    ids = [i for i in session.exec(select(KnownTest.id)).all() if i is not None]
    for branch in ("main", "dev", "none"):
        new = store.open_quarantines(session=session, branch=branch)
        old = _old_open_quarantines(session, branch, None)
        out.append(([(q.id, t.id) for q, t in new], [(q.id, t.id) for q, t in old]))
        new = store.open_quarantines(session=session, branch=branch, test_ids=ids)
        old = _old_open_quarantines(session, branch, ids)
        out.append(([(q.id, t.id) for q, t in new], [(q.id, t.id) for q, t in old]))
        for days in (0, 1, 3, 10):
            until = T0 + timedelta(days=days, hours=1)
            new_spans = sorted(
                tuple(s)
                for s in store.quarantine_spans(session=session, branch=branch, until=until)
            )
            out.append((new_spans, sorted(_old_spans(session, branch, until))))
        out.append(
            (
                sorted(store.quarantined_states(session=session, branch=branch), key=str),
                sorted(_old_states(session, branch), key=str),
            )
        )
        out.append(
            (store.open_test_ids(session=session, branch=branch), _old_open_ids(session, branch))
        )
    new = store.open_quarantines(session=session)
    old = _old_open_quarantines(session, None, None)
    out.append(([(q.id, t.id) for q, t in new], [(q.id, t.id) for q, t in old]))
    return out


def test_quarantine_look_ups_find_what_the_joins_found_for_each_team_and_unscoped(
    db: Database, teams: tuple[Database, Database]
) -> None:
    a, b = teams
    _fill_quarantines(a, 1)
    _fill_quarantines(b, 2)
    for scoped in (a, b, db):
        with scoped.read() as session:
            views = _quarantine_views(session)
        assert all(new == old for new, old in views), [v for v in views if v[0] != v[1]]
        # (Not vacuous: each view found something for some branch.)
        assert any(new for new, _ in views)
    with a.read() as session:
        mine = store.open_test_ids(session=session, branch="main")
        theirs = _old_open_ids(session, "main")
        assert mine == theirs and mine  # the other team's quarantines are not among them
        owned = set(session.exec(select(KnownTest.id).where(KnownTest.team_id == 1)).all())
        assert mine <= owned


def test_a_test_moved_to_another_file_is_counted_in_its_new_file(
    db: Database, example: Sprint
) -> None:
    """Renamed or split test files: a test keeps its status and component but names another
    file, and the files' figures count the files the suite has now. A report that names no
    file, or names it another way (`\\`, `./`), moves nothing."""
    statuses = {"api/a": "passed", "api/b": "failed"}
    old = {"api/a": "tests/api/test_a.py", "api/b": "tests/api/test_b.py"}
    receive(db, example, report(statuses, files=old), "r1")
    moved = dict.fromkeys(statuses, "tests/api/test_ab.py")
    reply = receive(db, example, report(statuses, files=moved), "r2")
    assert (reply["regressions"], reply["fixed"], reply["new_failures"]) == ([], [], [])
    with db.read() as session:
        files = session.exec(select(KnownTest.name, KnownTest.file)).all()
        fig = figures.compute(session=session, sprint=example, at=NOW)
        changes = session.exec(select(TestResult.id)).all()
    assert sorted(files) == [("a", "tests/api/test_ab.py"), ("b", "tests/api/test_ab.py")]
    assert (fig.tests.test_files_passing, fig.tests.test_files) == (0, 1)
    assert len(changes) == 1  # b's first failure: a move is no status change
    unnamed = report(statuses).replace(b' file="tests/api/test_it.py"', b"")
    receive(db, example, unnamed, "r3")
    # Nor does one that spells the same file another way (a Windows runner of the matrix).
    for n, spelling in enumerate(("tests\\api\\test_ab.py", "./tests/api/test_ab.py")):
        receive(db, example, report(statuses, files=dict.fromkeys(statuses, spelling)), f"w{n}")
    with db.read() as session:
        assert sorted(session.exec(select(KnownTest.file)).all()) == ["tests/api/test_ab.py"] * 2

"""Two teams in one database never see nor touch each other's rows (issue 15, item 2): a
session of `Database.scoped(scope)` reads, updates, deletes and numbers its team's rows
only (its sprint's, for a sprint's rows), and stamps what it adds."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, func, insert, literal, union_all, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from jobs import blockers
from jobs.config import Sprint
from jobs.tracker import tracker_markdown
from storage import queries
from storage.db import Database
from storage.models import (
    Blocker,
    KnownTest,
    MetricSample,
    OutboxMessage,
    ReadyState,
    Risk,
    SprintRow,
    Standup,
    Team,
    TestStatus,
)
from storage.queries.teams import SprintDates
from storage.ready import FIGURES, bump, figures_name
from storage.scope import ALL_SPRINTS, LEGACY, Scope, ScopeError, column_rows

T0 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Two:
    """Team A (the legacy team 1) with two sprints, team B with one."""

    a: Database  # team A, its first sprint
    a2: Database  # team A, its second sprint
    b: Database  # team B, its sprint
    all: Database  # unscoped: every team


@pytest.fixture
def two(db: Database) -> Iterator[Two]:
    with db.session() as s:
        s.add(SprintRow(id=2, team_id=1, name="A2", start=date(2025, 11, 12)))
        s.add(Team(id=2, slug="mobile", name="Mobile"))
        s.flush()
        s.add(SprintRow(id=3, team_id=2, name="B1", start=date(2025, 11, 3)))
        s.commit()
    yield Two(
        a=db.scoped(LEGACY),
        a2=db.scoped(Scope(team_id=1, sprint_id=2)),
        b=db.scoped(Scope(team_id=2, sprint_id=3)),
        all=db,
    )


def _blocker(text: str, *, key: str | None = None, team_id: int | None = None) -> Blocker:
    b = Blocker(
        component="api",
        description=text,
        severity="P1",
        reported_by="U1",
        reported_at=T0,
        request_key=key,
    )
    if team_id is not None:
        b.team_id = team_id
    return b


def _risk(text: str) -> Risk:
    return Risk(
        description=text,
        impact="High",
        probability="Low",
        created_by="U1",
        created_at=T0,
        updated_at=T0,
    )


def _standup(user: str) -> Standup:
    return Standup(user_id=user, day=date(2025, 10, 31), sprint_day=3, created_at=T0, updated_at=T0)


def _file(database: Database, *texts: str) -> list[int]:
    with database.session() as s:
        rows = [queries.add_blocker(session=s, blocker=_blocker(t)) for t in texts]
        s.commit()
        return [int(r.id or 0) for r in rows]


def test_blocker_numbers_are_each_teams(two: Two) -> None:
    a1, a2 = _file(two.a, "a one", "a two")
    (b1,) = _file(two.b, "b one")
    with two.a.session() as s:
        r = queries.add_risk(session=s, risk=_risk("a risk"))
        s.commit()
    with two.b.session() as s:
        rb = queries.add_risk(session=s, risk=_risk("b risk"))
        s.commit()
    with two.all.read() as s:
        codes = {b.id: b.code for b in s.exec(select(Blocker))}
    assert codes == {a1: "B-001", a2: "B-002", b1: "B-001"}
    assert (r.code, rb.code) == ("R-001", "R-001")


def test_reads_see_the_teams_rows_only(two: Two) -> None:
    a1, a2 = _file(two.a, "a one", "a two")
    (b1,) = _file(two.b, "b one")
    with two.a.read() as s:
        assert [b.description for b in queries.open_blockers(session=s)] == ["a one", "a two"]
        assert queries.blocker_by_id(session=s, blocker_id=b1) is None  # B's, by its id
        assert s.get(Blocker, a1) is not None
        # A table named only in a FROM or a subquery is limited too.
        assert s.exec(select(func.count()).select_from(Blocker)).one() == 2
        assert s.exec(select(func.count()).where(Blocker.severity == "P1")).one() == 2
        ids = select(Blocker.id).subquery()
        assert s.exec(select(func.count()).select_from(ids)).one() == 2
    with two.b.read() as s:
        assert [b.description for b in queries.open_blockers(session=s)] == ["b one"]
        assert s.get(Blocker, a2) is None
        assert not queries.blocker_like(session=s, description="a one", reported_by="U1")
    with two.all.read() as s:  # unscoped: every team's
        assert len(s.exec(select(Blocker)).all()) == 3


def test_counts_and_newest_rows_are_the_teams(two: Two) -> None:
    """Queries that aggregate (a count, the newest row of a group) count the team's rows."""
    for database, status, score in ((two.a, TestStatus.FAILED, 40.0), (two.b, "passed", 90.0)):
        with database.session() as s:
            s.add(
                KnownTest(
                    branch="main",
                    key="k" * 32,
                    classname="tests.api",
                    name="test_login",
                    status=TestStatus(status),
                    first_seen_at=T0,
                    changed_at=T0,
                )
            )
            queries.add_manual_score(
                session=s, component="docs", score=score, previous=None, user_id="U1", at=T0
            )
            s.commit()
    with two.a.read() as s:
        assert queries.failing_count(session=s) == 1
        # B's score of the same component is newer: A's own is still A's current one.
        assert queries.latest_manual_scores(session=s) == {"docs": 40.0}
    with two.b.read() as s:
        assert queries.failing_count(session=s) == 0
        assert queries.latest_manual_scores(session=s) == {"docs": 90.0}


def test_update_and_delete_statements_touch_the_teams_rows_only(two: Two) -> None:
    _file(two.a, "a one", "a two")
    _file(two.b, "b one")
    with two.b.session() as s:
        changed = s.execute(update(Blocker).values(owner="U9"))
        assert changed.rowcount == 1  # type: ignore[attr-defined]
        s.commit()
    with two.a.session() as s:
        gone = s.execute(delete(Blocker).where(col(Blocker.owner).is_(None)))
        assert gone.rowcount == 2  # type: ignore[attr-defined]
        s.commit()
    with two.all.read() as s:
        left = s.exec(select(Blocker)).all()
    assert [(b.team_id, b.description, b.owner) for b in left] == [(2, "b one", "U9")]


def _known_test(name: str) -> KnownTest:
    return KnownTest(
        branch="main",
        key=name,
        classname="c",
        name=name,
        status="passed",
        first_seen_at=T0,
        changed_at=T0,
    )


def _add_tests(database: Database, *names: str) -> None:
    with database.session() as s:
        s.add_all(_known_test(name) for name in names)
        s.commit()


def test_a_core_statement_on_a_teams_tables_is_refused_not_run_for_every_team(
    two: Two,
) -> None:
    """The limit is SQLAlchemy's ORM criteria, which a statement of Table columns (Core)
    never gets: in team A's session it read team B's tests too. It is refused, saying what
    to write instead; the same statement unscoped, or with ORM attributes, runs."""
    _add_tests(two.a, "team 1")
    _add_tests(two.b, "team 2")
    core = sa_select(KnownTest.__table__.c.name).where(KnownTest.__table__.c.branch == "main")  # type: ignore[attr-defined]
    with two.a.read() as s, pytest.raises(ScopeError, match="known_test"):
        s.execute(core)
    with two.a.session() as s, pytest.raises(ScopeError):
        s.execute(update(KnownTest.__table__).values(status="failed"))  # type: ignore[arg-type]
    with two.a.read() as s:
        orm = sa_select(KnownTest.name).where(col(KnownTest.branch) == "main")
        assert s.execute(orm).scalars().all() == ["team 1"]
    with two.all.read() as s:  # unscoped: every team's, as asked
        assert sorted(s.execute(core).scalars()) == ["team 1", "team 2"]


def test_a_union_or_an_insert_from_a_select_of_a_teams_tables_is_refused(two: Two) -> None:
    """The ORM's criteria limit a SELECT, an UPDATE and a DELETE (and a UNION inside one),
    not a UNION run as it is nor the SELECT of an INSERT … SELECT: in team A's session the
    one read team B's tests too and the other copied them (found by review). Both are
    refused, saying what to write instead; nothing is written."""
    _add_tests(two.a, "team 1")
    _add_tests(two.b, "team 2")
    both = union_all(
        sa_select(KnownTest.name).where(col(KnownTest.branch) == "main"),
        sa_select(KnownTest.name).where(col(KnownTest.branch) == "release"),
    )
    with two.a.read() as s, pytest.raises(ScopeError, match="UNION of known_test"):
        s.execute(both)
    with two.a.read() as s:  # the same UNION as a subquery is limited
        assert s.execute(sa_select(both.subquery().c.name)).scalars().all() == ["team 1"]
    copy = insert(KnownTest).from_select(
        ["branch", "key", "classname", "name", "status", "first_seen_at", "changed_at"],
        sa_select(
            literal("copy"),
            KnownTest.key,
            KnownTest.classname,
            KnownTest.name,
            KnownTest.status,
            KnownTest.first_seen_at,
            KnownTest.changed_at,
        ),
    )
    with two.a.session() as s, pytest.raises(ScopeError, match="INSERT … SELECT of known_test"):
        s.execute(copy)
    with two.all.read() as s:
        assert s.exec(select(KnownTest.name).where(KnownTest.branch == "copy")).all() == []
        assert sorted(s.execute(both).scalars()) == ["team 1", "team 2"]  # unscoped: as asked


def test_column_rows_are_the_teams_as_the_sessions_own_reads_are(two: Two) -> None:
    """`column_rows` skips the ORM's loading of each row (the figures read a branch's
    tests with it), not the team's limit, nor what the session has yet to flush."""
    _add_tests(two.a, "a test")
    _add_tests(two.b, "b test")
    names = sa_select(KnownTest.name).where(col(KnownTest.branch) == "main")
    with two.a.session() as s:
        s.add(_known_test("a, not flushed yet"))
        assert sorted(column_rows(s, names).scalars()) == ["a test", "a, not flushed yet"]
        s.rollback()
    with two.b.read() as s:
        assert list(column_rows(s, names).scalars()) == ["b test"]
        core = sa_select(KnownTest.__table__.c.name)  # type: ignore[attr-defined]
        with pytest.raises(ScopeError):
            column_rows(s, core)
    with two.all.read() as s:
        assert sorted(column_rows(s, names).scalars()) == ["a test", "b test"]


def test_inserts_are_stamped_with_the_scope(two: Two) -> None:
    with two.b.session() as s:
        # Whatever the row says, a session of team B adds team B's rows.
        s.add(_blocker("claims team 1", team_id=1))
        s.add(_standup("U1"))
        # A Core insert takes the team from the scope the session is in.
        s.execute(insert(MetricSample).values(name="p95", value=1.0, at=T0, received_at=T0))
        s.commit()
    with two.all.read() as s:
        assert [b.team_id for b in s.exec(select(Blocker))] == [2]
        assert [(x.team_id, x.sprint_id) for x in s.exec(select(Standup))] == [(2, 3)]
        assert [m.team_id for m in s.exec(select(MetricSample))] == [2]
    with two.a.read() as s:
        assert s.exec(select(MetricSample)).all() == []


def test_sprint_rows_are_the_sprints_and_all_sprints_lifts_it(two: Two) -> None:
    for database, user in ((two.a, "U1"), (two.a2, "U2"), (two.b, "U3")):
        with database.session() as s:
            s.add(_standup(user))  # the same day in each: three sprints, no clash
            s.commit()
    with two.a.read() as s:
        assert [x.user_id for x in s.exec(select(Standup))] == ["U1"]
        every = s.exec(select(Standup).execution_options(**{ALL_SPRINTS: True})).all()
        assert sorted(x.user_id for x in every) == ["U1", "U2"]  # never team B's
        # ... given to `exec` instead of the statement:
        every = s.exec(select(Standup), execution_options={ALL_SPRINTS: True}).all()
        assert len(every) == 2
        # ... and by `column_rows`, as by the session's own reads.
        users = sa_select(Standup.user_id)
        assert list(column_rows(s, users).scalars()) == ["U1"]
        every_sprint = users.execution_options(**{ALL_SPRINTS: True})
        assert sorted(column_rows(s, every_sprint).scalars()) == ["U1", "U2"]
    with two.a2.read() as s:
        assert [x.user_id for x in s.exec(select(Standup))] == ["U2"]
    with two.b.read() as s:
        assert [x.user_id for x in s.exec(select(Standup))] == ["U3"]


def test_request_keys_are_each_teams(two: Two) -> None:
    """The same command sent to two teams files a blocker in each; sent again to one, it
    finds that team's."""
    with two.a.session() as s:
        a = queries.add_blocker(session=s, blocker=_blocker("down", key="blocker-cmd:U1:x"))
        s.commit()
    with two.b.session() as s:
        b = queries.add_blocker(session=s, blocker=_blocker("down", key="blocker-cmd:U1:x"))
        s.commit()
    assert a.id != b.id
    assert (a.team_id, b.team_id) == (1, 2)
    with two.b.session() as s:
        again = queries.add_blocker(session=s, blocker=_blocker("down", key="blocker-cmd:U1:x"))
        assert again.id == b.id
        s.commit()
    with two.all.read() as s:
        assert len(s.exec(select(Blocker)).all()) == 2


def test_outbox_keys_are_each_teams(two: Two) -> None:
    for database, text in ((two.a, "A's report"), (two.b, "B's report")):
        with database.session() as s:
            row = queries.enqueue(
                session=s,
                key="daily:2025-10-31",
                method="chat.postMessage",
                payload={"channel": "C1", "text": text},
                now=T0,
            )
            assert row is not None  # the other team's message of the same key is apart
            # The same key again in the same team is not a second message.
            assert (
                queries.enqueue(session=s, key="daily:2025-10-31", method="m", payload={}, now=T0)
                is None
            )
            s.commit()
    with two.all.read() as s:
        keys = sorted(m.key for m in s.exec(select(OutboxMessage)))
    assert keys == ["daily:2025-10-31", "t2:daily:2025-10-31"]
    for database, text in ((two.a, "A's report"), (two.b, "B's report")):
        with database.read() as s:
            found = queries.outbox_message(session=s, key="daily:2025-10-31")
            assert found is not None
            assert found.payload["text"] == text
            latest = queries.latest_message(session=s, key_prefix="daily:")
            assert latest is not None
            assert latest.payload["text"] == text


def test_figures_are_each_teams_and_sprints(two: Two) -> None:
    names = {}
    for label, database in (("a", two.a), ("a2", two.a2), ("b", two.b), ("all", two.all)):
        with database.session() as s:
            names[label] = figures_name(s)
            bump(session=s)
            s.commit()
    assert names == {"a": FIGURES, "a2": "figures:1:2", "b": "figures:2:3", "all": FIGURES}

    def generations() -> dict[str, int]:
        with two.all.read() as s:
            return {r.name: r.generation for r in s.exec(select(ReadyState))}

    # A team's write moves each of its sprints' figures (they read the team's rows), and
    # no other team's; an unscoped one moves every team's.
    assert generations() == {FIGURES: 3, "figures:1:2": 3, "figures:2:3": 2}
    with two.b.session() as s:
        bump(session=s)
        s.commit()
    assert generations() == {FIGURES: 3, "figures:1:2": 3, "figures:2:3": 3}
    with two.a2.session() as s:
        bump(session=s)
        s.commit()
    assert generations() == {FIGURES: 4, "figures:1:2": 4, "figures:2:3": 3}


SPRINTS = [
    SprintDates("Phase 4", date(2025, 10, 29), date(2025, 11, 11)),
    SprintDates("Phase 5", date(2025, 11, 12), date(2025, 11, 25)),
]


def _sync(db: Database, sprints: list[SprintDates], *, slug: str = "platform") -> dict[date, int]:
    with db.session() as s:
        rows = queries.sync_team(
            session=s,
            slug=slug,
            name=slug.title(),
            sprints=sprints,
            adopt=queries.legacy_team_free(session=s),
            now=T0,
        )
        s.commit()
    return rows.sprints


def test_sync_team_is_idempotent_and_a_renamed_sprint_keeps_its_row(db: Database) -> None:
    first = _sync(db, SPRINTS)
    assert first == {date(2025, 10, 29): 1, date(2025, 11, 12): 2}  # adopted team 1's sprint 1
    assert _sync(db, SPRINTS) == first
    renamed = [SprintDates("Phase 4: readiness", SPRINTS[0].start, date(2025, 11, 12))]
    assert _sync(db, [*renamed, SPRINTS[1]]) == first
    mobile = _sync(db, [SprintDates("M1", date(2025, 11, 3), date(2025, 11, 14))], slug="mobile")
    assert mobile == {date(2025, 11, 3): 3}  # a second team adopts nothing
    with db.read() as s:
        teams = [(t.id, t.slug) for t in s.exec(select(Team).order_by(col(Team.id)))]
        sprints = s.exec(select(SprintRow).order_by(col(SprintRow.id))).all()
    assert teams == [(1, "platform"), (2, "mobile")]
    assert [(r.id, r.team_id, r.name) for r in sprints] == [
        (1, 1, "Phase 4: readiness"),
        (2, 1, "Phase 5"),
        (3, 2, "M1"),
    ]


def _in_thread(
    database: Database, row: Blocker | Standup
) -> tuple[threading.Thread, dict[str, object]]:
    """Add a blocker (or a standup) from another thread: its own session and transaction."""
    got: dict[str, object] = {}

    def run() -> None:
        try:
            with database.session() as s:
                if isinstance(row, Blocker):
                    got["code"] = queries.add_blocker(session=s, blocker=row).code
                else:
                    s.add(row)
                s.commit()
                got["done"] = True
        except BaseException as exc:  # reported by the caller's assert
            got["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, got


def test_two_filings_at_once_in_one_team_take_the_next_numbers(two: Two) -> None:
    """The second waits for the first to commit, then takes the next number (not a clash
    of two B-001s, refused by the database)."""
    postgresql = two.all.engine.dialect.name == "postgresql"
    with two.a.session() as s:
        first = queries.add_blocker(session=s, blocker=_blocker("first"))
        s.flush()
        same_team, same = _in_thread(two.a, _blocker("second"))
        if postgresql:
            # Nothing else waits for the team's next number: another team's filing, nor
            # a row of the same team (SQLite's writers wait for one another anyway).
            other_team, other = _in_thread(two.b, _blocker("B's"))
            standup_thread, standup = _in_thread(two.a, _standup("U1"))
            other_team.join(10)
            standup_thread.join(10)
            assert other == {"code": "B-001", "done": True}
            assert standup == {"done": True}
        time.sleep(0.3)
        assert same_team.is_alive()  # waiting for the first
        s.commit()
        assert first.code == "B-001"
    same_team.join(30)
    assert same == {"code": "B-002", "done": True}


def test_many_filings_at_once_number_one_after_another(two: Two) -> None:
    start = threading.Barrier(6)
    results: list[dict[str, object]] = []

    def run(n: int) -> None:
        start.wait(10)
        thread, got = _in_thread(two.a, _blocker(f"blocker {n}"))
        thread.join(60)
        results.append(got)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert [r for r in results if "error" in r] == []
    assert sorted(str(r["code"]) for r in results) == [f"B-00{n}" for n in range(1, 7)]


def test_the_audit_trail_and_the_tracker_history_are_the_teams(two: Two, example: Sprint) -> None:
    """Team B's tracker lists team B's blocker as B-001 (its number, not its row id 2),
    and none of team A's."""
    now = datetime(2025, 10, 31, 15, 0, tzinfo=UTC)
    for database, text in ((two.a, "A's outage"), (two.b, "B's outage")):
        with database.session() as s:
            blockers.file_blocker(
                session=s,
                sprint=example,
                component=example.components[0].name,
                description=text,
                severity="P1",
                reporter="U1",
                now=T0,
            )
            s.commit()
    with two.b.read() as s:
        events = queries.events(session=s)
        assert {(e.subject, e.subject_id, e.team_id) for e in events} == {("blocker", 2, 2)}
    with two.b.session() as s:
        history = [
            line
            for line in tracker_markdown(session=s, sprint=example, now=now).splitlines()
            if "created" in line
        ]
    assert len(history) == 1
    assert "B-001 created" in history[0]

"""The figures kept ready: built once per change, shared through the database, rebuilt
when a write commits (here or in another process) and when time alone moves a figure."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.context import Contexts
from jobs import figures
from jobs import ready as ready_module
from jobs.config import Sprint, load_org
from jobs.readiness import set_manual_score
from jobs.ready import Ready, Refresher, valid_until
from jobs.teams import Teams
from storage import ready as stored
from storage.db import Database
from storage.models import Blocker, JobRun, ManualScore, OutboxMessage
from storage.queries._common import insert_unless_taken
from tests.jobs.test_history import TEAM
from tests.support.fakeslack import FakeSlack
from tests.support.server import make_settings

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)  # day 3 of the example sprint, 10:00 New York
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def settled(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every Ready of a test has stored its builds before the next test empties the tables."""
    made: list[Ready] = []
    real_init = Ready.__init__

    def init(self: Ready, **kwargs: Any) -> None:
        real_init(self, **kwargs)
        made.append(self)

    monkeypatch.setattr(Ready, "__init__", init)
    yield
    for ready in made:
        ready.settle()


def generation(db: Database) -> int:
    with db.read() as session:
        return stored.version(session=session).generation


def p0(reported_at: datetime) -> Blocker:
    return Blocker(
        component="Swarm Coordination",
        description="the swarm deadlocks",
        severity="P0",
        reported_by="U0DEV",
        reported_at=reported_at,
    )


def stored_build(db: Database, want: int) -> None:
    """Wait for the background store of a build of generation `want`."""
    deadline = time.monotonic() + 10
    while True:
        with db.read() as session:
            if stored.version(session=session).built == want:
                return
        assert time.monotonic() < deadline, "the build was never stored"
        time.sleep(0.01)


def test_a_watched_write_bumps_the_generation_other_writes_and_rollbacks_do_not(
    db: Database,
) -> None:
    before = generation(db)
    with db.session() as session:
        session.add(JobRun(job="daily-report", slot="2025-10-31", started_at=NOW))
        session.add(
            OutboxMessage(key="k", method="chat.postMessage", created_at=NOW, next_attempt_at=NOW)
        )
        session.commit()
    assert generation(db) == before
    with db.session() as session:
        session.add(p0(NOW))
        session.rollback()
    assert generation(db) == before
    with db.session() as session:
        session.add(p0(NOW))
        session.commit()
    assert generation(db) == before + 1
    # A Core statement through the session counts as well as an ORM object.
    with db.session() as session:
        from sqlalchemy import update

        session.execute(update(Blocker).values(severity="P1"))
        session.commit()
    assert generation(db) == before + 2


def test_a_savepoint_rolled_back_after_a_watched_write_keeps_its_bump(db: Database) -> None:
    """A key already taken (a double click, another process's claim) rolls back a savepoint
    only: the watched write flushed before it still commits, and still counts."""
    with db.session() as session:
        session.add(JobRun(job="daily-report", slot="2025-10-31", started_at=NOW))
        session.commit()
    before = generation(db)
    with db.session() as session:
        session.add(p0(NOW))
        taken = JobRun(job="daily-report", slot="2025-10-31", started_at=NOW)
        assert not insert_unless_taken(session, taken)
        session.commit()
    with db.read() as session:
        assert len(session.exec(select(Blocker)).all()) == 1
    assert generation(db) == before + 1


def test_built_once_until_a_write_then_the_answer_has_the_write(
    db: Database, example: Sprint
) -> None:
    ready = Ready(db=db, sprint=example)
    first = ready.figures(NOW)
    again = ready.figures(NOW + timedelta(minutes=5))
    assert ready.builds == 1
    assert again.at == NOW + timedelta(minutes=5)  # the instant asked for, not the build's
    assert again.score == first.score
    with db.session() as session:
        set_manual_score(
            session=session,
            sprint=example,
            component="User Guides",
            score=90,
            user_id="U0TECHLEAD",
            now=NOW,
        )
        session.commit()
    after = ready.figures(NOW + timedelta(minutes=6))
    assert ready.builds == 2
    guides = next(c for c in after.breakdown.components if c.name == "User Guides")
    assert guides.score == 90
    assert after.score is not None and first.score is not None and after.score > first.score


def test_another_process_loads_the_stored_build_instead_of_computing(
    db: Database, example: Sprint
) -> None:
    web = Ready(db=db, sprint=example)
    built = web.figures(NOW)
    stored_build(db, generation(db))
    clock = Ready(db=db, sprint=example)  # a second process starting up
    loaded = clock.figures(NOW + timedelta(seconds=1))
    assert clock.builds == 0
    assert loaded.as_dict() | {"at": None} == built.as_dict() | {"at": None}


def test_a_build_of_another_sprint_file_is_not_used(db: Database, example: Sprint) -> None:
    Ready(db=db, sprint=example).figures(NOW)
    stored_build(db, generation(db))
    other = example.model_copy(
        update={"targets": example.targets.model_copy(update={"readiness": 90.0})}
    )
    ready = Ready(db=db, sprint=other)
    assert ready.figures(NOW).target == 90.0
    assert ready.builds == 1


def test_a_write_by_another_process_is_seen_within_max_lag(db: Database, example: Sprint) -> None:
    ready = Ready(db=db, sprint=example, max_lag=0.05)
    before = ready.figures(NOW)
    # Another process's commit: a new manual score and its bump, not through this process.
    with db.engine.begin() as conn:
        conn.execute(
            ManualScore.__table__.insert().values(  # type: ignore[attr-defined]
                component="User Guides", score=95, set_by="U0TECHLEAD", set_at=NOW
            )
        )
        stored.bump(session=Session(bind=conn))  # a plain session: no local count
    time.sleep(0.06)
    after = ready.figures(NOW + timedelta(seconds=1))
    assert ready.builds == 2
    assert after.score != before.score


def test_the_day_turns_at_local_midnight_without_a_write(db: Database, example: Sprint) -> None:
    ready = Ready(db=db, sprint=example)
    late = datetime(2025, 11, 1, 3, 59, tzinfo=UTC)  # 23:59 in New York, day 3
    assert ready.figures(late).day == 3
    assert valid_until(ready.figures(late)) == datetime(2025, 11, 1, 4, 0, tzinfo=UTC)
    assert ready.figures(late + timedelta(minutes=2)).day == 4
    assert ready.builds == 2


def test_an_ended_sprints_figures_hold_until_a_write(db: Database, example: Sprint) -> None:
    """Its figures are its final ones (as of its end): no time makes them change, so days
    after the end one build answers until a write."""
    after = figures.end_instant(example.sprint) + timedelta(days=3)
    ready = Ready(db=db, sprint=example)
    for minutes in (0, 1, 60 * 24):
        ready.figures(after + timedelta(minutes=minutes))
    assert ready.builds == 1


def test_a_p0_s_age_moves_health_and_its_reason_without_a_write(
    db: Database, example: Sprint
) -> None:
    day1 = NOW - timedelta(days=2)  # on plan: only the P0 can make it At Risk
    with db.session() as session:
        session.add(p0(day1 - timedelta(hours=23, minutes=30)))
        session.commit()
    ready = Ready(db=db, sprint=example)
    assert "P0" not in ready.figures(day1).health_reason
    later = ready.figures(day1 + timedelta(minutes=31))
    assert "P0 B-001 open for 24 h" in later.health_reason
    assert str(later.health) == "At Risk"
    hour_on = ready.figures(day1 + timedelta(hours=1, minutes=31))
    assert "P0 B-001 open for 25 h" in hour_on.health_reason
    assert ready.builds == 3


def test_the_figures_are_those_computed_from_history(db: Database, example: Sprint) -> None:
    with db.session() as session:
        session.add(p0(NOW - timedelta(hours=30)))
        session.commit()
    at = NOW + timedelta(hours=2)
    ready = Ready(db=db, sprint=example)
    ready.figures(NOW)
    with db.read() as session:
        computed = figures.compute(session=session, sprint=example, at=at)
    assert ready.figures(at).as_dict() == computed.as_dict()


def looks(ready: Ready, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the refresher's thread has looked at `ready`'s figures, so far."""
    count = [0]
    real = ready.refresh

    def counted(
        now: datetime, version: stored.Version | None = None, *, local: int | None = None
    ) -> None:
        if threading.current_thread().name == "ready-figures":
            count[0] += 1
        real(now, version, local=local)

    monkeypatch.setattr(ready, "refresh", counted)
    return count


def test_the_refresher_rebuilds_after_a_write_before_anyone_asks(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = Ready(db=db, sprint=example)
    refresher = Refresher(ready, now=lambda: NOW)
    looked = looks(ready, monkeypatch)
    refresher.start()
    try:
        deadline = time.monotonic() + 10
        while ready.builds < 1:
            assert time.monotonic() < deadline, "never built"
            time.sleep(0.01)
        with db.session() as session:
            session.add(p0(NOW - timedelta(hours=1)))
            session.commit()
        while ready.builds < 2:
            assert time.monotonic() < deadline, "the write was never built in"
            time.sleep(0.01)
        # The refresher looks twice more: a second build for the one write would be done by
        # then, and counted below.
        built_in = looked[0]
        while looked[0] < built_in + 2:
            assert time.monotonic() < deadline, "the refresher stopped looking"
            time.sleep(0.01)
        assert ready.fresh(NOW)  # the next answer reads nothing
        assert ready.figures(NOW).blocker_counts()["P0"] == 1
        assert ready.builds == 2
    finally:
        refresher.stop()


def _every_sprints_ready(db: Database) -> list[Ready]:
    """A Ready for each sprint of the example teams (Core Platform's two, Mobile's one)."""
    teams = Teams.sync(load_org(ROOT / "examples" / "teams"), db=db, now=NOW)
    return [
        Ready(db=db.scoped(teams.scope(team, sprint)), sprint=sprint)
        for team in teams.all
        for sprint in team.sprints
    ]


class Monotonic:
    """`jobs.ready`'s clock of seconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def seconds(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    clock = Monotonic()
    monkeypatch.setattr(ready_module, "time", clock)
    return clock


@pytest.mark.parametrize("how_many", [1, 3], ids=["one team", "three teams"])
def test_a_look_keeps_every_team_s_figures_fresh_until_the_next(
    db: Database, seconds: Monotonic, how_many: int
) -> None:
    """The refresher looks every half lag (0.125 s), however many teams: each look confirms
    every team's figures as of then, so answers find them fresh while the refresher runs,
    even with its looks a little late. It used to confirm only figures already a whole
    lag old (as answers do), so those a look found younger went stale before the next
    (under load 4 to 11 % of the answers, each then reading for itself in a worker thread:
    the acknowledgements' p99); and with several teams it looked at each less often (with
    three, every 0.375 s)."""
    readies = _every_sprints_ready(db)[:how_many]
    refresher = Refresher(lambda: readies, now=lambda: NOW)
    for ready in readies:
        ready.figures(NOW)
    assert refresher.interval(readies) == 0.125
    for _ in range(4):  # each look 0.2 s after the last: 0.075 s late
        seconds.now += 0.2
        assert all(r.fresh(NOW) for r in readies)
        refresher.look()
    seconds.now += 0.249
    assert all(r.fresh(NOW) for r in readies)
    seconds.now += 0.001  # a whole lag after the last look: an answer reads for itself
    assert not any(r.fresh(NOW) for r in readies)


def test_a_look_reads_every_team_s_generation_in_one_statement(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    readies = _every_sprints_ready(db)
    for ready in readies:
        ready.figures(NOW)
    reads: list[str] = []
    one, every = stored.version, stored.versions

    def version(**kwargs: Any) -> stored.Version:
        reads.append("one")
        return one(**kwargs)

    def versions(**kwargs: Any) -> dict[str, stored.Version]:
        reads.append("every")
        return every(**kwargs)

    monkeypatch.setattr(stored, "version", version)
    monkeypatch.setattr(stored, "versions", versions)
    Refresher(lambda: readies, now=lambda: NOW).look()
    assert reads == ["every"]
    assert all(r.fresh(NOW) for r in readies)


def test_the_next_look_is_due_an_interval_after_this_one_began(
    db: Database, example: Sprint, seconds: Monotonic
) -> None:
    """A look and the collection after a build take time (~0.1 s each): the wait after them
    is what is left of the interval, so that looks stay an interval apart; a look longer
    than the interval is followed by a tenth of one, not by none."""
    readies = [Ready(db=db, sprint=example)]
    refresher = Refresher(lambda: readies, now=lambda: NOW)
    began = seconds.now
    seconds.now += 0.1
    assert refresher.next_wait(readies, began=began) == pytest.approx(0.025)
    seconds.now += 0.5
    assert refresher.next_wait(readies, began=began) == pytest.approx(0.0125)


def test_another_process_s_write_for_one_team_rebuilds_that_team_s_figures_alone(
    db: Database,
) -> None:
    """Another process commits a write of one team (its generation moves in the database,
    nothing in this process): the refresher, reading every team's generation at once,
    rebuilds that team's figures and no other's."""
    readies = _every_sprints_ready(db)
    refresher = Refresher(lambda: readies, now=lambda: NOW)
    for ready in readies:
        ready.figures(NOW)
        ready.settle()  # its build stored (its ready_state row made)
    builds = [r.builds for r in readies]
    refresher.start()
    try:
        with db.engine.begin() as conn:  # (Core: no session of this process notices it)
            moved = conn.execute(
                text("UPDATE ready_state SET generation = generation + 1 WHERE name = :n"),
                {"n": readies[2].state_name},
            )
            assert moved.rowcount == 1
        deadline = time.monotonic() + 10
        while readies[2].builds == builds[2]:
            assert time.monotonic() < deadline, "the write was never seen"
            time.sleep(0.01)
        time.sleep(0.3)  # a few more looks
    finally:
        refresher.stop()
    assert [r.builds for r in readies] == [builds[0], builds[1], builds[2] + 1]
    assert all(r.fresh(NOW) for r in readies)


def test_a_look_with_generations_read_before_a_write_here_does_not_hide_it(
    db: Database, example: Sprint
) -> None:
    """The refresher reads every team's generation, then looks at each team in turn: a
    write committed in this process in between must still be in the next answer (the look
    took its generation from before the write, so it may not count the write as seen)."""
    ready = Ready(db=db, sprint=example)
    assert ready.figures(NOW).blocker_counts()["P0"] == 0
    seen = stored.local_commits.count
    with db.read() as session:
        before = stored.version(session=session)
    with db.session() as session:  # meanwhile, a request files a P0
        session.add(p0(NOW - timedelta(hours=1)))
        session.commit()
    ready.refresh(NOW, before, local=seen)
    assert ready.figures(NOW).blocker_counts()["P0"] == 1


def test_a_look_with_a_generation_older_than_the_figures_does_not_put_older_ones_back(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresher reads the generations, then looks at each team in turn; meanwhile an
    answer can find another process's write and build the newer figures. The look then
    found its older generation's build still stored (the newer one was being stored) and
    put it back: answers showed the P0 gone again until the next look (found by review)."""
    ready = Ready(db=db, sprint=example, max_lag=0.05)
    assert ready.figures(NOW).blocker_counts()["P0"] == 0
    stored_build(db, generation(db))
    seen = stored.local_commits.count
    with db.read() as session:
        before = stored.version(session=session)  # the look's read
    with db.engine.begin() as conn:  # another process files a P0
        conn.execute(
            Blocker.__table__.insert().values(  # type: ignore[attr-defined]
                **p0(NOW - timedelta(hours=1)).model_dump(exclude={"id"})
            )
        )
        stored.bump(session=Session(bind=conn))  # a plain session: no local count
    release = threading.Event()
    store = ready._store
    monkeypatch.setattr(ready, "_store", lambda *a: release.wait(10) and store(*a))
    try:
        time.sleep(0.06)
        assert ready.figures(NOW).blocker_counts()["P0"] == 1  # an answer builds anew
        ready.refresh(NOW, before, local=seen)  # the look ends, its build still stored
        assert ready.figures(NOW).blocker_counts()["P0"] == 1
    finally:
        release.set()


def test_prime_has_the_first_figures_built_and_stored_when_it_returns(
    db: Database, example: Sprint
) -> None:
    """A process builds its first figures before it starts its other threads: they are
    there, stored for the other processes, the moment `prime` returns."""
    with db.session() as session:
        session.add(p0(NOW - timedelta(hours=1)))
        session.commit()
    ready = Ready(db=db, sprint=example)
    Refresher(ready, now=lambda: NOW).prime()
    assert ready.builds == 1 and ready.fresh(NOW)
    with db.read() as session:
        version = stored.version(session=session)
    assert version.built == version.generation  # no waiting for a background store
    other = Ready(db=db, sprint=example)  # another process: loads, does not compute
    assert other.figures(NOW).blocker_counts()["P0"] == 1
    assert other.builds == 0


def test_a_failed_first_build_does_not_stop_the_start(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ready = Ready(db=db, sprint=example)

    def unreachable(**_: Any) -> figures.Figures:
        raise OSError("the database went away")

    with monkeypatch.context() as m:
        m.setattr(figures, "compute", unreachable)
        Refresher(ready, now=lambda: NOW).prime()
    assert ready.builds == 0
    assert "could not build the figures at start" in caplog.text
    assert ready.figures(NOW).blocker_counts()["P0"] == 0  # the next look builds them


def test_a_build_that_waited_for_another_has_every_write_its_generation_counts(
    db: Database, example: Sprint
) -> None:
    """A request takes its `now`, waits while another build runs, and meanwhile a blocker
    filed a second later commits: the build it then makes counts that write's generation,
    so it must hold the blocker too (it is of the clock's instant, not of the old `now`)."""
    clock = {"now": NOW}
    ready = Ready(db=db, sprint=example, clock=lambda: clock["now"])
    ready.figures(NOW - timedelta(minutes=1))
    ready.settle()
    holding, release = threading.Event(), threading.Event()

    def slow_build() -> None:  # another thread's build, as long as this test needs
        with ready._build:
            holding.set()
            release.wait(5)

    other = threading.Thread(target=slow_build)
    other.start()
    holding.wait(5)
    with db.session() as session:  # a write: this process's copy is stale
        session.add(p0(NOW - timedelta(seconds=30)))
        session.commit()
    answered: list[figures.Figures] = []
    request = threading.Thread(target=lambda: answered.append(ready.figures(NOW)))
    request.start()
    time.sleep(0.2)  # the request waits for the build lock
    clock["now"] = NOW + timedelta(seconds=1)
    with db.session() as session:
        session.add(
            Blocker(
                component="Memory Management",
                description="eviction stalls",
                severity="P1",
                reported_by="U0DEV",
                reported_at=clock["now"],
            )
        )
        session.commit()
    clock["now"] = NOW + timedelta(seconds=2)
    release.set()
    other.join(5)
    request.join(10)
    ready.settle()
    later = NOW + timedelta(minutes=10)
    with db.read() as session:
        truth = figures.compute(session=session, sprint=example, at=later)
    assert len(truth.blockers) == 2
    # What this process answers from now on, and what it stored for the others.
    assert ready.fresh(later)
    assert [b.code for b in ready.figures(later).blockers] == [b.code for b in truth.blockers]
    assert [b.code for b in answered[0].blockers] == [b.code for b in truth.blockers]
    loaded = Ready(db=db, sprint=example).figures(later)
    assert [b.code for b in loaded.blockers] == [b.code for b in truth.blockers]


def test_a_write_of_the_sprint_that_just_ended_refreshes_the_next_ones_figures(
    tmp_path: Path, db: Database, fake_slack: FakeSlack, database_url: str
) -> None:
    """A team's rows are every one of its sprints' figures' input: a write scoped to the
    sprint that ended at midnight (a request begun before it) refreshes the next sprint's
    figures too, in every process."""
    (tmp_path / "core.toml").write_text(TEAM)
    clock = {"now": datetime(2025, 11, 2, 22, 59, 50, tzinfo=UTC)}  # A's last day, 23:59:50
    teams = Teams.sync(load_org(tmp_path), db=db, now=clock["now"])
    settings = make_settings(fake_slack, database_url)

    def contexts_now() -> Contexts:  # a process's
        return Contexts(
            settings, teams=teams, db=db, now=lambda: clock["now"], notify_outbox=lambda: None
        )

    contexts = contexts_now()
    team = teams.first
    begun = contexts.for_team(team)
    assert begun.sprint.sprint.name == "Sprint A"
    clock["now"] = datetime(2025, 11, 2, 23, 0, 5, tzinfo=UTC)  # B's first day, 00:00:05
    served = contexts.for_team(team)
    assert served.sprint.sprint.name == "Sprint B"
    assert served.ready.figures(clock["now"]).blockers == []
    with begun.write() as session:
        session.add(p0(datetime(2025, 11, 2, 22, 59, 50, tzinfo=UTC)))
    clock["now"] = datetime(2025, 11, 3, 12, tzinfo=UTC)
    answer = contexts.for_team(team).ready.figures(clock["now"])
    assert [b.severity for b in answer.blockers] == ["P0"]
    # Another process, starting now, reads the same.
    elsewhere = contexts_now().for_team(team)
    assert [b.severity for b in elsewhere.ready.figures(clock["now"]).blockers] == ["P0"]


def _org_contexts(db: Database, fake_slack: FakeSlack, database_url: str) -> Contexts:
    """A process's contexts of the example org's two teams, at NOW."""
    teams = Teams.sync(load_org(ROOT / "examples" / "teams"), db=db, now=NOW)
    settings = make_settings(fake_slack, database_url)
    return Contexts(settings, teams=teams, db=db, now=lambda: NOW, notify_outbox=lambda: None)


def test_a_request_in_an_org_asks_each_team_s_figures_only_once_something_moved(
    db: Database,
    fake_slack: FakeSlack,
    database_url: str,
    seconds: Monotonic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every Slack request asks whether every team's figures are fresh (then it is answered
    on the event loop, else in a worker thread). Asking each team's on every request took
    ~2.5 µs a team: 120 µs of every acknowledgement with 50 teams. The teams are now asked
    one by one only once something may have moved since they were all found fresh: a
    commit here, the oldest confirmation a lag old, a copy replaced, or an instant outside
    their time."""
    contexts = _org_contexts(db, fake_slack, database_url)
    refresher = Refresher(contexts.served_readies, now=lambda: NOW)
    refresher.look()
    asked: list[Ready] = []
    real = Ready._fresh

    def counted(self: Ready, copy: Any, now: datetime) -> bool:
        asked.append(self)
        return real(self, copy, now)

    monkeypatch.setattr(Ready, "_fresh", counted)
    assert contexts.fresh()
    assert len(asked) == 2  # each team's, once
    for _ in range(100):
        assert contexts.fresh()
    assert len(asked) == 2

    stored.local_commits.bump()  # a commit here: an answer reads until the next look
    assert not contexts.fresh()
    refresher.look()
    assert contexts.fresh()

    seconds.now += 0.2
    assert contexts.fresh()
    seconds.now += 0.05  # a whole lag after the last look
    assert not contexts.fresh()
    refresher.look()
    assert contexts.fresh()


def test_an_org_s_figures_replaced_by_another_process_s_write_are_asked_anew(
    db: Database, fake_slack: FakeSlack, database_url: str, seconds: Monotonic
) -> None:
    """Another process files a P0 blocker 23 hours old for one team (nothing in this
    process sees the commit): the refresher rebuilds that team's figures, which hold only
    until the blocker is a day old (health turns At Risk then), sooner than the day. The
    figures found fresh together before must not answer past that instant."""
    contexts = _org_contexts(db, fake_slack, database_url)
    refresher = Refresher(contexts.served_readies, now=lambda: NOW)
    refresher.look()
    for ready in contexts.served_readies():
        ready.settle()  # its build stored (its ready_state row made)
    assert contexts.fresh()
    team = contexts.teams.first
    ready = contexts.for_team(team).ready
    scope = contexts.served(team).scope
    with db.engine.begin() as conn:  # (Core: no session of this process notices it)
        conn.execute(
            Blocker.__table__.insert().values(  # type: ignore[attr-defined]
                team_id=scope.team_id,
                number=1,
                component="Swarm Coordination",
                description="the swarm deadlocks",
                severity="P0",
                reported_by="U0DEV",
                reported_at=NOW - timedelta(hours=23),
                escalation_level=0,
            )
        )
        conn.execute(
            text("UPDATE ready_state SET generation = generation + 1 WHERE name = :n"),
            {"n": ready.state_name},
        )
    builds = ready.builds
    refresher.look()
    assert ready.builds == builds + 1
    later = NOW + timedelta(hours=1, seconds=1)  # the blocker is a day old
    assert not ready.fresh(later)
    contexts.now = lambda: later
    assert not contexts.fresh()
    contexts.now = lambda: NOW
    assert contexts.fresh()


def test_a_look_ending_after_a_newer_confirmation_leaves_the_figures_as_fresh_as_it_found(
    db: Database, fake_slack: FakeSlack, database_url: str, seconds: Monotonic
) -> None:
    """A look counts this process's commits, then reads the generations; a commit here and
    an answer confirming the figures after it can come in between. The look ending last
    set the figures' count back to its own older one: every team's figures were then
    stale to an answer asking team by team, but fresh to the org's check made before
    (found by review). A confirmation never moves the count back."""
    contexts = _org_contexts(db, fake_slack, database_url)
    refresher = Refresher(contexts.served_readies, now=lambda: NOW)
    refresher.look()
    counted_before = stored.local_commits.count  # the slow look's count
    stored.local_commits.bump()  # a commit here
    refresher.look()  # the figures confirmed with it
    assert contexts.fresh()
    ready = contexts.served_readies()[0]
    with ready.db.read() as session:
        version = stored.version(session=session)
    ready.refresh(NOW, version, local=counted_before)  # the slow look ends
    assert ready.fresh(NOW)
    assert contexts.fresh() == all(r.fresh(NOW) for r in contexts.served_readies())

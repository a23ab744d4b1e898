"""Migration 0005 moves a database from before teams into team 1 and its sprint 1: every row
kept with its values, blocker and risk numbers kept (B-002 stays B-002), and the first team
started adopts it. On SQLite and, with SPRINTBOT_TEST_DATABASE_URL, on PostgreSQL (a database
of its own, `<name>_mig`, made and dropped here)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, MetaData, Table, insert, make_url, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from jobs.config import load_org
from jobs.teams import Teams
from storage.db import Database, make_engine, normalize_url
from storage.migrate import downgrade, upgrade
from storage.models import (
    Blocker,
    Lesson,
    ReadinessSnapshot,
    Risk,
    Signoff,
    SprintRow,
    Standup,
    Team,
    TestReport,
)
from storage.queries import test_key as key_of
from storage.scope import LEGACY

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "examples" / "teams" / "platform.toml"
T0 = datetime(2025, 10, 30, 14, 0, tzinfo=UTC)
# The tables 0005 gives a team (and a sprint); the others it leaves as they were.
TEAM_TABLES = {
    "test_report",
    "known_test",
    "metric_sample",
    "manual_score",
    "readiness_snapshot",
    "standup",
    "blocker",
    "risk",
    "event",
    "alert",
    "job_run",
    "signoff",
    "lesson",
}
SPRINT_TABLES = {"readiness_snapshot", "standup", "signoff", "lesson"}
OLD_TABLES = TEAM_TABLES | {"test_result", "away", "outbox", "ready_state"}


def _pg_url(name: str) -> Iterator[str]:
    given = make_url(normalize_url(os.environ["SPRINTBOT_TEST_DATABASE_URL"]))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    own = given.set(database=f"{given.database}_{name}" + (f"_{worker}" if worker else ""))
    admin = make_engine(given.render_as_string(hide_password=False))
    quoted = admin.dialect.identifier_preparer.quote(str(own.database))

    def drop() -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))

    drop()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {quoted}"))
    try:
        yield own.render_as_string(hide_password=False)
    finally:
        drop()
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def old_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database at revision 0004, the schema of the last release before teams."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
        upgrade(url, revision="0004")
        yield url
        return
    if not os.environ.get("SPRINTBOT_TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL: set SPRINTBOT_TEST_DATABASE_URL")
    for url in _pg_url("mig"):
        upgrade(url, revision="0004")
        yield url


@pytest.fixture
def engine(old_url: str) -> Iterator[Engine]:
    e = make_engine(old_url)
    yield e
    e.dispose()


def _add(conn: Connection, table: str, **values: Any) -> int:
    """Insert one row the way the code of 0004 did (its own columns, no team); its id."""
    t = Table(table, MetaData(), autoload_with=conn)
    result = conn.execute(insert(t).values(**values))
    key = result.inserted_primary_key
    return int(key[0]) if key and isinstance(key[0], int) else 0


def fill(engine: Engine) -> None:
    """One of everything a sprint's database held before teams."""
    with engine.begin() as conn:
        report = _add(
            conn,
            "test_report",
            run="ci-101",
            commit="abc123",
            branch="main",
            url="https://ci.example/101",
            at=T0,
            received_at=T0,
            digest="d" * 64,
            tests=2,
            passed=1,
            failed=1,
            errors=0,
            skipped=0,
            flaky=0,
            statuses=b"\x01\x02",
            reply={"ok": True},
        )
        alert = _add(
            conn,
            "alert",
            kind="regression",
            key="alert:regression:1",
            subject="tests.api",
            report_id=report,
            created_at=T0,
            payload={"tests": ["t1"]},
            acknowledged_by="U2",
            acknowledged_at=T0,
        )
        known = _add(
            conn,
            "known_test",
            branch="main",
            key="k" * 32,
            classname="tests.api",
            name="test_login",
            file="tests/api.py",
            component="api",
            status="failed",
            message="boom",
            first_seen_at=T0,
            changed_at=T0,
            last_report_id=report,
            muted=False,
            alert_id=alert,
        )
        _add(
            conn,
            "test_result",
            report_id=report,
            test_id=known,
            status="failed",
            previous_status="passed",
            message="boom",
        )
        _add(conn, "metric_sample", name="p95_latency", value=180.5, at=T0, received_at=T0)
        _add(
            conn,
            "manual_score",
            component="docs",
            score=70,
            previous=60,
            set_by="U1",
            set_at=T0,
            note="better",
        )
        _add(
            conn,
            "readiness_snapshot",
            at=T0,
            score=72.5,
            cause="report ci-101",
            breakdown={"api": 80},
        )
        _add(
            conn,
            "standup",
            user_id="U1",
            day=date(2025, 10, 30),
            sprint_day=2,
            skipped=False,
            yesterday="wrote tests",
            today="fix login",
            answers={"today": "fix login"},
            metrics={"readiness": 72.5},
            edits=1,
            channel="C1",
            ts="1.2",
            created_at=T0,
            updated_at=T0,
        )
        _add(
            conn,
            "away",
            user_id="U3",
            start=date(2025, 11, 3),
            end=date(2025, 11, 4),
            reason="leave",
            created_at=T0,
        )
        risk = _add(
            conn,
            "risk",
            description="vendor late",
            impact="High",
            probability="Medium",
            mitigation="second vendor",
            owner="U2",
            status="Active",
            created_by="U1",
            created_at=T0,
            updated_at=T0,
            request_key="risk-view:V9",
        )
        for i, severity in enumerate(("P0", "P1", "P2"), start=1):
            _add(
                conn,
                "blocker",
                component="api",
                description=f"blocker {i}",
                severity=severity,
                reported_by="U1",
                reported_at=T0,
                escalation_level=i - 1,
                risk_id=risk if i == 1 else None,
                request_key="blocker-view:V1" if i == 2 else None,
                channel="C2",
                ts=f"2.{i}",
            )
        _add(
            conn,
            "event",
            subject="blocker",
            subject_id=2,
            action="created",
            actor="U1",
            at=T0,
            detail={"severity": "P1"},
        )
        _add(
            conn,
            "outbox",
            key="daily:2025-10-30",
            method="chat.postMessage",
            payload={"channel": "C1", "text": "daily"},
            status="sent",
            attempts=1,
            created_at=T0,
            next_attempt_at=T0,
            sent_at=T0,
            result={"ts": "3.1"},
            lane="channel:C1",
        )
        _add(conn, "job_run", job="daily_report", slot="2025-10-30", started_at=T0, result="ok")
        _add(conn, "signoff", milestone_day=7, role="qa_lead", user_id="U2", at=T0)
        _add(conn, "lesson", kind="went_well", text="pairing", author="U1", at=T0)
        ready = Table("ready_state", MetaData(), autoload_with=conn)  # 0004 made its row
        conn.execute(ready.update().values(generation=5, built=4, built_at=T0, payload=b"x"))


def snapshot(engine: Engine, columns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Every row of the old tables, by table (of the columns 0004 had)."""
    out: dict[str, Any] = {}
    meta = MetaData()
    with engine.connect() as conn:
        for name in sorted(OLD_TABLES):
            t = Table(name, meta, autoload_with=conn)
            names = columns[name] if columns else [c.name for c in t.columns]
            key = t.c.name if name == "ready_state" else t.c.id
            rows = conn.execute(select(*(t.c[n] for n in names)).order_by(key)).mappings()
            out[name] = [dict(r) for r in rows]
    return out


# Columns a later migration replaces: known_test.muted became a quarantine row (0007).
_REPLACED = {"known_test": {"muted"}}


def _columns(snap: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [c for c in rows[0] if c not in _REPLACED.get(name, set())]
        for name, rows in snap.items()
    }


def _kept(snap: dict[str, Any]) -> dict[str, Any]:
    """The rows of a snapshot without the replaced columns."""
    return {
        name: [
            {k: v for k, v in row.items() if k not in _REPLACED.get(name, set())} for row in rows
        ]
        for name, rows in snap.items()
    }


def test_upgrade_moves_every_row_into_team_1_and_sprint_1(engine: Engine, old_url: str) -> None:
    fill(engine)
    before = snapshot(engine)
    assert all(before[name] for name in OLD_TABLES)  # one of everything

    upgrade(old_url)

    assert snapshot(engine, _columns(before)) == _kept(before)
    with engine.connect() as conn:
        for name in TEAM_TABLES:
            t = Table(name, MetaData(), autoload_with=conn)
            assert set(conn.execute(select(t.c.team_id)).scalars()) == {1}, name
            if name in SPRINT_TABLES:
                assert set(conn.execute(select(t.c.sprint_id)).scalars()) == {1}, name
    db = Database(engine)
    with db.read() as session:
        blockers = session.scalars(select(Blocker).order_by(col(Blocker.id))).all()
        assert [(b.number, b.code) for b in blockers] == [(1, "B-001"), (2, "B-002"), (3, "B-003")]
        assert blockers[1].request_key == "blocker-view:V1"
        risk = session.scalars(select(Risk)).one()
        assert (risk.number, risk.code) == (1, "R-001")
        assert session.get(Team, 1) == Team(id=1, slug=None, name="", synced_at=None)
        assert session.get(SprintRow, 1) == SprintRow(id=1, team_id=1, name="", start=None)
    # The next blocker filed goes on from the old ones, in team 1.
    with db.session() as session:
        new = Blocker(component="db", description="new", severity="P1", reported_by="U1")
        new.reported_at = T0
        session.add(new)
        session.commit()
        assert (new.team_id, new.code) == (LEGACY.team_id, "B-004")


def test_uniqueness_becomes_the_teams(engine: Engine, old_url: str) -> None:
    fill(engine)
    upgrade(old_url)
    with engine.begin() as conn:
        conn.execute(insert(Team).values(id=2, slug="mobile", name="Mobile"))
        conn.execute(insert(SprintRow).values(id=2, team_id=2, name="M1"))
    report = {
        "run": "ci-101",
        "digest": "d" * 64,
        "branch": "main",
        "at": T0,
        "received_at": T0,
        "tests": 0,
        "passed": 0,
        "failed": 0,
        "errors": 0,
        "skipped": 0,
        "flaky": 0,
        "reply": {},
    }
    # The same run and digest from another team's CI is that team's report...
    with engine.begin() as conn:
        conn.execute(insert(TestReport).values(team_id=2, **report))
    # ... but the same team's is refused, as before teams.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(TestReport).values(team_id=1, **report))
    standup = {"user_id": "U1", "day": date(2025, 10, 30), "sprint_day": 2, "skipped": False}
    standup |= {"answers": {}, "metrics": {}, "edits": 0, "created_at": T0, "updated_at": T0}
    with engine.begin() as conn:
        conn.execute(insert(Standup).values(team_id=2, sprint_id=2, **standup))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Standup).values(team_id=1, sprint_id=1, **standup))
    # A blocker's number is its team's: team 2 has its own B-002, team 1's is taken.
    blocker = {"component": "x", "description": "y", "severity": "P1", "reported_by": "U1"}
    blocker |= {"reported_at": T0, "escalation_level": 0}
    with engine.begin() as conn:
        conn.execute(insert(Blocker).values(team_id=2, number=2, **blocker))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Blocker).values(team_id=1, number=2, **blocker))


def test_first_team_started_adopts_the_old_data(engine: Engine, old_url: str) -> None:
    fill(engine)
    upgrade(old_url)
    db = Database(engine)
    org = load_org(PLATFORM)
    now = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)

    teams = Teams.sync(org, db=db, now=now)

    with db.read() as session:
        team = session.get(Team, 1)
        assert team is not None
        assert (team.slug, team.name) == ("platform", "Core Platform")
        sprints = session.scalars(select(SprintRow).order_by(col(SprintRow.id))).all()
        assert [(s.id, s.team_id, s.start) for s in sprints] == [
            (1, 1, date(2025, 10, 29)),
            (2, 1, date(2025, 11, 12)),
        ]
    served = teams.serve(teams.first, now=now)
    assert served.scope == LEGACY
    with db.scoped(served.scope).read() as session:
        assert [b.code for b in session.scalars(select(Blocker))] == [
            "B-001",
            "B-002",
            "B-003",
        ]
        assert len(session.scalars(select(Standup)).all()) == 1
        assert len(session.scalars(select(Signoff)).all()) == 1
        assert len(session.scalars(select(Lesson)).all()) == 1
        assert len(session.scalars(select(ReadinessSnapshot)).all()) == 1
    # The team's second sprint: the team's blockers still, none of the first sprint's standups.
    later = teams.serve(teams.first, now=datetime(2025, 11, 13, 14, 0, tzinfo=UTC))
    assert later.scope.sprint_id == 2
    with db.scoped(later.scope).read() as session:
        assert len(session.scalars(select(Blocker)).all()) == 3
        assert session.scalars(select(Standup)).all() == []
    # Starting again changes nothing: the same rows, no new ones.
    again = Teams.sync(org, db=db, now=now)
    assert again.rows == teams.rows
    with db.read() as session:
        assert len(session.scalars(select(Team)).all()) == 1
        assert len(session.scalars(select(SprintRow)).all()) == 2


def test_downgrade_to_0004_keeps_the_data(engine: Engine, old_url: str) -> None:
    fill(engine)
    before = snapshot(engine)
    upgrade(old_url)

    downgrade(old_url, revision="0004")

    assert snapshot(engine) == before
    with engine.connect() as conn:
        assert "team" not in conn.dialect.get_table_names(conn)
    # And up again: the same database as the first upgrade made.
    upgrade(old_url)
    assert snapshot(engine, _columns(before)) == _kept(before)


def test_a_muted_test_becomes_quarantined_and_muted_again_on_downgrade(
    engine: Engine, old_url: str
) -> None:
    fill(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE known_test SET muted = true"))
    upgrade(old_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT test_id, by, released_at, until > since FROM quarantine")
        ).all()
        test_id = conn.execute(text("SELECT id FROM known_test")).scalar()
    assert [tuple(r) for r in rows] == [(test_id, "sprintbot", None, True)]
    downgrade(old_url, revision="0006")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT muted FROM known_test")).scalar() in (True, 1)


def _blake(text: str) -> str:
    """known_test.key's hash of a text."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _known_tests(engine: Engine, names: list[tuple[str, str]]) -> None:
    """The filled database's known tests made these (class name, name)s, keyed as before
    0008: the test there takes the first (results refer to it), copies of it the rest."""
    known = Table("known_test", MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        row = dict(conn.execute(select(known)).mappings().one())
        (c0, n0), rest = names[0], names[1:]
        conn.execute(known.update().values(classname=c0, name=n0, key=_blake(f"{c0}::{n0}")))
        conn.execute(
            insert(known),
            [
                {
                    **row,
                    "id": row["id"] + 1 + i,
                    "classname": c,
                    "name": n,
                    "key": _blake(f"{c}::{n}"),
                }
                for i, (c, n) in enumerate(rest)
            ],
        )


def test_a_classname_holding_colons_gets_its_own_key_on_upgrade(
    engine: Engine, old_url: str
) -> None:
    # 0008: ("crate::bin", "mod::t") hashed as `crate::bin::mod::t`, which ("crate", "bin::mod::t")
    # reads too; its key becomes that of `crate::bin NUL mod::t`, as ingestion computes it now.
    # Over a thousand such tests (the migration reads them a page at a time), and one other.
    fill(engine)
    names = [("crate::bin", f"mod::t{i}") for i in range(1_500)]
    _known_tests(engine, [("plain", "t"), *names])
    names.append(("plain", "t"))

    def keys() -> dict[tuple[str, str], str]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT classname, name, key FROM known_test"))
            return {(c, n): k for c, n, k in rows}

    upgrade(old_url)
    assert keys() == {(c, n): key_of(c, n) for c, n in names}
    assert keys()[("crate::bin", "mod::t0")] == _blake("crate::bin\0mod::t0")
    assert keys()[("plain", "t")] == _blake("plain::t")  # as it was
    downgrade(old_url, revision="0007")
    assert keys() == {(c, n): _blake(f"{c}::{n}") for c, n in names}


def test_a_name_with_a_tab_or_line_end_gets_the_text_and_key_ingestion_reads(
    engine: Engine, old_url: str
) -> None:
    # 0011: ingestion reads `a&#10;b` as `a\nb` (the escape, two characters) since; the
    # tests stored before as `a<newline>b` take that name and its key, so the next report
    # finds them. One whose new key another test holds keeps its row as it was.
    fill(engine)
    _known_tests(
        engine,
        [
            ("tests.api", "t[a\nb]"),
            ("tests.api\tx", "t\r"),
            ("tests.api", "t[c\nd]"),
            ("tests.api", "t[c\\nd]"),  # the escaped name of the one before, already a test
            ("tests.api", "plain"),
        ],
    )
    upgrade(old_url)
    with engine.connect() as conn:
        found = {
            (c, n): k
            for c, n, k in conn.execute(text("SELECT classname, name, key FROM known_test"))
        }
    assert found == {
        ("tests.api", "t[a\\nb]"): key_of("tests.api", "t[a\\nb]"),
        ("tests.api\\tx", "t\\r"): key_of("tests.api\\tx", "t\\r"),
        ("tests.api", "t[c\nd]"): _blake("tests.api::t[c\nd]"),  # as it was
        ("tests.api", "t[c\\nd]"): key_of("tests.api", "t[c\\nd]"),
        ("tests.api", "plain"): key_of("tests.api", "plain"),
    }

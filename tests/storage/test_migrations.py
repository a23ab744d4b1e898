"""Migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from storage.db import Database, make_engine, normalize_url
from storage.migrate import HEAD, alembic_head, downgrade, revisions, upgrade
from storage.models import Blocker, MetricSample

ROOT = Path(__file__).resolve().parents[2]

TABLES = {
    "test_report",
    "test_result",
    "known_test",
    "metric_sample",
    "manual_score",
    "readiness_snapshot",
    "standup",
    "blocker",
    "risk",
    "alert",
    "outbox",
}


def test_schema_matches_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    assert revisions(db.engine)[0] == revisions(db.engine)[1]


def test_downgrade_and_upgrade_again(db: Database, database_url: str) -> None:
    downgrade(database_url)
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(database_url)
    assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_timestamps_come_back_aware_and_utc(session: Session) -> None:
    local = datetime(2025, 11, 2, 1, 30, tzinfo=timezone(timedelta(hours=-4)))
    session.add(
        MetricSample(
            name="memory_usage",
            value=150,
            at=local,
            received_at=datetime(2025, 11, 2, 6, tzinfo=UTC),
        )
    )
    session.flush()
    session.expire_all()
    row = session.exec(select(MetricSample)).one()
    assert row.at == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert row.at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(
        Blocker(
            component="x",
            description="y",
            severity="P0",
            reported_by="U1",
            reported_at=datetime(2025, 11, 2, 1, 30),  # noqa: DTZ001
        )
    )
    try:
        session.flush()
    except Exception as exc:  # SQLAlchemy wraps the ValueError
        assert "naive datetime" in str(exc)
    else:
        raise AssertionError("a naive datetime was stored")


def test_postgres_urls_map_to_psycopg3() -> None:
    assert normalize_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_head_is_the_newest_migration() -> None:
    # Processes check their database against HEAD without importing Alembic.
    assert alembic_head() == HEAD


def _migrations_of(commit: str, into: Path) -> Path:
    """storage/migrations as they were at `commit`, read with `git show` (nothing checked
    out); skipped where this is no clone with its history."""
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", commit, "storage/migrations/"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0 or not listed.stdout:
        pytest.skip("needs the git history")
    for name in listed.stdout.split():
        if name.endswith((".py", ".mako")):
            target = into / name.removeprefix("storage/migrations/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shown = subprocess.run(
                ["git", "show", f"{commit}:{name}"],  # noqa: S607
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            target.write_text(shown.stdout, encoding="utf-8")
    return into


@pytest.mark.parametrize("commit", ["7e96cde", "fc8b06b"])
def test_a_database_an_earlier_0005_migrated_is_completed(tmp_path: Path, commit: str) -> None:
    """0005 was extended after it first shipped (fc8b06b: event.team_id and the teams'
    request keys; then sprint.listed and sprint.outcome). A database the earlier 0005
    migrated is stamped 0005: `db upgrade` ran 0006 on and said it was current, and every
    start failed ("cannot record the teams": no column sprint.listed). 0014 completes it."""
    from alembic import command
    from alembic.config import Config

    old = _migrations_of(commit, tmp_path / "migrations")
    url = f"sqlite:///{tmp_path}/old.db"
    cfg = Config()
    cfg.set_main_option("script_location", str(old))
    cfg.set_main_option("sqlalchemy.url", url)
    command.upgrade(cfg, "head")  # what that sprintbot made: revision 0005
    upgrade(url)  # `sprintbot db upgrade` now
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_0017_drops_known_tests_foreign_keys_and_keeps_its_rows(tmp_path: Path) -> None:
    """0017 drops known_test's keys on team_id and last_report_id (each a query per row
    COPY inserts on PostgreSQL); on SQLite it rebuilds the table, every row kept."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/before.db"
    upgrade(url, revision="0016")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            # (team 1: the team 0005 makes for the data before teams)
            conn.execute(
                text(
                    "INSERT INTO test_report (id, team_id, run, branch, at, received_at, digest,"
                    " tests, passed, failed, errors, skipped, flaky, reply) VALUES (1, 1, 'r',"
                    " 'main', '2025-10-31 14:00:00', '2025-10-31 14:00:00', 'd', 1, 0, 1, 0, 0,"
                    " 0, '{}')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO known_test (id, team_id, branch, key, classname, name, status,"
                    " first_seen_at, changed_at, last_report_id) VALUES (7, 1, 'main', 'k',"
                    " 'tests.a', 'test_a', 'failed', '2025-10-31 14:00:00',"
                    " '2025-10-31 14:00:00', 1)"
                )
            )
        before = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("known_test")}
        assert before == {"team", "test_report", "alert"}
    finally:
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    try:
        keys = inspect(engine).get_foreign_keys("known_test")
        assert [fk["referred_table"] for fk in keys] == ["alert"]
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id, name, last_report_id FROM known_test")).one()
        assert tuple(row) == (7, "test_a", 1)
    finally:
        engine.dispose()
    downgrade(url, revision="0016")
    engine = make_engine(url)
    try:
        keys = inspect(engine).get_foreign_keys("known_test")
        assert {fk["referred_table"] for fk in keys} == {"team", "test_report", "alert"}
    finally:
        engine.dispose()


def test_0018_sees_the_skips_already_stored_through(tmp_path: Path) -> None:
    """0018 fills test_result.ran_before for the changes stored before it: a test that
    passed, was skipped and failed ran with `passed` before that failure; one first seen
    skipped, then failing, had not run."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/before.db"
    upgrade(url, revision="0017")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for report in (1, 2, 3):
                conn.execute(
                    text(
                        "INSERT INTO test_report (id, team_id, run, branch, at, received_at,"
                        " digest, tests, passed, failed, errors, skipped, flaky, reply) VALUES"
                        " (:i, 1, :run, 'main', '2025-10-31 14:00:00', '2025-10-31 14:00:00',"
                        " 'd', 2, 0, 0, 0, 0, 0, '{}')"
                    ),
                    {"i": report, "run": f"r{report}"},
                )
            for test in (7, 8):
                conn.execute(
                    text(
                        "INSERT INTO known_test (id, team_id, branch, key, classname, name,"
                        " status, first_seen_at, changed_at) VALUES (:i, 1, 'main', :k,"
                        " 'tests.a', :n, 'failed', '2025-10-31 14:00:00',"
                        " '2025-10-31 14:00:00')"
                    ),
                    {"i": test, "k": f"k{test}", "n": f"t{test}"},
                )
            # 7: passed (no row: first seen passing), skipped, failed; 8: skipped, failed.
            for id_, report, test, status, previous in (
                (1, 1, 8, "skipped", None),
                (2, 2, 7, "skipped", "passed"),
                (3, 3, 7, "failed", "skipped"),
                (4, 3, 8, "failed", "skipped"),
            ):
                conn.execute(
                    text(
                        "INSERT INTO test_result (id, report_id, test_id, status,"
                        " previous_status) VALUES (:i, :r, :t, :s, :p)"
                    ),
                    {"i": id_, "r": report, "t": test, "s": status, "p": previous},
                )
    finally:
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, ran_before FROM test_result ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, None), (2, None), (3, "passed"), (4, None)]
    finally:
        engine.dispose()


def test_0019_keeps_each_absence_for_every_team(tmp_path: Path) -> None:
    """Before 0019 an absence was every team's: after it, each team still has it (no one is
    prompted who was not), and a downgrade keeps each once."""
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/before.db"
    upgrade(url, revision="0018")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO team (id, slug, name) VALUES (2, 'mobile', 'Mobile')"))
            conn.execute(
                text(
                    'INSERT INTO away (id, user_id, start, "end", reason, created_at) VALUES'
                    " (1, 'U0BOB', '2025-10-30', '2025-10-31', 'offsite', '2025-10-29 12:00:00')"
                )
            )
    finally:
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text('SELECT team_id, user_id, start, "end", reason FROM away ORDER BY team_id')
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "U0BOB", "2025-10-30", "2025-10-31", "offsite"),
            (2, "U0BOB", "2025-10-30", "2025-10-31", "offsite"),
        ]
    finally:
        engine.dispose()
    # Down and up again: one absence, not one per team and then one per team per copy.
    downgrade(url, revision="0018")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            users = conn.execute(text("SELECT user_id FROM away")).scalars().all()
        assert users == ["U0BOB"]
    finally:
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            teams = conn.execute(text("SELECT team_id FROM away ORDER BY team_id")).scalars()
            assert teams.all() == [1, 2]
    finally:
        engine.dispose()

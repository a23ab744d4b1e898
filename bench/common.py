"""Helpers shared by the benchmarks: databases to run on, timing, table printing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from jobs.config import Source, load_sprint
from storage.db import Database, make_engine, normalize_url
from storage.migrate import upgrade
from storage.models import KnownTest

SPRINT_FILE = Path(__file__).resolve().parent.parent / "sprint.example.toml"
# Its own database, so a benchmark never touches the one the tests use.
PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/sprintbot_bench"
)


def _ensure_pg_database(url: str) -> None:
    target = make_url(normalize_url(url))
    admin = make_engine(str(target.set(database="postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


@contextmanager
def fresh_database(kind: str) -> Iterator[Database]:
    """A migrated, empty database: `sqlite` in a temp dir, or `postgresql` (schema reset)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            db = Database.from_url(url)
            yield db
            db.dispose()
        return
    _ensure_pg_database(PG_URL)
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(PG_URL)
    db = Database.from_url(PG_URL)
    yield db
    db.dispose()


def median_ms(fn: Callable[[], object], *, repeat: int = 5) -> float:
    """Median wall time of `fn` in milliseconds, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    cells = [headers, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def fill_tests(db: Database, size: int, *, at: datetime | None = None) -> None:
    """`size` known tests on the tracked branch, one in five failing, spread over the
    sprint's test components (and some mapped to none), first seen `at` (default now)."""
    sprint = load_sprint(str(SPRINT_FILE))
    comps = [c.name for c in sprint.components if c.source is Source.TESTS] + [None]
    now = at or datetime.now(UTC)
    rows = [
        {
            "branch": sprint.sprint.branch,
            "key": f"k{i}",
            "classname": f"suite{i % 97}",
            "name": f"test_{i}",
            "file": f"tests/test_{i % 400}.py",
            "component": comps[i % len(comps)],
            "status": "passed" if i % 5 else "failed",
            "first_seen_at": now,
            "changed_at": now,
        }
        for i in range(size)
    ]
    with db.engine.begin() as conn:
        for start in range(0, size, 10_000):
            conn.execute(insert(KnownTest), rows[start : start + 10_000])

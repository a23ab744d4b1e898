"""Full ingestion of JUnit reports (parse, classify, store, readiness, alert enqueue) beside
junitparser parsing the same files, in the same run.

For each size: a first report into an empty database, then a repeat report of the same
suite in which 1 % of the tests changed status. Time is the median of 3 (fresh database
each); peak memory is traced (tracemalloc) in a separate pass.
Run: .venv/bin/python -m bench.ingest [--postgres] [--sizes 1000,20000,200000]
"""

from __future__ import annotations

import hashlib
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import junitparser

from bench.common import fresh_database, table
from jobs.config import load_sprint
from jobs.ingest import RunInfo, ingest_junit

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)
AREAS = [
    "swarm",
    "memory",
    "orchestration",
    "cli/agent",
    "cli/swarm",
    "utils",
    "unit",
    "integration",
    "e2e",
    "security/auth",
    "security/authz",
    "docs",
]
FAILURE = (
    "AssertionError: expected 200, got 503\nassert 503 == 200\n +  where 503 = response.status_code"
)


def write_report(path: Path, n: int, *, failing: set[int]) -> None:
    """A pytest-shaped (xunit1) report: classname, name, file, line, time; failures with a
    message and a traceback body."""
    with path.open("w", encoding="utf-8") as f:
        f.write(
            '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
            f'<testsuite name="pytest" errors="0" failures="{len(failing)}" skipped="0" '
            f'tests="{n}" time="12.3" timestamp="2025-10-31T13:00:00+00:00" hostname="ci">'
        )
        for i in range(n):
            area = AREAS[i % len(AREAS)]
            module = f"test_mod{i // 40}"
            attrs = (
                f'classname="tests.{area.replace("/", ".")}.{module}" name="test_case_{i}" '
                f'file="tests/{area}/{module}.py" line="{i % 400}" time="0.004"'
            )
            if i in failing:
                f.write(
                    f"<testcase {attrs}><failure message={quoteattr(FAILURE)}>"
                    f"def test_case_{i}():\n&gt;   assert resp.status_code == 200\n"
                    f"E   {FAILURE}</failure></testcase>"
                )
            else:
                f.write(f"<testcase {attrs} />")
        f.write("</testsuite></testsuites>")


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def junitparser_parse(path: Path) -> int:
    xml = junitparser.JUnitXml.fromfile(str(path))
    return sum(1 for suite in xml for _ in suite)


def median_s(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    sizes = [1_000, 20_000, 200_000]
    if "--sizes" in sys.argv:
        sizes = [int(x) for x in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    sprint = load_sprint("sprint.example.toml")
    rng = random.Random(7)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            first_fail = set(rng.sample(range(n), n // 12))
            flips = set(rng.sample(range(n), max(n // 100, 1)))
            first, repeat = Path(tmp, f"first-{n}.xml"), Path(tmp, f"repeat-{n}.xml")
            write_report(first, n, failing=first_fail)
            write_report(repeat, n, failing=first_fail ^ flips)
            jp = median_s(lambda p=first: junitparser_parse(p))  # type: ignore[misc]
            jp_mem = peak_mb(lambda p=first: junitparser_parse(p))  # type: ignore[misc]
            for kind in kinds:

                def ingest(db, path: Path, run: str) -> None:  # type: ignore[no-untyped-def]
                    with path.open("rb") as doc, db.session() as s:
                        ingest_junit(
                            session=s,
                            sprint=sprint,
                            document=doc,
                            digest=digest(path),
                            info=RunInfo(run=run),
                            now=NOW,
                        )
                        s.commit()

                def first_run() -> float:
                    with fresh_database(kind) as db:
                        start = time.perf_counter()
                        ingest(db, first, "r1")
                        return time.perf_counter() - start

                def repeat_run() -> float:
                    with fresh_database(kind) as db:
                        ingest(db, first, "r1")
                        start = time.perf_counter()
                        ingest(db, repeat, "r2")
                        return time.perf_counter() - start

                def first_mem() -> float:
                    with fresh_database(kind) as db:
                        return peak_mb(lambda db=db: ingest(db, first, "r1"))  # type: ignore[misc]

                def repeat_mem() -> float:
                    with fresh_database(kind) as db:
                        ingest(db, first, "r1")
                        return peak_mb(lambda db=db: ingest(db, repeat, "r2"))  # type: ignore[misc]

                t_first = statistics.median(first_run() for _ in range(3))
                t_repeat = statistics.median(repeat_run() for _ in range(3))
                rows.append(
                    [
                        kind,
                        f"{n:,}",
                        f"{jp * 1000:.0f}",
                        f"{jp_mem:.0f}",
                        f"{t_first * 1000:.0f}",
                        f"{t_first / jp:.2f}x",
                        f"{first_mem():.0f}",
                        f"{t_repeat * 1000:.0f}",
                        f"{t_repeat / jp:.2f}x",
                        f"{repeat_mem():.0f}",
                    ]
                )
                print(" | ".join(rows[-1]), file=sys.stderr)
    print(
        table(
            [
                "database",
                "testcases",
                "junitparser parse (ms)",
                "junitparser peak (MB)",
                "first ingest (ms)",
                "first / parse",
                "first peak (MB)",
                "repeat ingest (ms)",
                "repeat / parse",
                "repeat peak (MB)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()

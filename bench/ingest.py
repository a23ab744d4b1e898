"""Full ingestion of JUnit reports (parse, classify, store, readiness, alert enqueue) beside
junitparser parsing the same files, in the same run.

For each size: a first report into an empty database, then a repeat report of the same
suite in which 1 % of the tests changed status. Time is the median of 3 (fresh database
each); peak memory is the resident-set growth of a freshly spawned process doing the
same work (so lxml's and the drivers' C allocations count).
Run: .venv/bin/python -m bench.ingest [--postgres] [--sizes 1000,20000,200000]
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import junitparser

from bench.common import fresh_database, table
from jobs.config import Sprint, load_sprint
from jobs.ingest import RunInfo, ingest_junit
from storage.db import Database

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


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(kind: str, path: str, before: str | None, queue: Any) -> None:
    """In a fresh interpreter: ingest `before` (if any), then measure ingesting `path`."""
    sprint = load_sprint("sprint.example.toml")
    with fresh_database(kind) as db:
        if before is not None:
            ingest(db, sprint, Path(before), "r0")
        gc.collect()
        start = _rss_mb()
        ingest(db, sprint, Path(path), "r1")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put(max(peak - start, 0.0))


def _child_junitparser(path: str, queue: Any) -> None:
    start = _rss_mb()
    junitparser_parse(Path(path))
    queue.put(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - start, 0.0))


def peak_mb(target: Callable[..., None], *args: Any) -> float:
    """Peak resident memory the work adds, in MB, measured in a freshly spawned process
    (so C allocations by lxml and the drivers count, and nothing earlier skews it)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = float(queue.get(timeout=900))
    proc.join()
    return result


def ingest(db: Database, sprint: Sprint, path: Path, run: str) -> None:
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


def timed(kind: str, sprint: Sprint, path: Path, *, before: Path | None = None) -> float:
    """Seconds to ingest `path` into a fresh database (after `before`, untimed)."""
    with fresh_database(kind) as db:
        if before is not None:
            ingest(db, sprint, before, "r0")
        start = time.perf_counter()
        ingest(db, sprint, path, "r1")
        return time.perf_counter() - start


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
            jp_mem = peak_mb(_child_junitparser, str(first))
            for kind in kinds:
                t_first = statistics.median(timed(kind, sprint, first) for _ in range(3))
                t_repeat = statistics.median(
                    timed(kind, sprint, repeat, before=first) for _ in range(3)
                )
                rows.append(
                    [
                        kind,
                        f"{n:,}",
                        f"{jp * 1000:.0f}",
                        f"{jp_mem:.0f}",
                        f"{t_first * 1000:.0f}",
                        f"{t_first / jp:.2f}x",
                        f"{peak_mb(_child, kind, str(first), None):.0f}",
                        f"{t_repeat * 1000:.0f}",
                        f"{t_repeat / jp:.2f}x",
                        f"{peak_mb(_child, kind, str(repeat), str(first)):.0f}",
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

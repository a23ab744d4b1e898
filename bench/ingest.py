"""Ingestion of JUnit reports: time, peak memory, and what Slack waits for meanwhile, each
beside a baseline measured in the same run.

1. Full ingestion (parse, classify, store, readiness, alert enqueue) per size: a first
   report into an empty database, then a repeat report of the same suite in which 1 % of
   the tests changed status; beside junitparser parsing the same file, in turns with the
   ingests. Times are medians of 5 (a fresh database each); peak memory is the resident-set
   growth of a freshly spawned process doing the same work (so lxml's and the drivers' C
   allocations count).
2. Big and hostile reports: the time and peak RSS of a freshly spawned process ingesting a
   200k- and a 1M-testcase report (written compactly, as they must be to fit the API's
   50 MB; on each database), 45 MB of hostile elements and a 12 MB output; beside the time
   and peak RSS of a freshly spawned process parsing the same file with junitparser, and
   with sprintbot's parser alone, today's and its parse loop from before issue 12 (kept
   here: it dropped only testcases, so everything else piled up).
3. Acks during a 700k-testcase ingest: the worst wait of what a slash command does (file a
   blocker: a write) and of reads (/healthz's round trip, /readiness's figures) while the
   report is ingested, with ingestion in phases and read sessions, beside the approach
   before issue 12, emulated: the write lock taken before parsing and held to commit, reads
   in write sessions (BEGIN IMMEDIATE). Each column is the worst wait in seconds; the
   ingest's own time is with the probes running (they compete for the interpreter while
   they are not kept waiting).
4. A CI shard: 2,000 tests of a 200k-test branch, looked up by key, beside the same shard
   compared with the branch read whole, and junitparser's parse of the shard.

Run: .venv/bin/python -m bench.ingest [--postgres] [--sizes 1000,20000,200000]
     [--only full,big,shards,acks]   (BENCH_POSTGRES_URL names the PostgreSQL database)
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import junitparser

from bench.common import fresh_database, table
from jobs import blockers, components
from jobs.config import Sprint, load_sprint
from jobs.ingest import RunInfo, ingest_junit, receive_junit
from jobs.readiness import current_status
from storage import queries
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
HOSTILE_MB = 45


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


def write_compact(path: Path, n: int) -> None:
    """A report of `n` tests at ~50 bytes each (1M fit the API's 50 MB), one in 12 failing,
    in the Swarm Coordination component."""
    with path.open("w", encoding="utf-8") as f:
        f.write('<testsuites><testsuite name="s" timestamp="2025-10-31T13:00:00Z">')
        for i in range(n):
            attrs = f'classname="swarm.m{i // 50}" name="t{i}"'
            if i % 12 == 0:
                f.write(f"<testcase {attrs}><failure/></testcase>")
            else:
                f.write(f"<testcase {attrs}/>")
        f.write("</testsuite></testsuites>")


def write_hostile(path: Path, shape: str) -> None:
    """45 MB of empty elements inside one testcase or in <properties>, or a 12 MB output."""
    with path.open("w", encoding="utf-8") as f:
        f.write('<testsuites><testsuite name="s">')
        if shape == "properties":
            f.write("<properties>" + "<p/>" * (HOSTILE_MB * 2**20 // 4) + "</properties>")
            f.write('<testcase classname="a" name="b"/>')
        elif shape == "testcase":
            f.write('<testcase classname="a" name="b">')
            f.write("<p/>" * (HOSTILE_MB * 2**20 // 4) + "</testcase>")
        else:
            f.write('<testcase classname="a" name="b"><system-out>')
            f.write(("x" * 99 + "\n") * (12 * 2**20 // 100))
            f.write("</system-out></testcase>")
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


def _hwm_mb() -> float:
    """Peak RSS of this process (VmHWM): ru_maxrss would carry the parent's over exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def _child(kind: str, path: str, before: str | None, queue: Any) -> None:
    """In a fresh interpreter: ingest `before` (if any), then measure ingesting `path`:
    (peak growth, peak, seconds)."""
    sprint = load_sprint("sprint.example.toml")
    with fresh_database(kind) as db:
        if before is not None:
            ingest(db, sprint, Path(before), "r0")
        start = _rss_mb()
        began = time.perf_counter()
        ingest(db, sprint, Path(path), "r1")
        took = time.perf_counter() - began
        queue.put((max(_hwm_mb() - start, 0.0), _hwm_mb(), took))


def parse_before_issue_12(path: Path) -> int:
    """sprintbot's parse loop before issue 12, for its memory and time: lxml's iterparse
    filtering <testcase> in C with libxml2's default limits, a dataclass per test, and only
    testcases (and their earlier siblings) dropped once read."""
    from lxml import etree

    cases: dict[tuple[str, str], BeforeCase] = {}
    with path.open("rb") as f:
        for _, elem in etree.iterparse(
            f, events=("end",), tag=("{*}testcase", "testcase"), resolve_entities=False
        ):
            key = (elem.get("classname") or "", elem.get("name") or "")
            cases.setdefault(
                key, BeforeCase(*key, elem.get("file"), "passed" if not len(elem) else "failed")
            )
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    return len(cases)


@dataclass(slots=True)
class BeforeCase:
    classname: str
    name: str
    file: str | None
    status: str
    message: str | None = None


def _child_parse(which: str, path: str, queue: Any) -> None:
    """Parse only, with today's parser or the one before issue 12: (growth, peak, seconds)."""
    from jobs.junit import parse

    start = _rss_mb()
    began = time.perf_counter()
    try:
        if which == "now":
            with open(path, "rb") as f:
                parse(f)
        else:
            parse_before_issue_12(Path(path))
    except Exception as exc:  # the baseline's failure is a result
        queue.put((0.0, _hwm_mb(), f"refused ({type(exc).__name__})"))
        return
    queue.put((max(_hwm_mb() - start, 0.0), _hwm_mb(), time.perf_counter() - began))


def _child_junitparser(path: str, queue: Any) -> None:
    start = _rss_mb()
    began = time.perf_counter()
    try:
        junitparser_parse(Path(path))
    except Exception as exc:  # the baseline's failure is a result
        queue.put((0.0, _hwm_mb(), f"refused ({type(exc).__name__})"))
        return
    queue.put((max(_hwm_mb() - start, 0.0), _hwm_mb(), time.perf_counter() - began))


def spawned(target: Callable[..., None], *args: Any) -> tuple[float, float, Any]:
    """(peak growth MB, peak RSS MB, seconds or why not) of `target` run in a freshly spawned
    process (so C allocations by lxml and the drivers count, and nothing earlier skews it)."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get(timeout=1800)
    proc.join()
    return result  # type: ignore[no-any-return]


def peak_mb(target: Callable[..., None], *args: Any) -> float:
    return spawned(target, *args)[0]


def ingest(
    db: Database,
    sprint: Sprint,
    path: Path,
    run: str,
    branch: str = "main",
    commit: str | None = None,
) -> None:
    """The production path: parsed and classified before the write lock (receive_junit)."""
    with path.open("rb") as doc:
        receive_junit(
            db=db,
            sprint=sprint,
            document=doc,
            digest=digest(path),
            info=RunInfo(run=run, branch=branch, commit=commit),
            now=NOW,
        )


def ingest_locked(db: Database, sprint: Sprint, path: Path, run: str, branch: str) -> None:
    """The approach before issue 12: the write lock taken first, held through parsing."""
    with path.open("rb") as doc, db.session() as session:
        queries.lock_branch(session=session, branch=branch)
        queries.ping(session=session)  # SQLite: BEGIN IMMEDIATE, before the parse
        ingest_junit(
            session=session,
            sprint=sprint,
            document=doc,
            digest=digest(path),
            info=RunInfo(run=run, branch=branch),
            now=NOW,
        )
        session.commit()


def timed(kind: str, sprint: Sprint, path: Path, *, before: Path | None = None) -> float:
    """Seconds to ingest `path` into a fresh database (after `before`, untimed). Without
    `before`, a first report: with what the process keeps from earlier reports (the
    components of tests it has mapped) forgotten, as a report's first arrival finds it."""
    with fresh_database(kind) as db:
        if before is not None:
            ingest(db, sprint, before, "r0")
        else:
            components.clear_shared()
        start = time.perf_counter()
        ingest(db, sprint, path, "r1")
        return time.perf_counter() - start


def full_ingestion(kinds: list[str], sizes: list[int], sprint: Sprint, tmp: str) -> str:
    rng = random.Random(7)
    rows = []
    for n in sizes:
        first_fail = set(rng.sample(range(n), n // 12))
        flips = set(rng.sample(range(n), max(n // 100, 1)))
        first, repeat = Path(tmp, f"first-{n}.xml"), Path(tmp, f"repeat-{n}.xml")
        write_report(first, n, failing=first_fail)
        write_report(repeat, n, failing=first_fail ^ flips)
        jp_mem = peak_mb(_child_junitparser, str(first))
        for kind in kinds:
            # In turns, junitparser's parse before each ingest: a slow spell of the machine
            # falls on both (this machine's runs of either swing by a third and more).
            parses, firsts, repeats = [], [], []
            for _ in range(5):
                parses.append(median_s(lambda p=first: junitparser_parse(p), repeat=1))  # type: ignore[misc]
                firsts.append(timed(kind, sprint, first))
                parses.append(median_s(lambda p=first: junitparser_parse(p), repeat=1))  # type: ignore[misc]
                repeats.append(timed(kind, sprint, repeat, before=first))
            jp, t_first, t_repeat = map(statistics.median, (parses, firsts, repeats))
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
    return table(
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


SIZES = [
    ("200k testcases", lambda p: write_compact(p, 200_000)),
    ("1M testcases", lambda p: write_compact(p, 1_000_000)),
]
HOSTILE = [
    (f"{HOSTILE_MB} MB of <p/> in a testcase", lambda p: write_hostile(p, "testcase")),
    (f"{HOSTILE_MB} MB of <p/> in <properties>", lambda p: write_hostile(p, "properties")),
    ("12 MB <system-out>", lambda p: write_hostile(p, "output")),
]


def _cell(result: tuple[float, float, Any]) -> str:
    _, peak, took = result
    return took if isinstance(took, str) else f"{took:.1f} s, {peak:.0f} MB"


def big_reports(kinds: list[str], tmp: str) -> str:
    """Each report ingested by a fresh process per database, beside a fresh process parsing
    it with junitparser (and with sprintbot's parser alone, now and before issue 12): time
    and peak RSS of each, measured in this run."""
    rows = []
    for label, write in SIZES + HOSTILE:
        path = Path(tmp, "big.xml")
        write(path)
        jp = spawned(_child_junitparser, str(path))
        parse_now = _cell(spawned(_child_parse, "now", str(path)))
        parse_before = _cell(spawned(_child_parse, "before", str(path)))
        for kind in kinds if (label, write) in SIZES else ["sqlite"]:
            _, peak, took = spawned(_child, kind, str(path), None)
            jp_ok = not isinstance(jp[2], str)
            rows.append(
                [
                    label,
                    kind,
                    f"{path.stat().st_size / 2**20:.0f}",
                    f"{took:.1f}",
                    f"{peak:.0f}",
                    jp[2] if not jp_ok else f"{jp[2]:.1f}",
                    f"{jp[1]:.0f}",
                    f"{took / jp[2]:.2f}x" if jp_ok else "-",
                    f"{peak / jp[1]:.2f}x" if jp_ok else "-",
                    parse_now,
                    parse_before,
                ]
            )
            print(" | ".join(rows[-1]), file=sys.stderr)
        path.unlink()
    return table(
        [
            "report",
            "database",
            "MB",
            "ingest (s)",
            "ingest peak RSS (MB)",
            "baseline: junitparser parse (s)",
            "junitparser peak RSS (MB)",
            "ingest / parse (time)",
            "ingest / parse (peak)",
            "sprintbot's parse alone",
            "its parse before issue 12",
        ],
        rows,
    )


def shard_reports(kinds: list[str], sprint: Sprint, tmp: str) -> str:
    """A CI shard (1 % of a 200k-test branch, 1 % of it changed) looked up by key, the rest
    of the branch taken from its last report's tally; beside the same shard with the branch
    counted instead (before the tally), compared with the branch read whole (before issue
    13), and junitparser's parse of the shard, all in this run."""
    from storage import ingest as ingest_queries

    n, shard = 200_000, 2_000
    rng = random.Random(11)
    failing = set(rng.sample(range(n), n // 12))
    flips = set(rng.sample(range(shard), shard // 100))
    full, a, b = Path(tmp, "branch.xml"), Path(tmp, "shard-a.xml"), Path(tmp, "shard-b.xml")
    write_report(full, n, failing=failing)
    write_report(a, shard, failing={i for i in failing if i < shard} ^ flips)
    write_report(b, shard, failing={i for i in failing if i < shard})
    jp = median_s(lambda: junitparser_parse(a))
    rows = []
    size, tally = ingest_queries.branch_size, ingest_queries.report_tally
    hows = ("by key", "by key, branch counted", "whole branch")
    for kind in kinds:
        times: dict[str, list[float]] = {how: [] for how in hows}
        with fresh_database(kind) as db:
            ingest(db, sprint, full, "r0")
            if kind == "postgresql":
                # As autovacuum does within a minute of the load: with the statistics of
                # an empty table, the planner filters the branch for the keys (~55 ms a
                # batch of 1,000) rather than finding them in the index (~10 ms).
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE known_test")
            for k in range(9):  # in turns, each flipping the same 1 % of the shard
                how = hows[k % 3]
                ingest_queries.branch_size = size if how != "whole branch" else (lambda **_: 0)  # type: ignore[assignment]
                ingest_queries.report_tally = tally if how == "by key" else (lambda **_: None)  # type: ignore[assignment]
                began = time.perf_counter()
                ingest(db, sprint, a if k % 2 == 0 else b, f"s{k}")
                times[how].append(time.perf_counter() - began)
            ingest_queries.branch_size, ingest_queries.report_tally = size, tally  # type: ignore[assignment]
        keyed, counted, whole = (statistics.median(times[h]) for h in hows)
        rows.append(
            [
                kind,
                f"{shard:,} of {n:,}",
                f"{jp * 1000:.0f}",
                f"{keyed * 1000:.0f}",
                f"{keyed / jp:.2f}x",
                f"{counted * 1000:.0f}",
                f"{whole * 1000:.0f}",
                f"{whole / jp:.2f}x",
            ]
        )
        print(" | ".join(rows[-1]), file=sys.stderr)
    return table(
        [
            "database",
            "shard",
            "junitparser parse (ms)",
            "ingest, by key (ms)",
            "by key / parse",
            "baseline: by key, branch counted (ms)",
            "baseline: whole branch read (ms)",
            "whole / parse",
        ],
        rows,
    )


def _worst_waits(
    db: Database, sprint: Sprint, *, reads: Callable[[], Any], stop: threading.Event
) -> dict[str, float]:
    """Run Slack's work in a loop until `stop`: file a blocker, ping, compute readiness;
    the worst wait of each."""
    worst = {"file a blocker": 0.0, "/healthz": 0.0, "/readiness": 0.0}

    def blocker(n: int) -> None:
        with db.session() as session:
            blockers.file_blocker(
                session=session,
                sprint=sprint,
                component="Swarm Coordination",
                description=f"deadlock {n}",
                severity="P0",
                reporter="U0DEV",
                now=NOW,
            )
            session.commit()

    def healthz(_: int) -> None:
        with reads() as session:
            queries.ping(session=session)

    def readiness(_: int) -> None:
        with reads() as session:
            current_status(session=session, sprint=sprint, now=NOW)

    def loop(name: str, work: Callable[[int], None]) -> None:
        n = 0
        while not stop.is_set():
            began = time.perf_counter()
            work(n)
            worst[name] = max(worst[name], time.perf_counter() - began)
            n += 1
            stop.wait(0.05)

    threads = [
        threading.Thread(target=loop, args=(name, work))
        for name, work in zip(worst, (blocker, healthz, readiness), strict=True)
    ]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join()
    return worst


def _probe(
    db: Database,
    sprint: Sprint,
    reads: Callable[[], Any],
    stop: threading.Event,
    out: dict[str, float],
) -> None:
    out.update(_worst_waits(db, sprint, reads=reads, stop=stop))


def acks(kinds: list[str], sprint: Sprint, tmp: str, n: int = 700_000) -> str:
    path = Path(tmp, f"acks-{n}.xml")
    write_compact(path, n)
    rows = []
    for kind in kinds:
        for label, phased in (("in phases, read sessions", True), ("baseline: lock first", False)):
            with fresh_database(kind) as db:
                stop = threading.Event()
                reads = db.read if phased else db.session
                waits: dict[str, float] = {}
                prober = threading.Thread(target=_probe, args=(db, sprint, reads, stop, waits))
                prober.start()
                time.sleep(0.5)
                began = time.perf_counter()
                # A release branch: the lock is the database's, /readiness's figures stay
                # the tracked branch's (their own cost grows with its tests).
                if phased:
                    ingest(db, sprint, path, "big", branch="release")
                else:
                    ingest_locked(db, sprint, path, "big", branch="release")
                took = time.perf_counter() - began
                stop.set()
                prober.join()
            rows.append([kind, label, f"{took:.1f}", *(f"{waits[k]:.2f}" for k in sorted(waits))])
            print(" | ".join(rows[-1]), file=sys.stderr)
    path.unlink()
    headers = ["database", f"ingest of {n:,} testcases", "took, probed (s)", *sorted(waits)]
    return table(headers, rows)


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    sizes = [1_000, 20_000, 200_000]
    if "--sizes" in sys.argv:
        sizes = [int(x) for x in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    only = {"full", "big", "shards", "acks"}
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    sprint = load_sprint("sprint.example.toml")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        if "full" in only:
            out.append(full_ingestion(kinds, sizes, sprint, tmp))
        if "big" in only:
            out.append(big_reports(kinds, tmp))
        if "shards" in only:
            out.append(shard_reports(kinds, sprint, tmp))
        if "acks" in only:
            out.append(acks(kinds, sprint, tmp))
    print("\n\n".join(out))


if __name__ == "__main__":
    main()

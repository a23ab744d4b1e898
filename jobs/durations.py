"""Test durations over runs, read from the JUnit `time` each report keeps packed: the
tests that became slower than they were and the suite's total time (the daily report), and
the one reader of timed runs that `/tests slow` uses too."""

from __future__ import annotations

import math
import statistics
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, NotRequired, TypedDict

from sqlmodel import Session

from jobs.config import Durations, Sprint
from jobs.owners import OwnerMap
from storage import queries
from storage.models import KnownTest, TestStatus
from storage.queries import tests_history as store

SHOWN = 5  # slower tests the daily report names; the rest are counted
MIN_RUNS = 3  # earlier timed runs a test needs before its median can call it slower
# float32 keeps ~7 digits: "3.3 s is 3 x 1.1 s" must hold after packing both.
_PRECISION = 1e-6

Key = str  # a test: "classname\tname", as the packed statuses hold it


_STATUSES = tuple(str(s) for s in TestStatus)  # the commonest first
_SKIPPED = str(TestStatus.SKIPPED)


@dataclass(frozen=True)
class _Report:
    """One report's tests, indexed by their lines in its packed statuses
    ("status\tclassname\tname"), and their durations (NaN: not timed)."""

    index: dict[str, int]
    seconds: array[float]

    def find(self, key: Key) -> tuple[str, int] | None:
        """The test's status and position in the report, if it holds the test."""
        for status in _STATUSES:
            i = self.index.get(f"{status}\t{key}")
            if i is not None:
                return status, i
        return None


@dataclass(frozen=True)
class TimedRun:
    """One CI run's reports that timed tests. A sharded run sends several, and a job re-run
    under the same run id another: a test's duration is from the newest of them that holds
    it, and the run's total is of those (a re-run doubled it; found by review)."""

    run: str
    at: datetime
    reports: list[_Report]  # newest first

    @property
    def total(self) -> float:
        """The run's test time: the sum of its tests' durations, each from the newest report
        that holds it."""
        if len(self.reports) == 1:
            return _sum(self.reports[0].seconds)
        seen: set[str] = set()
        total = 0.0
        for r in self.reports:
            keys = {line.partition("\t")[2]: i for line, i in r.index.items()}
            total += _sum(array("d", (r.seconds[i] for k, i in keys.items() if k not in seen)))
            seen.update(keys)
        return total

    def seconds(self, key: Key) -> float | None:
        """How long the test took in this run: None when the run did not time it, or
        skipped it (a skipped test's time says nothing of how long the test takes)."""
        for r in self.reports:
            found = r.find(key)
            if found is not None:
                status, i = found
                s = r.seconds[i]
                return s if s == s and status != _SKIPPED else None
        return None

    def tests(self, *, at_least: float = 0.0) -> Iterator[tuple[Key, float, str]]:
        """Every test the run timed at `at_least` seconds or more: (key, seconds, status)."""
        for n, r in enumerate(self.reports):
            seconds = r.seconds
            for line, i in r.index.items():
                s = seconds[i]
                if s >= at_least:  # (never NaN)
                    status, _, key = line.partition("\t")
                    if not n or all(x.find(key) is None for x in self.reports[:n]):
                        yield key, s, status


def _sum(seconds: array[float]) -> float:
    """The sum of the durations given (NaN: none given)."""
    total = math.fsum(seconds)
    return total if total == total else math.fsum(s for s in seconds if s == s)


def timed_runs(
    *, session: Session, branch: str, runs: int, before: datetime | None = None
) -> list[TimedRun]:
    """The branch's newest `runs` runs that timed any test (received before `before`, if
    given), newest first. Each report is
    indexed by its lines as stored and its durations stay packed: the daily report reads
    eleven runs of every test, and an object per test and run would cost more than the
    rest of the report (a test's name is cut from its line only when it is looked at)."""
    from jobs.ingest import unpack_durations  # (loaded with the first report)

    out: dict[str, TimedRun] = {}
    for report in store.timed_reports(session=session, branch=branch, runs=runs, before=before):
        if report.statuses is None:
            continue
        run = out.get(report.run)
        if run is None:
            run = out[report.run] = TimedRun(run=report.run, at=report.at, reports=[])
        seconds = unpack_durations(report.durations)
        lines = zlib.decompress(report.statuses).decode().split("\n", len(seconds))
        index = dict(zip(lines[: len(seconds)], range(len(seconds)), strict=False))
        run.reports.append(_Report(index, seconds))
    return list(out.values())


def split(key: Key) -> tuple[str, str]:
    """(classname, name) of a test."""
    classname, _, name = key.partition("\t")
    return classname, name


def known(*, session: Session, branch: str, keys: Iterable[Key]) -> dict[Key, KnownTest]:
    """The known tests of those keys, by key (unknown ones left out)."""
    digests = [queries.test_key(*key.split("\t", 1)) for key in keys]
    found = store.tests_by_key(session=session, branch=branch, keys=digests)
    return {f"{t.classname}\t{t.name}": t for t in found}


class Slower(NamedTuple):
    """A test slower in the latest run than its median over the runs before."""

    key: Key
    seconds: float
    median: float
    runs: int  # the earlier runs that timed it


def slower(runs: Sequence[TimedRun], config: Durations) -> list[Slower]:
    """The tests of `runs[0]` whose duration is at least `slow_factor` times their median
    over the runs after it in `runs` (the earlier ones; those that timed the test, at least
    MIN_RUNS of them) and at least `slow_floor`; the largest slowdown in seconds first."""
    if not runs:
        return []
    floor = config.slow_floor.total_seconds() * (1 - _PRECISION)
    factor = config.slow_factor * (1 - _PRECISION)
    earlier = runs[1 : config.window + 1]
    found = []
    for key, seconds, status in runs[0].tests(at_least=floor):
        if status == _SKIPPED:
            continue
        before = [s for r in earlier if (s := r.seconds(key)) is not None]
        if len(before) < MIN_RUNS:
            continue
        median = statistics.median(before)
        if seconds >= factor * median:
            found.append(Slower(key, seconds, median, len(before)))
    found.sort(key=lambda s: (-(s.seconds - s.median), s.key))
    return found


class SlowTest(TypedDict):
    """A slower test as the daily report names it."""

    id: int | None
    classname: str
    name: str
    seconds: float  # its latest duration
    median: float  # its median over the earlier runs that timed it
    runs: int  # how many they are
    owners: NotRequired[list[str]]  # Slack ids; missing when no owners are configured


class SuiteTime(TypedDict):
    """The latest run's total test time against the runs before it."""

    run: str
    total: float  # seconds
    median: float | None  # of the earlier runs' totals; None: no earlier timed run
    runs: int  # the earlier runs
    change: float | None  # percent of `median`


class DurationFigures(TypedDict):
    """What the daily report says of durations."""

    suite: SuiteTime
    slow: list[SlowTest]  # the SHOWN largest slowdowns
    slow_count: int
    factor: float
    floor: float  # seconds
    window: int


def suite_time(runs: Sequence[TimedRun], window: int) -> SuiteTime:
    """The total time of `runs[0]` and the median of the `window` runs' after it."""
    total = runs[0].total
    totals = [r.total for r in runs[1 : window + 1]]
    median = statistics.median(totals) if totals else None
    return {
        "run": runs[0].run,
        "total": round(total, 3),
        "median": None if median is None else round(median, 3),
        "runs": len(totals),
        "change": (
            round((total - median) / median * 100, 1) if median is not None and median else None
        ),
    }


def figures(
    *, session: Session, sprint: Sprint, before: datetime | None = None
) -> DurationFigures | None:
    """The tracked branch's slower tests and suite time, its latest timed run (received
    before `before`, if given) against the `[durations] window` runs before it; None when
    no run timed its tests."""
    config = sprint.durations
    branch = sprint.sprint.branch
    runs = timed_runs(session=session, branch=branch, runs=config.window + 1, before=before)
    if not runs:
        return None
    found = slower(runs, config)
    shown = found[:SHOWN]
    tests = known(session=session, branch=branch, keys=[s.key for s in shown])
    owner_of = OwnerMap(sprint) if sprint.owners or sprint.codeowners is not None else None
    slow: list[SlowTest] = []
    for s in shown:
        t = tests.get(s.key)
        classname, name = split(s.key)
        row: SlowTest = {
            "id": None if t is None else t.id,
            "classname": classname,
            "name": name,
            "seconds": round(s.seconds, 3),
            "median": round(s.median, 3),
            "runs": s.runs,
        }
        if owner_of is not None:
            row["owners"] = owner_of(None if t is None else t.file, classname)
        slow.append(row)
    return {
        "suite": suite_time(runs, config.window),
        "slow": slow,
        "slow_count": len(found),
        "factor": config.slow_factor,
        "floor": config.slow_floor.total_seconds(),
        "window": config.window,
    }

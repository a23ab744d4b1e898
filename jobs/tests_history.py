"""History per test (`/tests show`, `GET /api/v1/tests/{id}`) and the slowest tests
(`/tests slow`), on the sprint's tracked branch.

The timeline is read from the reports' packed statuses and durations (test_result holds
only changes): the newest reports that include the test, up to `RUNS` of them. The current
streak and the flip count come from the recorded changes, which outlive the packed
statuses (`[retention]` drops those first).
"""

from __future__ import annotations

import statistics
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from sqlmodel import Session

from jobs import durations, flaky, numbers
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.messages import typed_back
from jobs.owners import OwnerMap
from storage.models import KnownTest, TestReport, TestStatus
from storage.queries import quarantine as quarantine_store
from storage.queries import test_key
from storage.queries import tests_history as store

RUNS = 20  # the timeline's length
SCAN = 60  # runs read for it at most (each with all its reports: a shard holds part of them)
MATCHES = 10  # the matches a search lists
SLOW = 10  # the tests `/tests slow` lists
SLOW_RUNS = 3  # the newest timed runs it reads (each test's latest duration among them)

_FAILING = {str(TestStatus.FAILED), str(TestStatus.ERROR)}


class NoSuchTest(SprintError):
    """No known test matches; the message says what was looked for and how to look."""


class RunData(TypedDict):
    """The test in one report."""

    report_id: int
    run: str
    at: str
    commit: str | None
    url: str | None
    status: str
    duration: float | None  # seconds; None when the report did not time it


class SinceData(TypedDict):
    """The report a streak started with."""

    report_id: int | None  # None: the report is no longer stored
    status: str
    at: str
    commit: str | None
    url: str | None


class QuarantineState(TypedDict):
    by: str
    reason: str
    since: str
    until: str
    passes: int  # runs passed in a row while quarantined


class FlakyState(TypedDict):
    at: str
    why: str | None


class HistoryData(TypedDict):
    """One test's history, as `/tests show` and the API give it."""

    id: int
    classname: str
    name: str
    file: str | None
    component: str | None
    branch: str
    status: str
    message: str | None
    quarantine: QuarantineState | None  # the open quarantine, else None
    flaky: FlakyState | None  # when sprintbot found it flaky across runs, and why
    since: SinceData | None  # the current streak's first report (its first failure if failing)
    first_failure: SinceData | None  # the same, when the test fails now
    flips: int  # changes between passing and failing over the recorded history (`flaky.flip_count`)
    runs: list[RunData]  # newest last
    durations: list[float]  # the runs' durations, oldest first
    median_duration: float | None
    owners: list[str] | None  # Slack ids (users, user groups); None: no owners configured


class SlowData(TypedDict):
    """One of the slowest tests by its latest duration."""

    id: int | None
    classname: str
    name: str
    duration: float
    status: str


def _category(status: str) -> str:
    return "failing" if status in _FAILING else status


def find(*, session: Session, sprint: Sprint, text: str) -> KnownTest | list[KnownTest]:
    """The test `text` names — its id (`42`, `#42`), `classname::name`, or its name — or,
    when none does exactly, the tests whose `classname::name` holds it (a list of up to
    `MATCHES` + 1: more than `MATCHES` means there are more). NoSuchTest when none."""
    text = text.strip()
    # A name shown with a character that draws nothing written as its escape ("\\u200b")
    # and typed back so names the test with that character — unless a test has the name
    # as typed (pytest writes such escapes into its ids).
    back = typed_back(text)
    if back == text:
        return _find(session=session, sprint=sprint, text=text)
    try:
        found = _find(session=session, sprint=sprint, text=text)
    except NoSuchTest:
        found = []
    if isinstance(found, KnownTest):
        return found
    try:
        return _find(session=session, sprint=sprint, text=back)
    except NoSuchTest:
        if found:  # (the tests holding the text as typed: found by review)
            return found
        raise


def _find(*, session: Session, sprint: Sprint, text: str) -> KnownTest | list[KnownTest]:
    if not text:
        raise NoSuchTest("Say which test: its id, its name, or part of its name.")
    branch = sprint.sprint.branch
    number = text.removeprefix("#")
    if number.isdigit():  # an id ("²", or one past any id, is none)
        test_id = numbers.row_id(number)
        found = None if test_id is None else store.test_by_id(session=session, test_id=test_id)
        if found is None or found.branch != branch:
            raise NoSuchTest(f"No test has the id {number} on `{branch}`.")
        return found
    # (The parser's module, as the names are stored; loaded with the first report, not by
    # a web process at rest.)
    from jobs.junit import stored_classname, stored_name

    if "::" in text:  # `classname::name`, split at whichever `::` is the classname's end
        splits = [text[:i] for i in range(len(text)) if text.startswith("::", i)]
        keys = [
            test_key(stored_classname(classname), stored_name(text[len(classname) + 2 :]))
            for classname in splits
        ]
        exact = store.tests_by_key(session=session, branch=branch, keys=keys)
        if len(exact) == 1:
            return exact[0]
    named = store.tests_named(
        session=session, branch=branch, name=stored_name(text), limit=MATCHES + 1
    )
    if len(named) == 1:
        return named[0]
    matches = named or store.tests_like(
        session=session, branch=branch, text=text, limit=MATCHES + 1
    )
    if not matches:
        raise NoSuchTest(f'No test on `{branch}` has "{text}" in its name.')
    return matches[0] if len(matches) == 1 else matches


def history(*, session: Session, sprint: Sprint, test: KnownTest, now: datetime) -> HistoryData:
    """The test's timeline, current streak, flips and durations, and its quarantine at
    `now`."""
    if test.id is None:
        raise RuntimeError("a stored test has an id")
    runs = _timeline(session=session, test=test)
    changes = store.changes_of(session=session, test_id=test.id)
    flips = flaky.flip_count((c.previous, c.status) for c in changes)
    since = _since(test, changes, runs)
    # (A skipped run's time is none of the test's: pytest writes 0, and "median 0 ms" was
    # a 30 s test's; found by review. The daily report's slow-test check skips them too.)
    durations = [
        r["duration"] for r in runs if r["duration"] is not None and r["status"] != "skipped"
    ]
    return {
        "id": test.id,
        "classname": test.classname,
        "name": test.name,
        "file": test.file,
        "component": test.component,
        "branch": test.branch,
        "status": str(test.status),
        "message": test.message,
        "quarantine": _quarantine(session, test.id, now),
        "flaky": None
        if test.flaky_at is None
        else {"at": test.flaky_at.isoformat(), "why": test.flaky_why},
        "since": since,
        "first_failure": since if str(test.status) in _FAILING else None,
        "flips": flips,
        "runs": runs,
        "durations": durations,
        "median_duration": statistics.median(durations) if durations else None,
        "owners": _owners(sprint, test),
    }


def _quarantine(session: Session, test_id: int, now: datetime) -> QuarantineState | None:
    held = quarantine_store.open_quarantines(session=session, test_ids=[test_id], at=now)
    if not held:
        return None
    q = held[0][0]
    return {
        "by": q.by,
        "reason": q.reason,
        "since": q.since.isoformat(),
        "until": q.until.isoformat(),
        "passes": q.passes,
    }


def _since(
    test: KnownTest, changes: Sequence[store.Change], runs: Sequence[RunData]
) -> SinceData | None:
    """The first report of the current streak: the earliest of the trailing changes in the
    test's current category (failing, or its status), else of the trailing runs, else
    (a test that never changed) when it was first seen. Where none of what is kept shows
    the streak begin (`[retention]` pruned the change that began it), and the test last
    changed status before the earliest of it: since then."""
    current = _category(str(test.status))
    start: SinceData | None = None
    began = False  # whether what is kept shows the streak begin
    for c in reversed(changes):
        if _category(c.status) != current:
            began = True
            break
        start = {
            "report_id": c.report_id,
            "status": c.status,
            "at": c.at.isoformat(),
            "commit": c.commit,
            "url": c.url,
        }
    if start is None:
        for r in reversed(runs):
            if _category(r["status"]) != current:
                began = True
                break
            start = {k: r[k] for k in ("report_id", "status", "at", "commit", "url")}  # type: ignore[assignment]
    if start is None and not changes:
        # Never changed and no report kept: its status since it was first seen.
        return _unreported(test, test.first_seen_at)
    if start is not None and not began and test.changed_at < datetime.fromisoformat(start["at"]):
        return _unreported(test, test.changed_at)
    return start


def _unreported(test: KnownTest, at: datetime) -> SinceData:
    """The test's status since `at`, by no report kept."""
    return {
        "report_id": None,
        "status": str(test.status),
        "at": at.isoformat(),
        "commit": None,
        "url": None,
    }


def _timeline(*, session: Session, test: KnownTest) -> list[RunData]:
    """The test in the newest reports that include it, oldest first."""
    from jobs.ingest import unpack_durations  # (ingestion's modules load with the first report)

    needle = f"\t{test.classname}\t{test.name}\n"
    runs: list[RunData] = []
    for report in store.packed_reports(session=session, branch=test.branch, runs=SCAN):
        found = _locate(report, needle)
        if found is None:
            continue
        status, index = found
        duration = None
        if report.durations:
            seconds = unpack_durations(report.durations)
            if index < len(seconds) and seconds[index] == seconds[index]:
                duration = round(float(seconds[index]), 6)
        runs.append(
            {
                "report_id": report.id or 0,
                "run": report.run,
                "at": report.at.isoformat(),
                "commit": report.commit,
                "url": report.url,
                "status": status,
                "duration": duration,
            }
        )
        if len(runs) >= RUNS:
            break
    runs.reverse()
    return runs


def _locate(report: TestReport, needle: str) -> tuple[str, int] | None:
    """The test's status in a report and its position among the report's tests."""
    if report.statuses is None:
        return None
    text = "\n" + zlib.decompress(report.statuses).decode()
    end = text.find(needle)
    if end < 0:
        return None
    start = text.rfind("\n", 0, end)
    return text[start + 1 : end], text.count("\n", 0, start)


def _owners(sprint: Sprint, test: KnownTest) -> list[str] | None:
    """The test's owners (`[[owners]]`, else `[codeowners]`); None when neither is set."""
    if not sprint.owners and sprint.codeowners is None:
        return None
    return OwnerMap(sprint)(test.file, test.classname)


def slowest(*, session: Session, sprint: Sprint, limit: int = SLOW) -> list[SlowData]:
    """The tracked branch's slowest tests by their latest duration, slowest first."""
    branch = sprint.sprint.branch
    latest: dict[durations.Key, tuple[float, str]] = {}
    for run in durations.timed_runs(session=session, branch=branch, runs=SLOW_RUNS):
        for key, seconds, status in run.tests():
            if status != "skipped":  # (its latest duration of a run that ran it)
                latest.setdefault(key, (seconds, status))
    top = sorted(latest.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    found = durations.known(session=session, branch=branch, keys=[key for key, _ in top])
    return [
        {
            "id": found[key].id if key in found else None,
            "classname": durations.split(key)[0],
            "name": durations.split(key)[1],
            "duration": round(seconds, 6),
            "status": status,
        }
        for key, (seconds, status) in top
    ]

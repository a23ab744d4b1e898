"""CI results in: JUnit reports and benchmark figures, one transaction each.

A report is parsed (streaming), compared with the branch's known tests, classified
(regressions, fixed, new failures, flaky, newly skipped), stored (only what changed gets a
row; every status of the report is kept packed on the report), readiness is recomputed
and snapshotted, and alerts are queued — all in one transaction, so a report that fails
anywhere leaves no trace. The parsing and classifying come first, outside any lock
(`receive_junit`): on SQLite the write lock is held only while the rows are written, so
Slack commands and reads never wait for a parse.

Per test, the report is a few bytes in arrays; the branch is never held: a report about as
large as its branch is compared with it in one streamed read, a smaller one (a CI shard)
looks its own tests up by key in batches and takes the rest from the branch's counts. The
classification itself is counted in bulk over the arrays; only new and changed tests are
looked at one by one.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
import time
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice, repeat
from operator import and_, ne, or_
from typing import IO, Any

from sqlmodel import Session

from jobs import junit, notices, numbers
from jobs.components import ComponentMap
from jobs.config import Sprint, format_duration
from jobs.errors import SprintError
from jobs.numbers import MetricState, Move, TestCounts
from jobs.readiness import TestTally, announce_decline, record_readiness, snapshot_readiness
from storage import ingest as ingest_queries
from storage import queries
from storage.db import Database
from storage.ingest import KnownRow
from storage.models import Alert, MetricSample, TestReport

log = logging.getLogger(__name__)
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}$")
_RUN = re.compile(r"^[\w.:#/@+-]{1,200}$")
_SLICE = 4096  # tests handled at once where they are handled in bulk


class IngestError(SprintError):
    """A request we refuse; nothing was stored."""


@dataclass(frozen=True)
class RunInfo:
    run: str | None = None
    commit: str | None = None
    branch: str = "main"
    url: str | None = None
    at: datetime | None = None


def check_run_info(info: RunInfo, *, now: datetime) -> None:
    """Refuse branch names, run ids, links and times no CI system would send."""
    if not _BRANCH.match(info.branch) or ".." in info.branch:
        raise IngestError(f"branch {info.branch!r} is not a branch name (letters, digits, ._/+-)")
    if info.run is not None and not _RUN.match(info.run):
        raise IngestError(
            f"run {info.run!r} is not a CI run id (up to 200 of letters, digits, ._:#/@+-)"
        )
    if info.commit is not None and not re.match(r"^[\w.-]{1,100}$", info.commit):
        raise IngestError(f"commit {info.commit!r} is not a commit id")
    if info.url is not None:
        # Imported here so that this check stays one self-contained piece of the module.
        import unicodedata
        from urllib.parse import urlsplit

        wrong = "url must be an http(s) link to the CI run"
        try:
            parts = urlsplit(info.url)
            web = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            web = False
        if not web:
            raise IngestError(wrong)
        if len(info.url) > 1990:
            raise IngestError(f"{wrong}, at most 1990 characters long")
        # `<`, `>` and `|` would end Slack's `<url|label>` early and let the rest of the
        # "link" post mentions or a forged link; a real URL has them percent-encoded.
        if any(c in "<>|" or c.isspace() or unicodedata.category(c)[0] == "C" for c in info.url):
            raise IngestError(
                f"{wrong}; it may not hold spaces, control characters, <, > or | "
                "(percent-encode them)"
            )
    if info.at is not None:
        check_time(info.at, now=now, name="at")


def check_time(at: datetime, *, now: datetime, name: str) -> None:
    """A measurement time must be aware, after 2000 and not more than a day ahead."""
    if at.tzinfo is None:
        raise IngestError(f"{name} needs a UTC offset, e.g. 2025-10-30T09:00:00Z")
    if at.year < 2000 or at > now + timedelta(days=1):
        raise IngestError(f"{name} {at.isoformat()} is not a plausible time for a CI run")


def _test_ref(classname: str, name: str, file: str | None, component: str | None) -> dict[str, Any]:
    return {
        "id": f"{classname}::{name}",
        "classname": classname,
        "name": name,
        "file": file,
        "component": component,
    }


def _pack(report: junit.Report) -> bytes:
    """Every status of a report, compactly: zlib over `status\tclassname\tname` lines,
    compressed as it goes so a large report never exists as one big string."""
    packer = zlib.compressobj(1)
    statuses = [str(s) for s in junit.STATUSES]
    classnames = report.classnames
    out = []
    n = len(report)
    for start in range(0, n, _SLICE):
        stop = min(start + _SLICE, n)
        lines = "\n".join(
            map(
                "\t".join,
                zip(
                    map(statuses.__getitem__, report.status_of[start:stop]),
                    map(classnames.__getitem__, report.class_of[start:stop]),
                    report.names(start, stop),
                    strict=True,
                ),
            )
        )
        out.append(packer.compress((lines + "\n").encode()))
    out.append(packer.flush())
    return b"".join(out)


def unpack_statuses(blob: bytes) -> list[tuple[str, str, str]]:
    """The inverse of _pack: (status, classname, name) per test of a report."""
    out = []
    for line in zlib.decompress(blob).decode().split("\n"):
        if not line:
            continue
        status, classname, name = line.split("\t", 2)
        out.append((status, classname, name))
    return out


def _id(value: int | None) -> int:
    if value is None:  # a flushed row always has one
        raise RuntimeError("row has no id after flush")
    return value


def _key_digest(classname: str, name: str) -> bytes:
    """known_test.key, as bytes (the column holds their hex)."""
    return hashlib.blake2b(f"{classname}::{name}".encode(), digest_size=16).digest()


@dataclass
class Ingested:
    reply: dict[str, Any]
    created: bool  # False: a replay of a document already received for this run


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while a report builds its (acyclic) objects:
    with 100k+ live objects its full passes would cost more than the ingest itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_PASSED, _FAILED, _ERROR, _SKIPPED, _FLAKY = (junit.CODE[s] for s in junit.STATUSES)
_FAILING = (_FAILED, _ERROR)
_NEW = 255  # old_code of a test the branch did not know


def _positions(codes: bytes | bytearray, code: int) -> array[int]:
    """Where `code` occurs in `codes`, found by C's search rather than a Python loop."""
    out = array("I")
    needle = bytes([code])
    i = codes.find(needle)
    while i >= 0:
        out.append(i)
        i = codes.find(needle, i + 1)
    return out


class _Memo(dict[tuple[int, int], int]):
    """A function's values, computed on first use: looked up in C once they are known."""

    def __init__(self, function: Callable[[tuple[int, int]], int]) -> None:
        super().__init__()
        self._function = function

    def __missing__(self, key: tuple[int, int]) -> int:
        value = self[key] = self._function(key)
        return value


class _Plan:
    """A parsed report and what it does to its branch, worked out from the branch's known
    tests as read at `version`: every per-test figure in arrays (a few bytes a test), so a
    1M-test report costs little beside its names."""

    def __init__(
        self,
        parsed: junit.Report,
        *,
        sprint: Sprint,
        info: RunInfo,
        run: str,
        digest: str,
        at: datetime,
        now: datetime,
    ) -> None:
        self.parsed, self.sprint, self.info = parsed, sprint, info
        self.run, self.digest, self.at, self.now = run, digest, at, now
        self.statuses = _pack(parsed)
        # Components as numbers (0: none); each test's by its (class, file), looked up once
        # per pair rather than globbed per test, and the pairs mapped in bulk.
        self.components: list[str | None] = [None]
        self._component_ids: dict[str | None, int] = {None: 0}
        mapper = ComponentMap(sprint)
        classnames, files = parsed.classnames, parsed.files

        def component_of(pair: tuple[int, int]) -> int:
            return self._component_id(mapper(files[pair[1]], classnames[pair[0]]))

        by_pair = _Memo(component_of)
        self.component_of = array(
            "I", map(by_pair.__getitem__, zip(parsed.class_of, parsed.file_of, strict=True))
        )
        self.version = -1
        self._refs_version = -1
        self._refs: dict[str, list[dict[str, Any]]] = {}

    def keys(self) -> Iterator[str]:
        """Each test's known_test.key, in the report's order."""
        p = self.parsed
        classnames = p.classnames
        for start in range(0, len(p), _SLICE):
            stop = min(start + _SLICE, len(p))
            classes = map(classnames.__getitem__, p.class_of[start:stop])
            for classname, name in zip(classes, p.names(start, stop), strict=True):
                yield _key_digest(classname, name).hex()

    def _component_id(self, name: str | None) -> int:
        found = self._component_ids.get(name)
        if found is None:
            found = self._component_ids[name] = len(self.components)
            self.components.append(name)
        return found

    def classify(self, *, session: Session) -> None:
        """Compare the report with the branch's known tests as `session` reads them now.

        A report about as large as its branch is compared with the branch read whole, in one
        streamed pass; a smaller one (a CI shard) looks its own tests up by key, in batches,
        and takes the rest of the branch from its counts."""
        parsed = self.parsed
        n = len(parsed)
        branch = self.info.branch
        self.version = queries.branch_version(session=session, branch=branch)
        self.known_id = known_id = array("q", bytes(8 * n))
        self.old_code = old_code = bytearray([_NEW]) * n
        self.old_component = old_component = array("I", bytes(4 * n))
        # Per component [passed, known] before and after the report; all tests' totals after.
        before: dict[int, list[int]] = {}
        after: dict[int, list[int]] = {}
        passed_total = failing_total = known_total = 0
        code_of, component_ids = junit.CODE, self._component_ids
        keyed = 2 * n < ingest_queries.branch_size(session=session, branch=branch)
        rows = (
            ingest_queries.known_tests_by_key(session=session, branch=branch, keys=self.keys())
            if keyed
            else queries.branch_tests(session=session, branch=branch)
        )
        batch: list[KnownRow]
        for batch in iter(lambda: list(islice(rows, _SLICE)), []):
            for i, (_, _, test_id, status, component) in zip(
                parsed.indexes(batch), batch, strict=True
            ):
                code = code_of[status]
                comp = component_ids.get(component)
                if comp is None:
                    comp = self._component_id(component)
                if i >= 0:
                    known_id[i], old_code[i], old_component[i] = test_id, code, comp
                    continue
                if keyed:  # (its key, not its name: counted with the rest of the branch below)
                    continue
                # A known test this report does not hold (a shard): unchanged.
                ok = code == _PASSED
                passed_total += ok
                failing_total += code in _FAILING
                known_total += 1
                if comp:
                    for counts in (before.setdefault(comp, [0, 0]), after.setdefault(comp, [0, 0])):
                        counts[0] += ok
                        counts[1] += 1
        if keyed and branch == self.sprint.sprint.branch:
            # The tests the report does not hold: the branch's counts less the ones it does.
            # (Only the tracked branch's counts make readiness; other branches skip the pass.)
            counted = ingest_queries.branch_counts(session=session, branch=branch)
            for (component, status), count in counted.items():
                code = code_of[status]
                passed = count if code == _PASSED else 0
                passed_total += passed
                failing_total += count if code in _FAILING else 0
                known_total += count
                comp = self._component_id(component)
                if comp:
                    for counts in (before.setdefault(comp, [0, 0]), after.setdefault(comp, [0, 0])):
                        counts[0] += passed
                        counts[1] += count
            for i in range(n):
                old = old_code[i]
                if old == _NEW:
                    continue
                ok = old == _PASSED
                passed_total -= ok
                failing_total -= old in _FAILING
                known_total -= 1
                comp = old_component[i]
                if comp:
                    for counts in (before.setdefault(comp, [0, 0]), after.setdefault(comp, [0, 0])):
                        counts[0] -= ok
                        counts[1] -= 1

        # Counted in bulk (C loops over the arrays); only the tests that are new or changed
        # are then looked at one by one.
        status_of, component_of = parsed.status_of, self.component_of
        self.counts = counts_of = [status_of.count(code) for code in range(len(junit.STATUSES))]
        passed_total += counts_of[_PASSED]
        failing_total += counts_of[_FAILED] + counts_of[_ERROR]
        known_total += n
        for (comp, code), count in Counter(zip(component_of, status_of, strict=True)).items():
            if comp:
                counts = after.setdefault(comp, [0, 0])
                counts[0] += count if code == _PASSED else 0
                counts[1] += count
        for (comp, old), count in Counter(zip(old_component, old_code, strict=True)).items():
            if comp and old != _NEW:
                counts = before.setdefault(comp, [0, 0])
                counts[0] += count if old == _PASSED else 0
                counts[1] += count
        transitions = Counter(zip(old_code, status_of, strict=True))
        self.still_failing = sum(transitions[old, code] for old in _FAILING for code in _FAILING)
        self.flaky = _positions(status_of, _FLAKY)
        self.new = _positions(old_code, _NEW)
        # Known tests whose status or component moved: one flag a test, worked out in C.
        moved = map(
            and_,
            map(or_, map(ne, old_code, status_of), map(ne, old_component, component_of)),
            map(ne, old_code, repeat(_NEW)),
        )
        self.changed = _positions(bytes(moved), True)
        self.regressed, self.fixed, self.new_failures = array("I"), array("I"), array("I")
        self.newly_skipped = array("I")
        new_failures = [i for i in self.new if status_of[i] in _FAILING]
        for i in self.changed:
            code, old = status_of[i], old_code[i]
            if old == _PASSED and code in _FAILING:
                self.regressed.append(i)  # or a muted test's failure: told apart under the lock
            elif old in _FAILING and code == _PASSED:
                self.fixed.append(i)
            elif code == _SKIPPED and old != _SKIPPED:
                self.newly_skipped.append(i)
            if code in _FAILING and old not in _FAILING and old != _PASSED:
                new_failures.append(i)  # e.g. skipped → failed: first time seen failing
        self.new_failures = array("I", sorted(new_failures))
        self.before, self.after = self._named(before), self._named(after)
        self.tally = TestTally(
            components=dict(self.after),
            passed=passed_total,
            failing=failing_total,
            known=known_total,
        )

    def _named(self, counts: dict[int, list[int]]) -> dict[str, TestCounts]:
        out = {}
        for k, (passed, total) in counts.items():
            name = self.components[k]
            if name is not None and total:
                out[name] = TestCounts(passed=passed, total=total)
        return out

    # -- what the write phase needs, built from the arrays on demand ----------------------

    def ref(self, i: int) -> dict[str, Any]:
        p = self.parsed
        return _test_ref(
            p.classnames[p.class_of[i]],
            p.name(i),
            p.files[p.file_of[i]],
            self.components[self.component_of[i]],
        )

    def refs(self) -> dict[str, list[dict[str, Any]]]:
        """The reply's lists that do not depend on what is read under the lock, built
        before it is taken (a first report's new failures may be thousands)."""
        if self._refs_version != self.version:
            self._refs = {
                name: [self.ref(i) for i in indices]
                for name, indices in (
                    ("fixed", self.fixed),
                    ("new_failures", self.new_failures),
                    ("flaky", self.flaky),
                    ("newly_skipped", self.newly_skipped),
                )
            }
            self._refs_version = self.version
        return self._refs

    def message(self, i: int) -> str | None:
        return self.parsed.messages.get(i)

    def new_rows(self) -> Iterator[tuple[Any, ...]]:
        """The new tests as queries.STAGED_TEST_COLUMNS, in the order of their keys: stored
        in that order they append to the indexes instead of writing all over them (twice as
        fast for a first report of 700k tests). Sorted in 256 buckets by the keys' first
        byte, so the sort needs no more than the keys' 16 bytes a test."""
        p, statuses, new = self.parsed, [str(s) for s in junit.STATUSES], self.new
        keys = bytearray()
        buckets = [array("I") for _ in range(256)]
        for j, i in enumerate(new):
            key = _key_digest(p.classnames[p.class_of[i]], p.name(i))
            keys += key
            buckets[key[0]].append(j)
        n = 0
        for bucket in buckets:
            for j in sorted(bucket, key=lambda j: keys[16 * j : 16 * j + 16]):
                i = new[j]
                code = p.status_of[i]
                n += 1
                yield (
                    n,
                    keys[16 * j : 16 * j + 16].hex(),
                    p.classnames[p.class_of[i]],
                    p.name(i),
                    p.files[p.file_of[i]],
                    self.components[self.component_of[i]],
                    statuses[code],
                    p.messages.get(i) if code in _FAILING else None,
                )

    def updates(self, report_id: int, *, status_changed: bool) -> Iterator[tuple[Any, ...]]:
        """Known tests whose status (or else only their component) changed, as
        queries.UPDATED_TEST_COLUMNS and the test's id."""
        p, statuses = self.parsed, [str(s) for s in junit.STATUSES]
        for i in self.changed:
            code = p.status_of[i]
            if (code != self.old_code[i]) != status_changed:
                continue
            yield (
                statuses[code],
                self.components[self.component_of[i]],
                p.messages.get(i) if code in _FAILING else None,
                report_id,
                p.files[p.file_of[i]],
                self.known_id[i],
            )

    def results(self, report_id: int) -> Iterator[tuple[Any, ...]]:
        """A result for each known test whose status changed."""
        p, statuses = self.parsed, [str(s) for s in junit.STATUSES]
        for i in self.changed:
            code, old = p.status_of[i], self.old_code[i]
            if code != old:
                yield report_id, self.known_id[i], statuses[code], statuses[old], p.messages.get(i)


def ingest_junit(
    *,
    session: Session,
    sprint: Sprint,
    document: bytes | IO[bytes],
    digest: str,
    info: RunInfo,
    now: datetime,
) -> Ingested:
    """Ingest one JUnit document in the caller's transaction; the caller commits (or rolls
    back on any error). The document is parsed before the session is first used; the rest
    holds the session's transaction (on SQLite, the write lock) — `receive_junit` holds it
    only to write."""
    check_run_info(info, now=now)
    with _gc_paused():
        plan = _prepare(sprint=sprint, document=document, digest=digest, info=info, now=now)
        return _write(session=session, plan=plan, staged=False)


def receive_junit(
    *,
    db: Database,
    sprint: Sprint,
    document: bytes | IO[bytes],
    digest: str,
    info: RunInfo,
    now: datetime,
) -> Ingested:
    """Ingest one JUnit document so that nothing waits on it: parse, read the branch and
    classify without any lock, stage the new tests on the connection that will write them,
    then one short transaction writes it all (committed here; one transaction per report).
    If another ingest changed the branch meanwhile, the report is classified again under
    the lock, so the outcome is the same as if they had run one after the other."""
    check_run_info(info, now=now)
    run = info.run or f"doc-{digest[:16]}"
    with db.read() as session:
        previous = queries.report_by_digest(session=session, run=run, digest=digest)
    if previous is not None:
        return Ingested(reply=previous.reply, created=False)
    with _gc_paused():
        started = time.perf_counter()
        plan = _prepare(sprint=sprint, document=document, digest=digest, info=info, now=now)
        with db.connect() as connection:
            try:
                with db.read(connection=connection) as session:
                    plan.classify(session=session)
                if plan.new:
                    queries.stage_tests(connection=connection, rows=plan.new_rows())
                plan.refs()
                ready = time.perf_counter()
                log.info(
                    "report of %s: %d testcases read and classified in %.1f s; writing",
                    run,
                    plan.parsed.testcases,
                    ready - started,
                )
                with db.session(connection=connection) as session:
                    result = _write(session=session, plan=plan, staged=True)
                    session.commit()
                log.info(
                    "report of %s: written in %.1f s (%d new tests, %d changed)",
                    run,
                    time.perf_counter() - ready,
                    len(plan.new),
                    len(plan.changed),
                )
            finally:
                queries.unstage_tests(connection=connection)
    return result


def _prepare(
    *, sprint: Sprint, document: bytes | IO[bytes], digest: str, info: RunInfo, now: datetime
) -> _Plan:
    """Parse a document and look its tests' components up: no database involved."""
    parsed = junit.parse(document)
    at = info.at or parsed.timestamp or now
    if info.at is None and parsed.timestamp is not None:
        check_time(at, now=now, name="the report's timestamp")
    run = info.run or f"doc-{digest[:16]}"
    return _Plan(parsed, sprint=sprint, info=info, run=run, digest=digest, at=at, now=now)


def _write(*, session: Session, plan: _Plan, staged: bool) -> Ingested:
    """Store a classified report: the write phase, in `session`'s transaction."""
    info, sprint, now, at = plan.info, plan.sprint, plan.now, plan.at
    branch = info.branch
    queries.lock_branch(session=session, branch=branch)
    previous = queries.report_by_digest(session=session, run=plan.run, digest=plan.digest)
    if previous is not None:
        return Ingested(reply=previous.reply, created=False)
    if not staged or queries.branch_version(session=session, branch=branch) != plan.version:
        # Nothing read yet, or another ingest wrote the branch since: read it again under
        # the lock, where nothing can change it.
        plan.classify(session=session)
        if plan.new:  # (else what is staged from before is left out below)
            queries.stage_tests(connection=session.connection(), rows=plan.new_rows())

    # Muting and alerts change outside ingestion: read them under the lock.
    regressed: list[int] = []
    muted_failures: list[int] = []
    muted = queries.muted_among(
        session=session, branch=branch, ids=[plan.known_id[i] for i in plan.regressed]
    )
    for i in plan.regressed:
        (muted_failures if plan.known_id[i] in muted else regressed).append(i)
    fixed_ids = [plan.known_id[i] for i in plan.fixed]
    alerted = ingest_queries.alerted_among(session=session, ids=fixed_ids)
    recovered = [test_id for test_id in fixed_ids if test_id in alerted]

    report = queries.add_report(
        session=session,
        report=TestReport(
            run=plan.run,
            commit=info.commit,
            branch=branch,
            url=info.url,
            at=at,
            received_at=now,
            digest=plan.digest,
            tests=plan.parsed.testcases,
            statuses=plan.statuses,
        ),
    )
    report_id = _id(report.id)
    # First seen: when sprintbot received it (history's time axis).
    if plan.new:
        queries.insert_staged_tests(
            session=session, branch=branch, report_id=report_id, first_seen_at=now, at=at
        )
    if not staged:
        queries.unstage_tests(connection=session.connection())
    queries.update_tests(
        session=session, rows=plan.updates(report_id, status_changed=True), changed_at=at
    )
    queries.update_tests(
        session=session, rows=plan.updates(report_id, status_changed=False), changed_at=None
    )
    queries.add_results(session=session, rows=plan.results(report_id))

    recorded = snapshot_readiness(
        session=session,
        sprint=sprint,
        cause=f"report:{report_id}",
        now=now,
        branch=branch,
        counts=plan.tally,
    )
    readiness = recorded.summary
    regressions = [{**plan.ref(i), "message": plan.message(i)} for i in regressed]
    refs = plan.refs()
    new_failures = refs["new_failures"]
    effect = None
    if branch == sprint.sprint.branch:
        comps = plan.components
        effect = numbers.impact(
            sprint,
            before=plan.before,
            after=plan.after,
            regressed=[Move(comps[plan.old_component[i]], passed=-1, known=0) for i in regressed],
            fixed=[Move(comps[plan.old_component[i]], passed=1, known=0) for i in plan.fixed],
            new_failures=[
                Move(comps[plan.component_of[i]], passed=0, known=1)
                if plan.old_code[i] == _NEW
                else Move(comps[plan.old_component[i]], passed=0, known=0)  # known already
                for i in plan.new_failures
            ],
            manual=queries.latest_manual_scores(session=session),
            metric_values=queries.latest_metric_values(session=session),
        ).as_dict()

    context = {
        "commit": info.commit,
        "branch": branch,
        "url": info.url,
        "run": plan.run,
        "report": report_id,
        "readiness": readiness,
        "impact": effect,
    }
    alert_key = None
    # Only the tracked branch alerts the team; other branches get their classification in
    # the reply (a feature branch's red tests are its author's business).
    if regressions and branch == sprint.sprint.branch:
        alert = notices.regression_alert(
            session=session,
            sprint=sprint,
            report_id=report_id,
            tests=regressions,
            context=context,
            now=now,
        )
        queries.set_alert(
            session=session, test_ids=[plan.known_id[i] for i in regressed], alert_id=alert.id or 0
        )
        alert_key = alert.key
    _resolve_recovered(session=session, recovered=recovered, context=context, now=now)
    # After the alert, so the team reads the cause before the consequence.
    announce_decline(
        session=session,
        sprint=sprint,
        recorded=recorded,
        causes=_causes(regressions, new_failures),
        now=now,
    )

    counts = plan.counts
    reply = {
        "run": plan.run,
        "report": report_id,
        "tests": plan.parsed.testcases,
        "unique_tests": len(plan.parsed),
        "passed": counts[_PASSED],
        "failed": counts[_FAILED],
        "errors": counts[_ERROR],
        "skipped": counts[_SKIPPED],
        "flaky_count": counts[_FLAKY],
        "regressions": [{k: v for k, v in r.items() if k != "message"} for r in regressions],
        "fixed": refs["fixed"],
        "new_failures": new_failures,
        "still_failing": plan.still_failing,
        "flaky": refs["flaky"] + [plan.ref(i) for i in muted_failures],
        "newly_skipped": refs["newly_skipped"],
        "readiness": readiness,
        "impact": effect,
        "alert": alert_key,
    }
    report.passed, report.failed = counts[_PASSED], counts[_FAILED]
    report.errors, report.skipped = counts[_ERROR], counts[_SKIPPED]
    report.flaky = counts[_FLAKY]
    report.reply = reply
    session.add(report)
    session.flush()
    return Ingested(reply=reply, created=True)


def _causes(
    regressions: list[dict[str, Any]], new_failures: list[dict[str, Any]]
) -> dict[str, str]:
    by_component: dict[str, list[int]] = {}
    for kind, refs in ((0, regressions), (1, new_failures)):
        for ref in refs:
            if ref["component"]:
                by_component.setdefault(ref["component"], [0, 0])[kind] += 1
    causes = {}
    for component, (reg, new) in by_component.items():
        parts = []
        if reg:
            parts.append(f"{reg} regression{'s' if reg != 1 else ''}")
        if new:
            parts.append(f"{new} new failure{'s' if new != 1 else ''}")
        causes[component] = ", ".join(parts)
    return causes


def _resolve_recovered(
    *, session: Session, recovered: list[int], context: dict[str, Any], now: datetime
) -> None:
    """Release fixed tests from their alerts; an alert whose tests all pass is resolved."""
    if not recovered:
        return
    alert_ids = {t.alert_id for t in queries.tests_by_id(session=session, ids=recovered)}
    queries.clear_alert(session=session, test_ids=recovered)
    for alert_id in sorted(a for a in alert_ids if a is not None):
        if queries.alert_tests(session=session, alert_id=alert_id):
            continue
        alert = queries.alert_by_id(session=session, alert_id=alert_id)
        if alert is not None and alert.resolved_at is None:
            notices.resolve_alert(
                session=session,
                alert=alert,
                data={
                    "count": alert.payload.get("count"),
                    "commit": context["commit"],
                    "url": context["url"],
                    "report": context["report"],
                },
                now=now,
            )


# -- metrics -----------------------------------------------------------------------------


def ingest_metrics(*, session: Session, sprint: Sprint, body: Any, now: datetime) -> dict[str, Any]:
    """Store benchmark figures, compare each with its target, alert on degradation."""
    if not isinstance(body, dict) or not isinstance(body.get("metrics"), dict):
        raise IngestError('send a JSON object: {"metrics": {"name": number, ...}}')
    unknown_keys = set(body) - {"at", "commit", "metrics"}
    if unknown_keys:
        raise IngestError(f"unknown field {sorted(unknown_keys)[0]!r}; fields: at, commit, metrics")
    metrics: dict[str, Any] = body["metrics"]
    if not metrics:
        raise IngestError("metrics is empty; send at least one figure")
    at = now
    if body.get("at") is not None:
        try:
            at = datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))
        except ValueError:
            raise IngestError(f"at {body['at']!r} is not an ISO-8601 time") from None
        check_time(at, now=now, name="at")
    commit = body.get("commit")
    if commit is not None and (
        not isinstance(commit, str) or not re.match(r"^[\w.-]{1,100}$", commit)
    ):
        raise IngestError("commit must be a commit id string")
    samples = []
    for name, value in metrics.items():
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]{0,199}$", name):
            raise IngestError(f"metric name {name!r} must be lower_snake_case")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise IngestError(f"metric {name!r} must be a number, not {value!r}")
        samples.append(
            MetricSample(name=name, value=float(value), at=at, commit=commit, received_at=now)
        )
    queries.add_metric_samples(session=session, samples=samples)

    tolerance = sprint.alerts.perf_tolerance
    reply_metrics: dict[str, Any] = {}
    causes: dict[str, str] = {}
    for sample in samples:
        metric = sprint.metric(sample.name)
        if metric is None:
            reply_metrics[sample.name] = {"value": sample.value, "status": MetricState.UNTRACKED}
            continue
        state = numbers.metric_state(metric, sample.value, tolerance=tolerance)
        over = _beyond_target(metric.target, sample.value, lower_better=metric.better == "lower")
        reply_metrics[sample.name] = {
            "value": sample.value,
            "target": metric.target,
            "unit": metric.unit,
            "better": str(metric.better),
            "status": state,
            "beyond_target_percent": over,
        }
        for component in sprint.components:
            if sample.name in component.metrics and state is not MetricState.MET:
                causes[component.name] = (
                    f"{metric.title} {state} target ({sample.value:g} {metric.unit})"
                )
        _performance_alert(
            session=session,
            sprint=sprint,
            name=sample.name,
            state=state,
            data={
                "metric": sample.name,
                "label": metric.title,
                "value": sample.value,
                "target": metric.target,
                "unit": metric.unit,
                "better": str(metric.better),
                "beyond_target_percent": over,
                "commit": commit,
                "tolerance": tolerance,
            },
            now=now,
        )
    readiness = record_readiness(
        session=session, sprint=sprint, cause="metrics", causes=causes, now=now
    )
    return {
        "at": at.isoformat(),
        "commit": commit,
        "metrics": reply_metrics,
        "readiness": readiness,
    }


def _beyond_target(target: float, value: float, *, lower_better: bool) -> float:
    """How far past the target, in percent of it (0 when met)."""
    if target == 0:
        return 0.0
    over = (
        (value - target) / abs(target) * 100
        if lower_better
        else (target - value) / abs(target) * 100
    )
    return round(max(over, 0.0), 1)


def _performance_alert(
    *,
    session: Session,
    sprint: Sprint,
    name: str,
    state: MetricState,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Degraded → one alert until the metric is back within target; then a resolved notice."""
    open_alert = queries.open_alert(
        session=session, kind=notices.AlertKind.PERFORMANCE, subject=name
    )
    if state is MetricState.DEGRADED and open_alert is None:
        stamp = now.strftime("%Y%m%dT%H%M%S%f")
        key = f"performance:{name}:{stamp}"
        alert = queries.add_alert(
            session=session,
            alert=Alert(
                kind=notices.AlertKind.PERFORMANCE,
                key=key,
                subject=name,
                created_at=now,
                payload={**data, "ack_within": format_duration(sprint.alerts.performance_ack)},
            ),
        )
        alert.payload = {**alert.payload, "alert_id": alert.id}
        notices.post(
            session=session,
            key=key,
            template=notices.Template.PERFORMANCE_ALERT,
            data=alert.payload,
            now=now,
            channel=sprint.channels.team,
        )
    elif state is MetricState.MET and open_alert is not None:
        notices.resolve_alert(
            session=session,
            alert=open_alert,
            data=data,
            now=now,
            reply=notices.Template.PERFORMANCE_RESOLVED,
        )

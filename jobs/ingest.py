"""CI results in: JUnit reports and benchmark figures, one transaction each.

A report goes through stages: parsed (`jobs.junit`, streaming), its tests looked up among
the branch's known tests (`_look_up`), classified (`jobs.classify`, pure: regressions,
fixed, new failures, flaky, newly skipped, the readiness tally), persisted (`_persist`:
only what changed gets a row; every status of the report is kept packed on the report),
readiness snapshotted and alerts queued (`_alert`) — all in one transaction, so a report
that fails anywhere leaves no trace. Parsing, looking up and classifying come first,
outside any lock (`receive_junit`): on SQLite the write lock is held only while the rows are
written, so Slack commands and reads never wait for a parse.

Per test, the report is a few bytes in arrays; the branch is never held: a report naming the
same tests as the branch's newest report (the usual CI run) takes them from where that
report left them (`TestReport.positions`), a report about as large as its branch is
otherwise compared with it in one streamed read, a smaller one (a CI shard) looks its own
tests up by key in batches and takes the rest from the branch's counts. The classification
itself is counted in bulk over the arrays; only new and changed tests are looked at one by
one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import sys
import time
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from itertools import islice, repeat
from operator import ne
from typing import IO, Any, NamedTuple, TypeVar

from sqlmodel import Session

from jobs import figures, flaky, junit, notices, numbers, quarantine
from jobs.classify import (
    FAILING,
    NEW,
    PASSED_ONCE,
    Classified,
    Components,
    Known,
    classify_report,
    positions,
)
from jobs.components import ComponentMap, file_path
from jobs.config import Metric, Sprint, format_duration
from jobs.errors import SprintError, shown
from jobs.heap import gc_paused
from jobs.numbers import MetricState, Move, parse_instant
from jobs.readiness import (
    Recorded,
    announce_decline,
    prior_readiness,
    record_readiness,
    snapshot_readiness,
)
from storage import ingest as ingest_queries
from storage import queries
from storage.db import Database
from storage.models import Alert, KnownTest, MetricSample, Quarantine, TestReport
from storage.queries import KnownRow
from storage.queries import quarantine as quarantine_store

log = logging.getLogger(__name__)
_T = TypeVar("_T")
# Matched whole (`fullmatch`: "$" would let a final line end through), in ASCII.
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}")
_RUN = re.compile(r"[\w.:#/@+-]{1,200}")  # (Jenkins' BUILD_TAG holds a job's name: "é")
_COMMIT = re.compile(r"[\w.-]{1,100}", re.ASCII)
_METRIC = re.compile(r"[a-z][a-z0-9_]{0,199}")
_SLICE = 4096  # tests handled at once where they are handled in bulk
_POSITIONED_NEW = 250_000  # new tests a report keeps positions for (`_Plan.positions`)
LATE = ingest_queries.LATE  # (a run this much older than one received is late)


class IngestError(SprintError):
    """A request we refuse; nothing was stored."""


@dataclass(frozen=True)
class RunInfo:
    run: str | None = None
    commit: str | None = None
    branch: str = "main"
    url: str | None = None
    at: datetime | None = None


def run_of(info: RunInfo, digest: str) -> str:
    """The report's run: as CI named it, or else one named after the document on its
    branch (`doc-…`), which a replay of it finds: the same document for another branch (an
    artifact promoted, one run reporting for two) was taken for a replay of the first,
    and nothing was stored for the second (found by review)."""
    if info.run:
        return info.run
    on_branch = hashlib.sha256(f"{info.branch}\0{digest}".encode()).hexdigest()
    return f"doc-{on_branch[:16]}"


def _replayed(*, session: Session, info: RunInfo, run: str, digest: str) -> TestReport | None:
    """The report this document was received as before, if it was: of the same run; or,
    without a run, stored before runs were named after the branch too (`doc-` and the
    digest's start) of the same branch."""
    found = queries.report_by_digest(session=session, run=run, digest=digest)
    if found is None and not info.run:
        found = queries.report_by_digest(session=session, run=f"doc-{digest[:16]}", digest=digest)
        if found is not None and found.branch != info.branch:
            return None
    return found


def check_run_info(info: RunInfo, *, now: datetime) -> None:
    """Refuse branch names, run ids, links and times no CI system would send."""
    if not _BRANCH.fullmatch(info.branch) or ".." in info.branch:
        raise IngestError(
            f"branch {shown(info.branch)} is not a branch name (letters, digits, ._/+-)"
        )
    if info.run is not None and not _RUN.fullmatch(info.run):
        raise IngestError(
            f"run {shown(info.run)} is not a CI run id (up to 200 of letters, digits, ._:#/@+-)"
        )
    if info.commit is not None and not _COMMIT.fullmatch(info.commit):
        raise IngestError(f"commit {shown(info.commit)} is not a commit id")
    if info.url is not None:
        # Imported here so that this check stays one self-contained piece of the module.
        import unicodedata
        from urllib.parse import urlsplit

        wrong = "url must be an http(s) link to the CI run"
        try:
            parts = urlsplit(info.url)
            # (`port` is where a port out of range, or not a number, is found.)
            web = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
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


CLOCKS_APART = timedelta(minutes=5)  # a CI machine's clock ahead of this one's, at most


def naive_run_time(stamped: datetime, *, tz: tzinfo, now: datetime) -> datetime:
    """A report's timestamp written without an offset (Surefire, jest-junit: the CI
    machine's local time; `stamped` read as UTC): as UTC (a hosted runner's clock) or as
    the team's time (its own runner's), whichever is the latest not after the report came
    (`now`). Read as UTC alone, a runner in Kolkata put its run 5½ hours after it arrived
    (found by review)."""
    local = stamped.replace(tzinfo=None).replace(tzinfo=tz).astimezone(UTC)
    before = [t for t in (stamped, local) if t <= now + CLOCKS_APART]
    return min(max(before), now) if before else now


def check_time(at: datetime, *, now: datetime, name: str) -> None:
    """A measurement time must be aware, after 2000 and not more than a day ahead."""
    if at.tzinfo is None:
        raise IngestError(f"{name} needs a UTC offset, e.g. 2025-10-30T09:00:00Z")
    if at.year < 2000 or at > now + timedelta(days=1):
        raise IngestError(f"{name} {at.isoformat()} is not a plausible time for a CI run")


def _test_ref(
    classname: str, name: str, file: str | None, component: str | None
) -> notices.TestRef:
    return {
        "id": f"{classname}::{name}",
        "classname": classname,
        "name": name,
        "file": file,
        "component": component,
    }


def _pack(report: junit.Report) -> bytes:
    """Every status of a report, compactly: zlib over `status\tclassname\tname` lines,
    compressed as it goes so a large report never exists as one big string (read back
    by `storage.queries.unpack_statuses`)."""
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


def _pack_durations(report: junit.Report) -> bytes | None:
    """Every test's duration in the order of `_pack`: float32 seconds (NaN where the
    report gives none), little-endian, zlib; None when the report times no test."""
    durations = report.durations
    if all(d != d for d in durations):  # (stops at the first timed test)
        return None
    if sys.byteorder != "little":
        durations = array("f", durations)
        durations.byteswap()
    return zlib.compress(durations.tobytes(), 1)


def unpack_durations(blob: bytes | None) -> array[float]:
    """The inverse of _pack_durations (empty for None): seconds, NaN where untimed."""
    out = array("f")
    if blob:
        out.frombytes(zlib.decompress(blob))
        if sys.byteorder != "little":
            out.byteswap()
    return out


def _id(value: int | None) -> int:
    if value is None:  # a flushed row always has one
        raise RuntimeError("row has no id after flush")
    return value


def _key_digests(
    parsed: junit.Report, tests: Sequence[int], prefixes: Sequence[str]
) -> Iterator[bytes]:
    """known_test.key of each of these tests, as bytes (the column holds their hex):
    `storage.queries.test_key`, mapped in C (called test by test, it was a fifth of a
    first report's Python time). `tests`: ascending positions in the report (a run of
    them has its names decoded at once); `prefixes`: `_key_prefixes(parsed)`."""
    classes = map(prefixes.__getitem__, map(parsed.class_of.__getitem__, tests))
    if tests and tests[-1] - tests[0] == len(tests) - 1:  # a run: names decoded at once
        names: Iterable[str] = parsed.names(tests[0], tests[-1] + 1)
    else:
        names = map(parsed.name, tests)
    texts = map(str.encode, map(str.__add__, classes, names))
    return map(_blake2b_digest, map(_blake2b_16, texts))


def _key_prefixes(parsed: junit.Report) -> list[str]:
    """What each of the report's classes puts before a name in its tests' keys."""
    return list(map(queries.key_prefix, parsed.classnames))


def _key_order(keys: bytearray) -> array[int]:
    """The order of 16-byte keys (`keys` holds them end to end), sorted in 256 buckets by
    their first byte so the sort needs no more than the keys' 16 bytes a key; in a bucket by
    their first 8 bytes as a number (looked up in C), by all 16 where two share those."""
    buckets = [array("I") for _ in range(256)]
    for j, first in enumerate(keys[::16]):
        buckets[first].append(j)
    high = array("Q", memoryview(keys).cast("Q")[::2].tobytes())  # each key's first 8 bytes
    if sys.byteorder == "little":
        high.byteswap()  # as big-endian numbers, which order as the bytes do
    order = array("I")
    for bucket in buckets:
        ranked = sorted(bucket, key=high.__getitem__)
        if len(set(map(high.__getitem__, bucket))) < len(bucket):  # (1 in 10^7 at 1M keys)
            ranked = sorted(bucket, key=lambda j: keys[16 * j : 16 * j + 16])
        order.extend(ranked)
    return order


_blake2b_16 = partial(hashlib.blake2b, digest_size=16)
_blake2b_digest = hashlib.blake2b.digest


@dataclass
class Ingested:
    reply: dict[str, Any]
    created: bool  # False: a replay of a document already received for this run


# -- look up: the branch's known tests for a report's keys ------------------------------


def _keys(parsed: junit.Report) -> Iterator[str]:
    """Each test's known_test.key, in the report's order."""
    n, prefixes = len(parsed), _key_prefixes(parsed)
    for start in range(0, n, _SLICE):
        tests = range(start, min(start + _SLICE, n))
        yield from map(bytes.hex, _key_digests(parsed, tests, prefixes))


def _look_up(
    *,
    session: Session,
    parsed: junit.Report,
    components: Components,
    branch: str,
    tracked: bool,
    identity: str,
) -> Known:
    """The branch's known tests as `session` reads them now, for a report's tests.

    A report naming the same tests as the branch's newest report (the usual CI run) takes
    them from where that report left them (`TestReport.positions`): no test looked up. A
    report about as large as its branch is otherwise compared with the branch read whole,
    in one streamed pass; a smaller one (a CI shard) looks its own tests up by key, in
    batches, and takes the rest of the branch from its counts (only on the `tracked`
    branch, the one whose tally makes readiness)."""
    n = len(parsed)
    known = Known.unknown(n, version=queries.branch_version(session=session, branch=branch))
    kept = ingest_queries.report_tally(session=session, report_id=known.version)
    keyed = 2 * n < ingest_queries.branch_size(session=session, branch=branch, counted=kept)
    if known.version and _positioned(
        known,
        parsed=parsed,
        components=components,
        blob=ingest_queries.report_positions(
            session=session, report_id=known.version, identity=identity
        ),
    ):
        known.whole = not keyed or tracked
        if known.whole:
            _count_others(
                session=session, branch=branch, known=known, kept=kept, components=components
            )
        return known
    test_id, code, component, others = known.test_id, known.code, known.component, known.others
    file_of, (_, by_path) = known.file, components.same_files
    as_read: dict[str | None, int] = {}  # each known file's number, once per spelling
    code_of, ids = junit.CODE, components.ids
    rows = (
        ingest_queries.known_tests_by_key(session=session, branch=branch, keys=_keys(parsed))
        if keyed
        else queries.branch_tests(session=session, branch=branch)
    )
    batch: list[KnownRow]
    for batch in iter(lambda: list(islice(rows, _SLICE)), []):
        for i, (_, _, known_id, status, name, file) in zip(
            parsed.indexes(batch), batch, strict=True
        ):
            comp = ids.get(name)
            if comp is None:
                comp = components.id(name)
            if i >= 0:
                test_id[i], code[i], component[i] = known_id, code_of[status], comp
                if not file_of:
                    file_of.frombytes(bytes(4 * n))
                number = as_read.get(file)
                if number is None:
                    number = as_read[file] = by_path.get(file_path(file), -1)
                file_of[i] = number
            elif not keyed:  # a known test this report does not hold (a shard): unchanged
                others[comp, code_of[status]] += 1
    known.whole = not keyed or tracked
    if keyed and tracked:
        # The tests the report does not hold: the branch's counts less the ones it does,
        # counted by its last report or else now (one pass over the branch: ~130 of a
        # 2,000-test shard's ~160 ms at 200k tests on SQLite).
        _count_others(session=session, branch=branch, known=known, kept=kept, components=components)
    return known


def _count_others(
    *,
    session: Session,
    branch: str,
    known: Known,
    kept: dict[tuple[str | None, str], int] | None,
    components: Components,
) -> None:
    """`known.others` from the branch's counts (its last report's, or else counted now)
    less the report's known tests."""
    counted = (
        kept if kept is not None else ingest_queries.branch_counts(session=session, branch=branch)
    )
    others, code_of = known.others, junit.CODE
    for (name, status), count in counted.items():
        others[components.id(name), code_of[status]] += count
    others.subtract(known.counted())


def _positioned(
    known: Known, *, parsed: junit.Report, components: Components, blob: bytes | None
) -> bool:
    """Fill `known` from where the branch's newest report left the same tests (`blob`,
    `pack_positions`); False (`known` untouched) without one."""
    if blob is None:
        return False
    ids, codes, component_of, names = unpack_positions(blob)
    if len(codes) != len(parsed):
        return False
    number = array("I", map(components.id, names))
    first = components.same_files[0]
    known.test_id, known.code = ids, bytearray(codes)
    known.component = array("I", map(number.__getitem__, component_of))
    known.file = array("i", map(first.__getitem__, parsed.file_of))
    return True


def pack_positions(
    ids: array[int], codes: bytes, component_of: array[int], names: list[str | None]
) -> bytes:
    """Each position's known test id (int64), status code and component (a number into
    `names`), little-endian, zlib: what `_positioned` reads back."""
    head = json.dumps(names).encode()
    if ids.typecode != "q" or component_of.typecode != "I" or sys.byteorder != "little":
        ids, component_of = array("q", ids), array("I", component_of)
    if sys.byteorder != "little":
        ids.byteswap()
        component_of.byteswap()
    packer = zlib.compressobj(1)
    sizes = len(codes).to_bytes(8, "little") + len(head).to_bytes(8, "little")
    parts: list[bytes | array[int]] = [sizes, head, ids, codes, component_of]  # (no copies)
    return b"".join([*map(packer.compress, parts), packer.flush()])


def unpack_positions(blob: bytes) -> tuple[array[int], bytes, array[int], list[str | None]]:
    """The inverse of `pack_positions`."""
    raw = memoryview(zlib.decompress(blob))
    n, size = int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:16], "little")
    names = json.loads(bytes(raw[16 : 16 + size]))
    at = 16 + size
    ids, component_of = array("q"), array("I")
    ids.frombytes(raw[at : at + 8 * n])
    codes = bytes(raw[at + 8 * n : at + 9 * n])
    component_of.frombytes(raw[at + 9 * n : at + 13 * n])
    if sys.byteorder != "little":
        ids.byteswap()
        component_of.byteswap()
    return ids, codes, component_of, names


# -- the rows that persist a classified report -------------------------------------------


class _StagedTests(NamedTuple):
    """New tests, column by column: queries.STAGED_TEST_COLUMNS, in their order."""

    n: Iterable[int]
    key: Iterable[str]
    classname: Iterable[str]
    name: Iterable[str]
    file: Iterable[str | None]
    component: Iterable[str | None]
    status: Iterable[str]
    message: Iterable[str | None]


class _UpdatedTests(NamedTuple):
    """Known tests' new values, column by column: queries.UPDATED_TEST_COLUMNS in their
    order, then the test's id."""

    status: Iterable[str]
    component: Iterable[str | None]
    message: Iterable[str | None]
    last_report_id: Iterable[int]
    file: Iterable[str | None]
    id: Iterable[int]


class _Results(NamedTuple):
    """Known tests whose status changed, column by column: test_result's columns in the
    order queries.add_results takes them."""

    report_id: Iterable[int]
    test_id: Iterable[int]
    status: Iterable[str]
    previous_status: Iterable[str]
    ran_before: Iterable[str | None]
    message: Iterable[str | None]


def _rows(columns: tuple[Iterable[Any], ...]) -> Iterator[tuple[Any, ...]]:
    """Columns zipped (in C) into the rows storage binds: naming the columns costs nothing
    per test, and the rows are plain tuples, which the drivers bind fastest."""
    return zip(*columns, strict=True)


def _looked_up(values: Sequence[_T], numbers: Sequence[int], tests: array[int]) -> Iterator[_T]:
    """`values[numbers[i]]` for each test `i`, mapped in C."""
    return map(values.__getitem__, map(numbers.__getitem__, tests))


class _Refs(NamedTuple):
    """The reply's lists that do not depend on what is read under the lock."""

    fixed: list[notices.TestRef]
    new_failures: list[notices.TestRef]
    flaky: list[notices.TestRef]
    newly_skipped: list[notices.TestRef]


_STATUS_NAMES = [str(s) for s in junit.STATUSES]


class _Plan:
    """A report on its way in: parsed, with its tests' components (no database involved);
    then compared with its branch (`classify`), again under the lock if the branch moved
    meanwhile. Every per-test figure is in arrays (a few bytes a test), so a 1M-test report
    costs little beside its names."""

    known: Known
    result: Classified

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
        self.reported = bytes(parsed.status_of)  # each test's status as the report gave it
        self.identity = parsed.identity()
        self.new_order = array("I")  # the new tests in the order they are stored
        self.new_ids: Sequence[int] = []  # and the ids they were stored with
        self.statuses = _pack(parsed)
        self._packed = self.reported  # the statuses `statuses` holds
        self.durations = _pack_durations(parsed)
        self.components = Components(parsed, sprint=sprint)
        self.version = -1  # the branch's version `known` and `result` were worked out at
        self._refs_version = -1
        self._refs = _Refs([], [], [], [])
        self.held: set[int] = set()  # the tests in quarantine when it was classified
        self.superseded: set[int] = set()  # positions a later run already reported
        # Its run time given (`at=`, or a timestamp with a UTC offset): one to order by.
        self.timed = info.at is not None or (
            parsed.timestamp is not None and not parsed.timestamp_naive
        )

    def classify(self, *, session: Session) -> None:
        """Look the branch up as `session` reads it now, and classify the report against it."""
        branch = self.info.branch
        self.known = _look_up(
            session=session,
            parsed=self.parsed,
            components=self.components,
            branch=branch,
            tracked=branch == self.sprint.sprint.branch,
            identity=self.identity,
        )
        self.version = self.known.version
        self._mapped_by_known_files(session=session)
        self._newer_runs_hold(session=session)
        self._skips_seen_through(session=session)
        self._quarantined_are_flaky(session=session)
        self.result = classify_report(self.parsed, components=self.components, known=self.known)
        self._refs_version = -1  # (the reply's lists: from this classification)

    def _mapped_by_known_files(self, *, session: Session) -> None:
        """A known test the report names no file for is mapped to its component by the
        file the branch has for it: by its class name alone, a run without files (pytest's
        xunit2) moved unchanged tests to another component and readiness with them (found
        by review). Only those whose component would move are looked up."""
        known, components, p = self.known, self.components, self.parsed
        moved = positions(bytes(map(ne, known.component, components.of)), True)
        at = [i for i in moved if not p.file_of[i] and known.code[i] != NEW]
        if not at:
            return
        files = ingest_queries.files_of(session=session, ids=[known.test_id[i] for i in at])
        mapper = ComponentMap.shared(self.sprint)
        for i in at:
            file = files.get(known.test_id[i])
            if file:
                components.of[i] = components.id(mapper(file, p.classnames[p.class_of[i]]))

    def _newer_runs_hold(self, *, session: Session) -> None:
        """The known tests a later run (by LATE) already reported keep its status: for this
        report they are as the branch holds them, as if the report did not hold them —
        compared, written and counted as the branch's (its own statuses are still what it
        packs and counts). With a later run's statuses pruned, all its known tests do. Only
        a report whose run time was given (`at=`, or a timestamp with a UTC offset) is
        judged so: a CI machine's local time, taken as UTC, may be hours off."""
        self.superseded = set()
        if not self.timed:
            return  # its time is now, or a CI machine's local time: not to order it by
        later = ingest_queries.later_runs(
            session=session, branch=self.info.branch, after=self.at + LATE, slack=LATE
        )
        if not later:
            return
        held: set[str] | None = None  # None: which tests it reported is not kept, so all
        if None not in later:
            lines = (zlib.decompress(b).decode().split("\n") for b in later if b is not None)
            held = {line.partition("\t")[2] for each in lines for line in each}
        p, known, components = self.parsed, self.known, self.components
        first = components.same_files[0]
        reported = self.reported
        for i, old in enumerate(known.code):
            if old == NEW:
                continue
            if held is not None and f"{p.classnames[p.class_of[i]]}\t{p.name(i)}" not in held:
                continue
            self.superseded.add(i)
            if known.whole:  # the branch's count keeps the test as it holds it
                known.others[known.component[i], old] += 1
                known.others[components.of[i], reported[i]] -= 1
            known.code[i], known.component[i] = reported[i], components.of[i]
            if known.file:
                known.file[i] = first[p.file_of[i]]

    def _skips_seen_through(self, *, session: Session) -> None:
        """The status each test the branch has as skipped, and the report has not, last ran
        with (`Known.ran`; none where it was first seen skipped, or retention deleted the
        change that skipped it): looked up for those few, by id."""
        known, status_of = self.known, self.parsed.status_of
        at = [i for i in positions(known.code, junit.SKIPPED) if status_of[i] != junit.SKIPPED]
        if not at:
            return
        last = quarantine_store.last_changes_before(
            session=session, test_ids=[known.test_id[i] for i in at]
        )
        for i in at:
            # Its last change made it skipped; the status before is the one it ran with.
            status, previous = last.get(known.test_id[i], ("", None))
            if status == "skipped" and previous is not None and previous != "skipped":
                known.ran[i] = junit.CODE[previous]

    def _quarantined_are_flaky(self, *, session: Session) -> None:
        """A quarantined test failing after it passed is flaky: marked before the report is
        classified and its statuses packed (so neither is done twice; the quarantines are
        read again under the lock, `quarantines_moved`)."""
        status_of = self.parsed.status_of
        status_of[:] = self.reported
        held = self.held = self._quarantines(session=session)
        if held:
            known_id, old = self.known.test_id, self.known.code
            for i, test_id in enumerate(known_id):
                if test_id in held and status_of[i] in FAILING and old[i] in PASSED_ONCE:
                    status_of[i] = junit.FLAKY
        if status_of != self._packed:
            self.statuses = _pack(self.parsed)
            self._packed = bytes(status_of)

    def _quarantines(self, *, session: Session) -> set[int]:
        """The ids of the tests in quarantine, on the tracked branch (none elsewhere)."""
        if self.info.branch != self.sprint.sprint.branch:
            return set()
        return quarantine_store.open_test_ids(session=session, branch=self.info.branch, at=self.now)

    def quarantines_moved(self, *, session: Session) -> bool:
        """Whether a test went in or out of quarantine since the report was classified: a
        release then would leave a failure marked flaky (no regression, no alert)."""
        return self._quarantines(session=session) != self.held

    def tally(self) -> list[list[Any]] | None:
        """The branch's known tests per (component, status) once this report is written
        (`TestReport.tally`), where the branch was counted whole for it."""
        if not self.known.whole:
            return None
        counted = self.known.others + self.result.reported
        names, statuses = self.components.names, junit.STATUSES
        rows = [[names[comp], str(statuses[code]), n] for (comp, code), n in counted.items() if n]
        return sorted(rows, key=lambda r: (r[0] is not None, r[0] or "", r[1]))

    def mark_flaky(self, tests: Iterable[int]) -> None:
        """Make these tests' status flaky and classify again (the statuses packed anew)."""
        for i in tests:
            self.parsed.status_of[i] = junit.FLAKY
        self.result = classify_report(self.parsed, components=self.components, known=self.known)
        self.statuses = _pack(self.parsed)
        self._packed = bytes(self.parsed.status_of)
        self._refs_version = -1

    def positions(self) -> bytes | None:
        """Where the report leaves its tests once written (`pack_positions`): each one's
        known test id, status and component as stored. None where some test is stored as
        the branch held it rather than as the report gives it (a later run's), or the new
        tests are too many to have kept their order (`_POSITIONED_NEW`) or their ids were
        not all found again. Called last: the look-up's ids are filled in, not copied."""
        new, order, ids = self.result.new, self.new_order, self.new_ids
        if self.superseded or not (len(new) == len(order) == len(ids)):
            return None
        test_id = self.known.test_id
        for i, stored in zip(order, ids, strict=True):
            test_id[i] = stored
        return pack_positions(
            test_id, bytes(self.parsed.status_of), self.components.of, self.components.names
        )

    def ref(self, i: int) -> notices.TestRef:
        p = self.parsed
        return _test_ref(
            p.classnames[p.class_of[i]],
            p.name(i),
            p.files[p.file_of[i]],
            self.components.names[self.components.of[i]],
        )

    def refs(self) -> _Refs:
        """The reply's lists built before the lock is taken (a first report's new failures
        may be thousands)."""
        if self._refs_version != self.version:
            result = self.result
            self._refs = _Refs(
                *(
                    [self.ref(i) for i in indices]
                    for indices in (
                        result.fixed,
                        result.new_failures,
                        result.flaky,
                        result.newly_skipped,
                    )
                )
            )
            self._refs_version = self.version
        return self._refs

    def new_failure_refs(self, kept: list[int]) -> list[notices.TestRef]:
        """The reply's new failures of `kept` (`new_failures`)."""
        chosen = set(kept)
        refs = self.refs().new_failures
        return [r for i, r in zip(self.result.new_failures, refs, strict=True) if i in chosen]

    def new_failures(self, *, session: Session) -> list[int]:
        """The report's new failures as the figures count them (read under the lock): on
        the sprint's branch, failing tests first seen after the baseline's day (one first
        seen during it, or before the sprint, fails since the baseline). The ingest's reply
        and the team's notices called them new where the next morning's report did not
        (found by review). Other branches: failing tests first seen so."""
        found = list(self.result.new_failures)
        info = self.sprint.sprint
        if not found or self.info.branch != info.branch:
            return found
        first = queries.first_report_since(
            session=session, branch=info.branch, at=figures.day_start(info, info.start)
        )
        cut = figures.new_tests_from(info, first)
        if cut is None or self.now < cut:
            return []
        known = self.known
        seen = queries.first_seen(
            session=session, test_ids=[known.test_id[i] for i in found if known.code[i] != NEW]
        )
        return [i for i in found if known.code[i] == NEW or seen[known.test_id[i]] >= cut]

    def component_of(self, i: int, *, before: bool) -> str | None:
        """Test i's component as the branch knew it (`before`) or as the report maps it."""
        components = self.components
        return components.names[(self.known.component if before else components.of)[i]]

    def new_columns(self) -> _StagedTests:
        """The new tests, column by column, in the order of their keys: stored in that
        order they append to the indexes instead of writing all over them (twice as fast
        for a first report of 700k tests; on PostgreSQL too)."""
        p, new = self.parsed, self.result.new
        keys = bytearray()
        prefixes = _key_prefixes(p)
        for start in range(0, len(new), _SLICE):
            keys += b"".join(_key_digests(p, new[start : start + _SLICE], prefixes))
        order = _key_order(keys)
        tests = array("I", map(new.__getitem__, order))
        # Kept for the positions (`positions`) up to a bound: held to the end of the write,
        # a first report of 1M tests would peak ~10 MB higher; its successor keeps them.
        self.new_order = tests if len(tests) <= _POSITIONED_NEW else array("I")
        staged = _StagedTests(
            n=range(1, len(tests) + 1),
            key=(keys[16 * j : 16 * j + 16].hex() for j in order),
            classname=_looked_up(p.classnames, p.class_of, tests),
            name=map(p.name, tests),
            file=_looked_up(p.files, p.file_of, tests),
            component=_looked_up(self.components.names, self.components.of, tests),
            status=_looked_up(_STATUS_NAMES, p.status_of, tests),
            message=self._failure_messages(tests),
        )
        return staged

    def updates(self, report_id: int, *, status_changed: bool) -> Iterator[tuple[Any, ...]]:
        """Known tests whose status (or else only their component) changed."""
        p, old_code = self.parsed, self.known.code
        status_of = p.status_of
        tests = array(
            "I", (i for i in self.result.changed if (status_of[i] != old_code[i]) == status_changed)
        )
        updated = _UpdatedTests(
            status=_looked_up(_STATUS_NAMES, status_of, tests),
            component=_looked_up(self.components.names, self.components.of, tests),
            message=self._failure_messages(tests),
            last_report_id=repeat(report_id, len(tests)),
            file=_looked_up(p.files, p.file_of, tests),
            id=map(self.known.test_id.__getitem__, tests),
        )
        return _rows(updated)

    def results(self, report_id: int) -> Iterator[tuple[Any, ...]]:
        """A result for each known test whose status changed."""
        p, old_code = self.parsed, self.known.code
        status_of = p.status_of
        tests = array("I", (i for i in self.result.changed if status_of[i] != old_code[i]))
        results = _Results(
            report_id=repeat(report_id, len(tests)),
            test_id=map(self.known.test_id.__getitem__, tests),
            status=_looked_up(_STATUS_NAMES, status_of, tests),
            previous_status=_looked_up(_STATUS_NAMES, old_code, tests),
            ran_before=map({i: _STATUS_NAMES[c] for i, c in self.known.ran.items()}.get, tests),
            message=map(p.messages.get, tests),
        )
        return _rows(results)

    def _failure_messages(self, tests: array[int]) -> Iterator[str | None]:
        """Each test's message where it fails (a skip's reason is not kept on the test),
        mapped in C: the few messages are looked up, not each test's status."""
        status_of = self.parsed.status_of
        failing = {i: m for i, m in self.parsed.messages.items() if status_of[i] in FAILING}
        return map(failing.get, tests)


# -- the two ways in ---------------------------------------------------------------------


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
    with gc_paused():
        plan = _prepare(sprint=sprint, document=document, digest=digest, info=info, now=now)
        return _write(session=session, plan=plan, staged=False)


def ingest_metrics_document(
    *, db: Database, sprint: Sprint, body: Any, now: datetime
) -> dict[str, Any]:
    """Record a metrics document (`ingest metrics`, POST /api/v1/metrics) in one transaction
    and return the reply; SprintError if the document is refused."""
    with db.session() as session:
        reply = ingest_metrics(session=session, sprint=sprint, body=body, now=now)
        session.commit()
    return reply


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
    classify without any lock, stage the new tests on the connection that will write them
    (SQLite; PostgreSQL copies them in as it writes, the server inserting while Python
    binds), then one short transaction writes it all (committed here; one transaction per
    report).
    If another ingest changed the branch meanwhile, the report is classified again under
    the lock, so the outcome is the same as if they had run one after the other."""
    check_run_info(info, now=now)
    run = run_of(info, digest)
    with db.read() as session:
        previous = _replayed(session=session, info=info, run=run, digest=digest)
    if previous is not None:
        return Ingested(reply=previous.reply, created=False)
    with gc_paused():
        started = time.perf_counter()
        plan = _prepare(sprint=sprint, document=document, digest=digest, info=info, now=now)
        with db.connect() as connection:
            staging = queries.stages_tests(connection=connection)
            try:
                with db.read(connection=connection) as session:
                    plan.classify(session=session)
                if plan.result.new and staging:
                    queries.stage_tests(connection=connection, columns=plan.new_columns())
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
                    len(plan.result.new),
                    len(plan.result.changed),
                )
            finally:
                if staging:
                    queries.unstage_tests(connection=connection)
    return result


def _prepare(
    *, sprint: Sprint, document: bytes | IO[bytes], digest: str, info: RunInfo, now: datetime
) -> _Plan:
    """Parse a document and look its tests' components up: no database involved."""
    parsed = junit.parse(document)
    at = info.at or parsed.timestamp or now
    if info.at is None and parsed.timestamp is not None:
        if parsed.timestamp_naive:
            at = naive_run_time(parsed.timestamp, tz=sprint.sprint.tz, now=now)
        check_time(at, now=now, name="the report's timestamp")
        # A run stamped after it arrived ran by then: its runner's clock is ahead (a local
        # time written with a `Z`), and /tests show put it after the runs that came later
        # (found by review).
        if at > now + CLOCKS_APART:
            at = now
    run = run_of(info, digest)
    return _Plan(parsed, sprint=sprint, info=info, run=run, digest=digest, at=at, now=now)


# -- the write phase: persist, then alert -----------------------------------------------


def _write(*, session: Session, plan: _Plan, staged: bool) -> Ingested:
    """Store a classified report and queue its notices, in `session`'s transaction."""
    info, sprint = plan.info, plan.sprint
    branch = info.branch
    queries.lock_branch(session=session, branch=branch)
    previous = _replayed(session=session, info=plan.info, run=plan.run, digest=plan.digest)
    if previous is not None:
        return Ingested(reply=previous.reply, created=False)
    if (
        not staged
        or queries.branch_version(session=session, branch=branch) != plan.version
        or plan.quarantines_moved(session=session)
    ):
        # Nothing read yet, or another ingest wrote the branch since, or a test went in or
        # out of quarantine: read it again under the lock, where nothing can change it.
        plan.classify(session=session)
        connection = session.connection()
        # (Without new tests, what is staged from before is left out below.)
        if plan.result.new and queries.stages_tests(connection=connection):
            queries.stage_tests(connection=connection, columns=plan.new_columns())
    held = _held(session=session, plan=plan)
    if held.flaky_failures:
        # Quarantined or found flaky across runs: stored and counted as flaky, as a
        # report's own re-runs make a test (never a regression, in any figure).
        plan.mark_flaky(held.flaky_failures)
    report = _persist(session=session, plan=plan, staged=staged)
    report_id = _id(report.id)
    if branch == sprint.sprint.branch:
        # Before readiness is taken: these may put tests in or out of quarantine.
        _flaky_news(session=session, plan=plan, found=held.found, report_key=report_id)
        _quarantine_runs(session=session, plan=plan, held=held.quarantined)
    recorded = snapshot_readiness(
        session=session,
        sprint=sprint,
        cause=f"report:{report_id}",
        now=plan.now,
        branch=branch,
        counts=plan.result.tally,
        before_tests=numbers.quarantine_counted(
            plan.result.before, held.states, sprint.flaky.readiness
        ),
    )
    regressions: list[notices.RegressedTest] = [
        {**plan.ref(i), "message": plan.parsed.messages.get(i)} for i in held.regressed
    ]
    effect = _impact(session=session, plan=plan, held=held)
    context: notices.AlertContext = {
        "commit": info.commit,
        "branch": branch,
        "url": info.url,
        "run": plan.run,
        "report": report_id,
        "readiness": recorded.summary,
        "impact": effect,
    }
    alert_key = _alert(
        session=session,
        plan=plan,
        regressions=regressions,
        held=held,
        context=context,
        recorded=recorded,
    )
    reply = {
        **_reply(plan=plan, report_id=report_id, regressions=regressions, held=held),
        "readiness": recorded.summary,
        "impact": effect,
        "alert": alert_key,
    }
    counts = plan.result.counts
    report.passed, report.failed, report.errors = counts.passed, counts.failed, counts.error
    report.skipped, report.flaky = counts.skipped, counts.flaky
    report.reply = reply
    report.identity, report.positions = plan.identity, plan.positions()
    ingest_queries.drop_positions(session=session, branch=branch, before=report_id)
    session.flush()
    return Ingested(reply=reply, created=True)


class _Held(NamedTuple):
    """What quarantine, flakiness across runs and open alerts (which change outside this
    report) make of it."""

    regressed: list[int]  # report indexes of regressions that alert
    flaky_failures: list[int]  # of regressions told apart as flaky: stored as flaky
    recovered: list[int]  # known test ids of fixed tests that an open alert holds
    found: dict[int, str]  # report index → why, of tests this report shows to be flaky
    new_failures: list[int]  # report indexes of new failures, as the figures count them
    quarantined: list[tuple[Quarantine, KnownTest]]  # the branch's, as the report found them
    states: list[tuple[str | None, str]]  # their (component, status) before the report


def _held(*, session: Session, plan: _Plan) -> _Held:
    """Quarantine, flakiness and alerts, read under the lock."""
    known_id, result, p = plan.known.test_id, plan.result, plan.parsed
    branch = plan.info.branch
    held = quarantine_store.open_quarantines(session=session, branch=branch, at=plan.now)
    quarantined = {q.test_id for q, _ in held}
    # A regression of a quarantined test is flaky already; the rest, and failing tests
    # now passing, are judged.
    judged = [i for i in result.regressed if known_id[i] not in quarantined]
    judged += result.fixed
    why = flaky.judge(
        session=session,
        config=plan.sprint.flaky,
        branch=branch,
        commit=plan.info.commit,
        changed={
            known_id[i]: (p.classnames[p.class_of[i]], p.name(i), _STATUS_NAMES[p.status_of[i]])
            for i in judged
        },
    )
    found = {i: why[known_id[i]] for i in judged if known_id[i] in why}
    regressed: list[int] = []
    flaky_failures: list[int] = []
    for i in result.regressed:
        (flaky_failures if known_id[i] in quarantined or i in found else regressed).append(i)
    # An alert's test passing again, from whatever it was (failing, or flaky since: a
    # rerun passed it; found by review) — its status changed to passed.
    status_of = p.status_of
    passing_ids = [known_id[i] for i in result.changed if status_of[i] == junit.PASSED]
    alerted = ingest_queries.alerted_among(session=session, ids=passing_ids)
    recovered = [test_id for test_id in passing_ids if test_id in alerted]
    return _Held(
        regressed=regressed,
        flaky_failures=flaky_failures,
        recovered=recovered,
        found=found,
        new_failures=plan.new_failures(session=session),
        quarantined=held,
        states=[(t.component, str(t.status)) for _, t in held],  # (before the report's writes)
    )


def _persist(*, session: Session, plan: _Plan, staged: bool) -> TestReport:
    """The report's rows: the report, its new tests (staged), the known tests it changed
    and their results."""
    info, result = plan.info, plan.result
    report = queries.add_report(
        session=session,
        report=TestReport(
            run=plan.run,
            commit=info.commit,
            branch=info.branch,
            url=info.url,
            at=plan.at,
            received_at=plan.now,
            digest=plan.digest,
            tests=plan.parsed.testcases,
            statuses=plan.statuses,
            durations=plan.durations,
            tally=plan.tally(),
            timed=plan.timed,
        ),
    )
    report_id = _id(report.id)
    # First seen: when sprintbot received it (history's time axis).
    plan.new_ids = []
    if result.new:
        plan.new_ids = queries.add_new_tests(
            session=session,
            branch=info.branch,
            report_id=report_id,
            first_seen_at=plan.now,
            at=plan.at,
            columns=plan.new_columns,
        )
    if not staged and queries.stages_tests(connection=session.connection()):
        queries.unstage_tests(connection=session.connection())
    queries.update_tests(
        session=session, rows=plan.updates(report_id, status_changed=True), changed_at=plan.at
    )
    queries.update_tests(
        session=session, rows=plan.updates(report_id, status_changed=False), changed_at=None
    )
    queries.add_results(session=session, rows=plan.results(report_id))
    return report


def _impact(*, session: Session, plan: _Plan, held: _Held) -> numbers.ImpactData | None:
    """What the report did to readiness, by kind of move (the tracked branch only), with
    quarantined tests counted as `[flaky] readiness` says before and after."""
    sprint, result = plan.sprint, plan.result
    if plan.info.branch != sprint.sprint.branch:
        return None
    old_code, component_of, known_id = plan.known.code, plan.component_of, plan.known.test_id
    mode = sprint.flaky.readiness
    quarantined = {q.test_id for q, _ in held.quarantined}
    after = quarantine_store.quarantined_states(
        session=session, branch=plan.info.branch, at=plan.now
    )
    return numbers.impact(
        sprint,
        before=numbers.quarantine_counted(result.before, held.states, mode),
        after=numbers.quarantine_counted(result.after, after, mode),
        # A pass lost only where readiness counted one: not after a skip or a flaky run
        # (seen through as passed, neither counts passing; found by review).
        regressed=[
            Move(component_of(i, before=True), passed=-(old_code[i] == junit.PASSED), known=0)
            for i in held.regressed
        ],
        fixed=[
            Move(component_of(i, before=True), passed=1, known=0)
            for i in result.fixed
            if known_id[i] not in quarantined  # readiness never counted it passing
        ],
        new_failures=[
            Move(component_of(i, before=False), passed=0, known=1)
            if old_code[i] == NEW
            else Move(component_of(i, before=True), passed=0, known=0)  # known already
            for i in held.new_failures
        ],
        manual=queries.latest_manual_scores(session=session),
        metric_values=queries.latest_metric_values(session=session),
    ).as_dict()


def _alert(
    *,
    session: Session,
    plan: _Plan,
    regressions: list[notices.RegressedTest],
    held: _Held,
    context: notices.AlertContext,
    recorded: Recorded,
) -> str | None:
    """Queue the report's notices; the regression alert's key, if one was raised."""
    sprint, known_id = plan.sprint, plan.known.test_id
    alert_key = None
    # Only the tracked branch alerts the team; other branches get their classification in
    # the reply (a feature branch's red tests are its author's business). A test an open
    # alert still holds (failing, flaky on a re-run, failing again) stays with that alert:
    # moved to a new one, the first was left holding nothing and never resolved, and was
    # followed up for ever (found by review).
    ids = [known_id[i] for i in held.regressed]
    held_already = ingest_queries.alerted_among(session=session, ids=ids) if ids else set()
    fresh = [(test, i) for test, i in zip(regressions, ids, strict=True) if i not in held_already]
    if fresh and plan.info.branch == sprint.sprint.branch:
        alert = notices.regression_alert(
            session=session,
            sprint=sprint,
            report_id=context["report"],
            tests=[test for test, _ in fresh],
            context=context,
            now=plan.now,
        )
        queries.set_alert(session=session, test_ids=[i for _, i in fresh], alert_id=alert.id or 0)
        alert_key = alert.key
    _resolve_recovered(session=session, recovered=held.recovered, context=context, now=plan.now)
    # After the alert, so the team reads the cause before the consequence.
    announce_decline(
        session=session,
        sprint=sprint,
        recorded=recorded,
        causes=_causes(regressions, plan.new_failure_refs(held.new_failures)),
        now=plan.now,
    )
    return alert_key


def _flaky_news(*, session: Session, plan: _Plan, found: dict[int, str], report_key: int) -> None:
    """Tell the team once about each test found flaky that is not quarantined (or, with
    `[flaky] auto_quarantine`, quarantine it), naming the tests' owners."""
    if not found:
        return
    known_id, sprint, now = plan.known.test_id, plan.sprint, plan.now
    why = {known_id[i]: text for i, text in found.items()}
    held = {
        q.test_id
        for q, _ in quarantine_store.open_quarantines(session=session, test_ids=list(why), at=now)
    }
    news = [
        t
        for t in queries.tests_by_id(session=session, ids=list(why))
        if t.flaky_at is None and t.id not in held
    ]
    if not news:
        return
    for t in news:
        t.flaky_at, t.flaky_why = now, why[t.id or 0][:200]
        session.add(t)
    session.flush()
    if sprint.flaky.auto_quarantine:
        quarantine.quarantine(
            session=session,
            sprint=sprint,
            tests=news,
            by=quarantine.BY_SPRINTBOT,
            reason="found flaky",
            now=now,
            why=why,
            snapshot=False,
        )
        return
    data: quarantine.FlakyFound = {
        "tests": quarantine.shown(news, why),
        "count": len(news),
        "test_ids": [t.id or 0 for t in news],
        "quarantine_for": quarantine.period_text(sprint.flaky.quarantine_for),
        "owners": quarantine.owners_of(sprint, news),
        "report": report_key,
    }
    notices.post(
        session=session,
        key=f"flaky:{report_key}",
        spec=quarantine.FLAKY_FOUND,
        data=data,
        now=now,
        channel=sprint.channels.team,
    )


def _quarantine_runs(
    *, session: Session, plan: _Plan, held: list[tuple[Quarantine, KnownTest]]
) -> None:
    """Count the report's passes and failures of quarantined tests toward their release."""
    if not held:
        return
    wanted = {q.test_id for q, _ in held}
    status_of, superseded = plan.parsed.status_of, plan.superseded
    statuses = {
        test_id: _STATUS_NAMES[status_of[i]]
        for i, test_id in enumerate(plan.known.test_id)
        if test_id in wanted and i not in superseded  # (a later run's count stands)
    }
    quarantine.count_runs(
        session=session,
        sprint=plan.sprint,
        held=held,
        statuses=statuses,
        run=plan.run,
        now=plan.now,
    )


def _reply(
    *, plan: _Plan, report_id: int, regressions: list[notices.RegressedTest], held: _Held
) -> dict[str, Any]:
    """The reply's classification of the report (readiness and alert are added after)."""
    counts, refs = plan.result.counts, plan.refs()
    return {
        "run": plan.run,
        "report": report_id,
        "tests": plan.parsed.testcases,
        "unique_tests": len(plan.parsed),
        "passed": counts.passed,
        "failed": counts.failed,
        "errors": counts.error,
        "skipped": counts.skipped,
        "flaky_count": counts.flaky,
        "regressions": [{k: v for k, v in r.items() if k != "message"} for r in regressions],
        "fixed": refs.fixed,
        "new_failures": plan.new_failure_refs(held.new_failures),
        "still_failing": plan.result.still_failing,
        "flaky": refs.flaky,  # the quarantined and found flaky among them
        "flaky_found": [{**plan.ref(i), "why": why} for i, why in held.found.items()],
        "newly_skipped": refs.newly_skipped,
    }


def _causes(
    regressions: list[notices.RegressedTest], new_failures: list[notices.TestRef]
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
    *, session: Session, recovered: list[int], context: notices.AlertContext, now: datetime
) -> None:
    """Release fixed tests from their alerts; an alert whose tests all pass is resolved."""
    if not recovered:
        return
    alert_ids = {t.alert_id for t in queries.tests_by_id(session=session, ids=recovered)}
    queries.clear_alert(session=session, test_ids=recovered)
    held: list[int] = []  # alerts still holding tests
    for alert_id in sorted(a for a in alert_ids if a is not None):
        if queries.alert_tests(session=session, alert_id=alert_id):
            held.append(alert_id)
            continue
        alert = queries.alert_by_id(session=session, alert_id=alert_id)
        if alert is not None and alert.resolved_at is None:
            notices.resolve_alert(
                session=session,
                alert=alert,
                reply=notices.ALERT_RESOLVED,
                data=notices.AlertResolved(
                    count=alert.payload.get("count"),
                    commit=context["commit"],
                    url=context["url"],
                    report=context["report"],
                ),
                now=now,
            )
    # One holding only quarantined tests now says so (its button would only refuse).
    quarantine.alerts_say(session=session, alert_ids=held, now=now)


# -- metrics -----------------------------------------------------------------------------


class _Figures(NamedTuple):
    """A metrics body, checked."""

    at: datetime
    commit: str | None
    samples: list[MetricSample]


# A benchmark figure beyond this either way is no measurement (and against a small target
# its percent beyond overflowed to inf: stored, alerted, then a reply JSON cannot hold).
MAX_FIGURE = 1e15


def metrics_document(raw: bytes) -> Any:
    """A metrics document's JSON (json.loads' errors as it raises them). A key given twice
    in one object is refused: JSON keeps the last, so of {"memory_usage": 120,
    "memory_usage": 999} the 120 was dropped without a word (found by review)."""
    return json.loads(raw, object_pairs_hook=_once_each, parse_int=_integer)


def _integer(text: str) -> int | float:
    """A JSON integer; one of more digits than any float holds is infinite (Python refuses
    to read past 4,300 digits with a ValueError, and a 5 kB figure was a 500; found by
    review), so it is refused as any figure beyond a float is."""
    if len(text) <= 400:
        return int(text)
    return -math.inf if text.startswith("-") else math.inf


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise IngestError(f"{shown(key)} is given twice; send each field and each metric once")
        out[key] = value
    return out


def _finite(value: Any) -> float | None:
    """A metric's value as a float, if it is a finite number (not NaN, not Infinity, not
    an integer too large for a float, not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _figures(*, body: Any, now: datetime) -> _Figures:
    """Refuse a metrics body that is not `{"metrics": {name: number}, "at"?, "commit"?}`."""
    if not isinstance(body, dict) or not isinstance(body.get("metrics"), dict):
        raise IngestError('send a JSON object: {"metrics": {"name": number, ...}}')
    unknown_keys = set(body) - {"at", "commit", "metrics"}
    if unknown_keys:
        raise IngestError(
            f"unknown field {shown(sorted(unknown_keys)[0])}; fields: at, commit, metrics"
        )
    metrics: dict[str, Any] = body["metrics"]
    if not metrics:
        raise IngestError("metrics is empty; send at least one figure")
    at = now
    if body.get("at") is not None:
        try:
            at = parse_instant(str(body["at"]))
        except ValueError as exc:
            raise IngestError(f"at {exc}") from None
        check_time(at, now=now, name="at")
        # Measured by the time it arrived: a time after that is a CI machine's clock ahead
        # (taken as given, its figure hid every later one until that time came; found by
        # review).
        at = min(at, now)
    commit = body.get("commit")
    if commit is not None and (not isinstance(commit, str) or not _COMMIT.fullmatch(commit)):
        raise IngestError("commit must be a commit id string")
    samples = []
    for name, value in metrics.items():
        if not isinstance(name, str) or not _METRIC.fullmatch(name):
            raise IngestError(f"metric name {shown(name)} must be lower_snake_case")
        number = _finite(value)
        if number is None:
            raise IngestError(f"metric {shown(name)} must be a number, not {shown(value)}")
        if abs(number) > MAX_FIGURE:
            raise IngestError(
                f"metric {shown(name)} is {number:g}: past any measurement; send figures of at "
                f"most {MAX_FIGURE:.0e} either way".replace("e+", "e")
            )
        samples.append(MetricSample(name=name, value=number, at=at, commit=commit, received_at=now))
    return _Figures(at=at, commit=commit, samples=samples)


# Units of durations, sizes and rates, however written (case aside): a figure in one is
# never below zero (a CI script subtracting the wrong way round sent -5 MB, taken as met;
# found by review), and `kB`, `seconds` or `MB/s` are such units as much as `KB`, `s` and
# `req/s` (found by review). A rate is events per a unit of time, or a size per second.
_TIMES = frozenset(
    {"ns", "us", "µs", "μs", "ms", "s", "sec", "secs", "second", "seconds", "min", "mins"}
    | {"minute", "minutes", "h", "hr", "hrs", "hour", "hours", "d", "day", "days"}
    | {"nanoseconds", "microseconds", "milliseconds"}
)
_SIZES = frozenset(
    {"b", "byte", "bytes", "bit", "bits", "kb", "kib", "mb", "mib", "gb", "gib", "tb", "tib"}
    | {"kilobytes", "megabytes", "gigabytes", "terabytes", "kbit", "mbit", "gbit"}
)
_RATES = frozenset({"rps", "qps", "ops", "tps", "iops", "fps", "hz"})
# What is counted per unit of time in a rate (requests a second); a size per second is a
# throughput. (A size per hour or day may be a growth, which can be negative.)
_EVENTS = frozenset(
    {"req", "reqs", "request", "requests", "op", "ops", "operation", "operations", "query"}
    | {"queries", "msg", "msgs", "message", "messages", "event", "events", "tx", "txn"}
    | {"transactions", "call", "calls", "hit", "hits", "job", "jobs", "item", "items"}
)


def never_negative(unit: str) -> bool:
    """Whether a figure in `unit` can never be below zero: a duration, a size or a rate."""
    u = "".join(unit.lower().split())
    per, slash, time_unit = u.partition("/")
    if not slash:
        return u in _TIMES | _SIZES | _RATES
    events = per in _EVENTS and time_unit in _TIMES
    return events or (per in _SIZES and time_unit in {"s", "sec", "second"})


def _measurable(metric: Metric | None, value: float) -> None:
    """Refuse a tracked metric's figure below zero where its unit cannot be (IngestError)."""
    if metric is not None and value < 0 and never_negative(metric.unit):
        raise IngestError(
            f"metric {shown(metric.name)} is {value:g} {metric.unit}: a figure in "
            f"{metric.unit} is never below zero; send what was measured"
        )


def ingest_metrics(*, session: Session, sprint: Sprint, body: Any, now: datetime) -> dict[str, Any]:
    """Store benchmark figures, compare each with its target, alert on degradation."""
    at, commit, samples = _figures(body=body, now=now)
    for sample in samples:
        _measurable(sprint.metric(sample.name), sample.value)
    # One at a time with the tracked branch's test runs (PostgreSQL; SQLite has one
    # writer): each reads the open alerts and the last readiness before writing, so two
    # documents at once raised one degradation twice and announced one decline twice.
    queries.lock_branch(session=session, branch=sprint.sprint.branch)
    prior = prior_readiness(session=session, sprint=sprint, at=now)
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
        over = numbers.beyond_target(
            metric.target, sample.value, lower_better=metric.better == "lower"
        )
        reply_metrics[sample.name] = {
            "value": sample.value,
            "target": metric.target,
            "unit": metric.unit,
            "better": str(metric.better),
            "status": state,
            "beyond_target_percent": over,
        }
        later = queries.later_sample(session=session, sample=sample)
        if later is not None:
            # Measured before the metric's latest (a run posted late): the figures, and so
            # its alert and readiness, keep the latest.
            reply_metrics[sample.name]["superseded_by"] = {
                "value": later.value,
                "at": later.at.isoformat(),
                "status": numbers.metric_state(metric, later.value, tolerance=tolerance),
            }
            continue
        shown = f"{numbers.quantity(sample.value)} {metric.unit}"
        for component in sprint.components:
            if sample.name in component.metrics and state is not MetricState.MET:
                causes[component.name] = f"{metric.title} {state} target ({shown})"
        _performance_alert(
            session=session,
            sprint=sprint,
            name=sample.name,
            state=state,
            data=notices.PerformanceFields(
                metric=sample.name,
                label=metric.title,
                value=sample.value,
                target=metric.target,
                unit=metric.unit,
                better=str(metric.better),
                beyond_target_percent=over,
                commit=commit,
                tolerance=tolerance,
            ),
            now=now,
        )
    readiness = record_readiness(
        session=session, sprint=sprint, cause="metrics", causes=causes, now=now, prior=prior
    )
    return {
        "at": at.isoformat(),
        "commit": commit,
        "metrics": reply_metrics,
        "readiness": readiness,
    }


def _performance_alert(
    *,
    session: Session,
    sprint: Sprint,
    name: str,
    state: MetricState,
    data: notices.PerformanceFields,
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
                payload={},  # the message's data, once the alert has its id (announce)
            ),
        )
        shown: notices.PerformanceShown = {
            **data,
            **notices.AlertState(),  # a new alert: no state (acknowledged, resolved) yet
            "ack_within": format_duration(sprint.alerts.performance_ack),
            "alert_id": alert.id or 0,
        }
        notices.announce(
            session=session,
            sprint=sprint,
            alert=alert,
            spec=notices.PERFORMANCE_ALERT,
            data=shown,
            now=now,
        )
        notices.email(  # (`alerts.email_to` gets a copy of each alert)
            session=session,
            sprint=sprint,
            key=f"{key}:email",
            spec=notices.PERFORMANCE_EMAIL,
            data=notices.PerformanceAlert(
                **data, ack_within=shown["ack_within"], alert_id=shown["alert_id"]
            ),
            now=now,
        )
    elif state is MetricState.MET and open_alert is not None:
        notices.resolve_alert(
            session=session,
            alert=open_alert,
            reply=notices.PERFORMANCE_RESOLVED,
            data=data,
            now=now,
        )

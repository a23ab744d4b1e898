"""What a JUnit report does to its branch, worked out from the branch's known tests: pure
(no session, no clock), counted in bulk over arrays of a few bytes a test."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from operator import add, and_, mul, ne, or_
from typing import NamedTuple

from jobs import junit
from jobs.components import ComponentMap, file_path
from jobs.config import Sprint
from jobs.junit import ERROR, FAILED, FLAKY, PASSED, SKIPPED
from jobs.numbers import TestCounts, change_kind
from jobs.readiness import TestTally

FAILING = (FAILED, ERROR)
NEW = 255  # Known.code of a test the branch did not know

# (component number, status code) → tests: how a set of tests is tallied.
Counted = Counter[tuple[int, int]]


class Components:
    """Component names as numbers (0: none), and the number of each test of a report: looked
    up once per (class, file) pair rather than globbed per test, the pairs mapped in bulk.
    Names the branch's known tests carry are numbered as they are met (`id`)."""

    def __init__(self, parsed: junit.Report, *, sprint: Sprint) -> None:
        self.names: list[str | None] = [None]
        self.ids: dict[str | None, int] = {None: 0}
        self._files = parsed.files
        mapper = ComponentMap.shared(sprint)
        classnames, files = parsed.classnames, parsed.files
        # Each (class, file) pair once, as one number (its class times the number of
        # files, plus its file), in C; its component from what the process has mapped
        # before (a repeat report's are all there), globbed only where not.
        width = len(files)
        pair_of = list(map(add, map(mul, parsed.class_of, repeat(width)), parsed.file_of))
        pairs = list(dict.fromkeys(pair_of))
        keys = [(files[pair % width], classnames[pair // width]) for pair in pairs]
        known = mapper.known()
        found = [known[key] if key in known else mapper(*key) for key in keys]
        number = dict(zip(pairs, map(self.id, found), strict=True))
        self.of = array("I", map(number.__getitem__, pair_of))

    @cached_property
    def same_files(self) -> tuple[list[int], dict[str, int]]:
        """`same_files` of the report's files, worked out once."""
        return same_files(self._files)

    def id(self, name: str | None) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = len(self.names)
            self.names.append(name)
        return found


@dataclass
class Known:
    """The branch as read for a report at `version`. Per test of the report (by its index):
    the known test's id, status code (NEW: not known) and component number; the branch's
    tests the report does not hold, only counted (`others`; left empty where no tally is
    needed: a shard of another branch than the tracked one)."""

    version: int
    test_id: array[int]
    code: bytearray
    component: array[int]
    # Its file as a number of the report's, the first of its spellings (`same_files`; -1:
    # one the report does not name); empty while the branch knows none of the report's
    # tests (a first report of a million tests need not hold 4 MB of nothing).
    file: array[int]
    others: Counted = field(default_factory=Counter)
    whole: bool = False  # `others` counts every test of the branch the report does not hold
    # Of the report's tests the branch has as skipped and the report has not: the status
    # code each last ran with before the skip (absent: it had not run). A skip is seen
    # through (`numbers.change_kind`).
    ran: dict[int, int] = field(default_factory=dict)

    def judged(self, i: int, code: int) -> int:
        """The status code test `i`'s change to `code` is judged from: its known one, or
        from skipped, the one it last ran with (NEW: none)."""
        old = self.code[i]
        if old == SKIPPED and code != SKIPPED:
            return self.ran.get(i, NEW)
        return old

    @classmethod
    def unknown(cls, n: int, *, version: int) -> Known:
        """A report of `n` tests none of which the branch knows (yet)."""
        return cls(
            version,
            array("q", bytes(8 * n)),
            bytearray([NEW]) * n,
            array("I", bytes(4 * n)),
            array("i"),
        )

    def counted(self) -> Counted:
        """The report's known tests as the branch held them."""
        was = Counter(zip(self.component, self.code, strict=True))
        return Counter({key: n for key, n in was.items() if key[1] != NEW})


class StatusCounts(NamedTuple):
    """A report's tests per status (fields in the order of junit.STATUSES)."""

    passed: int
    failed: int
    error: int
    skipped: int
    flaky: int


@dataclass(frozen=True)
class Classified:
    """What a report does to its branch. The lists are the report's test indexes, ascending."""

    counts: StatusCounts
    still_failing: int  # failing before and now
    new: array[int]  # tests the branch did not know
    changed: array[int]  # known tests whose status or component moved
    regressed: array[int]  # passed → failing (or a muted test's failure: told apart later)
    fixed: array[int]  # failing → passed
    new_failures: array[int]  # failing for the first time: new, or e.g. skipped → failed
    newly_skipped: array[int]
    flaky: array[int]
    before: dict[str, TestCounts]  # the branch's tests per component, before the report
    after: dict[str, TestCounts]
    tally: TestTally  # the branch after the report: what readiness is computed from
    reported: Counted  # the report's tests per (component, status)


def classify_report(parsed: junit.Report, *, components: Components, known: Known) -> Classified:
    """Compare a report with its branch's known tests. Counted in bulk (C loops over the
    arrays); only the tests that are new or changed are then looked at one by one."""
    status_of = parsed.status_of
    counts = StatusCounts(*map(status_of.count, range(len(junit.STATUSES))))
    reported = Counter(zip(components.of, status_of, strict=True))
    names = components.names
    tally = _tally((known.others, reported), names)
    transitions = Counter(zip(known.code, status_of, strict=True))
    # Failing before and now, a skip between seen through.
    still_failing = sum(transitions[old, code] for old in FAILING for code in FAILING) + sum(
        old in FAILING and status_of[i] in FAILING for i, old in known.ran.items()
    )
    moves = _moves(parsed, components=components, known=known)
    return Classified(
        counts=counts,
        still_failing=still_failing,
        new=moves.new,
        changed=moves.changed,
        regressed=moves.regressed,
        fixed=moves.fixed,
        new_failures=moves.new_failures,
        newly_skipped=moves.newly_skipped,
        flaky=positions(status_of, FLAKY),
        before=_tally((known.others, known.counted()), names).components,
        after=tally.components,
        tally=tally,
        reported=reported,
    )


def _tally(parts: Iterable[Counted], names: list[str | None]) -> TestTally:
    """Tests counted per (component, status) → per named component, and in all."""
    passed = failing = known = 0
    components: dict[int, list[int]] = {}  # [passed, known]
    for counted in parts:
        for (comp, code), count in counted.items():
            ok = count if code == PASSED else 0
            passed += ok
            failing += count if code in FAILING else 0
            known += count
            if comp:
                sums = components.setdefault(comp, [0, 0])
                sums[0] += ok
                sums[1] += count
    return TestTally(
        components={
            name: TestCounts(passed=p, total=total)
            for comp, (p, total) in components.items()
            if (name := names[comp]) is not None and total
        },
        passed=passed,
        failing=failing,
        known=known,
    )


class _Moves(NamedTuple):
    new: array[int]
    changed: array[int]
    regressed: array[int]
    fixed: array[int]
    new_failures: array[int]
    newly_skipped: array[int]


PASSED_ONCE = (PASSED, FLAKY)  # statuses of a test that passed
# `numbers.change_kind` of each (known, reported) pair of status codes (NEW: not known).
_KINDS = {
    (old, code): change_kind(None if old == NEW else str(junit.STATUSES[old]), str(status))
    for old in (*range(len(junit.STATUSES)), NEW)
    for code, status in enumerate(junit.STATUSES)
}


def same_files(files: Sequence[str | None]) -> tuple[list[int], dict[str, int]]:
    """A report's files (by number, `junit.Report.files`) as the number of the first of
    their spellings, and that number by path (`file_path`)."""
    by_path: dict[str, int] = {}
    return [by_path.setdefault(file_path(f), n) for n, f in enumerate(files)], by_path


def _moves(parsed: junit.Report, *, components: Components, known: Known) -> _Moves:
    """The tests that are new or whose status, component or file moved (a file only where
    the report names one), by kind of move."""
    status_of, old_code, file_of = parsed.status_of, known.code, parsed.file_of
    new = positions(old_code, NEW)
    # Known tests whose status, component or file moved: one flag a test, worked out in C.
    first = components.same_files[0].__getitem__
    file_moved = map(
        and_, map(bool, file_of), map(ne, map(first, file_of), known.file or repeat(0))
    )
    moved = map(
        and_,
        map(
            or_,
            map(or_, map(ne, old_code, status_of), map(ne, known.component, components.of)),
            file_moved,
        ),
        map(ne, old_code, repeat(NEW)),
    )
    changed = positions(bytes(moved), True)
    regressed, fixed, newly_skipped = array("I"), array("I"), array("I")
    new_failures = [i for i in new if status_of[i] in FAILING]
    kinds = {"regression": regressed, "fixed": fixed, "skipped": newly_skipped, "new": new_failures}
    judged = known.judged
    for i in changed:
        code = status_of[i]
        kind = kinds.get(_KINDS[judged(i, code), code])
        if kind is not None:
            kind.append(i)
    return _Moves(
        new=new,
        changed=changed,
        regressed=regressed,
        fixed=fixed,
        new_failures=array("I", sorted(new_failures)),
        newly_skipped=newly_skipped,
    )


def positions(codes: bytes | bytearray, code: int) -> array[int]:
    """Where `code` occurs in `codes`, found by C's search rather than a Python loop."""
    out = array("I")
    needle = bytes([code])
    i = codes.find(needle)
    while i >= 0:
        out.append(i)
        i = codes.find(needle, i + 1)
    return out

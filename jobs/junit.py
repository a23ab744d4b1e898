"""Reading JUnit XML from any runner, streaming, with untrusted input refused safely.

Counts `<testcase>` elements and ignores the suites' summary attributes (pytest subtests
and reruns inflate those).

Safety: no JUnit producer writes a DTD, so any document type declaration is refused before
the parser sees it (that is where entity declarations, and so entity expansion and external
entities, would live: defusedxml's `forbid_dtd` policy), and so is a root element that is
not a suite. The parser is libxml2 (lxml) configured for untrusted input (no entity
resolution, no network, no DTD loading) with a target instead of a tree: it builds nothing,
so memory is bounded whatever the document holds (floods of elements, deep nesting), and a
failure's text is kept only up to its excerpt's window. A flood of elements that are not
testcases is read again with the events filtered in C (a Python call per element made it
3x slower), its elements dropped chunk by chunk. An element with hundreds of attributes
is refused from the bytes: libxml2 and lxml would hold all of them at once. libxml2's
"huge" limits are lifted so that a 12 MB `<system-out>` is read, not refused.

A report is kept compactly (a 1M-test report is a few arrays and its names in one buffer):
each distinct test once, with its class and file as numbers into shared tables. Testcases
are handed over in batches and filled in column by column; per testcase, Python does
little more than keep the attributes lxml read (turned into columns in C after each chunk)
and probe the hash table that merges duplicates once, comparing hashes only.
"""

from __future__ import annotations

import hashlib
import io
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate, chain, filterfalse, islice, repeat
from typing import IO, Any, cast

from lxml import etree

from jobs.errors import SprintError
from jobs.numbers import parse_instant
from storage.models import TestStatus

MESSAGE_LINES = 4
MESSAGE_CHARS = 600
# A failure's excerpt is taken from the first this many characters of its message and of
# its text: a 12 MB stack trace is not split into lines to keep four of them.
EXCERPT_WINDOW = 1 << 16
NAME_CHARS = 2000
CLASSNAME_CHARS = 1000
FILE_CHARS = 1000

CHUNK = 1 << 16
BATCH = 4096  # testcases handed to the report at once
PROLOG_LIMIT = 1 << 20  # a prolog (declaration, comments) longer than this is refused
# A document with this many more elements that are neither suites, testcases nor outcomes
# than FLOOD_PER_TESTCASE a testcase is read the other way (see `parse`).
FLOOD_ELEMENTS = 1 << 16
# No runner writes more than a dozen attributes on an element; libxml2 and lxml hold all of
# an element's attributes at once (~16 bytes of memory per byte of a flood of short ones).
MAX_ATTRIBUTES = 256
# A run of that many attributes, where a chunk holds many more `=` than tags: a start tag
# holds no `<`, so one whose attributes fill a chunk cannot hide among tags.
_ATTRIBUTE_RUN = re.compile(
    rb"""(?:\s+[^\s=<>/"']+\s*=\s*(?:"[^"<]*"|'[^'<]*')){%d}""" % (MAX_ATTRIBUTES + 1)
)
FLOOD_PER_TESTCASE = 16

# Statuses as one byte each; the order is the codes'.
STATUSES: tuple[TestStatus, ...] = (
    TestStatus.PASSED,
    TestStatus.FAILED,
    TestStatus.ERROR,
    TestStatus.SKIPPED,
    TestStatus.FLAKY,
)
CODE: dict[str, int] = {str(s): i for i, s in enumerate(STATUSES)}
PASSED, FAILED, ERROR, SKIPPED, FLAKY = range(5)

_ROOTS = ("testsuites", "testsuite", "testrun")
_FLAKY_TAGS = {"flakyFailure", "flakyError", "rerunFailure", "rerunError"}
# Surefire's reruns of a test that failed them all: beside its <failure> or <error> it is
# failed (as Surefire counts it; made flaky, a test broken for good raised no regression:
# found by review). <flakyFailure>/<flakyError> are a rerun that passed.
_RERUN_TAGS = {"rerunFailure", "rerunError"}
_OUTCOME_TAGS = {"failure", "error", "skipped", *_FLAKY_TAGS}


class JUnitError(SprintError):
    """The document is not a JUnit report we can read; the message says where and why."""


@dataclass(slots=True)
class Case:
    """One test's outcome in one report (duplicates of a test already merged)."""

    classname: str
    name: str
    file: str | None
    status: TestStatus
    message: str | None = None

    @property
    def id(self) -> str:
        return f"{self.classname}::{self.name}"


class Report:
    """A parsed report: each distinct test once, in the order first seen.

    Test `i` is `name(i)` in class `classnames[class_of[i]]` and file `files[file_of[i]]`
    (`files[0]` is None), with status `STATUSES[status_of[i]]`; messages only where given.
    Names are kept as UTF-8 in one buffer and found through a hash table of arrays: a
    Python string and a dict entry per test would cost five times as much.
    """

    def __init__(self) -> None:
        self.testcases = 0  # <testcase> elements, duplicates included
        self.timestamp: datetime | None = None
        # Written without a UTC offset (the CI machine's local time, taken as UTC): a
        # time to order the run by only against itself, not against other sources'.
        self.timestamp_naive = False
        self.classnames: list[str] = []
        self.files: list[str | None] = [None]
        self.class_of = array("I")
        self.file_of = array("I")
        self.status_of = bytearray()
        # Each test's JUnit `time` in seconds (NaN where absent; a test's duplicates add up).
        self.durations = array("f")
        self.messages: dict[int, str] = {}
        self._class_ids: dict[str, int] = {}
        self._file_ids: dict[str, int] = {"": 0}
        self._text = bytearray()
        self._ends = array("q")  # test i's name is _text[_ends[i - 1]:_ends[i]]
        self._hashes = array("q")
        self._slots = array("i", [-1]) * 1024  # open addressing: test index or -1

    def __len__(self) -> int:
        return len(self._ends)

    def name(self, i: int) -> str:
        return self._text[self._ends[i - 1] if i else 0 : self._ends[i]].decode()

    @property
    def file_ids(self) -> Mapping[str, int]:
        """Each file's number (its index in `files`; "" is 0, as a test without one)."""
        return self._file_ids

    @property
    def class_ids(self) -> Mapping[str, int]:
        """Each class name's number (its index in `classnames`)."""
        return self._class_ids

    def names(self, start: int, stop: int) -> list[str]:
        """The names of tests `start` to `stop`, decoded at once where they are ASCII."""
        if stop <= start:
            return []
        ends = self._ends
        offset = ends[start - 1] if start else 0
        chunk = self._text[offset : ends[stop - 1]]
        if not chunk.isascii():
            return [self.name(i) for i in range(start, stop)]
        text = chunk.decode("ascii")
        bounds = [e - offset for e in ends[start:stop]]
        return [text[a:b] for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]

    def identity(self) -> str:
        """A digest of which tests the report holds, in which order, in which files: two
        reports with the same identity name the same tests at the same positions (hashed
        from the columns' buffers, in C)."""
        h = hashlib.blake2b(digest_size=16)
        h.update("\0".join(self.classnames).encode(errors="surrogatepass"))
        h.update(b"\1")
        h.update("\0".join(f or "" for f in self.files).encode(errors="surrogatepass"))
        for column in (self.class_of, self.file_of, self._ends):
            h.update(b"\1")
            h.update(column)
        h.update(b"\1")
        h.update(self._text)
        return h.hexdigest()

    def index(self, class_id: int, name: str) -> int:
        """The index of a test given its class's number, or -1 when the report lacks it."""
        h = hash((class_id, name)) & _HASH_MASK
        slots, hashes, class_of = self._slots, self._hashes, self.class_of
        mask = len(slots) - 1
        pos = h & mask
        while (i := slots[pos]) >= 0:
            if hashes[i] == h and class_of[i] == class_id and self.name(i) == name:
                return i
            pos = (pos + 1) & mask
        return -1

    def indexes(self, tests: Iterable[Sequence[Any]]) -> list[int]:
        """`index` of many tests at once, each given as (classname, name, …)."""
        class_ids, slots, hashes, class_of = (
            self._class_ids,
            self._slots,
            self._hashes,
            self.class_of,
        )
        text, ends = self._text, self._ends
        mask = len(slots) - 1
        out = []
        for test in tests:
            classname, name = test[0], test[1]
            class_id = class_ids.get(classname)
            found = -1
            if class_id is not None:
                h = hash((class_id, name)) & _HASH_MASK
                pos = h & mask
                while (i := slots[pos]) >= 0:
                    if (
                        hashes[i] == h
                        and class_of[i] == class_id
                        and text[ends[i - 1] if i else 0 : ends[i]] == name.encode()
                    ):
                        found = i
                        break
                    pos = (pos + 1) & mask
            out.append(found)
        return out

    def class_id(self, classname: str) -> int:
        found = self._class_ids.get(classname)
        if found is None:
            found = self._class_ids[classname] = len(self.classnames)
            self.classnames.append(classname)
        return found

    def file_id(self, file: str | None) -> int:
        if not file:
            return 0
        found = self._file_ids.get(file)
        if found is None:
            found = self._file_ids[file] = len(self.files)
            self.files.append(file)
        return found

    def _probe(self, h: int, class_id: int, name: str) -> tuple[int, int]:
        """The slot of a test and its index, or the free slot for it and -1."""
        slots, hashes, class_of = self._slots, self._hashes, self.class_of
        mask = len(slots) - 1
        pos = h & mask
        while (i := slots[pos]) >= 0:
            if hashes[i] == h and class_of[i] == class_id and self.name(i) == name:
                return pos, i
            pos = (pos + 1) & mask
        return pos, -1

    def add(self, class_id: int, name: str, file_id: int, code: int, message: str | None) -> None:
        """One <testcase>; a second one of the same test is merged into the first."""
        self.add_batch(
            [self.classnames[class_id]],
            [name],
            [self.files[file_id] or ""],
            bytearray([code]),
            {} if message is None else {0: message},
        )

    def add_batch(
        self,
        classnames: list[str],
        names: list[str],
        files: list[str],
        codes: bytearray,
        messages: dict[int, str],
        times: list[str | None] | None = None,
    ) -> None:
        """Testcases in the order read (`messages` by position in the batch; no file: "");
        a second one of a test, here or before, is merged into the first. The columns are
        filled in bulk: per testcase only the hash table is probed in Python."""
        n = len(names)
        self.testcases += n
        seconds = [_NAN] * n if times is None else _all_seconds(times)
        class_ids = _numbered(classnames, self._class_ids, self.classnames)
        file_ids = _numbered(files, self._file_ids, self.files)
        hs = list(map(_HASH_MASK.__and__, map(hash, zip(class_ids, names, strict=True))))
        base = len(self._ends)
        self._reserve(n)
        if not self._insert(hs, base):  # a test may come twice: merged one by one
            names, class_ids, file_ids, hs, codes, seconds, messages = self._merge_batch(
                names, class_ids, file_ids, hs, codes, seconds, messages
            )
            self._hashes.fromlist(hs)
        size = len(self._text)
        text = "".join(names)
        if text.isascii():  # (one string encoded, its names' lengths those in bytes)
            self._text += text.encode()
            lengths = map(len, names)
        else:
            encoded = list(map(str.encode, names))
            self._text += b"".join(encoded)
            lengths = map(len, encoded)
        self._ends.fromlist(list(islice(accumulate(lengths, initial=size), 1, None)))
        self.class_of.fromlist(class_ids)
        self.file_of.fromlist(file_ids)
        self.status_of += codes
        self.durations.fromlist(seconds)
        for p, message in messages.items():
            self.messages[base + p] = message

    def _insert(self, hs: list[int], base: int) -> bool:
        """Enter new tests `base`, `base + 1`, … (their hashes `hs`) in the hash table, the
        usual case; False, the table left as it was, as soon as one's hash is already there
        (it may be a test seen before, or twice in the batch). Nothing but hashes compared:
        a loop of a few operations per test."""
        slots, hashes = self._slots, self._hashes
        mask = len(slots) - 1
        hashes.fromlist(hs)
        for i, h in enumerate(hs, base):
            pos = h & mask
            while (j := slots[pos]) >= 0:
                if hashes[j] == h:
                    self._remove(base, i)
                    del hashes[base:]
                    return False
                pos = (pos + 1) & mask
            slots[pos] = i
        return True

    def _remove(self, start: int, stop: int) -> None:
        """Take tests `start` to `stop`, the last entered, out of the hash table again (the
        probes of those before them never crossed their slots)."""
        slots, hashes = self._slots, self._hashes
        mask = len(slots) - 1
        found = []
        for i in range(start, stop):
            pos = hashes[i] & mask
            while slots[pos] != i:
                pos = (pos + 1) & mask
            found.append(pos)
        for pos in found:
            slots[pos] = -1

    def _merge_batch(
        self,
        names: list[str],
        class_ids: list[int],
        file_ids: list[int],
        hs: list[int],
        codes: bytearray,
        seconds: list[float],
        messages: dict[int, str],
    ) -> tuple[list[str], list[int], list[int], list[int], bytearray, list[float], dict[int, str]]:
        """`add_batch` where a test may come twice: each testcase probed and entered in
        turn, a second one of a test merged into the first; the columns of the new tests."""
        base = len(self._ends)
        n = len(names)
        slots, hashes, class_of = self._slots, self._hashes, self.class_of
        mask = len(slots) - 1
        kept: list[int] = []  # the batch's new tests; test base + k is kept[k]
        for j, h in enumerate(hs):
            pos = h & mask
            while (i := slots[pos]) >= 0:
                if i < base:
                    name = names[j]
                    if hashes[i] == h and class_of[i] == class_ids[j] and self.name(i) == name:
                        break
                else:
                    k = kept[i - base]
                    if hs[k] == h and class_ids[k] == class_ids[j] and names[k] == names[j]:
                        break
                pos = (pos + 1) & mask
            if i < 0:
                slots[pos] = base + len(kept)
                kept.append(j)
            elif i < base:
                self._merge(i, file_ids[j], codes[j], messages.get(j))
                self.durations[i] = _added(self.durations[i], seconds[j])
            else:
                k = kept[i - base]
                codes[k] = _merged(codes[k], codes[j])
                seconds[k] = _added(seconds[k], seconds[j])
                if j in messages and k not in messages:
                    messages[k] = messages[j]
                if file_ids[j] and not file_ids[k]:
                    file_ids[k] = file_ids[j]
        if len(kept) < n:  # duplicates: keep the first of each
            names = [names[k] for k in kept]
            class_ids = [class_ids[k] for k in kept]
            file_ids = [file_ids[k] for k in kept]
            hs = [hs[k] for k in kept]
            codes = bytearray(codes[k] for k in kept)
            seconds = [seconds[k] for k in kept]
            position = {k: p for p, k in enumerate(kept)}
            messages = {position[k]: m for k, m in messages.items() if k in position}
        return names, class_ids, file_ids, hs, codes, seconds, messages

    def _merge(self, i: int, file_id: int, code: int, message: str | None) -> None:
        self.status_of[i] = _merged(self.status_of[i], code)
        if message is not None and i not in self.messages:
            self.messages[i] = message
        if file_id and not self.file_of[i]:
            self.file_of[i] = file_id

    def _reserve(self, n: int) -> None:
        """Room in the hash table for `n` more tests, at least half of it left empty. A table
        under 2 MB grows 4x at a time: rehashed less often and probed along shorter runs,
        for a few MB more (a million tests get the table doubling would give them)."""
        size = len(self._slots)
        need = 2 * (len(self._ends) + n)
        if need <= size:
            return
        while need > size:
            size *= 4 if size < _SMALL_TABLE else 2
        slots = array("i", [-1]) * size
        mask = size - 1
        for i, h in enumerate(self._hashes):
            pos = h & mask
            while slots[pos] >= 0:
                pos = (pos + 1) & mask
            slots[pos] = i
        self._slots = slots

    def find(self, classname: str, name: str) -> int | None:
        """The index of a test, or None when the report does not hold it."""
        class_id = self._class_ids.get(classname)
        if class_id is None:
            return None
        i = self._probe(hash((class_id, name)) & _HASH_MASK, class_id, name)[1]
        return None if i < 0 else i

    def status(self, i: int) -> TestStatus:
        return STATUSES[self.status_of[i]]

    def case(self, i: int) -> Case:
        return Case(
            self.classnames[self.class_of[i]],
            self.name(i),
            self.files[self.file_of[i]],
            STATUSES[self.status_of[i]],
            self.messages.get(i),
        )

    @property
    def cases(self) -> Mapping[tuple[str, str], Case]:
        """The tests as `(classname, name)` → Case, built on access."""
        return _Cases(self)


_HASH_MASK = (1 << 62) - 1
_SMALL_TABLE = 1 << 19  # slots (2 MB)


class _Cases(Mapping[tuple[str, str], Case]):
    def __init__(self, report: Report) -> None:
        self._report = report

    def __getitem__(self, key: tuple[str, str]) -> Case:
        i = self._report.find(*key)
        if i is None:
            raise KeyError(key)
        return self._report.case(i)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        r = self._report
        return ((r.classnames[r.class_of[i]], r.name(i)) for i in range(len(r)))

    def __len__(self) -> int:
        return len(self._report)


def _merged(old: int, new: int) -> int:
    """Two <testcase> of one test in one report (a rerun, or a call failure plus a
    teardown error): a pass and a failure make it flaky; two failures stay failed."""
    codes = {old, new}
    if FLAKY in codes or (PASSED in codes and codes & {FAILED, ERROR}):
        return FLAKY
    for code in (FAILED, ERROR, PASSED):
        if code in codes:
            return code
    return old


_NAN = float("nan")


def _seconds(text: str | None) -> float:
    """A testcase's `time` attribute in seconds (NaN when absent or not a number)."""
    if not text:
        return _NAN
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return _NAN
    return value if 0 <= value < 1e9 else _NAN


def _all_seconds(times: list[str | None]) -> list[float]:
    """`_seconds` of each, in C where every test is timed plainly or none is (the usual
    reports)."""
    try:
        out = list(map(float, times))  # type: ignore[arg-type]  # (None: TypeError)
    except (TypeError, ValueError):
        if not any(times):
            return [_NAN] * len(times)
        return list(map(_seconds, times))
    if out and not (min(out) >= 0 and max(out) < 1e9):
        return list(map(_seconds, times))
    return out


def _numbered(keys: list[str], ids: dict[str, int], table: list[Any]) -> list[int]:
    """The number of each class (or file), in C once all are known; those new numbered in
    the order first seen (their index in `table`, which they join)."""
    try:
        return list(map(ids.__getitem__, keys))
    except KeyError:
        new = list(dict.fromkeys(filterfalse(ids.__contains__, keys)))
        ids.update(zip(new, range(len(table), len(table) + len(new)), strict=True))
        table += new
        return list(map(ids.__getitem__, keys))


def _added(a: float, b: float) -> float:
    """Two durations of one test in one report (a rerun): their sum, NaN only if both are."""
    if a != a:
        return b
    return a if b != b else a + b


def _local(tag: Any) -> str:
    return str(tag).rpartition("}")[2]


def _lines(text: str, n: int) -> list[str]:
    """The first `n` lines of `text` that are not blank (the blank ones skipped in C)."""
    found = filter(str.strip, text[:EXCERPT_WINDOW].strip().splitlines())
    return [line.rstrip() for line in islice(found, n)]


def _excerpt(message: str | None, text: str, kind: str | None) -> str | None:
    """The first lines of a failure's message and text, as short as the product keeps it."""
    message = message or ""
    body = text[:EXCERPT_WINDOW].strip()
    lines = _lines(message, MESSAGE_LINES) if message else []
    if body and body not in message[:EXCERPT_WINDOW]:
        lines += _lines(body, MESSAGE_LINES - len(lines))
    if not lines:
        return kind or None
    return "\n".join(lines)[:MESSAGE_CHARS]


def _naive(text: str) -> bool:
    """Whether a timestamp (one `_timestamp` reads) was written without a UTC offset."""
    return parse_instant(text.strip()).tzinfo is None


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        # (As the API reads `at=`: "Z" or RFC 3339's "z" for UTC; a "z" one was dropped.)
        ts = parse_instant(text.strip())
    except ValueError:
        return None
    # Most runners write the CI machine's local time without an offset; UTC is the
    # usual CI clock, and `at=` overrides it.
    ts = ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    # gotestsum writes 0001-01-01 when it has no time; treat such as absent.
    return ts if ts.year >= 2000 else None


class _Prolog:
    """Watches the bytes before the root element: refuses a document type declaration,
    and a root element that is not a suite (before the parser builds any of it)."""

    def __init__(self) -> None:
        self.head = b""
        self.done = False

    def feed(self, chunk: bytes) -> None:
        if self.done:
            return
        self.head += chunk
        text = self._text()
        pos = 0
        while True:
            lt = text.find("<", pos)
            if lt < 0 or lt + 1 >= len(text):
                break
            if text.startswith("<?", lt):
                end = text.find("?>", lt)
            elif text.startswith("<!--", lt):
                end = text.find("-->", lt)
            elif text[lt + 1 : lt + 9].upper().startswith("!DOCTYPE") or text.startswith("<!", lt):
                raise JUnitError(
                    "DTDs, entity declarations and external entities are not allowed in a report"
                )
            else:
                self._root(text, lt + 1)
                return
            if end < 0:
                break
            pos = end + 2
        if len(self.head) > PROLOG_LIMIT:
            raise JUnitError("the document has no root element in its first megabyte")

    def _root(self, text: str, start: int) -> None:
        end = start
        while end < len(text) and not text[end].isspace() and text[end] not in "/>":
            end += 1
        if end == len(text) and len(self.head) <= PROLOG_LIMIT:
            return  # the name goes on in the next chunk
        name = text[start:end].rsplit(":", 1)[-1]
        # (A malformed name is the parser's to report, with its line.)
        if name not in _ROOTS and name[:1].isalpha():
            raise JUnitError(f"the root element is <{name}>, not <testsuites> or <testsuite>")
        self.done = True  # no DTD can follow the root element
        self.head = b""

    def _text(self) -> str:
        head = self.head
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return head.decode("utf-16", errors="ignore")
        return head.decode("latin-1")


class _Guarded(io.RawIOBase):
    """A read-only stream that checks the prolog before the parser sees the bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._prolog = _Prolog()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(CHUNK if size is None or size < 0 else size)
        self._prolog.feed(chunk)
        # (Counting is C-speed; the search runs only where `=` swamp the tags.)
        equals = chunk.count(b"=")
        if equals > MAX_ATTRIBUTES and equals > 16 * chunk.count(b"<"):
            found = _ATTRIBUTE_RUN.search(chunk)
            if found is not None:
                raise JUnitError(
                    f"an element has more than {MAX_ATTRIBUTES} attributes (near byte "
                    f"{self.size + found.start():,}); no JUnit report has so many"
                )
        self.size += len(chunk)
        return chunk


_KIND_CACHE = 256  # distinct element names whose kind is remembered (a flood of names is not)
_OTHER, _SUITE, _CASE, _OUTCOME = range(1, 5)  # (true: `kinds.get(tag) or …`)


class _Reader:
    """lxml's parser target: sees every element start and end, builds no tree (so nothing
    piles up, whatever the document holds), and adds the testcases to the report in
    batches, column by column.

    Suites are a stack of what their testcases inherit (file, timestamp); inside a testcase
    only its direct children count, and only an outcome's own text is kept, up to the
    excerpt's window. A testcase's start only keeps its attributes (the dict lxml made):
    after each chunk of the document they are read into columns in C (`take`), so they
    never pile up; its status is PASSED unless an outcome says otherwise."""

    def __init__(self, report: Report, *, budget: int | None = None) -> None:
        self.report = report
        # Elements other than testcases still allowed before `_Flood` (None: no limit), less
        # the allowance of the batch's testcases (see `_flooded`).
        self.budget = -1 if budget is None else budget
        self.counting = budget is not None
        self.kinds: dict[str, int] = {}
        self.suites: list[tuple[str, str]] = []  # (file, timestamp) each open container has
        self.suite: tuple[str, str] = ("", "")  # the innermost one's
        self.timestamp_of: tuple[str, str] | None = None
        self.depth = -1  # inside a testcase: how deep (0: the testcase itself); -1: outside
        self.outcome: str | None = None  # the outcome element open as the testcase's child
        self.attrib: Mapping[str, str] = {}
        self.text: list[str] | None = None  # its text, while no child has started
        self.text_size = 0
        # The batch read since the last flush: the attributes of the testcases read since
        # the last `take`, then columns (the testcase's own file, "" or None if it has none).
        self.attribs: list[Mapping[str, str]] = []
        self.room = BATCH  # how many `attribs` fill the batch
        self.classnames: list[str] = []
        self.names: list[str] = []
        self.files: list[str | None] = []
        self.times: list[str | None] = []
        # From which testcase on each suite was the innermost (the batch's first: 0).
        self.runs: list[tuple[int, tuple[str, str]]] = [(0, self.suite)]
        self.codes: dict[int, int] = {}  # by position in the batch, where not PASSED
        self.flaky: set[int] = set()  # positions with a flaky or rerun outcome
        self.reruns: set[int] = set()  # of those, the ones with only reruns that failed
        self.messages: dict[int, str] = {}

    def _kind(self, tag: str) -> int:
        local = _local(tag)
        kind = (
            _CASE
            if local == "testcase"
            else _OUTCOME
            if local in _OUTCOME_TAGS
            else _SUITE
            if local in _ROOTS
            else _OTHER
        )
        if not self.suites and self.depth < 0 and local not in _ROOTS:
            raise JUnitError(f"the root element is <{local}>, not <testsuites> or <testsuite>")
        if len(self.kinds) < _KIND_CACHE:
            self.kinds[tag] = kind
        return kind

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        depth = self.depth
        if depth >= 0:  # inside a testcase
            self.budget -= 1
            if self.budget < 0 and self.counting:
                self._flooded()
            self.depth = depth + 1
            self.text_size = EXCERPT_WINDOW  # an outcome's text is what precedes its first child
            if depth == 0 and (self.kinds.get(tag) or self._kind(tag)) == _OUTCOME:
                self.outcome, self.attrib = _local(tag), attrib  # (lxml's own: not reused)
                self.text, self.text_size = [], 0
            return
        kind = self.kinds.get(tag)
        if kind is None:
            kind = self._kind(tag)
        if kind == _CASE:
            # Runs once a testcase: kept to an append (the batch is full only between two).
            attribs = self.attribs
            if len(attribs) >= self.room:
                self.flush()
                attribs = self.attribs
            self.depth = 0
            attribs.append(attrib)
            return
        self.budget -= 1
        if self.budget < 0 and self.counting:
            self._flooded()
        self.suites.append(self.suite)
        if kind == _OTHER:  # (inherits what its parent has: a flood of elements costs little)
            return
        file, stamp = self.suite
        self._moved(
            ((attrib.get("file") or "")[:FILE_CHARS] or file, attrib.get("timestamp") or stamp)
        )

    def _flooded(self) -> None:
        """The budget is spent, but for the allowance of the batch's testcases (counted at
        the flush, not at each testcase's start)."""
        if self.budget + FLOOD_PER_TESTCASE * (len(self.names) + len(self.attribs)) < 0:
            raise _Flood

    def _moved(self, suite: tuple[str, str]) -> None:
        """The innermost suite is now `suite`: the testcases from here on inherit from it."""
        self.suite = suite
        at = len(self.names) + len(self.attribs)
        if self.runs[-1][0] == at:
            self.runs[-1] = (at, suite)
        else:
            self.runs.append((at, suite))

    def data(self, text: str) -> None:
        if self.text is not None and self.text_size < EXCERPT_WINDOW:
            self.text.append(text)
            self.text_size += len(text)

    def end(self, _tag: str) -> None:
        depth = self.depth
        if depth < 0:
            suite = self.suites.pop()
            if suite is not self.suite:
                self._moved(suite)
            return
        self.depth = depth - 1
        if depth == 1 and self.outcome is not None:
            self._outcome()

    def _outcome(self) -> None:
        tag, attrib, self.outcome = self.outcome, self.attrib, None
        text, self.text = "".join(self.text or ()), None
        at = len(self.names) + len(self.attribs) - 1  # the open testcase's
        codes = self.codes
        code = codes.get(at, PASSED)
        if tag == "failure":
            codes[at] = FAILED
        elif tag == "error" and code != FAILED:
            codes[at] = ERROR
        elif tag == "skipped" and code == PASSED:
            codes[at] = SKIPPED
        elif tag in _FLAKY_TAGS:
            (self.reruns if tag in _RERUN_TAGS and at not in self.flaky else self.flaky).add(at)
            if tag not in _RERUN_TAGS:
                self.reruns.discard(at)
            if at in self.messages:
                return
        else:
            return
        message = _excerpt(attrib.get("message"), text, attrib.get("type"))
        if message is None:
            self.messages.pop(at, None)
        else:
            self.messages[at] = message

    def take(self) -> None:
        """Read the attributes kept since the last call into the batch's columns."""
        attribs = self.attribs
        if attribs:
            classnames, names, files, times = _columns(attribs)
            self.classnames += classnames
            self.names += names
            self.files += files
            self.times += times
            self.room -= len(attribs)
            self.attribs = []

    def flush(self) -> None:
        """Hand the testcases read so far to the report, in one batch."""
        self.take()
        n = len(self.names)
        if n:
            codes = bytearray(n)
            for at, code in self.codes.items():
                codes[at] = code
            for at in self.flaky:
                codes[at] = FLAKY
            for at in self.reruns:  # (reruns that failed: flaky beside no failure of its own)
                if codes[at] not in (FAILED, ERROR):
                    codes[at] = FLAKY
            runs = self._runs(n)
            self._stamp(runs)
            self.report.add_batch(
                self.classnames, self.names, self._files(runs), codes, self.messages, self.times
            )
            self.budget += FLOOD_PER_TESTCASE * n
        self.classnames, self.names, self.files, self.times = [], [], [], []
        self.codes, self.flaky, self.reruns, self.messages = {}, set(), set(), {}
        self.room = BATCH
        self.runs = [(0, self.suite)]

    def _runs(self, n: int) -> list[tuple[int, int, tuple[str, str]]]:
        """The batch's `n` testcases by suite: (first, stop, the suite they are in)."""
        stops = [at for at, _ in self.runs[1:]] + [n]
        return [
            (at, stop, suite)
            for (at, suite), stop in zip(self.runs, stops, strict=True)
            if at < stop
        ]

    def _stamp(self, runs: list[tuple[int, int, tuple[str, str]]]) -> None:
        """The report's timestamp: the first that parses of the testcases' suites'."""
        report = self.report
        for _, _, suite in runs:
            if report.timestamp is not None:
                return
            if suite is not self.timestamp_of:
                self.timestamp_of = suite
                report.timestamp = _timestamp(suite[1])
                report.timestamp_naive = report.timestamp is not None and _naive(suite[1])

    def _files(self, runs: list[tuple[int, int, tuple[str, str]]]) -> list[str]:
        """Each testcase's file: its own, or else its suite's."""
        own = self.files
        if all(own):
            return own  # type: ignore[return-value]  # (no None: all are true)
        inherited = list(chain.from_iterable(repeat(s[0], stop - at) for at, stop, s in runs))
        if not any(own):
            return inherited
        return [file or suite for file, suite in zip(own, inherited, strict=True)]

    def close(self) -> Report:
        self.flush()
        return self.report


# dict.get and str.strip for `map`, typed for what they are given (a mapping that is not a
# dict, or None to strip: TypeError).
_get = cast("Callable[[Mapping[str, str], str], str | None]", dict.get)
_strip = cast("Callable[[str | None], str]", str.strip)


def _columns(
    attribs: list[Mapping[str, str]],
) -> tuple[list[str], list[str], list[str | None], list[str | None]]:
    """The class names, names, own files and times of testcases given their attributes:
    in C where the attributes are the usual ones (dicts, with a class name and a name, none
    too long), a testcase at a time otherwise."""
    try:
        given = list(map(_get, attribs, repeat("classname")))
        names = list(map(_strip, map(_get, attribs, repeat("name"))))
        files = list(map(_get, attribs, repeat("file")))
        times = list(map(_get, attribs, repeat("time")))
    except TypeError:  # (a testcase without attributes, or without a name)
        return _each_columns(attribs)
    if not all(given):
        return _each_columns(attribs)
    classnames = list(map(_strip, given))
    if (
        max(map(len, classnames)) > CLASSNAME_CHARS
        or max(map(len, names)) > NAME_CHARS
        or max(map(len, filter(None, files)), default=0) > FILE_CHARS
        or _controlled("".join(classnames))
        or _controlled("".join(names))
    ):
        return _each_columns(attribs)
    return classnames, names, files, times


# A tab, newline or carriage return inside a name (`&#10;`; XML allows no other control
# character) is written as its escape, as pytest writes one in a test's id: a report's
# statuses are kept as lines of tab-separated names (`jobs.ingest._pack`).
def _controlled(text: str) -> bool:
    """Whether `text` holds a tab, newline or carriage return: three searches for one
    character, a tenth of the time of a regular expression's character class over a
    batch's names (4 ms of a 20k-test report's parse)."""
    return "\t" in text or "\n" in text or "\r" in text


_ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _identity(text: str, limit: int) -> str:
    """A class name or name as stored: stripped, its control characters escaped, and cut
    to `limit` characters if longer — the cut end then names what was cut (a digest of the
    whole), so that two tests differing only past the limit stay two tests."""
    text = text.strip()
    if _controlled(text):
        text = text.translate(_ESCAPES)
    if len(text) <= limit:
        return text
    digest = hashlib.blake2b(text.encode(errors="surrogatepass"), digest_size=8).hexdigest()
    return f"{text[: limit - 17]}…{digest}"


def stored_name(name: str) -> str:
    """A test's name as it is stored (typed back in full, it finds the test; found by
    review: one past NAME_CHARS is stored cut, and its full name found nothing)."""
    return _identity(name, NAME_CHARS)


def stored_classname(classname: str) -> str:
    """A class name as it is stored (`stored_name`)."""
    return _identity(classname, CLASSNAME_CHARS)


def _each_columns(
    attribs: list[Mapping[str, str]],
) -> tuple[list[str], list[str], list[str | None], list[str | None]]:
    classnames: list[str] = []
    names: list[str] = []
    files: list[str | None] = []
    times: list[str | None] = []
    for attrib in attribs:
        get = attrib.get
        classnames.append(_identity(get("classname") or get("class") or "", CLASSNAME_CHARS))
        names.append(_identity(get("name") or "", NAME_CHARS))
        files.append((get("file") or "")[:FILE_CHARS])
        times.append(get("time"))
    return classnames, names, files, times


_SAFE: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": True,  # a 12 MB text is data, not an attack; only its excerpt is kept
    "remove_comments": True,
    "remove_pis": True,
}
_WATCHED = [f"{{*}}{t}" for t in (*_ROOTS, "testcase", *sorted(_OUTCOME_TAGS))]


class _Flood(Exception):
    """Raised by the parser target on a flood of elements no testcase needs: the document
    is read again the way that costs no Python per element."""


def parse(source: bytes | IO[bytes]) -> Report:
    """Parse a JUnit document (bytes or a binary file), streaming; JUnitError if unreadable.

    Read with a parser target, each element's start and end handled in Python: the fastest
    way for a report. A document flooded with other elements (each costing a Python call
    there) is read again, if it can be, with libxml2 filtering the events by name in C and
    building, then dropping, the elements in between."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    seekable = getattr(source, "seekable", None)
    start = source.tell() if seekable is not None and seekable() else None
    try:
        return _parse(source, rewindable=start is not None)
    except _Flood:
        if start is None:  # (not raised then)
            raise
        source.seek(start)
        return _parse(source, rewindable=False, pull=True)


def _parse(source: IO[bytes], *, rewindable: bool, pull: bool = False) -> Report:
    stream = _Guarded(source)
    report = Report()
    reader = _Reader(report, budget=FLOOD_ELEMENTS if rewindable else None)
    try:
        if pull:
            _pull(stream, reader)
            reader.close()
        else:
            # libxml2 hands a target `&amp;` in an attribute as "&#38;" unless it resolves
            # entities; only the predefined ones can exist (the prolog refuses any DTD).
            parser = etree.XMLParser(target=reader, **{**_SAFE, "resolve_entities": "internal"})
            while chunk := stream.read(CHUNK):
                parser.feed(chunk)
                reader.take()
            parser.close()
    except etree.XMLSyntaxError as exc:
        if stream.size == 0:
            raise JUnitError("the document is empty") from None
        line, column = exc.position
        raise JUnitError(f"malformed XML at line {line}, column {column}") from None
    if report.testcases == 0:
        raise JUnitError("the report holds no <testcase> elements")
    return report


def _pull(stream: _Guarded, reader: _Reader) -> None:
    """Feed `reader` the events of suites, testcases and their outcomes only, selected by
    name in C; libxml2 builds the elements in between, and they are dropped after each
    chunk, so memory stays bounded whatever the document holds."""
    parser = etree.XMLPullParser(events=("start", "end"), tag=_WATCHED, **_SAFE)
    root: Any = None
    case: Any = None  # the testcase open at the top level
    skipped: set[Any] = set()  # open elements whose events the reader does not get
    while True:
        chunk = stream.read(CHUNK)
        if chunk:
            parser.feed(chunk)
        else:
            parser.close()
        for event, elem in parser.read_events():
            if event == "start":
                if root is None:
                    root = elem.getroottree().getroot()
                if reader.outcome is not None or (
                    reader.depth == 0 and elem.getparent() is not case
                ):
                    # Inside an outcome (its text is what comes before its first child,
                    # given at its end), or an outcome that is not the testcase's child.
                    skipped.add(elem)
                    continue
                if reader.depth < 0:
                    case = elem
                reader.start(elem.tag, dict(elem.attrib))  # (kept: not tied to the element)
                continue
            if skipped and elem in skipped:
                skipped.discard(elem)
                continue
            if reader.outcome is not None and reader.depth == 1:
                reader.data(elem.text or "")
            reader.end(elem.tag)
        if not chunk:
            break
        reader.take()
        if root is not None:
            _prune(root)


def _prune(node: Any) -> None:
    """Drop every finished element: along the path of open elements (each the last child of
    the one before), all children but the last have ended."""
    while True:
        n = len(node)
        if n == 0:
            return
        if n > 1:
            del node[:-1]
        node = node[-1]

"""Reading JUnit XML from any runner, streaming, with untrusted input refused safely.

Counts `<testcase>` elements and ignores the suites' summary attributes (pytest subtests
and reruns inflate those).

Safety: no JUnit producer writes a DTD, so any document type declaration is refused before
the parser sees it (that is where entity declarations, and so entity expansion and external
entities, would live: defusedxml's `forbid_dtd` policy), and so is a root element that is
not a suite. The parser is lxml's pull parser, configured for untrusted input (no entity
resolution, no network, no DTD loading), filtering the elements it reports in C: about
twice as fast as the standard library's expat with Python callbacks. libxml2's "huge"
limits are lifted so that a 12 MB `<system-out>` is read, not refused; memory stays bounded
because every finished element is dropped after each chunk, whatever its name or depth,
and a failure's text is cut to its excerpt as soon as the failure ends.

A report is kept compactly (a 1M-test report is a few arrays and one string per test): each
distinct test once, with its class and file as numbers into shared tables.
"""

from __future__ import annotations

import io
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from lxml import etree

from jobs.errors import SprintError
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
PROLOG_LIMIT = 1 << 20  # a prolog (declaration, comments) longer than this is refused

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
_OUTCOME_TAGS = {"failure", "error", "skipped", *_FLAKY_TAGS}
# What the parser reports: the suites (to find the root), testcases and their outcomes.
_WATCHED = [f"{{*}}{t}" for t in (*_ROOTS, "testcase", *sorted(_OUTCOME_TAGS))]


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
        self.classnames: list[str] = []
        self.files: list[str | None] = [None]
        self.class_of = array("I")
        self.file_of = array("I")
        self.status_of = bytearray()
        self.messages: dict[int, str] = {}
        self._class_ids: dict[str, int] = {}
        self._file_ids: dict[str, int] = {}
        self._text = bytearray()
        self._ends = array("q")  # test i's name is _text[_ends[i - 1]:_ends[i]]
        self._hashes = array("q")
        self._slots = array("i", [-1]) * 1024  # open addressing: test index or -1

    def __len__(self) -> int:
        return len(self._ends)

    def name(self, i: int) -> str:
        return self._text[self._ends[i - 1] if i else 0 : self._ends[i]].decode()

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
        self.testcases += 1
        h = (hash(name) ^ (class_id * _SPREAD)) & _HASH_MASK
        pos, i = self._probe(h, class_id, name)
        if i < 0:
            i = len(self._ends)
            self._slots[pos] = i
            self._text += name.encode()
            self._ends.append(len(self._text))
            self._hashes.append(h)
            self.class_of.append(class_id)
            self.file_of.append(file_id)
            self.status_of.append(code)
            if message is not None:
                self.messages[i] = message
            if 2 * len(self._ends) > len(self._slots):
                self._grow()
            return
        self.status_of[i] = _merged(self.status_of[i], code)
        if message is not None and i not in self.messages:
            self.messages[i] = message
        if file_id and not self.file_of[i]:
            self.file_of[i] = file_id

    def _grow(self) -> None:
        slots = array("i", [-1]) * (2 * len(self._slots))
        mask = len(slots) - 1
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
        i = self._probe((hash(name) ^ (class_id * _SPREAD)) & _HASH_MASK, class_id, name)[1]
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


_SPREAD = 0x9E3779B97F4A7C15  # mixes the class into a name's hash
_HASH_MASK = (1 << 62) - 1


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


def _local(tag: Any) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def _lines(text: str) -> Iterator[str]:
    for line in text[:EXCERPT_WINDOW].strip().splitlines():
        if line.strip():
            yield line.rstrip()


def _excerpt(elem: Any) -> str | None:
    """The first lines of a failure's message and text, as short as the product keeps it."""
    message = elem.get("message") or ""
    body = (elem.text or "")[:EXCERPT_WINDOW].strip()
    lines = list(_first(_lines(message), MESSAGE_LINES))
    if body and body not in message[:EXCERPT_WINDOW]:
        lines += _first(_lines(body), MESSAGE_LINES - len(lines))
    if not lines:
        return elem.get("type") or None
    return "\n".join(lines)[:MESSAGE_CHARS]


def _first(lines: Iterator[str], n: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        if len(out) >= n:
            break
        out.append(line)
    return out


class _Outcome:
    """What a testcase's children say, gathered as each of them ends."""

    __slots__ = ("code", "flaky", "message", "testcase")

    def __init__(self, testcase: Any) -> None:
        self.testcase = testcase
        self.code = PASSED
        self.message: str | None = None
        self.flaky = False

    def add(self, tag: str, elem: Any) -> None:
        if tag == "failure":
            self.code, self.message = FAILED, _excerpt(elem)
        elif tag == "error" and self.code != FAILED:
            self.code, self.message = ERROR, _excerpt(elem)
        elif tag == "skipped" and self.code == PASSED:
            self.code, self.message = SKIPPED, _excerpt(elem)
        elif tag in _FLAKY_TAGS:
            self.flaky = True
            self.message = self.message or _excerpt(elem)

    def result(self) -> tuple[int, str | None]:
        return (FLAKY if self.flaky else self.code), self.message


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
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
        self.size += len(chunk)
        return chunk


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


def parse(source: bytes | IO[bytes]) -> Report:
    """Parse a JUnit document (bytes or a binary file), streaming; JUnitError if unreadable."""
    stream = _Guarded(io.BytesIO(source) if isinstance(source, bytes) else source)
    report = Report()
    parser = etree.XMLPullParser(
        events=("start", "end"),
        tag=_WATCHED,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # a 12 MB text is data, not an attack; memory is bounded below
        remove_comments=True,
        remove_pis=True,
    )
    root: Any = None
    outcome: _Outcome | None = None
    last_parent: Any = None
    suite_file = 0
    add = report.add
    class_id = report.class_id
    file_id = report.file_id
    try:
        while chunk := stream.read(CHUNK):
            parser.feed(chunk)
            for event, elem in parser.read_events():
                if event == "start":
                    if root is None:
                        root = elem.getroottree().getroot()
                    continue
                tag = _local(elem.tag)
                if tag != "testcase":
                    parent = elem.getparent()
                    if tag in _OUTCOME_TAGS and parent is not None:
                        if outcome is None or outcome.testcase is not parent:
                            if _local(parent.tag) != "testcase":
                                continue
                            outcome = _Outcome(parent)
                        outcome.add(tag, elem)
                    continue
                parent = elem.getparent()
                if parent is not last_parent:  # a new suite: look its attributes up once
                    last_parent = parent
                    suite_file = file_id((_inherited(parent, "file") or "")[:FILE_CHARS])
                    if report.timestamp is None:
                        report.timestamp = _timestamp(_inherited(parent, "timestamp"))
                if report.testcases == 0:
                    _check_root(elem)
                if outcome is not None and outcome.testcase is elem:
                    code, message = outcome.result()
                    outcome = None
                else:
                    code, message = PASSED, None
                get = elem.get
                file = get("file")
                add(
                    class_id((get("classname") or get("class") or "").strip()[:CLASSNAME_CHARS]),
                    (get("name") or "").strip()[:NAME_CHARS],
                    file_id(file[:FILE_CHARS]) if file else suite_file,
                    code,
                    message,
                )
            if root is not None:
                _prune(root)
        parser.close()
    except etree.XMLSyntaxError as exc:
        if stream.size == 0:
            raise JUnitError("the document is empty") from None
        line, column = exc.position
        raise JUnitError(f"malformed XML at line {line}, column {column}") from None
    if report.testcases == 0:
        raise JUnitError("the report holds no <testcase> elements")
    return report


def _check_root(elem: Any) -> None:
    root = elem.getroottree().getroot()
    name = etree.QName(root).localname
    if name not in _ROOTS:
        raise JUnitError(f"the root element is <{name}>, not <testsuites> or <testsuite>")


def _inherited(elem: Any, attribute: str) -> str | None:
    """An attribute of the nearest enclosing suite that has it (PHPUnit nests suites)."""
    node = elem
    while node is not None:
        value = node.get(attribute)
        if value:
            return str(value)
        node = node.getparent()
    return None

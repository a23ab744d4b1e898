"""Reading JUnit XML from any runner, streaming, with untrusted input refused safely.

Counts `<testcase>` elements and ignores the suites' summary attributes (pytest subtests
and reruns inflate those).

Safety: no JUnit producer writes a DTD, so any document type declaration is refused before
the parser sees it (that is where entity declarations, and so entity expansion and external
entities, would live: defusedxml's `forbid_dtd` policy). The parser is lxml's iterparse,
configured for untrusted input (no entity resolution, no network, no DTD loading, no huge
trees), filtering `<testcase>` elements in C: about twice as fast as the standard library's
expat with Python callbacks, and defusedxml's pure-Python parser class is slower still.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from lxml import etree

from jobs.errors import SprintError
from storage.models import TestStatus

MESSAGE_LINES = 4
MESSAGE_CHARS = 600
NAME_CHARS = 2000
CLASSNAME_CHARS = 1000
FILE_CHARS = 1000

_FAILED = {TestStatus.FAILED, TestStatus.ERROR}
CHUNK = 1 << 16
PROLOG_LIMIT = 1 << 20  # a prolog (declaration, comments) longer than this is refused


_ROOTS = ("testsuites", "testsuite", "testrun")
_FLAKY_TAGS = {"flakyFailure", "flakyError", "rerunFailure", "rerunError"}


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


@dataclass
class Report:
    cases: dict[tuple[str, str], Case] = field(default_factory=dict)
    testcases: int = 0  # <testcase> elements, duplicates included
    timestamp: datetime | None = None


def _local(tag: Any) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def _excerpt(elem: Any) -> str | None:
    text = elem.get("message") or ""
    body = (elem.text or "").strip()
    if body and body not in text:
        text = f"{text}\n{body}" if text else body
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return elem.get("type") or None
    out = "\n".join(lines[:MESSAGE_LINES])
    return out[:MESSAGE_CHARS]


def _status(testcase: Any) -> tuple[TestStatus, str | None]:
    status = TestStatus.PASSED
    message = None
    flaky = False
    for child in testcase:
        tag = _local(child.tag)
        if tag == "failure":
            status, message = TestStatus.FAILED, _excerpt(child)
        elif tag == "error" and status is not TestStatus.FAILED:
            status, message = TestStatus.ERROR, _excerpt(child)
        elif tag == "skipped" and status is TestStatus.PASSED:
            status, message = TestStatus.SKIPPED, _excerpt(child)
        elif tag in _FLAKY_TAGS:
            flaky = True
            message = message or _excerpt(child)
    if flaky:
        return TestStatus.FLAKY, message
    return status, message


def _merge(old: Case, new: Case) -> None:
    """Two <testcase> of one test in one report (a rerun, or a call failure plus a
    teardown error): a pass and a failure make it flaky; two failures stay failed."""
    statuses = {old.status, new.status}
    if TestStatus.FLAKY in statuses or (TestStatus.PASSED in statuses and statuses & _FAILED):
        old.status = TestStatus.FLAKY
    elif TestStatus.FAILED in statuses:
        old.status = TestStatus.FAILED
    elif TestStatus.ERROR in statuses:
        old.status = TestStatus.ERROR
    elif TestStatus.PASSED in statuses:
        old.status = TestStatus.PASSED
    old.message = old.message or new.message
    old.file = old.file or new.file


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
    """Watches the bytes before the root element for a document type declaration."""

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
                self.done = True  # the root element: no DTD can follow
                self.head = b""
                return
            if end < 0:
                break
            pos = end + 2
        if len(self.head) > PROLOG_LIMIT:
            raise JUnitError("the document has no root element in its first megabyte")

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


def parse(source: bytes | IO[bytes]) -> Report:
    """Parse a JUnit document (bytes or a binary file), streaming; JUnitError if unreadable."""
    stream = _Guarded(io.BytesIO(source) if isinstance(source, bytes) else source)
    report = Report()
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=("{*}testcase", "testcase"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    cases = report.cases
    shared: dict[str, str] = {}
    passed = TestStatus.PASSED
    last_parent: Any = None
    suite_file: str | None = None
    try:
        for _, elem in events:
            parent = elem.getparent()
            if parent is not last_parent:  # a new suite: look its attributes up once
                last_parent = parent
                suite_file = _inherited(parent, "file")
                if report.timestamp is None:
                    report.timestamp = _timestamp(_inherited(parent, "timestamp"))
            if report.testcases == 0:
                _check_root(elem)
            report.testcases += 1
            get = elem.get
            # Most testcases have no children: they passed.
            status, message = _status(elem) if len(elem) else (passed, None)
            name = (get("name") or "").strip()[:NAME_CHARS]
            # Many tests share a class and a file: keep one copy of each string.
            classname = (get("classname") or get("class") or "").strip()[:CLASSNAME_CHARS]
            classname = shared.setdefault(classname, classname)
            file = get("file") or suite_file
            if file:
                file = shared.setdefault(file[:FILE_CHARS], file[:FILE_CHARS])
            key = (classname, name)
            case = Case(classname, name, file or None, status, message)
            existing = cases.get(key)
            if existing is None:
                cases[key] = case
            else:
                _merge(existing, case)
            # Drop what has been read so memory stays flat on large reports.
            elem.clear(keep_tail=False)
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        if stream.size == 0:
            raise JUnitError("the document is empty") from None
        line, column = exc.position
        raise JUnitError(f"malformed XML at line {line}, column {column}") from None
    if report.testcases == 0:
        root = events.root
        if root is not None and etree.QName(root).localname not in _ROOTS:
            raise JUnitError(
                f"the root element is <{etree.QName(root).localname}>, "
                "not <testsuites> or <testsuite>"
            )
        raise JUnitError("the report holds no <testcase> elements")
    return report


def _check_root(elem: Any) -> None:
    root = elem.getroottree().getroot()
    name = etree.QName(root).localname
    if name not in _ROOTS:
        raise JUnitError(f"the root element is <{name}>, not <testsuites> or <testsuite>")


def _inherited(elem: Any, attribute: str) -> str | None:
    # The nearest enclosing suite's attribute (PHPUnit nests suites).
    """An attribute of the nearest enclosing suite that has it (PHPUnit nests suites)."""
    node = elem
    while node is not None:
        value = node.get(attribute)
        if value:
            return str(value)
        node = node.getparent()
    return None

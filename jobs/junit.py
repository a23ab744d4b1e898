"""Reading JUnit XML from any runner, streaming, with untrusted input refused safely.

Counts `<testcase>` elements and ignores the suites' summary attributes (pytest subtests
and reruns inflate those). Dialects differ in where they put things; see the notes in
tests/fixtures/junit/README.md.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from jobs.errors import SprintError
from storage.models import TestStatus

MESSAGE_LINES = 4
MESSAGE_CHARS = 600
NAME_CHARS = 2000
CLASSNAME_CHARS = 1000
FILE_CHARS = 1000

_FAILED = {TestStatus.FAILED, TestStatus.ERROR}
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


def _excerpt(elem: Element) -> str | None:
    text = elem.get("message") or ""
    body = (elem.text or "").strip()
    if body and body not in text:
        text = f"{text}\n{body}" if text else body
    lines = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return elem.get("type") or None
    out = "\n".join(lines[:MESSAGE_LINES])
    return out[:MESSAGE_CHARS]


def _status(testcase: Element) -> tuple[TestStatus, str | None]:
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


def parse(source: bytes | IO[bytes]) -> Report:
    """Parse a JUnit document (bytes or a binary file), streaming; JUnitError if unreadable."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    report = Report()
    stack: list[Element] = []
    suite_files: list[str | None] = []
    root_seen = False
    try:
        for event, elem in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            tag = _local(elem.tag)
            if event == "start":
                if not root_seen:
                    root_seen = True
                    if tag not in ("testsuites", "testsuite", "testrun"):
                        raise JUnitError(
                            f"the root element is <{tag}>, not <testsuites> or <testsuite>"
                        )
                if tag == "testsuite":
                    suite_files.append(
                        elem.get("file") or (suite_files[-1] if suite_files else None)
                    )
                    if report.timestamp is None:
                        report.timestamp = _timestamp(elem.get("timestamp"))
                elif tag == "testsuites" and report.timestamp is None:
                    report.timestamp = _timestamp(elem.get("timestamp"))
                stack.append(elem)
                continue
            stack.pop()
            if tag == "testcase":
                _add_case(report, elem, suite_files[-1] if suite_files else None)
                if stack:
                    # Drop what has been read so memory stays flat on large reports.
                    del stack[-1][:]
            elif tag == "testsuite":
                suite_files.pop()
                if stack:
                    del stack[-1][:]
    except ParseError as exc:
        line, column = exc.position
        raise JUnitError(f"malformed XML at line {line}, column {column + 1}") from None
    except DefusedXmlException:
        raise JUnitError(
            "DTDs, entity declarations and external entities are not allowed in a report"
        ) from None
    if not root_seen:
        raise JUnitError("the document is empty")
    if report.testcases == 0:
        raise JUnitError("the report holds no <testcase> elements")
    return report


def _add_case(report: Report, elem: Element, suite_file: str | None) -> None:
    report.testcases += 1
    status, message = _status(elem)
    name = (elem.get("name") or "").strip()[:NAME_CHARS]
    classname = (elem.get("classname") or elem.get("class") or "").strip()[:CLASSNAME_CHARS]
    file = (elem.get("file") or suite_file or "").strip()[:FILE_CHARS] or None
    case = Case(classname=classname, name=name, file=file, status=status, message=message)
    key = (classname, name)
    existing = report.cases.get(key)
    if existing is None:
        report.cases[key] = case
    else:
        _merge(existing, case)

"""Failures grouped by cause: a failure message normalised into a cause (its exception line
with numbers, hex, UUIDs, paths, timestamps and quoted strings masked), or the name of the
sprint file's first `[[causes]]` category whose pattern matches the message."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypedDict

from sqlmodel import Session, col, select

from jobs.config import CauseCategory
from storage import queries
from storage.models import KnownTest, TestStatus

CAUSE_CHARS = 200  # a cause longer than this is cut (ending "…")
TOP_CAUSES = 5  # causes the daily report names
GROUP_TESTS = 40  # test ids a group of the alert keeps (its count says how many in all)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# An exception's line: "ConnectionRefusedError: [Errno 111] …", "java.lang.AssertionError: …",
# pytest's "E   ValueError: …".
_EXCEPTION = re.compile(
    r"^(?:E\s+)?((?:[A-Za-z_][\w$]*\.)*[A-Za-z_]\w*(?:Error|Exception|Failure|Panic)\w*)"
    r"(?::\s.*|:?$)"
)
# First lines that say only that something failed: the next lines say what.
_GENERIC = {"failed", "failure", "error", "fail", "traceback (most recent call last)"}
# Lines of a runner's own (go test's progress, a Python traceback's frames) name no cause.
_NOISE = ("=== ", "--- ", 'File "', "at ", "\u276f ")
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
            r"|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"
        ),
        "<time>",
    ),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b"), "<hex>"),
    # A URL or a path with at least one separator, with its ":line:col" if any.
    (
        re.compile(
            r"\b[a-z][a-z0-9+.-]*://\S+"
            # Tried once per word (not at each of its letters): the mask runs on every
            # regressed test of a 20k-test report.
            r"|(?<![\w.@~/\\-])(?:[A-Za-z]:)?(?:[\w.@~-]+[/\\]|[/\\](?=[\w.@~-]))"
            r"[\w.@~/\\-]*(?::\d+)*"
            r"|(?<![\w.-])[\w-]+\.[A-Za-z]\w*:\d+(?::\d+)?"  # a file and line: "x_test.go:6"
        ),
        "<path>",
    ),
    (re.compile(r"'[^'\n]*'"), "'…'"),
    (re.compile(r'"[^"\n]*"'), '"…"'),
    (re.compile(r"(?<![\w<.])\d+(?:[.,]\d+)*"), "N"),  # units stay: "30s" is "Ns"
    (re.compile(r"\s+"), " "),
)


class CauseCount(TypedDict):
    """A cause and how many tests fail with it; `named`: a `[[causes]]` category's name
    (else the normalised message)."""

    cause: str
    named: bool
    count: int


class CauseGroup(CauseCount):
    """A cause of an alert's tests, with their ids (the first GROUP_TESTS)."""

    tests: list[str]


def _line(message: str) -> str:
    """The line of a failure message that says what failed: its first exception line among
    the first few, else its first line that is not a bare "Failed"."""
    lines = [ln.strip() for ln in _ANSI.sub("", message).splitlines() if ln.strip()][:8]
    lines = [ln for ln in lines if not ln.startswith(_NOISE)] or lines
    if not lines:
        return ""
    for ln in lines:
        if _EXCEPTION.match(ln):
            return ln.removeprefix("E").strip() if ln.startswith("E ") else ln
    return next((ln for ln in lines if ln.rstrip(":.").lower() not in _GENERIC), lines[0])


def cause_key(message: str | None) -> str | None:
    """A failure message's cause: its telling line with the run-specific parts masked, so
    that the same failure in ten tests reads the same; None for no message."""
    if not message or not message.strip():
        return None
    text = _line(message)
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    text = text.strip().replace("`", "'")
    if len(text) > CAUSE_CHARS:
        text = text[: CAUSE_CHARS - 1].rstrip() + "…"
    return text or None


def cause_of(message: str | None, categories: Sequence[CauseCategory]) -> tuple[str, bool] | None:
    """(cause, named): the first category whose pattern matches the message, else the
    message's cause_key; None for no message."""
    if not message:
        return None
    for c in categories:
        if c.regex.search(message):
            return c.name, True
    key = cause_key(message)
    return None if key is None else (key, False)


def group(
    tests: Iterable[Mapping[str, object]], categories: Sequence[CauseCategory]
) -> list[CauseGroup]:
    """The causes of tests (each with `id` and `message`), most tests first (then in the
    order first seen); tests without a message belong to none."""
    groups: dict[tuple[str, bool], CauseGroup] = {}
    seen: dict[str, tuple[str, bool] | None] = {}  # failures repeat their messages
    for t in tests:
        message = t.get("message")
        if not isinstance(message, str):
            continue
        if message not in seen:
            seen[message] = cause_of(message, categories)
        found = seen[message]
        if found is None:
            continue
        g = groups.setdefault(
            found, {"cause": found[0], "named": found[1], "count": 0, "tests": []}
        )
        g["count"] += 1
        if len(g["tests"]) < GROUP_TESTS:
            g["tests"].append(str(t["id"]))
    return sorted(groups.values(), key=lambda g: -g["count"])


def count(messages: Iterable[str | None], categories: Sequence[CauseCategory]) -> list[CauseCount]:
    """How many messages each cause has, most first (then first seen)."""
    counts: dict[tuple[str, bool], int] = {}
    seen: dict[str, tuple[str, bool] | None] = {}  # failures repeat their messages
    for m in messages:
        if m is None:
            continue
        if m not in seen:
            seen[m] = cause_of(m, categories)
        found = seen[m]
        if found is not None:
            counts[found] = counts.get(found, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    return [{"cause": c, "named": named, "count": n} for (c, named), n in ranked]


def top_causes(
    *,
    session: Session,
    branch: str,
    categories: Sequence[CauseCategory],
    at: datetime,
    limit: int = TOP_CAUSES,
) -> list[CauseCount]:
    """The commonest causes of the branch's tests failing at `at` (their latest messages;
    a report as of an earlier instant, backfilled, counts the tests failing then, each by
    the message it began failing with)."""
    if queries.reports_after(session=session, branch=branch, at=at):
        then = queries.failure_messages_at(session=session, branch=branch, at=at)
        return count(then, categories)[:limit]
    messages = session.exec(
        select(KnownTest.message).where(
            KnownTest.branch == branch,
            col(KnownTest.status).in_([TestStatus.FAILED, TestStatus.ERROR]),
            col(KnownTest.message).is_not(None),
        )
    )
    return count(messages, categories)[:limit]

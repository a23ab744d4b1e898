"""What a request makes the database do, counted rather than timed: SQLite's virtual-machine
steps (in hundreds, by statement) and the statements run, while `measure` watches. For the
tests that a surface's work does not grow with history (issue 13: answers from ready state,
reports over a season of CI). SQLite only: the test is skipped elsewhere."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event

from jobs.ingest import RunInfo, receive_junit
from tests.support.server import Server

STEPS = 100  # VM steps a tick counts


def in_request() -> bool:
    """Whether this thread works for a request, not for the figures kept ready (their
    refresher looks at the stored generation on its own clock, and builds when it moved)."""
    return not threading.current_thread().name.startswith("ready-")


class Work:
    """SQLite VM steps (hundreds) by statement, and statements run, within `measure`."""

    def __init__(self, engine: Any) -> None:
        if engine.dialect.name != "sqlite":
            pytest.skip("counts SQLite's virtual-machine steps")
        self.steps: Counter[str] = Counter()
        self.statements = 0
        self.ran: list[tuple[str, Any]] = []  # (statement, parameters) of the last measure
        self.watching = False
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, _c: Any, statement: str, params: Any, *_: Any) -> None:
        if self.watching and in_request():
            self.statements += 1
            self.ran.append((statement, params))
        table = re.search(r'\bFROM "?(\w+)', statement)
        key = f"FROM {table[1] if table else '-'}: " + " ".join(statement.split())[:120]

        def tick() -> int:
            if self.watching and in_request():
                self.steps[key] += 1
            return 0

        conn.connection.driver_connection.set_progress_handler(tick, STEPS)

    def measure(self, go: Callable[[], Any]) -> tuple[int, int]:
        """(steps, statements) of `go()`."""
        self.steps.clear()
        self.statements = 0
        self.ran.clear()
        self.watching = True
        try:
            go()
        finally:
            self.watching = False
        return sum(self.steps.values()), self.statements

    def reading(self, table: str) -> int:
        """The steps of the statements that read `table`, in the last `measure`."""
        return sum(n for key, n in self.steps.items() if key.startswith(f"FROM {table}:"))


NOISE = 5  # hundreds of steps: what a request's work may move by, history or not


def flat(small: int, big: int) -> bool:
    """Whether work measured at a small and a big history (`Work.reading`) did not grow
    with it: within half again, or a few hundred steps (a tick more or less)."""
    return big <= max(1.5 * small, small + NOISE)


def suite(n: int) -> bytes:
    """A JUnit report of `n` passing tests in ten classes."""
    cases = "".join(
        f'<testcase classname="tests.unit.c{i % 10}" name="test_{i}" time="0.01"/>'
        for i in range(n)
    )
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


def ingest(server: Server, doc: bytes, run: str, at: datetime) -> None:
    """`doc` received for CI run `run` (its commit the same) at `at`."""
    rt = server.runtime
    receive_junit(
        db=rt.db,
        sprint=rt.sprint,
        document=doc,
        digest=hashlib.sha256(doc).hexdigest(),
        info=RunInfo(run=run, commit=run, at=at),
        now=at,
    )

"""The figures and an ingest build many short-lived objects and no cycles: the cyclic
collector is held meanwhile, so a full pass over the process's heap (0.12 s in a process
holding the web app's 186k objects, once per computation of the figures at 20k tests) is
not triggered by objects that are freed when the work ends."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest
from sqlalchemy import event

from jobs import figures
from jobs.heap import gc_paused
from storage.db import Database
from tests.support.small_sprint import REPORT_DAY3, small, two_days


def test_the_figures_are_computed_with_the_collector_held(db: Database) -> None:
    sprint = small()
    with db.session() as s:
        two_days(s, sprint)
        s.commit()
    held: list[bool] = []

    def statement(*_: Any) -> None:
        held.append(not gc.isenabled())

    event.listen(db.engine, "before_cursor_execute", statement)
    try:
        with db.read() as s:
            fig = figures.compute(session=s, sprint=sprint, at=REPORT_DAY3)
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
    assert held and all(held), held  # every read of the computation
    assert gc.isenabled()  # and the collector runs again after it
    assert fig.breakdown.score == pytest.approx(53.33, abs=0.01)  # (the hand-worked figure)


def test_pauses_nest_and_overlap_across_threads_and_end_as_they_began() -> None:
    assert gc.isenabled()
    entered, leave = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        assert entered.wait(10)
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause goes on
    leave.set()
    thread.join(10)
    assert gc.isenabled()
    # Where the collector was off before (someone else's choice), it stays off.
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

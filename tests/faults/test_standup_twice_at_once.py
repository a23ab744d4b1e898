"""A standup form submitted twice at once is one answer on either database (found by review)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from jobs import standups
from storage.models import Standup
from tests.support.e2e import ANSWER, T0, at, submit
from tests.support.server import Server

pytestmark = pytest.mark.faults

QUIET = {**ANSWER, "current_blockers": "", "new_risks": "", "help_needed": ""}


def test_standup_form_submitted_twice_at_once_is_one_answer(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A developer double-clicks Submit on the standup form (Slack delivers both
    submissions, the same view, within milliseconds). On SQLite the second waits for the
    first and finds the same answer stored: both are acknowledged with nothing to show and
    one answer is kept. On PostgreSQL both read "no answer yet", both insert, and the second
    breaks uq_standup_user_day: its submission is not acknowledged (Slack shows "We had
    some trouble connecting" on the form) and a traceback is logged. Both should be
    acknowledged (empty body) and one standup row kept.

    (The two are lined up just after each has read the stored answer, as two submissions
    landing at the same moment are; on SQLite the second cannot get there until the first
    commits, so the wait times out and they run one after the other; so too on PostgreSQL
    once each takes the person's lock for the day before reading.)"""
    at(server, T0)
    barrier = threading.Barrier(2, timeout=1)
    read = standups.queries.standup_for

    def lined_up(**kwargs):  # type: ignore[no-untyped-def]
        found = read(**kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return found

    monkeypatch.setattr(standups.queries, "standup_for", lined_up)
    out: list[Any] = []
    threads = [
        threading.Thread(target=lambda: out.append(submit(server, "U0DEV", **QUIET)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [(r.status_code, r.text) for r in out] == [(200, ""), (200, "")]
    with server.runtime.db.session() as s:
        rows = s.exec(select(func.count()).select_from(Standup)).one()
    assert rows == 1

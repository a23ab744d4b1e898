"""A retention run that fails gives its slot back (found by review): run again at the clock's
next look, and no success in /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from bot import clock as bot_clock
from jobs import retention
from tests.support.server import INGEST_TOKEN, Clock, Server

pytestmark = pytest.mark.faults

THREE_THIRTY = datetime(2025, 10, 31, 7, 30, tzinfo=UTC)  # Fri 03:30 New York


def _fail_first(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """retention.run_all raises once (the database locked for a moment), then works."""
    real = retention.run_all
    calls: list[datetime] = []

    def locked_once(**kwargs: Any) -> str:
        calls.append(kwargs["now"])
        if len(calls) == 1:
            raise OperationalError("DELETE ...", {}, Exception("database is locked"))
        return real(**kwargs)

    monkeypatch.setattr(retention, "run_all", locked_once)
    return calls


def test_a_retention_run_that_fails_is_tried_again_at_the_clocks_next_look(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 03:30 the clock's retention run fails (any exception: the database locked for a
    moment). README: "A slot whose job failed ... runs when the clock next looks, every 5
    minutes", and every other slotted job's claim commits with its work so that this
    holds. The retention job claims its slot in a transaction of its own *before* pruning
    (bot/clock.py `prune`): the slot stays taken though nothing was pruned, and the look
    at 03:35 answers "retention: already ran for 2025-10-31" — no pruning that day."""
    calls = _fail_first(monkeypatch)
    clock.at = THREE_THIRTY
    with pytest.raises(OperationalError):
        bot_clock.scheduled(server.runtime, "retention")
    clock.at += timedelta(minutes=bot_clock.RETRY_MINUTES)  # the clock's next look
    done = bot_clock.catch_up_teams(server.runtime, started=False)
    assert len(calls) == 2, done


def test_a_failed_retention_run_is_not_reported_as_its_last_success(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same failed 03:30 run: /metrics' sprintbot_job_last_success_timestamp_seconds
    ("When each team's scheduled job last ran its slot"; storage: "a claim is a run that
    succeeded") shows retention succeeding at 03:30, so an alert on a stale last success
    never fires for a retention that failed."""
    _fail_first(monkeypatch)
    clock.at = THREE_THIRTY
    with pytest.raises(OperationalError):
        bot_clock.scheduled(server.runtime, "retention")
    resp = httpx.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {INGEST_TOKEN}"}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    line = [
        m
        for m in resp.text.splitlines()
        if m.startswith("sprintbot_job_last_success") and 'job="retention"' in m
    ]
    assert line == [], f"a failed run reported as the last success: {line}"

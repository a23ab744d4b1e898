"""Found by reviewing this session's change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from bot import clock as bot_clock
from jobs import retention
from tests.support.server import INGEST_TOKEN, Clock, Server

THREE_THIRTY = datetime(2025, 10, 31, 7, 30, tzinfo=UTC)  # Fri 03:30 New York


def _locked_during_first_run(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[datetime]:
    """Every DELETE of the 03:30 run meets "database is locked" (a long CI ingest holds the
    SQLite write lock); later runs work."""
    real = retention._batches
    calls: list[datetime] = []

    def batches(db: Any, step: Any, **kwargs: Any) -> int:
        calls.append(clock.at)
        if clock.at == THREE_THIRTY:
            raise OperationalError("DELETE ...", {}, Exception("database is locked"))
        return real(db, step, **kwargs)

    monkeypatch.setattr(retention, "_batches", batches)
    return calls


def test_a_retention_run_whose_every_prune_failed_is_tried_again(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 03:30 the clock's retention run starts; every one of its DELETEs fails ("database
    is locked": the same failure tests/faults/test_retention_failure_retried.py simulates).
    retention.run_all catches each step's error and returns "pruned packed statuses:
    failed, status changes: failed, ..." — no exception and not NOT_KEPT, so `prune` keeps
    the slot: the clock's next look at 03:35 says "retention: already ran for 2025-10-31",
    nothing is pruned that day. README: a slot whose job failed runs when the clock next
    looks; the latest commit says a failed retention run gives its slot back. It should be
    run again at the next look."""
    calls = _locked_during_first_run(monkeypatch, clock)
    clock.at = THREE_THIRTY
    first = bot_clock.scheduled(server.runtime, "retention")
    assert "failed" in first, first
    n = len(calls)
    clock.at += timedelta(minutes=bot_clock.RETRY_MINUTES)  # the clock's next look
    done = bot_clock.catch_up_teams(server.runtime, started=False)
    assert len(calls) > n, (first, done)


def test_a_retention_run_whose_every_prune_failed_is_no_success_in_metrics(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same 03:30 run, every DELETE failed: /metrics'
    sprintbot_job_last_success_timestamp_seconds shows retention succeeding at 03:30, so
    an alert on a stale last success never fires though nothing was pruned."""
    _locked_during_first_run(monkeypatch, clock)
    clock.at = THREE_THIRTY
    first = bot_clock.scheduled(server.runtime, "retention")
    assert "failed" in first, first
    resp = httpx.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {INGEST_TOKEN}"}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    line = [
        m
        for m in resp.text.splitlines()
        if m.startswith("sprintbot_job_last_success") and 'job="retention"' in m
    ]
    assert line == [], f"a failed run reported as the last success: {line} ({first})"

"""A retention run that fails — raising, or with each of its steps failing — gives its slot
back (found by review): it runs again at the clock's next look, and is no success in
/metrics."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
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
LOCKED = OperationalError("DELETE ...", {}, Exception("database is locked"))


def _run_raises(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[datetime]:
    """retention.run_all raises at 03:30 (the database locked for a moment), then works."""
    real = retention.run_all
    calls: list[datetime] = []

    def locked_once(**kwargs: Any) -> str:
        calls.append(clock.at)
        if clock.at == THREE_THIRTY:
            raise LOCKED
        return real(**kwargs)

    monkeypatch.setattr(retention, "run_all", locked_once)
    return calls


def _every_step_fails(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[datetime]:
    """Every DELETE of the 03:30 run meets "database is locked" (a long CI ingest holds
    SQLite's write lock): each step's failure is caught in it, the run ends "pruned …:
    failed, …" without raising; later runs work."""
    real = retention._batches
    calls: list[datetime] = []

    def batches(db: Any, step: Any, **kwargs: Any) -> int:
        calls.append(clock.at)
        if clock.at == THREE_THIRTY:
            raise LOCKED
        return real(db, step, **kwargs)

    monkeypatch.setattr(retention, "_batches", batches)
    return calls


FAILURES: dict[str, Callable[[pytest.MonkeyPatch, Clock], list[datetime]]] = {
    "the run raises": _run_raises,
    "every step fails": _every_step_fails,
}


def _failed_run(server: Server) -> None:
    """The clock's 03:30 retention run, which fails."""
    with contextlib.suppress(OperationalError):
        said = bot_clock.scheduled(server.runtime, "retention")
        assert "failed" in said, said


@pytest.mark.parametrize("failure", FAILURES)
def test_a_retention_run_that_failed_is_tried_again_at_the_clocks_next_look(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """README: "A slot whose job failed ... runs when the clock next looks, every 5
    minutes". The retention job claims its slot before pruning (its work commits batch by
    batch): the slot stayed taken though nothing was pruned, and the look at 03:35
    answered "retention: already ran for 2025-10-31" — no pruning that day."""
    calls = FAILURES[failure](monkeypatch, clock)
    clock.at = THREE_THIRTY
    _failed_run(server)
    n = len(calls)
    clock.at += timedelta(minutes=bot_clock.RETRY_MINUTES)  # the clock's next look
    done = bot_clock.catch_up_teams(server.runtime, started=False)
    assert len(calls) > n, done


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_retention_run_is_not_reported_as_its_last_success(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """/metrics' sprintbot_job_last_success_timestamp_seconds showed retention succeeding
    at 03:30 ("a claim is a run that succeeded"), so an alert on a stale last success
    never fired for a retention that failed."""
    FAILURES[failure](monkeypatch, clock)
    clock.at = THREE_THIRTY
    _failed_run(server)
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

"""Concurrent clocks and manual runs, and a crash in the middle of a daily job: each slot's
messages are queued exactly once, and what each run prints is true."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from jobs import reports
from storage.models import JobRun, OutboxMessage
from tests.support.server import Clock, Server, together

pytestmark = pytest.mark.faults

DAY3 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # 9:00 in New York, day 3


def status_posts(server: Server) -> list[str]:
    return [
        c.args["text"]
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status"
    ]


def test_concurrent_manual_runs_say_posted_only_where_they_posted(
    server: Server, clock: Clock
) -> None:
    # Fault: three of five concurrent `job run daily-report` printed "posted" though one
    # report was queued (the others' enqueue lost the race and was ignored).
    clock.at = DAY3
    results = sorted(together(5, lambda: bot_clock.run_job(server.runtime, "daily-report")))
    assert results == ["daily-report: already posted today"] * 4 + ["daily-report: posted"]
    assert len(status_posts(server)) == 1


def test_concurrent_clocks_run_every_daily_slot_once(server: Server, clock: Clock) -> None:
    clock.at = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)  # day 7: a weekly report day too
    for name in bot_clock.daily_jobs(server.runtime):
        results = together(3, partial(bot_clock.scheduled, server.runtime, name))
        ran = [r for r in results if "already ran" not in r]
        assert len(ran) == 1, results
    posted = status_posts(server)
    assert sorted(p.split(" — ")[0] for p in posted) == ["Daily report", "Weekly report"]
    keys = [m.key for m in _outbox(server)]
    assert len(keys) == len(set(keys))


def test_a_crash_after_the_claim_neither_loses_nor_doubles_the_report(
    server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault: the slot's claim was committed before the job ran, so a crash in between
    # (here: the job fails after the claim) left the day claimed and its report never sent.
    clock.at = DAY3
    real = reports.morning_report

    def crash(**kwargs: Any) -> bool:
        real(**kwargs)  # queued the report in the transaction …
        raise SystemExit("killed")  # … and the process died before committing it

    monkeypatch.setattr(reports, "morning_report", crash)
    with pytest.raises(SystemExit):
        bot_clock.scheduled(server.runtime, "daily-report")
    with server.runtime.db.session() as session:
        assert session.exec(select(JobRun)).all() == []
    assert _outbox(server) == []

    monkeypatch.setattr(reports, "morning_report", real)
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    assert bot_clock.scheduled(server.runtime, "daily-report") == (
        "daily-report: already ran for 2025-10-31"
    )
    assert len(status_posts(server)) == 1
    with server.runtime.db.session() as session:
        [run] = session.exec(select(JobRun)).all()
    assert (run.job, run.slot, run.result) == ("daily-report", "2025-10-31", "daily-report: posted")


def _outbox(server: Server) -> list[OutboxMessage]:
    with server.runtime.db.session() as session:
        return list(session.exec(select(OutboxMessage)).all())

"""A network outage of a little over an hour at 9:00, then a single 503 once Slack is
back: the morning's report goes late, after the wait Slack asked for (found by review: it
was failed for good as a message Slack "chokes on", its attempts in the outage counted as
Slack's refusals)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from bot import people
from storage.models import OutboxMessage
from tests.support.outbox import queue_post
from tests.support.server import Clock, Server

pytestmark = pytest.mark.faults

NINE = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # 9:00 in New York, day 3


def test_one_503_after_an_hours_network_outage_does_not_lose_the_days_report(
    server: Server, clock: Clock
) -> None:
    fake = server.slack
    clock.at = NINE - timedelta(minutes=5)
    # The team channel's members were read earlier (they carry a run through an outage).
    people.participants(server.runtime.client, server.runtime.sprint, now=clock.at)
    # 8:55: the bot's host loses its network (nothing reaches Slack at all).
    fake.outage("refuse")
    clock.at = NINE
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    # The worker keeps trying while the network is down, for an hour and a quarter.
    for _ in range(13):
        clock.at += timedelta(minutes=6)
        server.runtime.sender.drain()
    # The network is back, half a minute before the report's next try. Another message
    # (a CI alert, anything) goes at once.
    fake.recover()
    with server.runtime.db.read() as s:
        due = s.exec(
            select(OutboxMessage.next_attempt_at).where(
                OutboxMessage.key == "daily-report:2025-10-31"
            )
        ).one()
    clock.at = due - timedelta(seconds=30)
    queue_post(server.runtime.db, "regression:99", "#sprint-alerts", clock.at)
    server.runtime.sender.drain()
    assert ("C" + "SPRINTALERTS", "regression:99") in fake.posted_keys()
    # The report's next try meets one 503 asking to wait 30 s (Slack busy after the outage).
    fake.fail(
        "chat.postMessage",
        status=503,
        error="service_unavailable",
        headers={"Retry-After": "30"},
    )
    for seconds in (31, 90, 600, 1800):
        clock.at = due + timedelta(seconds=seconds)
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        row = s.exec(
            select(OutboxMessage).where(OutboxMessage.key == "daily-report:2025-10-31")
        ).one()
    posted = [key for _, key in fake.posted_keys()]
    # The team sees the day's report, late.
    assert "daily-report:2025-10-31" in posted, (posted, row.status, row.last_error)

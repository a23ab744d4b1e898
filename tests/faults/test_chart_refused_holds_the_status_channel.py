"""A chart Slack keeps refusing does not hold its channel for ever (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot import clock as bot_clock
from storage import queries
from storage.models import OutboxMessage, OutboxStatus
from tests.support.e2e import at, post_report
from tests.support.server import Server

pytestmark = pytest.mark.faults


def _row(server: Server, suffix: str) -> OutboxMessage:
    with server.runtime.db.read() as s:
        return s.exec(select(OutboxMessage).where(col(OutboxMessage.key).endswith(suffix))).one()


def test_a_chart_slack_keeps_refusing_does_not_hold_the_status_channel_for_ever(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack answers this morning's burn-down chart upload 500 every time while it takes
    every post (messages keep going all morning). Before 5a5482d the chart was failed after
    CHOKED_AGE ("HTTP 500 ... while Slack took other messages") and the status channel went
    on. Since `last_sent` is kept per method, only another *files.upload_v2* delivered within
    5 minutes counts — and there is one chart a day, queued in the status channel's lane
    behind this one — so the chart is retried for ever and every later message of
    #sprint-status (tomorrow's report too) waits behind it. Should: failed after about an
    hour as before, the channel's later posts going."""
    answer = server.slack._answer

    def refused(method: str, args: dict[str, Any], headers: dict[str, str]) -> Any:
        if method == "files.completeUploadExternal":
            return 500, {"ok": False, "error": "internal_error"}, {}
        return answer(method, args, headers)

    monkeypatch.setattr(server.slack, "_answer", refused)
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    start = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)
    at(server, start)
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    n = 0
    while server.clock.at - start < timedelta(hours=3):  # posts go on elsewhere all along
        n += 1
        with server.runtime.db.session() as s:
            queries.enqueue(
                session=s,
                key=f"elsewhere:{n}",
                method="chat.postMessage",
                payload={"channel": "#phase4-production-readiness", "text": f"post {n}"},
                now=server.clock.at,
            )
            s.commit()
        server.runtime.sender.drain()
        at(server, server.clock.at + timedelta(minutes=2))
    with server.runtime.db.session() as s:  # the status channel's next message
        queries.enqueue(
            session=s,
            key="status:later",
            method="chat.postMessage",
            payload={"channel": "#sprint-status", "text": "later"},
            now=server.clock.at,
        )
        s.commit()
    for _ in range(3):
        server.runtime.sender.drain()
        at(server, server.clock.at + timedelta(minutes=5))
    chart = _row(server, ":chart")
    later = _row(server, "status:later")
    assert later.status == OutboxStatus.SENT, (
        f"#sprint-status is held by the chart ({chart.status}, {chart.attempts} attempts, "
        f"{chart.last_error}); its next post is {later.status}"
    )

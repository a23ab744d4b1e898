"""App Home shows the latest burn-down chart by its Slack file ID (an image block's
slack_file). Once that file is gone from Slack (deleted by an admin or by the workspace's
file retention), Slack refuses a view naming it (invalid_blocks, "invalid slack file"), and
every Home publish was failed for good until the next chart (found by review): it is
published without the chart."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from bot import clock as bot_clock
from storage.models import OutboxMessage, OutboxStatus
from tests.support import fakeslack
from tests.support.e2e import at, home_opened, post_report
from tests.support.listeners import listeners_done
from tests.support.server import Server

pytestmark = pytest.mark.faults


def test_home_still_publishes_after_the_chart_file_was_deleted(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = server.slack
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    for minutes in (1, 2):
        at(server, datetime(2025, 10, 31, 13, minutes, tzinfo=UTC))
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        chart = s.exec(select(OutboxMessage).where(col(OutboxMessage.key).endswith(":chart"))).one()
    assert chart.status == OutboxStatus.SENT
    deleted = {chart.result["file"]}  # the chart is deleted from #status

    original = fakeslack.block_problem

    def problem(args: dict[str, Any]) -> str | None:
        view = args.get("view")
        view = fakeslack.json.loads(view) if isinstance(view, str) else view
        blocks = (view or {}).get("blocks") or args.get("blocks") or []
        blocks = fakeslack.json.loads(blocks) if isinstance(blocks, str) else blocks
        for i, b in enumerate(blocks):
            if (b.get("slack_file") or {}).get("id") in deleted:
                return f"invalid slack file [json-pointer:/view/blocks/{i}/slack_file]"
        return original(args)

    monkeypatch.setattr(fakeslack, "block_problem", problem)
    at(server, datetime(2025, 10, 31, 15, 0, tzinfo=UTC))
    home_opened(server, "U0DEV")
    listeners_done()  # (the Home is queued after the event's acknowledgement)
    rows: list[Any] = []
    for minute in range(1, 6):
        at(server, datetime(2025, 10, 31, 15, minute, tzinfo=UTC))
        server.runtime.sender.drain()
        with server.runtime.db.read() as s:
            rows = list(
                s.exec(
                    select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.last_error).where(
                        col(OutboxMessage.key).contains("home:U0DEV:")
                    )
                ).all()
            )
    assert rows, "no Home was queued"
    assert all(status == OutboxStatus.SENT for _, status, _ in rows), rows
    view = fake.calls_to("views.publish")[-1].args["view"]
    view = fakeslack.json.loads(view) if isinstance(view, str) else view
    assert [b for b in view["blocks"] if b["type"] == "image"] == []


def _home_opened_on_day_3(server: Server) -> str:
    """Day 3's report and chart sent, U0DEV's Home opened after it; the chart's file ID."""
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    at(server, datetime(2025, 10, 31, 15, 0, tzinfo=UTC))
    home_opened(server, "U0DEV")
    deadline = time.monotonic() + 10
    while not server.slack.calls_to("views.publish"):
        assert time.monotonic() < deadline, "the opened Home was not published"
        time.sleep(0.05)
        server.runtime.sender.drain()
    [image] = _images(server.slack.calls_to("views.publish")[-1])
    return str(image["slack_file"]["id"])


def _images(call: fakeslack.Call) -> list[dict[str, Any]]:
    view = call.args["view"]
    view = fakeslack.json.loads(view) if isinstance(view, str) else view
    return [b for b in view["blocks"] if b["type"] == "image"]


def test_a_morning_chart_refused_for_good_leaves_the_refreshed_home_yesterdays(
    server: Server,
) -> None:
    """The morning's Home refresh waits for the morning's chart; where Slack refuses that
    upload for good, it is published at once with the chart before, not held up."""
    yesterdays = _home_opened_on_day_3(server)
    published = len(server.slack.calls_to("views.publish"))
    server.slack.fail("files.getUploadURLExternal", error="invalid_arguments")
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    refreshed = server.slack.calls_to("views.publish")[published:]
    assert [c.args["user_id"] for c in refreshed] == ["U0DEV"]
    [image] = _images(refreshed[0])
    assert image["slack_file"]["id"] == yesterdays


def test_a_home_waits_for_a_slow_chart_ten_minutes_at_most(server: Server) -> None:
    """While Slack fails the morning's chart upload and the outbox retries it, the refreshed
    Home waits for it; past ten minutes it is published with the chart before."""
    yesterdays = _home_opened_on_day_3(server)
    published = len(server.slack.calls_to("views.publish"))
    server.slack.fail("files.getUploadURLExternal", status=500, times=1000)
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    for minute in (2, 5, 9):
        at(server, datetime(2025, 11, 1, 13, minute, tzinfo=UTC))
        server.runtime.sender.drain()
        assert server.slack.calls_to("views.publish")[published:] == [], minute
    at(server, datetime(2025, 11, 1, 13, 11, tzinfo=UTC))
    server.runtime.sender.drain()
    refreshed = server.slack.calls_to("views.publish")[published:]
    assert [c.args["user_id"] for c in refreshed] == ["U0DEV"]
    [image] = _images(refreshed[0])
    assert image["slack_file"]["id"] == yesterdays

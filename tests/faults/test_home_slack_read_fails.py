"""App Home (found by review)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from storage.models import OutboxMessage
from tests.support.e2e import at, blocks_text, home_opened
from tests.support.listeners import listeners_done
from tests.support.server import Server

pytestmark = pytest.mark.faults


def test_a_home_opened_while_slack_rate_limits_the_member_list_is_still_published(
    server: Server,
) -> None:
    """The sprint's participants are "the people in channels.team" (sprint.example.toml).
    Just after the bot (re)started, at a busy minute, Slack answers conversations.members
    429 with Retry-After: 30. The lead opens the Home tab: nothing is queued and nothing
    is ever published (the listener raises before writing the outbox row; only a
    traceback is logged), so her Home keeps showing whatever it showed last, days old.
    DESIGN: "Every message to Slack is written first to an outbox row ... Nothing is lost
    while Slack is down." The Home should be queued (with the participation line as best
    known, or none) and published once Slack takes it."""
    at(server, datetime(2025, 10, 31, 15, 0, tzinfo=UTC))
    server.slack.fail(
        "conversations.members",
        status=429,
        error="ratelimited",
        headers={"Retry-After": "30"},
        times=20,
    )
    home_opened(server, "U0LEAD", event_ts="1761922800.000100")
    listeners_done()
    with server.runtime.db.read() as s:
        rows = s.exec(
            select(OutboxMessage.key).where(col(OutboxMessage.key).contains("home:U0LEAD"))
        ).all()
    server.slack._failures["conversations.members"].clear()  # Slack answers again
    for _ in range(20):
        server.runtime.sender.drain()
        if server.slack.calls_to("views.publish"):
            break
        time.sleep(0.1)
    assert rows, "no Home was queued for the lead's open"
    [call] = server.slack.calls_to("views.publish")
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert blocks_text(view["blocks"]).startswith("Phase 4 Production Readiness — Day 3 of 14")
    # Who takes part is not known: the Home says so, not "0 of 0".
    assert "*Today's standups*: Slack could not say who takes part just now" in blocks_text(
        view["blocks"]
    )

"""App Home (found by review)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from storage.models import OutboxMessage
from tests.support.e2e import ANSWER, at, blocks_text, home_opened, submit
from tests.support.listeners import listeners_done
from tests.support.server import Server

pytestmark = pytest.mark.faults


def _members_refused(server: Server) -> None:
    """Slack answers conversations.members 429 (Retry-After 30): just after a restart,
    this process has never read the team channel's members."""
    server.slack.fail(
        "conversations.members",
        status=429,
        error="ratelimited",
        headers={"Retry-After": "30"},
        times=20,
    )


def _published(server: Server) -> str:
    """Slack answers again: the Home as published, once the sender takes it."""
    server.slack._failures["conversations.members"].clear()
    for _ in range(20):
        server.runtime.sender.drain()
        if server.slack.calls_to("views.publish"):
            break
        time.sleep(0.1)
    [call] = server.slack.calls_to("views.publish")
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return blocks_text(view["blocks"])


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
    _members_refused(server)
    home_opened(server, "U0LEAD")
    listeners_done()
    with server.runtime.db.read() as s:
        rows = s.exec(
            select(OutboxMessage.key).where(col(OutboxMessage.key).contains("home:U0LEAD"))
        ).all()
    assert rows, "no Home was queued for the lead's open"
    shown = _published(server)
    assert shown.startswith("Phase 4 Production Readiness — Day 3 of 14")
    # Who takes part is not known: the Home says so, not "0 of 0".
    assert "*Today's standups*: Slack could not say who takes part just now\n" in shown + "\n"


def test_a_home_whose_participants_slack_cannot_say_still_says_the_user_answered(
    server: Server,
) -> None:
    """The lead answers today's standup, then opens the Home tab while Slack answers
    conversations.members 429: it said "Slack could not say who takes part just now" and
    no longer "you have answered", though her answer is in the database and needs no
    member list (found by review). She still reads that she has answered."""
    at(server, datetime(2025, 10, 31, 15, 0, tzinfo=UTC))
    resp = submit(server, "U0LEAD", **{**ANSWER, "current_blockers": "", "new_risks": ""})
    assert resp.status_code == 200 and resp.text == "", resp.text
    listeners_done()
    server.runtime.sender.drain()
    _members_refused(server)
    home_opened(server, "U0LEAD")
    listeners_done()
    shown = _published(server)
    assert (
        "*Today's standups*: Slack could not say who takes part just now; you have answered"
        in shown
    ), shown

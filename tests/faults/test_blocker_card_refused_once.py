"""A blocker whose card Slack refused for good (found by review): the card is posted again with
what goes in its thread once the channel is mended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import OutboxMessage, OutboxStatus
from tests.support.e2e import T0, at, posts, text_of
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults


def _row(server: Server, key: str) -> OutboxMessage | None:
    with server.runtime.db.session() as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def test_a_blocker_whose_card_was_refused_once_still_calls_the_tech_lead(server: Server) -> None:
    """A developer files `/blocker P0 Swarm Coordination: ...` at 13:00 while the bot is not
    yet in the private #critical-blockers (Slack answers the card's post not_in_channel;
    the same for an archived or renamed channel). The command answered "B-001 filed in
    #critical-blockers". The admin invites the bot a minute later. Eight hours on, the
    escalation job fires step 2, "Technical lead review", which mentions the tech lead in
    the blocker's thread: it fails too ("parent failed") and the tech lead is never
    called; the card never appears either, although the channel works again. (The daily
    report and the standup's day message are queued anew after such a refusal; a blocker's
    card is not.) The tech lead should be called, and the blocker shown in the channel."""
    at(server, T0)
    server.slack.fail("chat.postMessage", error="not_in_channel")
    said = slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    assert "B-001 filed in #critical-blockers" in said.json()["text"], said.text
    server.runtime.sender.drain()
    card = _row(server, "blocker:1")
    assert card is not None and card.status == OutboxStatus.FAILED, card  # (the refusal)
    # The bot is invited; eight hours later the escalation path goes on.
    at(server, T0 + timedelta(hours=8, minutes=1))
    assert bot_clock.run_job(server.runtime, "blocker-escalation").endswith("1 steps fired")
    server.runtime.sender.drain()
    called = [p for p in posts(server) if "<@U0TECHLEAD>" in text_of(p)]
    assert called, [
        (k, r.status, r.last_error)
        for k in ("blocker:1", "blocker:1:step:1")
        if (r := _row(server, k)) is not None
    ]

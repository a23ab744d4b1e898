"""A step being sent at the resolution is due again on reopen unless it went (found by review)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, OutboxMessage, OutboxStatus
from tests.support.e2e import T0, at
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults


def test_a_step_being_sent_at_resolution_is_due_again_when_reopened(
    make_server: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocker's step 2 (the tech lead's) is being sent when the blocker is resolved, and
    that attempt fails: the row is marked withdrawn (0022) and ends `withdrawn`, posted to
    nobody. But `resolve` lowers the level only over steps PENDING at that moment, so the
    blocker keeps level 2: reopened, its path goes on from step 3 and the tech lead is
    never called, while the card says it is past step 2. Should: a step taken back while
    being sent counts as taken back (level 1), and is due again on reopen."""
    server = make_server()
    at(server, T0)
    resp = slash(server.url, "/blocker", "P1 swarm coordination: deadlock", user_id="U0DEV")
    assert "B-001 filed" in resp.json()["text"]
    server.runtime.sender.drain()

    server.slack.outage("503")
    at(server, T0 + timedelta(hours=24, minutes=5))
    assert bot_clock.run_job(server.runtime, "blocker-escalation").endswith("2 steps fired")
    # Step 2's row is the lane's head and a sender is calling Slack with it right now.
    with server.runtime.db.session() as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.key.contains(":step:1"))).all()
        assert rows, "step 2 queued"
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key.contains(":step:1"))
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=T0 + timedelta(hours=24, minutes=6),
                claim_token="abc",
            )
        )
        s.commit()
    at(server, T0 + timedelta(hours=24, minutes=20))
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV").json()
    assert done["text"] == ":white_check_mark: B-001 resolved."
    server.slack.recover()
    at(server, T0 + timedelta(hours=24, minutes=40))  # (that sender died: its claim ran out)
    for _ in range(5):
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        statuses = {
            m.key: m.status
            for m in s.exec(select(OutboxMessage).where(OutboxMessage.key.contains(":step:1")))
        }
    assert set(statuses.values()) == {OutboxStatus.WITHDRAWN}, statuses  # posted to nobody
    assert not [m for m in server.slack.messages if "U0TECHLEAD" in json.dumps(m)]

    with server.runtime.db.read() as s:
        level = s.exec(select(Blocker)).one().escalation_level
    assert level == 1, f"level {level}: steps past 1 never reached anyone"

    at(server, T0 + timedelta(hours=25, minutes=40))
    again = slash(server.url, "/blocker", "reopen B-001 deadlock is back", user_id="U0DEV").json()
    assert "reopen" in again["text"].lower(), again
    at(server, T0 + timedelta(hours=26))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    for _ in range(5):
        server.runtime.sender.drain()
    lead = [m for m in server.slack.messages if "U0TECHLEAD" in json.dumps(m)]
    assert lead, "reopened past the tech lead's step; the tech lead was never called"

"""A resolution takes back the escalation steps still queued (README "Never stale"), and a
reopened blocker's steps taken back are due again (tests/faults/test_withdrawn_steps_reopen).
Step 1 is the exception: it is withdrawn, but the level never goes below 1, so it is never
called again. (Found by review.)"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, OutboxMessage
from tests.support.e2e import T0, at
from tests.support.server import Server
from tests.support.slack import slash

TEAM = "CPHASE4PRODUCTIONREADINESS"

pytestmark = pytest.mark.faults


def _team_channel_steps(server: Server) -> list[dict]:
    return [
        m
        for m in server.slack.messages
        if "Daily standup discussion" in json.dumps(m) and not m.get("thread_ts")
    ]


def test_a_reopened_blocker_calls_its_first_step_withdrawn_at_its_resolution(
    make_server: Callable[..., Server],
) -> None:
    """Slack is down. Dev files B-001 (P0); step 1 "Daily standup discussion" (after 0h,
    notify = team) is queued at once, in its thread and in the team channel. A few minutes
    later, still in the outage, it is resolved: the queued step 1 is taken back. Slack
    recovers; an hour later the bug is back and B-001 is reopened. Its card reads "step 1
    of 4: Daily standup discussion", but the team channel was never told — and never is:
    resolution keeps the level at 1 ("never below step 1"), so the clock never fires step 1
    again (steps 2+ withdrawn the same way are called again on reopening). The team channel
    should get step 1's call once the blocker is open again."""
    server = make_server()
    server.slack.outage("503")
    at(server, T0)
    resp = slash(server.url, "/blocker", "P0 swarm coordination: deadlock", user_id="U0DEV")
    assert "B-001 filed" in resp.json()["text"]
    at(server, T0 + timedelta(minutes=10))
    done = slash(server.url, "/blocker", "resolve B-001 restarted the node", user_id="U0DEV")
    assert done.json()["text"] == ":white_check_mark: B-001 resolved."
    server.slack.recover()
    at(server, T0 + timedelta(minutes=20))
    for _ in range(5):
        server.runtime.sender.drain()
    assert _team_channel_steps(server) == []  # (taken back: right while it was resolved)

    at(server, T0 + timedelta(hours=1))
    again = slash(server.url, "/blocker", "reopen B-001 deadlock is back", user_id="U0DEV").json()
    assert "reopened" in again["text"], again
    at(server, T0 + timedelta(hours=1, minutes=5))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    for _ in range(5):
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        b = s.exec(select(Blocker)).one()
        rows = [(m.key, m.status) for m in s.exec(select(OutboxMessage)).all() if ":step:" in m.key]
    assert b.escalation_level == 1  # its card: "step 1 of 4: Daily standup discussion"
    assert _team_channel_steps(server), (
        "B-001 is open at step 1 (Daily standup discussion) but the team channel was never "
        f"told: {rows}"
    )

"""A resolved blocker's escalation steps still waiting to go are withdrawn; but the blocker
kept the level those steps set, and `/blocker reopen` went on from there ("its path goes
on"). Reopened, it read "step 3 of 3" while the people of steps 2 and 3 were never called:
the steps were withdrawn for good (their keys taken, the level past them; found by
review). Reopened, they are due again, and called."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker
from tests.support.e2e import T0, at
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults


def test_a_reopened_blocker_calls_the_steps_withdrawn_at_its_resolution(
    make_server: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server()
    at(server, T0)
    resp = slash(server.url, "/blocker", "P1 swarm coordination: deadlock", user_id="U0DEV")
    assert "B-001 filed" in resp.json()["text"]
    server.runtime.sender.drain()

    server.slack.outage("503")
    at(server, T0 + timedelta(hours=24, minutes=5))
    assert bot_clock.run_job(server.runtime, "blocker-escalation").endswith("2 steps fired")
    at(server, T0 + timedelta(hours=24, minutes=20))
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV").json()
    assert done["text"] == ":white_check_mark: B-001 resolved."
    server.slack.recover()
    at(server, T0 + timedelta(hours=24, minutes=40))
    for _ in range(5):
        server.runtime.sender.drain()

    with server.runtime.db.read() as s:
        assert s.exec(select(Blocker)).one().escalation_level == 1  # (only step 1 went)
    # The fix did not hold: reopened an hour later.
    at(server, T0 + timedelta(hours=25, minutes=40))
    again = slash(server.url, "/blocker", "reopen B-001 deadlock is back", user_id="U0DEV").json()
    assert "reopen" in again["text"].lower(), again
    at(server, T0 + timedelta(hours=26))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    for _ in range(5):
        server.runtime.sender.drain()

    with server.runtime.db.read() as s:
        assert s.exec(select(Blocker)).one().escalation_level == 3
    lead = [m for m in server.slack.messages if "U0TECHLEAD" in json.dumps(m)]
    # The open blocker is at the tech lead's step and past it: the tech lead was told.
    assert lead, "the reopened blocker's level says its tech lead was called; nobody was"

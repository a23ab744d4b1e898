"""An escalation step that notifies another channel posts twice: in the blocker's thread and
a copy in that channel (`jobs.blockers._fire_step`). At a resolution, the step rows still
queued are taken back and the blocker's level lowered so that, reopened, those steps are
due again (tests/faults/test_withdrawn_steps_reopen.py). When only the channel copy was
still queued, the step fires again on reopening under the same keys: the thread post is
"queued already" and the withdrawn copy's key is taken, so nothing goes — the channel the
step calls is never told. (Found by review.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, OutboxMessage
from tests.support.e2e import T0, at, click
from tests.support.server import Server
from tests.support.slack import slash

TEAM = "#phase4-production-readiness"

pytestmark = pytest.mark.faults


def _step_rows(server: Server) -> list[tuple[str, str]]:
    with server.runtime.db.read() as s:
        return [
            (m.key, str(m.status))
            for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            if ":step:" in m.key
        ]


def test_a_reopened_blocker_calls_the_channel_whose_copy_was_withdrawn(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B-001 (P1) is escalated by hand to step 2 an hour in. At 24h05 step 3 "Swarm
    coordination meeting" (notify = team) fires: its thread post goes out, but Slack is
    rate-limiting the busy team channel (429, Retry-After 1h), so the team channel's copy
    waits. At 24h20 B-001 is resolved: the waiting copy is taken back (right) and the level
    goes back to 2 so step 3 is due again once reopened. At 25h it is reopened, the clock
    fires step 3 again and the card reads "step 3 of 4: Swarm coordination meeting" — but
    the team channel never gets the meeting call, then or after the rate limit lifts. It
    should be called once the blocker is open again."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 swarm coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    at(server, T0 + timedelta(hours=1))
    assert click(server, "blocker_escalate", "1@1", user="U0DEV").status_code == 200
    server.runtime.sender.drain()

    fake = server.slack
    answer = fake._answer
    limited = {"on": True}

    def team_channel_rate_limited(method, args, headers):  # type: ignore[no-untyped-def]
        if limited["on"] and method == "chat.postMessage" and args.get("channel") == TEAM:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3600"}
        return answer(method, args, headers)

    monkeypatch.setattr(fake, "_answer", team_channel_rate_limited)
    at(server, T0 + timedelta(hours=24, minutes=5))
    assert bot_clock.run_job(server.runtime, "blocker-escalation").endswith("1 steps fired")
    server.runtime.sender.drain()
    assert ("blocker:1:step:2", "sent") in _step_rows(server)
    assert (f"blocker:1:step:2:{TEAM}", "pending") in _step_rows(server)

    at(server, T0 + timedelta(hours=24, minutes=20))
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV").json()
    assert done["text"] == ":white_check_mark: B-001 resolved."
    at(server, T0 + timedelta(hours=25))
    again = slash(server.url, "/blocker", "reopen B-001 deadlock is back", user_id="U0DEV").json()
    assert "reopened" in again["text"], again
    limited["on"] = False  # the rate limit lifted
    at(server, T0 + timedelta(hours=27))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    for _ in range(3):
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        assert s.exec(select(Blocker)).one().escalation_level == 3
    meeting = [
        m
        for m in fake.messages
        if "Swarm coordination meeting" in str(m.get("text")) and not m.get("thread_ts")
    ]
    assert meeting, (
        "B-001 is open at step 3 (Swarm coordination meeting, notify = team) but the team "
        f"channel was never called: {_step_rows(server)}"
    )

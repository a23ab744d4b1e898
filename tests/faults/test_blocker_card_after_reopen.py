"""A blocker's message shows the step it reached again after a resolve and a reopen (found
by review)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.models import Blocker
from tests.support.e2e import T0, at, click, posts, text_of
from tests.support.server import Server
from tests.support.slack import slash


def _escalate_value(call) -> str:
    [buttons] = [b for b in call.args["blocks"] if b["type"] == "actions"]
    [value] = [e["value"] for e in buttons["elements"] if e["action_id"] == "blocker_escalate"]
    return value


def test_blocker_message_shows_step_2_after_a_reopen_when_step_2_was_taken_back(
    server: Server,
) -> None:
    """A blocker is escalated to step 2 ("Escalate now") while Slack is down; it is resolved
    before Slack comes back, so step 2 is taken back and its level goes back to step 1. It is
    reopened, and escalated to step 2 again. The user sees the step-2 escalation posted in
    the thread, but the blocker's message keeps saying "step 1 of 4" for good, and its
    *Escalate now* button (still at step 1) is refused every time as "escalated meanwhile",
    so nobody can escalate it further from the message. It should show "step 2 of 4": the
    second level-2 update is queued under the key of the first one (`...:update:level:2`)
    and dropped as a duplicate."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    [post] = [p for p in posts(server) if p.args.get("channel") == "#critical-blockers"]
    first_value = _escalate_value(post)

    # Slack goes down; "Escalate now" is clicked: step 2 waits in the outbox.
    server.slack.outage("503")
    at(server, T0 + timedelta(minutes=30))
    assert click(server, "blocker_escalate", first_value, user="U0DEV").status_code == 200
    server.runtime.sender.drain()
    # Fixed meanwhile: resolved before Slack came back (step 2 taken back, level 1 again).
    done = slash(server.url, "/blocker", "resolve B-001 restarted it", user_id="U0DEV").json()
    assert done["text"] == ":white_check_mark: B-001 resolved."
    server.slack.recover()
    at(server, T0 + timedelta(hours=1))
    server.runtime.sender.drain()

    # It comes back: reopened, then escalated to step 2 from its message.
    at(server, T0 + timedelta(hours=2))
    slash(server.url, "/blocker", "reopen B-001 back again", user_id="U0DEV")
    server.runtime.sender.drain()
    reopened_card = server.slack.calls_to("chat.update")[-1]
    assert "step 1 of 4" in text_of(reopened_card)
    value = _escalate_value(reopened_card)
    at(server, T0 + timedelta(hours=2, minutes=5))
    assert click(server, "blocker_escalate", value, user="U0DEV").status_code == 200
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().escalation_level == 2
    shown = [m["text"] for m in server.slack.messages if "Technical lead review" in m["text"]]
    assert len(shown) == 1, "the step-2 escalation is in the thread once"

    card = server.slack.calls_to("chat.update")[-1]
    assert "step 2 of 4" in text_of(card), text_of(card)[:400]

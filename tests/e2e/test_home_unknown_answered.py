"""App Home while Slack cannot say who takes part: what sprintbot knows of the user."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from tests.support.e2e import ANSWER, at, blocks_text, home_opened, submit
from tests.support.listeners import listeners_done
from tests.support.server import Server


def test_home_forgets_that_the_user_answered_while_slack_rate_limits(server: Server) -> None:
    """The lead answers today's standup (the form's Submit goes through), then opens the
    Home tab just after a restart while Slack answers conversations.members 429. The
    Home says "*Today's standups*: Slack could not say who takes part just now" — it no
    longer says "you have answered", though her answer is in the database and needs no
    member list (jobs/reports.py home: `mine` is UNKNOWN whenever the participants are,
    before `_mine`, which reads her own row, is asked). She should still read that she
    has answered."""
    at(server, datetime(2025, 10, 31, 15, 0, tzinfo=UTC))
    resp = submit(server, "U0LEAD", **{**ANSWER, "current_blockers": "", "new_risks": ""})
    assert resp.status_code == 200 and resp.text == "", resp.text
    listeners_done()
    server.runtime.sender.drain()
    server.slack.fail(
        "conversations.members",
        status=429,
        error="ratelimited",
        headers={"Retry-After": "30"},
        times=20,
    )
    home_opened(server, "U0LEAD", event_ts="1761922800.000100")
    listeners_done()
    server.slack._failures["conversations.members"].clear()
    for _ in range(20):
        server.runtime.sender.drain()
        if server.slack.calls_to("views.publish"):
            break
        time.sleep(0.1)
    [call] = server.slack.calls_to("views.publish")
    view = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    shown = blocks_text(view["blocks"])
    assert "you have answered" in shown, shown

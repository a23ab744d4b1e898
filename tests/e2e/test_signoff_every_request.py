"""A sign-off shows on every request of its milestone (found by review)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.test_sprint_command import sent_ts, two_days, wait_status_posts
from tests.support.e2e import click, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def _buttons(args: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"]
        for b in args.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_a_signoff_given_on_one_request_is_shown_on_the_other_request_too(
    server: Server,
) -> None:
    """`/sprint signoff` posts the request for Week 1 checkpoint in #sprint-status; a
    couple of hours later someone asks again and a second request is posted (each request
    is a message of its own). The tech lead signs off from the first message: that message
    is updated and its "Sign off as Tech Lead" button goes. The second request, the newer
    one everyone sees at the bottom of the channel, still offers "Sign off as Tech Lead"
    and shows the tech lead's sign-off missing; clicking it only says "Tech Lead has
    already signed off". Every open request for the milestone should show the sign-off."""
    two_days(server)
    slash(server.url, "/sprint", "signoff", user_id="U0DEV")
    [first] = wait_status_posts(server, 1)
    server.runtime.sender.drain()
    first_ts = sent_ts(server, "signoff:")
    server.clock.at += timedelta(hours=2)
    slash(server.url, "/sprint", "signoff", user_id="U0DEV")
    listeners_done()
    server.runtime.sender.drain()
    second_ts = sent_ts(server, "signoff:")
    assert second_ts != first_ts  # two requests
    [tech] = [
        e
        for b in first.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Sign off as Tech Lead"
    ]
    click(
        server,
        tech["action_id"],
        tech["value"],
        user="U0TECHLEAD",
        channel="CSPRINTSTATUS",
        ts=first_ts,
    )
    listeners_done()
    server.runtime.sender.drain()
    # The second request as Slack now shows it: its latest update, else its post.
    posted = [
        c.args for c in server.slack.calls_to("chat.postMessage") if "Sign-off:" in text_of(c)
    ]
    assert len(posted) == 2
    updates = [
        c.args for c in server.slack.calls_to("chat.update") if c.args.get("ts") == second_ts
    ]
    second = (updates or posted[1:])[-1]
    assert "Sign off as Tech Lead" not in _buttons(second), _buttons(second)

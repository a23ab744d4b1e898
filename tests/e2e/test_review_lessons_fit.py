"""The sprint review draft listed every lesson learned; past Slack's 50 blocks the tail was
cut by `bot.blocks.common.capped`, which dropped the draft's own *Add a lesson learned*
button and the newest lessons, and pointed to "/readiness, App Home and sprintbot export
tracker", none of which shows lessons at all (found by review). The earliest lessons give
way, said so, and the button stays."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_sprint_command import DAY3, status_updates, wait_status_posts
from tests.support.e2e import at, text_of, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

LESSONS = 100


def _values(text: str) -> dict[str, Any]:
    return {
        "values": {
            "kind": {"value": {"type": "static_select", "selected_option": {"value": "improve"}}},
            "text": {"value": {"type": "plain_text_input", "value": text}},
        }
    }


def test_a_long_retro_keeps_the_add_button_and_the_newest_lessons(server: Server) -> None:
    at(server, DAY3)
    slash(server.url, "/sprint", "review", user_id="U0DEV")
    wait_status_posts(server, 1)
    server.runtime.sender.drain()
    for n in range(LESSONS):
        text = f"Lesson {n:03d}: " + "flaky shard setup " * 54  # ~990 characters each
        resp = view_submit(server, "lesson", "U0QALEAD", _values(text[:990]), view_id=f"V{n}")
        assert resp.text == "", resp.text
    listeners_done()
    server.runtime.sender.drain()
    last = status_updates(server)[-1]
    blocks = last.args["blocks"]
    shown = text_of(last)
    # The draft keeps the button the team adds lessons with...
    assert any(b["type"] == "actions" for b in blocks), shown[-400:]
    # ...and the newest lesson is somewhere a person can read it.
    assert f"Lesson {LESSONS - 1:03d}:" in shown, shown[-400:]
    assert "earlier lessons did not fit here" in shown and "export tracker" not in shown

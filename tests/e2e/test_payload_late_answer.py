"""A command with the word "payload" in it still gets its late answer (its context was
built from the empty body: no response_url; found by review)."""

from __future__ import annotations

import pytest

from tests.faults.test_slow_database import writes_held
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults  # the ack deadline (writes_held shortens it while it holds)


def _late_blocker(server: Server, text: str) -> list:
    with writes_held(server, "blocker"):
        ack = slash(server.url, "/blocker", text, response_url=server.slack.response_url("blocker"))
    assert ack.status_code == 200 and ack.text == "", ack.text  # acked empty: answer follows
    listeners_done()
    return [c.args.get("text", "") for c in server.slack.calls_to("response/blocker")]


def test_late_answer_of_command_whose_text_says_payload_reaches_the_user(server: Server) -> None:
    """Dana types `/blocker P0 Swarm Coordination: payload decoder deadlocks` while the
    database is busy: Slack gets an empty acknowledgement and the answer ("B-001 filed")
    should follow by the command's response_url, as it does for any other wording.
    Because the text holds the word "payload", `bot.web.bolt_request_of` swaps in the form
    fields after Bolt built the request's context from an empty body: the context has no
    response_url (nor user/channel/team id), so the answer "has nowhere to go" and Dana
    never learns the blocker was filed or its code."""
    plain = _late_blocker(server, "P0 Swarm Coordination: decoder deadlocks")
    assert any("B-001 filed" in t for t in plain), plain  # the control: answered late
    said = _late_blocker(server, "P1 Swarm Coordination: payload decoder deadlocks")
    assert any("B-002 filed" in t for t in said), said

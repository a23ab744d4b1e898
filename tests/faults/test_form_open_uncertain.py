"""A form Slack may have opened is never answered "something went wrong" (found by review).
Slack opened the form and then answered views.open with a 500, or answered after the
client stopped waiting: the client tried views.open again on the 5xx (a trigger opens one
form: Slack refuses the second, `exchanged_trigger_id`), and the user was told the command
failed beside the form open in front of them; trying again opened a second form."""

from __future__ import annotations

import pytest

from bot.acks import UNCONFIRMED_FORM
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults


def said(server: Server) -> list[str]:
    return [str(c.args.get("text") or "") for c in server.slack.calls_to("response/cmd")]


def test_a_5xx_after_the_form_opened_is_not_tried_again_nor_called_a_failure(
    server: Server,
) -> None:
    server.slack.fail("views.open", status=500, error="internal_error", effect=True)
    # What Slack answers the same trigger used a second time, were it tried again.
    server.slack.fail("views.open", error="exchanged_trigger_id")
    ack = slash(
        server.url, "/blocker", user_id="U0DEV", response_url=server.slack.response_url("cmd")
    )
    assert ack.status_code == 200
    listeners_done()
    assert len(server.slack.calls_to("views.open")) == 1
    assert said(server) == [UNCONFIRMED_FORM]


def test_a_form_slack_answers_late_is_said_to_be_maybe_open(server: Server) -> None:
    server.runtime.bolt.client.timeout = 1  # (the client's 10 s, scaled)
    server.slack.slow("views.open", 1.5)
    ack = slash(
        server.url, "/standup", user_id="U0DEV", response_url=server.slack.response_url("cmd")
    )
    assert ack.status_code == 200
    listeners_done(timeout=10)
    assert len(server.slack.calls_to("views.open")) == 1  # Slack opened the form
    assert said(server) == [UNCONFIRMED_FORM]


def test_a_trigger_refused_as_used_means_the_form_opened(server: Server) -> None:
    server.slack.fail("views.open", error="exchanged_trigger_id")
    ack = slash(
        server.url, "/standup", user_id="U0DEV", response_url=server.slack.response_url("cmd")
    )
    assert ack.status_code == 200
    listeners_done()
    assert said(server) == []

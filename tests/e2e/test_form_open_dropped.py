"""views.open took effect (the form is open) and Slack's connection closed without an
answer: as uncertain as a 5xx or a timeout, and said so (found by review: "something went
wrong" beside the open form)."""

from __future__ import annotations

from bot.acks import GENERIC_ERROR, UNCONFIRMED_FORM
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def said(server: Server) -> list[str]:
    return [str(c.args.get("text") or "") for c in server.slack.calls_to("response/cmd")]


def test_a_form_opened_whose_answer_never_came_is_not_called_a_failure(server: Server) -> None:
    server.slack.drop("views.open")  # the form opened; the connection closed, no answer
    ack = slash(
        server.url, "/standup", user_id="U0DEV", response_url=server.slack.response_url("cmd")
    )
    assert ack.status_code == 200
    listeners_done()
    assert len(server.slack.calls_to("views.open")) == 1  # Slack opened the form
    assert GENERIC_ERROR not in said(server)
    assert said(server) == [UNCONFIRMED_FORM]

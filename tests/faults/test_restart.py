"""A restart while Slack's API is down: commands and interactions are still answered at once
and do their work; the bot learns who it is once Slack is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.runtime import check_token
from storage.models import Blocker
from tests.support.e2e import click
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults


def test_commands_are_answered_after_a_restart_while_slack_is_down(
    make_server: Callable[..., Server],
) -> None:
    # Fault: Bolt's lazy auth.test was cached only on success, so until one call succeeded
    # every command waited 2-3.4 s and was told "your installation is no longer available";
    # the blocker was not filed.
    server = make_server()
    server.slack.fail("auth.test", status=503, times=1000)
    check_token(server.runtime.authorize)  # start-up: Slack unreachable, carry on
    assert server.runtime.authorize.identity is None

    started = time.monotonic()
    resp = slash(server.url, "/blocker", "P0 swarm coordination: deadlock", user_id="U0DEV")
    took = time.monotonic() - started
    assert resp.status_code == 200
    assert resp.json()["text"].startswith(":no_entry: B-001 filed")
    assert took < 1.5, f"the ack took {took:.2f} s"
    with server.runtime.db.session() as session:
        assert [(b.severity, b.reported_by) for b in session.exec(select(Blocker))] == [
            ("P0", "U0DEV")
        ]

    started = time.monotonic()
    assert click(server, "blocker_ack", "1").status_code == 200
    assert time.monotonic() - started < 1.5
    assert (
        slash(server.url, "/readiness").json()["blocks"][0]["text"]["text"].startswith("Readiness")
    )

    # Slack comes back: the identity is learned in the background, not per request.
    server.slack._failures["auth.test"].clear()
    server.runtime.authorize.retry_every = 0
    slash(server.url, "/readiness")
    deadline = time.monotonic() + 5
    while server.runtime.authorize.identity is None:
        assert time.monotonic() < deadline, "the identity was never learned"
        time.sleep(0.05)
        # (A look-up started while Slack was down may still be finishing, refused: the
        # next request starts another, as the next command would.)
        slash(server.url, "/readiness")
    assert server.runtime.authorize.identity.bot_user_id == "UBOT"
    asked = len(server.slack.calls_to("auth.test"))
    for _ in range(3):
        slash(server.url, "/readiness")
    # Any learning these requests started in the background has ended: none asked again.
    for thread in threading.enumerate():
        if thread.name == "auth.test":
            thread.join(10)
    assert len(server.slack.calls_to("auth.test")) == asked

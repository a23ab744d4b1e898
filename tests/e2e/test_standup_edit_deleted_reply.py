"""A standup answer's thread reply deleted in Slack (by its author's lead, a channel
clean-up, Slack's message retention): every later edit of that answer is a chat.update of
a message that is gone. Slack answers `message_not_found`; the next edit is posted anew
in the thread (found by review: every edit was an update of the gone reply, refused for
good, and the answer never showed in the thread again)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.e2e import ANSWER, posts, submit, text_of
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server

PEOPLE = ["U0ANA", "U0BEN", "U0CAT"]


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # day 3, 09:05 New York
    return server


QUIET = {**ANSWER, "current_blockers": "", "new_risks": ""}


def test_an_edit_after_the_reply_was_deleted_reaches_the_thread(team: Server) -> None:
    resp = submit(team, "U0ANA", **QUIET)
    assert (resp.status_code, resp.text) == (200, "")
    team.runtime.sender.drain()
    assert len([p for p in posts(team) if "Standup from" in text_of(p)]) == 1

    # The reply is deleted in Slack: every update of it is refused so from now on.
    team.slack.fail("chat.update", error="message_not_found", times=5)

    # Ana edits her answer: the form closes (saved), twice over.
    for fixed in ("15", "17"):
        resp = submit(team, "U0ANA", **{**QUIET, "tests_fixed": fixed})
        assert (resp.status_code, resp.text) == (200, "")  # the form closed: "saved"
        listeners_done()
        team.runtime.sender.drain()

    landed = [c for c in posts(team) if "• Tests fixed: 17" in text_of(c)]
    updates = team.slack.calls_to("chat.update")
    assert landed, (
        f"the edited answer never reached the thread: {len(updates)} updates of the "
        "deleted reply were refused (message_not_found) and nothing was posted in its place"
    )

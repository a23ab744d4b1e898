"""A standup answer deleted in Slack, then edited twice before the outbox got to the first
edit (Slack slow a moment, two quick edits): the answer is posted anew once in the day's
thread, with the newest edit (found by review: twice, the older copy stale)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.e2e import ANSWER, sent_ts, submit, text_of
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server

PEOPLE = ["U0ANA", "U0BEN"]


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # Fri 09:05 New York
    return server


def replies(team: Server) -> list[str]:
    return [
        text_of(c)
        for c in team.slack.calls_to("chat.postMessage")
        if "Standup from <@U0ANA>" in text_of(c)
    ]


def test_a_deleted_answer_edited_twice_is_posted_anew_once(team: Server) -> None:
    quiet = {**ANSWER, "current_blockers": "", "new_risks": "", "help_needed": ""}
    assert submit(team, "U0ANA", **quiet).text == ""
    listeners_done()
    team.runtime.sender.drain()
    assert len(replies(team)) == 1
    team.slack.delete(sent_ts(team, "standup:U0ANA:2025-10-31"))

    team.clock.at = datetime(2025, 10, 31, 13, 6, tzinfo=UTC)
    assert submit(team, "U0ANA", **{**quiet, "notes": "first edit"}).text == ""
    listeners_done()
    team.clock.at = datetime(2025, 10, 31, 13, 7, tzinfo=UTC)
    assert submit(team, "U0ANA", **{**quiet, "notes": "second edit"}).text == ""
    listeners_done()
    for _ in range(4):
        team.runtime.sender.drain()
    shown = replies(team)
    assert len(shown) == 2, [s[-200:] for s in shown]  # the original and one posted anew
    assert "second edit" in shown[-1]

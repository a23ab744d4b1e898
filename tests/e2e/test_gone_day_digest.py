"""The day's standup message deleted in Slack before the digest: the digest (the day's one
change of it) is posted anew in its place, and so is the answer edited after it (found by
review: the digest was refused for good, and nothing ever showed who answered and who was
missing)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import clock as bot_clock
from storage import queries
from tests.support.e2e import ANSWER, submit, text_of
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


def test_the_digest_of_a_deleted_day_message_is_posted_anew(team: Server) -> None:
    quiet = {**ANSWER, "current_blockers": "", "new_risks": "", "help_needed": ""}
    assert submit(team, "U0ANA", **quiet).text == ""
    team.runtime.sender.drain()
    [day] = [c for c in team.slack.calls_to("chat.postMessage") if "Standup" in text_of(c)][:1]
    # Someone deletes the day's message: Slack refuses every update of it from now on.
    team.slack.fail("chat.update", error="message_not_found", times=1)

    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)  # 09:30: the digest
    bot_clock.run_job(team.runtime, "standup-digest")
    team.runtime.sender.drain()
    team.runtime.sender.drain()
    anew = [
        c
        for c in team.slack.calls_to("chat.postMessage")
        if "Answered 1 of 2" in text_of(c) and not c.args.get("thread_ts")
    ]
    assert len(anew) == 1, [text_of(c)[:80] for c in team.slack.calls_to("chat.postMessage")]
    assert anew[0].args["channel"] == day.args["channel"]

    # Ben answers after it: his answer goes in the new message's thread.
    assert submit(team, "U0BEN", **quiet).text == ""
    listeners_done()
    team.runtime.sender.drain()
    replies = [
        c for c in team.slack.calls_to("chat.postMessage") if "Standup from <@U0BEN>" in text_of(c)
    ]
    with team.runtime.db.read() as session:
        row = queries.outbox_message(session=session, key="standup-day:2025-10-31:again-1")
    assert row is not None and row.status == "sent"
    assert len(replies) == 1 and replies[0].args.get("thread_ts") == row.result["ts"]

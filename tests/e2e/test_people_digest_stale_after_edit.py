"""The day's standup message (the 09:30 digest) lists "Blockers and help needed". An
answer edited after the digest (a new blocker typed, a call for help added) leaves the
day's message showing the answer as it was: a first answer or a skip after the digest
updates the message, an edit does not."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import OutboxMessage
from tests.support.e2e import ANSWER, posts, submit, text_of
from tests.support.server import EXAMPLE, Server

PEOPLE = ["U0ANA", "U0BEN"]


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text()
        .replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
        .replace(
            'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
            'workdays = ["mon", "tue", "wed", "thu", "fri"]',
        )
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # Fri 09:05 New York
    return server


def _day_message_now(server: Server, day: str) -> str:
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.key == f"standup-day:{day}")).one()
    ts = str(row.result["ts"])
    updates = [c for c in server.slack.calls_to("chat.update") if c.args.get("ts") == ts]
    if updates:
        return text_of(updates[-1])
    [first] = [p for p in posts(server) if p.args.get("channel") == row.channel]
    return text_of(first)


def test_an_edit_after_the_digest_shows_in_the_days_blockers_and_help(team: Server) -> None:
    quiet = {**ANSWER, "current_blockers": "", "new_risks": "", "help_needed": ""}
    assert submit(team, "U0ANA", **quiet).text == ""
    assert submit(team, "U0BEN", **quiet).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    assert bot_clock.run_job(team.runtime, "standup-digest") == "standup-digest: 1 digest posted"
    assert "*Answered 2 of 2*" in _day_message_now(team, "2025-10-31")

    # 10:00: staging goes down; Ana edits her answer: a P0 blocker and a call for help.
    team.clock.at = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)
    edited = {
        **quiet,
        "current_blockers": "P0: staging is down",
        "help_needed": "someone with prod access",
    }
    assert submit(team, "U0ANA", **edited).text == ""
    shown = _day_message_now(team, "2025-10-31")
    assert "<@U0ANA> P0: staging is down" in shown, shown
    assert "<@U0ANA> needs help: someone with prod access" in shown, shown

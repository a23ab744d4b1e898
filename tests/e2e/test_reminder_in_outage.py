"""Found by review: the standup reminder and digest follow a late prompt."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import clock as bot_clock
from tests.support.server import EXAMPLE, Server

PEOPLE = ["U0ANA", "U0BEN"]


def shown(m: dict[str, Any]) -> str:
    return json.dumps([m.get("text"), m.get("blocks")])


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Fri 09:00 New York
    return server


def test_slack_down_at_the_prompt_sends_prompt_and_reminder_in_the_same_breath(
    team: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack is down from 08:55 to 09:40 (the participants are listed in the file, so the
    09:00 prompt run succeeds and queues its DMs). At 09:25 the reminder run queues 'still
    open'. When Slack is back at 09:40 each person gets the prompt and, a second later,
    'Your standup is still open' — before they could open the prompt. README: a prompt that
    went out late (Slack down at its time) is reminded of as long after it as on time (25
    minutes), never in the same breath."""
    runtime = team.runtime
    team.slack.outage("503")
    said = bot_clock.scheduled(runtime, "standup-prompt")
    assert said.endswith("2 prompts sent"), said
    assert not [m for m in team.slack.messages if m["channel"].startswith("D")]

    team.clock.at = datetime(2025, 10, 31, 13, 25, tzinfo=UTC)  # 09:25, Slack still down
    bot_clock.catch_up(runtime, started=False)

    team.slack.recover()
    team.clock.at = datetime(2025, 10, 31, 13, 40, tzinfo=UTC)  # 09:40: Slack is back
    bot_clock.catch_up(runtime, started=False)
    for _ in range(5):
        runtime.sender.drain()
    to_ana = [
        "reminder" if "still open" in shown(m) else "prompt"
        for m in team.slack.messages
        if m["channel"] == "D0ANA"  # the DM with U0ANA
    ]
    assert to_ana == ["prompt"], (
        f"U0ANA got {to_ana} at 09:40, the reminder in the same breath as the prompt"
    )

"""Bob is a standup participant of platform and mobile. In #platform he types
`/standup skip offsite` (or `/standup away today tomorrow offsite`): the absence is
platform's alone, as the README says, yet the answer he gets reads "Marked away for
2025-11-04; no prompts or reminders today." / "Away …: no prompts, not counted missing." —
naming no team — and mobile's prompt then DMs him that same morning. The confirmation
promises what does not happen; it should say for which team it counts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_teams_routing import NOW, in_channel
from tests.support.e2e import posts
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = NOW
    return server


def _prompted(server: Server, team_id: str) -> list[str]:
    from bot import clock as bot_clock

    team = server.runtime.teams.get(team_id)
    assert team is not None
    bot_clock.run_job(server.runtime.for_team(team), "standup-prompt")
    server.runtime.sender.drain()
    return [
        str(p.args.get("channel"))
        for p in posts(server)
        if f"*{team_id}* standup" in str(p.args.get("text", ""))
    ]


@pytest.mark.parametrize("text", ["skip offsite", "away today tomorrow offsite"])
def test_a_skip_in_one_of_two_teams_says_whose_it_is(org: Server, text: str) -> None:
    reply = in_channel(org, "platform", "/standup", text, user="U0BOB").json()["text"]
    listeners_done()
    assert "U0BOB" in _prompted(org, "mobile")  # as intended: mobile still asks him
    # ...so the confirmation must not read as if no standup will ask him.
    assert "platform" in reply, reply

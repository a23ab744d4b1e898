"""Bob is a standup participant of two teams (platform and mobile). In #platform he types
`/standup away today tomorrow` (platform's offsite): the command acts for platform, as any
command typed in a team's channel does. Mobile's standup that morning should still DM him
its prompt and count him as expected — as `/standup skip` in #platform leaves mobile alone —
but the absence is stored for no team (storage.models.Away is not team-scoped), so mobile
silently stops prompting him and counts him away."""

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


def test_skip_in_platform_leaves_mobiles_prompt(org: Server) -> None:
    """The control: `/standup skip` typed in #platform is platform's alone."""
    resp = in_channel(org, "platform", "/standup", "skip offsite", user="U0BOB")
    assert resp.status_code == 200
    listeners_done()
    assert "U0BOB" in _prompted(org, "mobile")
    assert "U0BOB" not in _prompted(org, "platform")


def test_away_in_platform_leaves_mobiles_prompt(org: Server) -> None:
    resp = in_channel(org, "platform", "/standup", "away today tomorrow offsite", user="U0BOB")
    assert resp.status_code == 200
    listeners_done()
    assert "U0BOB" not in _prompted(org, "platform")
    # Mobile's standup: Bob said nothing to mobile, yet he gets no prompt from it.
    assert "U0BOB" in _prompted(org, "mobile"), "mobile's prompt skipped Bob: away in platform"


@pytest.mark.parametrize("text", ["skip offsite", "away today tomorrow offsite"])
def test_a_skip_in_one_of_two_teams_says_whose_it_is(org: Server, text: str) -> None:
    """The absence is platform's alone, yet its confirmation ("Marked away for 2025-11-04;
    no prompts or reminders today.") named no team, and mobile's prompt then DMed him that
    same morning: it says whose standup it is from."""
    reply = in_channel(org, "platform", "/standup", text, user="U0BOB").json()["text"]
    listeners_done()
    assert "U0BOB" in _prompted(org, "mobile")  # as intended: mobile still asks him
    # ...so the confirmation must not read as if no standup will ask him.
    assert "platform" in reply, reply

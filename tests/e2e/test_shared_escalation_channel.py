"""Two teams whose escalation paths both call an org-wide channel (`notify = ["team",
"#eng-leads"]`): each numbers its blockers from B-001, so the two steps posted there must
say whose blocker each is (they did not; found by review)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.test_teams_routing import NOW, in_channel
from tests.support.e2e import posts, text_of
from tests.support.server import Server, two_teams


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    folder = two_teams(tmp_path / "teams")
    for name in ("platform.toml", "mobile.toml"):
        f = folder / name
        text = f.read_text(encoding="utf-8")
        first = 'after = "0h"\nname = "Daily standup discussion"\nnotify = "team"'
        assert first in text
        text = text.replace(
            first,
            'after = "0h"\nname = "Daily standup discussion"\nnotify = ["team", "#eng-leads"]',
        )
        # Each team its own blockers channel (as examples/teams has them).
        text = text.replace('blockers = "#critical-blockers"', f'blockers = "#{f.stem}-blockers"')
        f.write_text(text, encoding="utf-8")
    server = make_server(SPRINTBOT_CONFIG=str(folder))
    server.clock.at = NOW
    return server


def test_escalation_steps_in_a_channel_both_teams_call_say_whose_blocker(org: Server) -> None:
    """Alice files platform's B-001 in #platform and Dave mobile's B-001 in #mobile. Both
    paths' first step also calls #eng-leads, so that channel gets two messages that each
    read "*B-001* (P1, …) reached escalation step 1": the leads cannot tell which team's
    B-001 each is, nor type `/blocker resolve B-001` for the right one. In a channel two
    teams use a code is shown with its team ("platform B-001"), as it is where the two
    teams share a blockers channel (README, "Which team a request is for")."""
    in_channel(org, "platform", "/blocker", "P1 Task Orchestration: queue stalls", user="U0ALICE")
    in_channel(org, "mobile", "/blocker", "P1 Sync: conflicts lost", user="U0DAVE")
    org.runtime.sender.drain()
    leads = [text_of(p) for p in posts(org) if p.args.get("channel") == "#eng-leads"]
    assert len(leads) == 2, leads
    assert any("platform B-001" in t for t in leads), leads
    assert any("mobile B-001" in t for t in leads), leads

"""A DM channel id (`D…`) in a step's `notify`, which the sprint file takes as a channel,
is posted to as one (found by review: the step "mentioned" `<@D0LEADS>` in the blocker's
thread and posted nothing to that channel)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.e2e import T0, at, posts, text_of
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash


@pytest.fixture
def leads(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    first = 'after = "0h"\nname = "Daily standup discussion"\nnotify = "team"'
    text = EXAMPLE.read_text()
    assert first in text
    sprint.write_text(text.replace(first, first.replace('"team"', '["team", "D0LEADS"]')))
    return make_server(SPRINTBOT_CONFIG=str(sprint))


def test_a_step_notifying_a_dm_channel_posts_there_and_mentions_no_user_d0leads(
    leads: Server,
) -> None:
    at(leads, T0)
    slash(leads.url, "/blocker", "P0 swarm coordination: deadlock", user_id="U0DEV")
    leads.runtime.sender.drain()
    steps = [p for p in posts(leads) if "escalation step 1" in text_of(p)]
    where = sorted(str(p.args.get("channel")) for p in steps)
    assert not any("<@D0LEADS>" in text_of(p) for p in steps), (
        f"a channel id was mentioned as a user: {[text_of(p)[:200] for p in steps]}"
    )
    assert "D0LEADS" in where, f"step 1 was posted only to {where}"

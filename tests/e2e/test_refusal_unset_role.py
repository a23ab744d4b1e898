"""Roles nobody holds, and participants = "team", in refusals and permissions (found by review)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot import clock as bot_clock
from tests.support.e2e import T0, at
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash


def test_resolve_refusal_names_no_made_up_user_for_an_unset_role(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The team drops `executives = [...]` from [people] and keeps the example's
    "Executive decision" step (config check accepts it; the step itself mentions nobody).
    Once a P0 reaches that step, someone who may not resolve it types
    `/blocker resolve B-001 ...` and is told "Only B-001's owner, its reporter, the tech
    lead, an admin or <@executives> (its escalation has reached them) can resolve it."
    — naming a Slack user called "executives" who does not exist. The refusal should
    say who may, without a made-up mention (the executives hold nobody: leave them out,
    or say "the executives")."""
    text = EXAMPLE.read_text("utf-8").replace('executives = ["S0EXECUTIVES"]\n', "")
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, T0)
    slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    at(server, T0 + timedelta(hours=49))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    answer = slash(server.url, "/blocker", "resolve B-001 not mine", user_id="U0BEN").json()
    assert answer["text"].startswith("Only B-001's owner"), answer
    # Slack shows "&lt;@executives&gt;" as the text <@executives>.
    assert "@executives" not in answer["text"], answer["text"]

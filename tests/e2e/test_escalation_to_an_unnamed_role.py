"""An [[escalation]] step may notify any standard role (`config check` accepts
`notify = "executives"` whether or not [people] names executives), but `jobs.blockers.targets`
takes a role missing from [people] for a Slack ID: the step posts a mention of a user
called "executives" (found by review). A role nobody holds mentions nobody."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot import clock as bot_clock
from bot.cli import main
from tests.support.e2e import T0, at, blocks_text, posts, text_of
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash


def test_a_step_to_a_role_the_file_leaves_unnamed_mentions_no_made_up_user(
    make_server: Callable[..., Server], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The team removes `executives = [...]` from [people] (no executives this sprint) and
    keeps the example's "Executive decision" step. `sprintbot config check` says the file
    is valid. 48 h after a P0 is filed the step is posted in the blocker's thread with
    `<@executives>`, a mention of a user that does not exist (Slack shows a broken
    "@executives" or nothing), so the blocker silently reaches no one. A role nobody holds
    should mention nobody (or be refused by `config check`), never be mentioned as an ID."""
    example = EXAMPLE.read_text("utf-8")
    text = example.replace('executives = ["S0EXECUTIVES"]\n', "")
    assert text != example
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 0
    capsys.readouterr()

    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, T0)
    filed = slash(
        server.url, "/blocker", "P0 Swarm Coordination: deadlock under partition", user_id="U0DEV"
    ).json()
    assert filed["text"].startswith(":no_entry: B-001 filed"), filed
    at(server, T0 + timedelta(hours=49))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    server.runtime.sender.drain()
    step = next(p for p in posts(server) if "Executive decision" in text_of(p))
    shown = blocks_text(step.args["blocks"]) + text_of(step)
    assert "<@executives>" not in shown, shown[-300:]

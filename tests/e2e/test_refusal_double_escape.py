"""A refusal (SprintError) is escaped once, as a whole, by `bot.acks.answer_error`
(`bot.blocks.common.reply`). A refusal whose text was already escaped where it was built
is escaped twice: the user reads Slack's entities ("R&amp;D", "&lt;beta&gt;") instead of
what the sprint file says."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import tests
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

EXAMPLE = Path(tests.__file__).resolve().parents[1] / "sprint.example.toml"
NAME = "R&D hardening <beta>"


def test_sprint_report_before_day_1_names_the_sprint_as_the_file_does(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The sprint file names the sprint "R&D hardening <beta>". The tech lead types
    `/sprint report` two days before day 1. The answer reads "No sprint running yet: R&amp;D
    hardening &lt;beta&gt; starts on 2025-10-29" on screen: the name was escaped when the
    SprintError was built (bot/listeners/commands/sprint.py `_report`: `esc(...)`) and again
    by `reply` in `answer_error`, so Slack receives `R&amp;amp;D … &amp;lt;beta&amp;gt;`.
    It should read "R&D hardening <beta>", i.e. Slack should receive the name escaped once:
    `R&amp;D hardening &lt;beta&gt;`."""
    text = EXAMPLE.read_text("utf-8")
    old = 'name = "Phase 4 Production Readiness"'
    assert old in text
    path = tmp_path / "sprint.toml"
    path.write_text(text.replace(old, f"name = {json.dumps(NAME)}", 1), encoding="utf-8")
    server = make_server(SPRINTBOT_CONFIG=str(path))
    server.clock.at = datetime(2025, 10, 27, 14, tzinfo=UTC)  # two days before day 1
    said = slash(server.url, "/sprint", "report", user_id="U0TECHLEAD").json()["text"]
    listeners_done()
    assert said.startswith("No sprint running yet: "), said
    assert "&amp;amp;" not in said and "&amp;lt;" not in said, said
    assert said.startswith("No sprint running yet: R&amp;D hardening &lt;beta&gt; starts on"), said


def test_a_refusal_listing_components_shows_a_mention_in_a_name_as_typed(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """A manual component is named "User Guides <@U0VICTIM>" in the sprint file. An admin
    types `/readiness set Nope 70`: the refusal lists the manual components, and the
    mention in that name was kept live (`reply` keeps the mentions the bot wrote, and took
    the file's for its own). It shows as typed; the bot's own mentions stay."""
    path = tmp_path / "sprint.toml"
    path.write_text(EXAMPLE.read_text().replace('"User Guides"', '"User Guides <@U0VICTIM>"'))
    server = make_server(SPRINTBOT_CONFIG=str(path))
    said = slash(server.url, "/readiness", "set Nope 70").json()["text"]
    assert "User Guides &lt;@U0VICTIM&gt;" in said, said
    assert "<@U0VICTIM>" not in said, said
    refused = slash(server.url, "/readiness", "set Nope 70", user_id="U0SOMEONE").json()["text"]
    assert "<@U0TECHLEAD>" in refused, refused  # (the bot's own mention, still one)

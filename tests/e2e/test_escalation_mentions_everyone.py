"""An escalation step's message ends with the mentions of who it escalates to, and was cut
at 2,900 characters: past ~190 people the rest were silently never notified (found by
review). Each is mentioned, in as many sections as they take."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot import clock as bot_clock
from tests.support.e2e import T0, at, blocks_text, posts, text_of
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash

PEOPLE = [f"U0LEAD{i:04d}" for i in range(300)]


def _sprint_file(tmp_path: Path) -> Path:
    example = EXAMPLE.read_text("utf-8")
    ids = ", ".join(f'"{p}"' for p in PEOPLE)
    text = example.replace(
        'name = "Technical lead review"\nnotify = "tech_lead"',
        f'name = "Technical lead review"\nnotify = [{ids}]',
    )
    assert text != example
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_person_an_escalation_step_notifies_is_mentioned(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(_sprint_file(tmp_path)))
    at(server, T0)
    filed = slash(
        server.url, "/blocker", "P0 Swarm Coordination: deadlock under partition", user_id="U0DEV"
    ).json()
    assert filed["text"].startswith(":no_entry: B-001 filed"), filed
    at(server, T0 + timedelta(hours=8))
    assert bot_clock.run_job(server.runtime, "blocker-escalation") == (
        "blocker-escalation: 1 steps fired"
    )
    server.runtime.sender.drain()
    step = next(p for p in posts(server) if "Technical lead review" in text_of(p))
    shown = blocks_text(step.args["blocks"])
    missing = [p for p in PEOPLE if f"<@{p}>" not in shown]
    assert missing == [], (len(missing), shown[-200:])
    # (The fallback text, a notification's preview, begins the same.)
    assert text_of(step).startswith(":arrow_up: *B-001*")

"""A long sprint name (the sprint file takes any length) pushes "Day N of M" out of the
150-character header of `/sprint` and App Home: `short(title, 150)` cuts the title's tail,
which is the day, not the name (found by review). The name is shortened instead."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.e2e import T0, at, home_opened
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash

NAME = (
    "Q4 Platform Hardening: production readiness of Swarm Coordination, Memory Management, "
    "the CLI and the MCP server ahead of the general-availability launch"
)


def _sprint_file(tmp_path: Path) -> Path:
    example = EXAMPLE.read_text("utf-8")
    text = example.replace('name = "Phase 4 Production Readiness"', f'name = "{NAME}"', 1)
    assert text != example
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sprint_day_survives_a_long_sprint_name(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    assert 140 < len(NAME) < 200
    server = make_server(SPRINTBOT_CONFIG=str(_sprint_file(tmp_path)))
    at(server, T0)
    answer = slash(server.url, "/sprint", user_id="U0DEV").json()
    header = answer["blocks"][0]["text"]["text"]
    home_opened(server, "U0DEV", "1761919200.000100")
    deadline = time.monotonic() + 10
    while not server.slack.calls_to("views.publish"):
        assert time.monotonic() < deadline, "views.publish never called"
        server.runtime.sender.drain()
        time.sleep(0.05)
    view = server.slack.calls_to("views.publish")[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    home_header = view["blocks"][0]["text"]["text"]
    assert "Day 3 of 14" in header, header
    assert "Day 3 of 14" in home_header, home_header
    assert header == home_header and len(header) == 150
    assert header.startswith(NAME[:120]), header

"""The review draft's "vs previous sprint" readiness line says the difference of the two as
shown: "Readiness at the end: 81.02 % (+0.4 pts, was 80.62 %)" (found by review: +0.39,
of the unrounded score 81.015)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.e2e import at, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

TEAM = """
[team]
id = "docs"
name = "Docs Team"
timezone = "America/New_York"

[[sprints]]
name = "Sprint One"
start = 2025-10-27
days = 5
targets = { readiness = 90.0, pass_rate = 80.0 }

[[sprints]]
name = "Sprint Two"
start = 2025-11-03
days = 5
targets = { readiness = 90.0, pass_rate = 80.0 }

[channels]
team = "#team"
status = "#status"
blockers = "#blockers"

[people]
participants = ["U0DEV"]
tech_lead = ["U0DEV"]
admins = ["U0DEV"]

[[components]]
name = "Docs"
weight = 1
target = 90
source = "manual"
score = 50
"""


@pytest.mark.usefixtures("quick_pace")
def test_review_vs_previous_sprint_says_the_difference_as_shown(
    make_server: Any, tmp_path: Path
) -> None:
    path = tmp_path / "docs.toml"
    path.write_text(TEAM)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, datetime(2025, 10, 28, 15, tzinfo=UTC))  # sprint one, day 2
    assert slash(server.url, "/readiness", "set Docs 80.62", user_id="U0DEV").status_code == 200
    listeners_done()
    at(server, datetime(2025, 11, 4, 15, tzinfo=UTC))  # sprint two, day 2
    assert slash(server.url, "/readiness", "set Docs 81.015", user_id="U0DEV").status_code == 200
    listeners_done()
    resp = slash(server.url, "/sprint", "review", user_id="U0DEV")
    assert resp.status_code == 200, resp.text
    listeners_done()
    server.runtime.sender.drain()
    [review] = [text_of(p) for p in posts(server) if "Sprint review draft" in text_of(p)]
    lines = [x for x in review.splitlines() if "Readiness" in x]
    vs = next(x for x in lines if x.startswith("• Readiness at the end: "))
    assert "81.02 % (+0.4 pts, was 80.62 %)" in vs, lines

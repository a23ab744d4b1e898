"""A day at its plan as shown (79.996 % is "80 %", the plan 80 %): health says "on plan",
but the same answer's burn-down row for that day says on_plan false and the tracker's row
"⚠️ readiness below plan" (DayFigures.on_plan compares unrounded, assess() rounded)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from tests.e2e.test_figures import sprint_json
from tests.support.e2e import at
from tests.support.server import Server, cli_env

SPRINT = """
[sprint]
name = "Rounding sprint"
start = 2025-10-29
days = 3
timezone = "America/New_York"

[targets]
readiness = 85.0
pass_rate = 80.0

[plan]
anchor = "stated"
readiness = [80, 82, 85]

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
score = 80

[[components]]
name = "Runbooks"
weight = 1
target = 90
source = "manual"
score = 79.992
"""

NOW = datetime(2025, 10, 29, 15, 0, tzinfo=UTC)  # day 1, 11:00 New York


@pytest.mark.usefixtures("quick_pace")
def test_a_day_on_plan_as_shown_is_on_plan_in_the_burndown_and_tracker(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, NOW)
    cli_env(monkeypatch, server, path)
    body = sprint_json(server)
    r = body["readiness"]
    # Readiness 79.996 % is shown as 80 %; today's plan is 80 %: health says on plan.
    assert (r["score"], r["plan"]) == (80.0, 80.0)
    assert r["health"] == "On Track"
    assert r["health_reason"].startswith("on plan"), r["health_reason"]
    day1 = body["burndown"][0]
    assert (day1["readiness"], day1["plan_readiness"]) == (80.0, 80.0)
    # The same day, the same two numbers: on plan there too.
    assert day1["on_plan"] is True, day1

    out = tmp_path / "tracker.md"
    assert cli.main(["export", "tracker", "--out", str(out), "--at", NOW.isoformat()]) == 0
    md = out.read_text()
    assert "readiness below plan" not in md, [ln for ln in md.splitlines() if "below plan" in ln]

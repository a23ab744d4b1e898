"""DESIGN (Health): "At Risk when within 2 points below plan ... Critical when more than 2
points below plan". Readiness exactly 2 points below plan is At Risk (found by review:
62.4 - 64.4 is -2.000000000000007 in floating point, and it was Critical)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import httpc
from tests.support.e2e import at, blocks_text
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import slash

SPRINT = """
[sprint]
name = "Plan sprint"
start = 2025-10-29
days = 5
timezone = "America/New_York"

[targets]
readiness = 90.0
pass_rate = 80.0

[plan]
readiness = [64.4, 64.4, 64.4, 64.4, 64.4]
anchor = "stated"

[channels]
team = "#team"
status = "#status"
blockers = "#blockers"

[people]
participants = ["U0DEV"]
admins = ["U0DEV"]

[[components]]
name = "Docs"
weight = 1
target = 90
source = "manual"
score = 62.4
"""


@pytest.mark.usefixtures("quick_pace")
def test_readiness_exactly_two_points_below_plan_is_at_risk_not_critical(
    make_server: Any, tmp_path: Path
) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, datetime(2025, 10, 30, 15, tzinfo=UTC))  # day 2, 10:00 New York
    r = httpc.get(
        f"{server.url}/api/v1/sprint", headers={"Authorization": f"Bearer {INGEST_TOKEN}"}
    ).json()["readiness"]
    assert (r["score"], r["plan"]) == (62.4, 64.4), r
    text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    assert "2 pts below plan" in r["health_reason"], r
    assert r["health"] == "At Risk", (r["health"], r["health_reason"])
    assert "Critical" not in text, text

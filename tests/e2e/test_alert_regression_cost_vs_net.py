"""A report whose only change is one regression: what the regression cost on its own is
the net, and both are the difference of the two scores as shown (`numbers.change`): "1
regressed (-33.34 pts): net -33.34 pts (66.67 % → 33.33 %)" (found by review: the cost
read -33.33, of the unrounded scores, beside a net of -33.34)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import httpc
from tests.support.e2e import at, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import INGEST_TOKEN, Server

SPRINT = """
[sprint]
name = "Alert sprint"
start = 2025-10-29
days = 5
timezone = "America/New_York"

[targets]
readiness = 90.0
pass_rate = 80.0

[channels]
team = "#team"
status = "#status"
blockers = "#blockers"

[people]
participants = ["U0DEV"]
tech_lead = ["U0DEV"]
admins = ["U0DEV"]

[[components]]
name = "Core"
weight = 1
target = 90
source = "tests"
tests = ["core/**"]
"""
AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"}


def junit(statuses: str) -> bytes:
    body = {"P": "", "F": '<failure message="boom">boom</failure>'}
    cases = "".join(
        f'<testcase classname="core.test_a" name="t{i}" file="core/test_a.py">{body[s]}</testcase>'
        for i, s in enumerate(statuses)
    )
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


def send(server: Server, when: datetime, run: str, statuses: str) -> dict[str, Any]:
    at(server, when)
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs", params={"run": run}, content=junit(statuses), headers=AUTH
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


@pytest.mark.usefixtures("quick_pace")
def test_a_lone_regressions_cost_is_the_net(make_server: Any, tmp_path: Path) -> None:
    path = tmp_path / "alert.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    send(server, datetime(2025, 10, 29, 14, tzinfo=UTC), "r1", "PPF")  # 66.67 %
    send(server, datetime(2025, 10, 29, 16, tzinfo=UTC), "r2", "PFF")  # t1 regresses: 33.33 %
    listeners_done()
    server.runtime.sender.drain()
    lines = [
        x
        for p in posts(server)
        for x in text_of(p).splitlines()
        if "regressed (" in x and "net" in x
    ]
    assert lines, [text_of(p)[:300] for p in posts(server)]
    line = lines[0]
    assert "(66.67 % → 33.33 %)" in line, line
    assert "net \u221233.34 pts" in line, line
    assert "1 regressed (\u221233.34 pts)" in line, line  # its cost alone is the whole move

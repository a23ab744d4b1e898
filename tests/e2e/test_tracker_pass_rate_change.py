"""The tracker's Code Quality Trends row for the pass rate says "First → Latest" and a
Change beside them, which must be the difference of the two as shown (the rule the latest
commits gave every "before → after (±x pts)": jobs.numbers.change)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from tests.support import httpc
from tests.support.e2e import at
from tests.support.server import INGEST_TOKEN, Server, cli_env

SPRINT = """
[sprint]
name = "Rate sprint"
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


def send(server: Server, when: datetime, run: str, statuses: str) -> None:
    at(server, when)
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs", params={"run": run}, content=junit(statuses), headers=AUTH
    )
    assert resp.status_code == 201, resp.text


@pytest.mark.usefixtures("quick_pace")
def test_tracker_pass_rate_change_is_the_difference_of_the_two_shown(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Baseline 2 of 3 tests pass (66.67 %); on day 2 four new passing tests: 6 of 7
    (85.71 %). The tracker's trend row reads "66.67 % | 85.71 % | ↑ +19.05 pts": 85.71 -
    66.67 is 19.04 (19.05 is the change of the unrounded rates, 85.714 - 66.667)."""
    path = tmp_path / "rate.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    cli_env(monkeypatch, server, path)
    send(server, datetime(2025, 10, 29, 14, tzinfo=UTC), "r1", "PPF")
    send(server, datetime(2025, 10, 30, 14, tzinfo=UTC), "r2", "PPFPPPP")
    now = datetime(2025, 10, 30, 20, tzinfo=UTC)
    at(server, now)
    out = tmp_path / "tracker.md"
    assert cli.main(["export", "tracker", "--out", str(out), "--at", now.isoformat()]) == 0
    row = next(x for x in out.read_text().splitlines() if x.startswith("| Test Pass Rate"))
    assert "| 66.67 % | 85.71 % |" in row, row
    assert "+19.04 pts" in row, row

"""A 5-day sprint in New York with one tested component, Core (`core/**`), for end-to-end
tests of how figures read across surfaces: its file, and CI reports of `core.test_a`'s
tests t0, t1, … given by one letter each (P passed, F failed, S skipped)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support import httpc
from tests.support.e2e import at
from tests.support.server import INGEST_TOKEN, Server

SPRINT = """
[sprint]
name = "{name}"
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
_BODY = {
    "P": "",
    "F": '<failure message="boom">boom</failure>',
    "S": '<skipped message="later"/>',
}


def sprint_file(name: str) -> str:
    return SPRINT.format(name=name)


def junit(statuses: str) -> bytes:
    """A report of t0, t1, … with these statuses ("PPF": t0, t1 pass, t2 fails)."""
    cases = "".join(
        f'<testcase classname="core.test_a" name="t{i}" file="core/test_a.py">{_BODY[s]}</testcase>'
        for i, s in enumerate(statuses)
    )
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


def send(server: Server, when: datetime, run: str, statuses: str) -> dict[str, Any]:
    """Post the report at `when` (the server's clock moved there); its reply."""
    at(server, when)
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs", params={"run": run}, content=junit(statuses), headers=AUTH
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply

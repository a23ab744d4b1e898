"""A skipped run says nothing of whether a test works: a test that passed, was skipped and
now fails is a regression on every surface (the ingest's reply and alert, the figures, the
daily report), and one that failed, was skipped and fails again is still failing, not a new
failure (found by review: the reply and the report called passed → skipped → failed a new
failure while the figures counted it an open regression none had introduced). On the
hand-computed sprint of test_figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx as httpc
import pytest

from bot import cli
from tests.e2e.test_figures import AUTH, FILES, hand_server, local, sprint_json
from tests.support.e2e import at, posts, text_of
from tests.support.server import Server, cli_env

BODIES = {
    "P": "",
    "F": '<failure message="boom">boom</failure>',
    "S": '<skipped message="not today"/>',
}


def junit(statuses: dict[str, str]) -> bytes:
    cases = "".join(
        f'<testcase classname="{FILES[name].removesuffix(".py").replace("/", ".")}" '
        f'name="{name}" file="{FILES[name]}">{BODIES[status]}</testcase>'
        for name, status in statuses.items()
    )
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


def send(server: Server, day: int, run: str, statuses: dict[str, str]) -> dict[str, Any]:
    at(server, local(day, 10))
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs",
        params={"run": run},
        content=junit(statuses),
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


def names(refs: list[dict[str, Any]]) -> set[str]:
    return {r["name"] for r in refs}


@pytest.mark.usefixtures("quick_pace")
def test_a_skip_between_two_runs_is_seen_through_on_every_surface(
    make_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """c1 passed, was skipped, fails: a regression. c2 failed, was skipped, fails: still
    failing. c3 passed, was skipped, passes. x2 failed, was skipped, passes: fixed."""
    server, path = hand_server(make_server, tmp_path)
    send(server, 1, "r1", {"c1": "P", "c2": "F", "c3": "P", "c4": "P", "x2": "F"})
    send(server, 2, "r2", {"c1": "S", "c2": "S", "c3": "S", "c4": "P", "x2": "S"})
    reply = send(server, 3, "r3", {"c1": "F", "c2": "F", "c3": "P", "c4": "P", "x2": "P"})

    assert names(reply["regressions"]) == {"c1"}, reply
    assert names(reply["new_failures"]) == set(), reply
    assert names(reply["fixed"]) == {"x2"}, reply
    server.runtime.sender.drain()
    [alert] = [text_of(p) for p in posts(server) if "regressed on main" in p.args.get("text", "")]
    assert "c1" in alert and "c2" not in alert, alert

    at(server, local(4, 9))
    tests = sprint_json(server, at=local(3, 12).isoformat())["tests"]
    assert (
        tests["regressions_introduced"],
        tests["regressions_open"],
        tests["new_failures_open"],
        tests["failing"],
    ) == (1, 1, 0, 2), tests
    burn = {d["day"]: d for d in sprint_json(server, at=local(4, 0).isoformat())["burndown"]}
    assert (burn[3]["regressed_today"], burn[3]["fixed_today"]) == (1, 1), burn[3]

    # Day 4's 9:00 report lists day 3's changes: c1 regressed, x2 fixed, no new failure.
    cli_env(monkeypatch, server, path)
    capsys.readouterr()
    assert cli.main(["job", "run", "daily-report", "--at", local(4, 9).isoformat()]) == 0
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    daily = text_of(report)
    assert "• Regressed: 1" in daily and "c1" in daily, daily
    assert "• Tests fixed: 1" in daily and "x2" in daily, daily
    assert "New failures" not in daily or "c2" not in daily, daily

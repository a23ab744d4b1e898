"""`?at=` of a past instant: blockers as they stood then (docs/api.md: "`?at=` is computed
from history — blockers too, from their audit trail ... every instant ... gives exactly what
it gave then"): severity, owner and step as they were then (each found by review)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import ANSWER, T0, at, click, submit
from tests.support.server import EXAMPLE, INGEST_TOKEN, Server
from tests.support.slack import slash

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}
PEOPLE = ["U0ANA", "U0BEN", "U0CAT"]
QUIET = {"current_blockers": "", "new_risks": ""}


def sprint_json(server: Server, **query: str) -> dict[str, Any]:
    resp = httpc.get(f"{server.url}/api/v1/sprint?{urlencode(query)}", headers=AUTH, timeout=30)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # Fri 09:05 New York, day 3
    return server


def test_past_instant_counts_a_blocker_at_the_severity_it_had_then(team: Server) -> None:
    """Ana's standup files "P2: CI runners are slow" (B-001, P2) at 09:05. At 10:05 she edits
    it to P0 (the standup raises B-001 to P0, audited with was=P2). Asked at 09:30 what the
    blocker log held at 09:30, the API answered P2: 1. Asked again later for the same
    09:30, it answers P0: 1 and the item reads P0 — the row's severity of today, not the
    audit trail's. The same past instant should give the same answer: P2."""
    answer = {**ANSWER, **QUIET, "current_blockers": "P2: CI runners are slow"}
    assert submit(team, "U0ANA", **answer).text == ""
    half_past = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    team.clock.at = half_past
    then = sprint_json(team)["blockers"]
    assert then["by_severity"] == {"P0": 0, "P1": 0, "P2": 1}
    team.clock.at = datetime(2025, 10, 31, 14, 5, tzinfo=UTC)
    edited = {**answer, "current_blockers": "P0: CI runners are slow"}
    assert submit(team, "U0ANA", **edited).text == ""
    team.clock.at = datetime(2025, 10, 31, 15, 0, tzinfo=UTC)
    assert sprint_json(team)["blockers"]["by_severity"] == {"P0": 1, "P1": 0, "P2": 0}
    past = sprint_json(team, at=half_past.isoformat())["blockers"]
    assert past["by_severity"] == then["by_severity"], past
    assert [i["severity"] for i in past["items"]] == ["P2"], past["items"]


def test_past_instant_shows_the_owner_a_blocker_had_then(server: Server) -> None:
    """B-001 is filed unowned at 09:00; at 11:00 Ben clicks *Take ownership*. Asked what the
    blocker log held at 10:00, the API answered owner null; asked again about 10:00 after
    the click, it answers "U0BEN" (the row's owner of today; the audit trail holds the
    acknowledgement with its time and previous owner). It should still say null."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    ten = T0 + timedelta(hours=1)
    at(server, ten)
    [then] = sprint_json(server)["blockers"]["items"]
    assert then["owner"] is None
    at(server, T0 + timedelta(hours=2))
    assert click(server, "blocker_ack", "1@", user="U0BEN").status_code == 200
    at(server, T0 + timedelta(hours=3))
    [now_item] = sprint_json(server)["blockers"]["items"]
    assert now_item["owner"] == "U0BEN"
    [past] = sprint_json(server, at=ten.isoformat())["blockers"]["items"]
    assert past["owner"] == then["owner"], past


def test_past_instant_keeps_the_step_reached_before_a_resolution_withdrew_later_steps(
    server: Server,
) -> None:
    """Slack is down; at 24h05 the clock fires steps 2 and 3 of B-001 (P1): the API then says
    `escalation_level` 3. At 24h20 it is resolved: the steps still queued are withdrawn and
    the row's level goes back to 1 (escalated_at stays 24h05). Asked later about 24h10 —
    when it was open at step 3 and the API said so — it now answers 1: the lowered row
    level is read for any instant after escalated_at. It should answer 3 as it did then."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 swarm coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    server.slack.outage("503")
    at(server, T0 + timedelta(hours=24, minutes=5))
    assert bot_clock.run_job(server.runtime, "blocker-escalation").endswith("2 steps fired")
    ten_past = T0 + timedelta(hours=24, minutes=10)
    at(server, ten_past)
    [then] = sprint_json(server)["blockers"]["items"]
    assert then["escalation_level"] == 3
    at(server, T0 + timedelta(hours=24, minutes=20))
    done = slash(server.url, "/blocker", "resolve B-001 split the lock", user_id="U0DEV").json()
    assert done["text"] == ":white_check_mark: B-001 resolved."
    server.slack.recover()
    at(server, T0 + timedelta(hours=25))
    [past] = sprint_json(server, at=ten_past.isoformat())["blockers"]["items"]
    assert past["escalation_level"] == then["escalation_level"], past

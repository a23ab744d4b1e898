"""Across sprints, end to end (examples/teams): `/sprint history` through signed requests,
`GET /api/v1/sprints` and `GET /api/v1/sprint?sprint=` for a past sprint, with platform in
its second sprint."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import clock as bot_clock
from jobs.numbers import pct
from tests.e2e.test_next_sprint import api, ci
from tests.support.e2e import at, blocks_text, home_opened
from tests.support.listeners import listeners_done
from tests.support.server import ROOT, Server
from tests.support.slack import slash

TEAMS = ROOT / "examples" / "teams"
P, F = "passed", "failed"


def day(month: int, d: int, hour: int = 15) -> datetime:
    return datetime(2025, month, d, hour, tzinfo=UTC)


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    """Platform on Phase 5's day 3, after this: in Phase 4, CI first reported a passing and
    b, c failing (the baseline), then b fixed; B-001 resolved after 12 h, B-002 after 6 h.
    In Phase 5, a regressed."""
    shutil.copytree(TEAMS, tmp_path / "teams")
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    ci(server, {"orchestration/a": P, "orchestration/b": F, "orchestration/c": F}, "1", day(11, 3))
    alice = {"user_id": "U0ALICE"}
    slash(server.url, "/blocker", "platform P0 Task Orchestration: deadlock", **alice)
    at(server, day(11, 4, 3))
    slash(server.url, "/blocker", "platform resolve B-001 lock order fixed", **alice)
    at(server, day(11, 5))
    slash(server.url, "/blocker", "platform P1 API Performance: slow paging", **alice)
    at(server, day(11, 5, 21))
    slash(server.url, "/blocker", "platform resolve B-002 index added", **alice)
    ci(server, {"orchestration/b": P}, "2", day(11, 10))
    ci(server, {"orchestration/a": F}, "3", day(11, 13))
    at(server, day(11, 14))
    listeners_done()
    return server


def test_sprint_history_shows_each_sprints_outcome(org: Server) -> None:
    phase4 = api(org, "/api/v1/sprint", team="platform", sprint="Phase 4 Production Readiness")
    start, end = (phase4.json()["readiness"][k] for k in ("baseline", "score"))
    body = slash(org.url, "/sprint", "platform history", user_id="U0ALICE").json()
    assert body["response_type"] == "ephemeral"
    assert body["text"] == "Sprint history — Core Platform: 2 sprints"
    lines = blocks_text(body["blocks"]).splitlines()
    assert lines[0] == "Sprint history — Core Platform"
    # Newest first: Phase 5 (running), then Phase 4 as it ended.
    assert lines[1] == "*Phase 5 Hardening* (2025-11-12 → 2025-11-21, running)"
    assert " · 0 tests fixed · 1 regression introduced · 0 blockers resolved · " in lines[2]
    assert lines[3] == "*Phase 4 Production Readiness* (2025-10-29 → 2025-11-11)"
    assert lines[4].startswith(f"Readiness {pct(start['measured'])} → {pct(end)} (")
    assert lines[4].endswith(
        " · 1 test fixed · 0 regressions introduced · 2 blockers resolved, median 9.0 h"
        " · 1 of 4 goals met"  # zero regressions
    )


def test_sprint_history_takes_nothing_after_it(org: Server) -> None:
    body = slash(org.url, "/sprint", "platform history all", user_id="U0ALICE").json()
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith('`/sprint history` takes nothing after it, not "all".')


def test_the_api_lists_a_teams_sprints_with_their_outcomes(org: Server) -> None:
    listed = api(org, "/api/v1/sprints", team="platform")
    assert listed.status_code == 200
    sprints = listed.json()["sprints"]
    assert [(s["name"], s["start"], s["days"], s["status"]) for s in sprints] == [
        ("Phase 4 Production Readiness", "2025-10-29", 14, "ended"),
        ("Phase 5 Hardening", "2025-11-12", 10, "running"),
    ]
    phase4 = sprints[0]["outcome"]
    assert (phase4["tests_fixed"], phase4["regressions_introduced"]) == (1, 0)
    assert (phase4["blockers_resolved"], phase4["median_resolution_hours"]) == (2, 9.0)
    assert sprints[1]["outcome"]["regressions_introduced"] == 1
    mobile = api(org, "/api/v1/sprints", team="mobile").json()["sprints"]
    assert [s["name"] for s in mobile] == ["Offline Sync"]
    refused = api(org, "/api/v1/sprints")
    assert refused.status_code == 400
    assert "several teams (mobile, platform): add team=ID" in refused.json()["error"]


def test_the_api_answers_for_any_sprint_by_name_or_start(org: Server) -> None:
    by_start = api(org, "/api/v1/sprint", team="platform", sprint="2025-10-29").json()
    assert by_start["sprint"]["name"] == "Phase 4 Production Readiness"
    assert by_start["sprint"]["text"] == "Sprint ended on 2025-11-11"
    # Its figures as it ended: b fixed, nothing of Phase 5 (a's regression) in them.
    assert (by_start["tests"]["fixed"], by_start["tests"]["regressions_introduced"]) == (1, 0)
    outcome = api(org, "/api/v1/sprints", team="platform").json()["sprints"][0]["outcome"]
    assert outcome["readiness_end"] == by_start["readiness"]["score"]
    current = api(org, "/api/v1/sprint", team="platform", sprint="phase 5 hardening").json()
    assert current["sprint"]["text"] == "Day 3 of 10"
    assert current["tests"]["regressions_introduced"] == 1
    unknown = api(org, "/api/v1/sprint", team="platform", sprint="Phase 9")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": "no sprint 'Phase 9' (the sprints: Phase 4 Production Readiness "
        "(2025-10-29), Phase 5 Hardening (2025-11-12))"
    }


def home_views(server: Server) -> list[str]:
    listeners_done()
    server.runtime.sender.drain()
    out = []
    for call in server.slack.calls_to("views.publish"):
        view = call.args["view"]
        view = json.loads(view) if isinstance(view, str) else view
        out.append(blocks_text(view["blocks"]))
    return out


def test_app_home_shows_past_sprints_and_the_morning_refresh_keeps_them(org: Server) -> None:
    home_opened(org, "U0ALICE")
    [opened_home] = home_views(org)
    assert opened_home.startswith("Phase 5 Hardening — Day 3 of 10")
    past = opened_home.split("*Past sprints*\n", 1)[1]
    assert past.startswith("*Phase 4 Production Readiness* (2025-10-29 → 2025-11-11)\nReadiness ")
    assert "Phase 5 Hardening" not in past  # running, not past
    # Monday 9:00 in New York: the daily report refreshes the Home of who opened it.
    at(org, day(11, 17, 14))
    platform = org.runtime.teams.get("platform")
    said = bot_clock.run_job(org.runtime, "daily-report", team=platform)
    assert said.startswith("daily-report: posted"), said
    refreshed = home_views(org)[-1]
    assert refreshed.startswith("Phase 5 Hardening — Day 6 of 10")
    assert (
        refreshed.split("*Past sprints*\n", 1)[1].split("\nUpdated")[0]
        == past.split("\nUpdated")[0]
    )

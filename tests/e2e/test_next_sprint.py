"""Sprint after sprint, end to end (examples/teams: platform's Phase 4 then Phase 5 from
2025-11-12): the next sprint starts on its date with its own baseline, open blockers and
risks carry over with their ids, test history continues, and what belongs to a sprint
(standups, lessons, snapshots) stays with it. Between sprints the bot says none runs and
the daily jobs post nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import SQLModel, select

from bot import clock as bot_clock
from jobs.config import Sprint, Team
from storage.models import Lesson, ReadinessSnapshot, Standup
from tests.support import httpc
from tests.support.e2e import (
    ANSWER,
    AUTH,
    at,
    blocks_text,
    home_opened,
    opened,
    posts,
    risk_values,
    submit,
    text_of,
    view_submit,
)
from tests.support.listeners import listeners_done
from tests.support.reports import report
from tests.support.server import ROOT, Server
from tests.support.slack import slash

TEAMS = ROOT / "examples" / "teams"
# 10:00 in New York (EST, UTC-5) on platform's Phase 4 day 13, its last day (14), and
# Phase 5's day 1.
S1_DAY13 = datetime(2025, 11, 10, 15, tzinfo=UTC)
S1_LAST = datetime(2025, 11, 11, 15, tzinfo=UTC)
S2_DAY1 = datetime(2025, 11, 12, 15, tzinfo=UTC)
P, F = "passed", "failed"


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    shutil.copytree(TEAMS, tmp_path / "teams")
    return make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))


def ci(
    server: Server, statuses: dict[str, str], run: str, when: datetime, team: str = "platform"
) -> None:
    """A JUnit report of `area/name` → status from `team`'s CI, received `when`."""
    at(server, when)
    query = {"team": team, "run": run, "at": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}",
        content=report(statuses),
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text


def api(server: Server, path: str, **query: str) -> httpx.Response:
    return httpc.get(
        f"{server.url}{path}?{urlencode(query)}",
        headers={"Authorization": AUTH["Authorization"]},
        timeout=30,
    )


def standup(server: Server, user: str, day: str) -> None:
    resp = submit(
        server,
        user,
        metadata={"day": day, "team": "platform"},
        **{**ANSWER, "components_improved": ["Task Orchestration"], "current_blockers": ""},
    )
    assert resp.status_code == 200 and resp.text == "", resp.text


def lesson(server: Server, user: str, text: str) -> None:
    values = {
        "values": {
            "kind": {"value": {"type": "static_select", "selected_option": {"value": "went_well"}}},
            "text": {"value": {"type": "plain_text_input", "value": text}},
        }
    }
    assert view_submit(server, "lesson", user, values, {"team": "platform"}).text == ""


def rows(server: Server, model: type[SQLModel], sprint: Sprint) -> int:
    """How many of a sprint's rows of `model` platform's `sprint` holds."""
    teams = server.runtime.teams
    team = teams.get("platform")
    assert team is not None
    with server.runtime.contexts.db.scoped(teams.scope(team, sprint)).read() as s:
        return len(s.exec(select(model)).all())


def platform(server: Server) -> Team:
    team = server.runtime.teams.get("platform")
    assert team is not None
    return team


def test_the_next_sprint_starts_on_its_date_and_carries_over_what_is_open(org: Server) -> None:
    at(org, S1_DAY13)
    # Sprint 1: tests a passes, b and c fail; a blocker, a risk, a standup and a lesson.
    ci(org, {"orchestration/a": P, "orchestration/b": F, "orchestration/c": F}, "s1-13", S1_DAY13)
    filed = slash(org.url, "/blocker", "platform P0 Task Orchestration: scheduler deadlock")
    assert "B-001" in filed.json()["text"], filed.text
    slash(org.url, "/risk", "platform", user_id="U0ALICE")
    opened(org)
    assert view_submit(org, "risk", "U0ALICE", risk_values(), {"team": "platform"}).text == ""
    standup(org, "U0ALICE", "2025-11-10")
    lesson(org, "U0BOB", "Sprint one: shard the suite")
    at(org, S1_LAST)
    ci(org, {"orchestration/b": P}, "s1-14", S1_LAST)  # Phase 4 ends with c failing
    listeners_done()
    s1, s2 = platform(org).sprints

    # Phase 5, day 1: served by itself, from its own start.
    at(org, S2_DAY1)
    body = slash(org.url, "/sprint", "platform", user_id="U0ALICE").json()
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("Phase 5 Hardening — Day 1 of 10: readiness")
    text = blocks_text(body["blocks"])
    # The blocker filed in Phase 4 is still open, with its id.
    assert "*B-001* P0 · Task Orchestration — scheduler deadlock" in text
    risks = slash(org.url, "/risk", "platform list", user_id="U0ALICE").json()["text"]
    assert "*R-001* Test fixes introduce regressions" in risks

    # The baseline is Phase 5's start: the tests as Phase 4 ended them (c failing).
    now = api(org, "/api/v1/sprint", team="platform").json()
    ended = api(org, "/api/v1/sprint", team="platform", sprint=s1.sprint.name).json()
    assert now["sprint"]["name"] == "Phase 5 Hardening" and now["sprint"]["day"] == 1
    assert ended["sprint"]["text"] == "Sprint ended on 2025-11-11"
    assert ended["at"] == "2025-11-12T05:00:00+00:00"  # midnight in New York
    assert (now["tests"]["baseline_known"], now["tests"]["baseline_failing"]) == (3, 1)
    assert now["readiness"]["baseline"]["measured"] == ended["readiness"]["score"]
    assert now["tests"]["fixed"] == 0
    # Test history continues: c, failing since Phase 4, is fixed in Phase 5.
    ci(org, {"orchestration/c": P}, "s2-1", S2_DAY1)
    now = api(org, "/api/v1/sprint", team="platform").json()
    assert (now["tests"]["fixed"], now["tests"]["regressions_introduced"]) == (1, 0)
    assert now["blockers"]["items"][0]["id"] == "B-001"

    # What belonged to Phase 4 stays there: its standup, lesson and snapshots.
    assert (rows(org, Standup, s1), rows(org, Standup, s2)) == (1, 0)
    assert (rows(org, Lesson, s1), rows(org, Lesson, s2)) == (1, 0)
    assert rows(org, ReadinessSnapshot, s1) >= 1
    # Phase 5's review has none of Phase 4's lessons, and compares with Phase 4.
    resp = slash(org.url, "/sprint", "platform review", user_id="U0ALICE")
    assert resp.json()["text"].startswith("Posting the sprint review draft")
    listeners_done()
    org.runtime.sender.drain()
    [review] = [p for p in posts(org) if text_of(p).startswith("platform · Sprint review draft")]
    text = text_of(review)
    assert text.startswith("platform · Sprint review draft — Phase 5 Hardening")
    assert "_What went well_\n• _none yet_" in text
    assert "Sprint one" not in text
    assert "*vs previous sprint* (Phase 4 Production Readiness)" in text


def between_sprints(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    """Platform alone, its Phase 5 moved to Monday 2025-11-17: Wed 11-12 to Sun 11-16 are
    between sprints."""
    path = tmp_path / "platform.toml"
    path.write_text(
        (TEAMS / "platform.toml").read_text().replace("start = 2025-11-12", "start = 2025-11-17")
    )
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, datetime(2025, 11, 14, 15, tzinfo=UTC))  # Friday, 10:00 in New York
    return server


def test_between_sprints_the_bot_says_none_runs_and_posts_nothing_daily(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = between_sprints(make_server, tmp_path)
    body = slash(server.url, "/sprint", user_id="U0ALICE").json()
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith(
        "Phase 5 Hardening — No sprint running; the next starts on 2025-11-17"
    )
    home_opened(server, "U0ALICE")
    listeners_done()
    server.runtime.sender.drain()
    [call] = server.slack.calls_to("views.publish")
    view: dict[str, Any] = call.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["text"]["text"] == (
        "Phase 5 Hardening — No sprint running; the next starts on 2025-11-17"
    )
    # Phase 4's outcome is on the Home, under "Past sprints".
    home = blocks_text(view["blocks"])
    assert "*Past sprints*\n*Phase 4 Production Readiness* (2025-10-29 → 2025-11-11)" in home
    before = len(posts(server))
    for job in ("daily-report", "standup-prompt"):
        said = bot_clock.run_job(server.runtime, job, team=platform(server))
        assert said == f"{job}: no sprint running; the next starts on 2025-11-17; nothing posted"
    server.runtime.sender.drain()
    assert len(posts(server)) == before


def test_the_first_report_of_a_sprint_covers_the_days_since_the_last_workday(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Phase 5 starts on a Monday, Phase 4 having ended the Tuesday before: regressions CI
    found on the Friday between them are in Phase 5's first report ("Since Fri …"), not in
    none (it covered Sunday alone)."""
    teams = tmp_path / "teams"
    shutil.copytree(TEAMS, teams)
    platform = teams / "platform.toml"
    platform.write_text(platform.read_text().replace("start = 2025-11-12", "start = 2025-11-17"))
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    names = [f"orchestration/test_{n}" for n in range(3)]
    ci(server, dict.fromkeys(names, P), "wed", datetime(2025, 11, 12, 20, tzinfo=UTC))
    ci(server, dict.fromkeys(names, F), "fri", datetime(2025, 11, 14, 20, tzinfo=UTC))
    at(server, datetime(2025, 11, 17, 14, tzinfo=UTC))  # Monday 9:00 New York, day 1
    team = server.runtime.teams.get("platform")
    assert team is not None
    assert bot_clock.run_job(server.runtime, "daily-report", team=team).endswith("posted")
    server.runtime.sender.drain()
    [report] = [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if "Daily report" in c.args.get("text", "")
    ]
    assert "*Since Fri 2025-11-14 (3 days)*: 1 CI run(s), 1 report(s)" in report, report
    assert "• Regressed: 3" in report, report


def test_the_next_sprints_home_shows_no_chart_of_the_sprint_before(org: Server) -> None:
    """On Phase 5's first morning, before its first 9:00 report, App Home headed "Phase 5
    Hardening — Day 1 of 10" showed Phase 4's last burn-down ("day 14 of 14"): the team's
    newest chart, of whichever sprint (found by review)."""
    ci(org, {"orchestration/test_a": P}, "p4", datetime(2025, 11, 10, 20, tzinfo=UTC))
    at(org, datetime(2025, 11, 11, 14, tzinfo=UTC))  # 09:00 New York, Phase 4's last day
    assert bot_clock.run_job(org.runtime, "daily-report", team=platform(org)).endswith("posted")
    org.runtime.sender.drain()
    [complete] = org.slack.calls_to("files.completeUploadExternal")
    assert "day 14 of 14" in str(complete.args), complete.args
    at(org, datetime(2025, 11, 12, 13, tzinfo=UTC))  # 08:00 New York: Phase 5's day 1
    home_opened(org, "U0ALICE")
    listeners_done()
    org.runtime.sender.drain()
    view: dict[str, Any] = org.slack.calls_to("views.publish")[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["blocks"][0]["text"]["text"].startswith("Phase 5 Hardening — Day 1 of 10")
    assert [b for b in view["blocks"] if b["type"] == "image"] == []

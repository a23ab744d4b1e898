"""A whole org's teams and sprints in one deployment, at their edges (found in review): a
form across a sprint's boundary, a team reached by channel membership, an id that is
another team's name, a code shown in a shared channel typed back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.test_teams_home import buttons, published
from tests.support.e2e import home_opened
from tests.support.listeners import listeners_done
from tests.support.server import ROOT, Server
from tests.support.slack import slash

TEAMS = ROOT / "examples" / "teams"
NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)  # both teams' sprints run


def running_org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    """The example teams (examples/teams), both sprints running."""
    shutil.copytree(TEAMS, tmp_path / "teams")
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    server.clock.at = NOW
    return server


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    return running_org(make_server, tmp_path)


def test_home_of_someone_in_a_team_by_channel_membership_offers_that_team(org: Server) -> None:
    # Alice is listed in platform's file and is a member of #mobile, whose participants
    # are "team": she is in both teams (commands in a DM ask her which).
    org.slack.channels["C0MOBILE"] = {"name": "mobile"}
    org.slack.team_members = ["U0ALICE", "U0DAVE"]
    # Outside a team channel, a command of hers asks which team (she is in both).
    asked = slash(org.url, "/sprint", user_id="U0ALICE").json()
    assert asked["text"].startswith("You are in several teams (`platform`, `mobile`)"), asked
    home_opened(org, "U0ALICE")
    [view] = published(org)
    assert view["blocks"][0]["text"]["text"].startswith("Phase 4 Production Readiness")
    assert [b["text"]["text"] for b in buttons(view)] == ["Show Mobile Apps"]


@pytest.mark.parametrize("next_start", ["2025-11-12", "2025-12-01"])
def test_a_standup_opened_on_a_sprints_last_evening_and_sent_after_midnight_counts(
    make_server: Callable[..., Server], tmp_path: Path, next_start: str
) -> None:
    """Alice opens /standup at 23:50 on Phase 4's last day (2025-11-11, New York) and sends
    it at 00:05, when Phase 5 has started (or weeks before it does): as on any other evening
    of a sprint, her answer counts for the day the form was opened for, in its sprint."""
    import json

    from sqlmodel import select

    from storage.models import Standup
    from tests.support.e2e import ANSWER, opened, submit

    shutil.copytree(TEAMS, tmp_path / "teams")
    f = tmp_path / "teams" / "platform.toml"
    f.write_text(f.read_text().replace("start = 2025-11-12", f"start = {next_start}"))
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    server.clock.at = datetime(2025, 11, 12, 4, 50, tzinfo=UTC)  # Tue 23:50 NY, Phase 4 day 14
    slash(server.url, "/standup", "platform", user_id="U0ALICE")
    meta = json.loads(opened(server)[-1]["private_metadata"])
    assert meta["day"] == "2025-11-11"
    server.clock.at = datetime(2025, 11, 12, 5, 5, tzinfo=UTC)  # Wed 00:05 NY, Phase 5 day 1
    resp = submit(
        server,
        "U0ALICE",
        metadata=meta,
        **{**ANSWER, "components_improved": ["Task Orchestration"], "current_blockers": ""},
    )
    assert resp.status_code == 200
    assert resp.text == "", resp.text
    team = server.runtime.teams.get("platform")
    assert team is not None
    phase4 = server.runtime.teams.scope(team, team.sprints[0])
    with server.runtime.contexts.db.scoped(phase4).read() as s:
        assert [r.day.isoformat() for r in s.exec(select(Standup))] == ["2025-11-11"]


def test_team_id_wins_over_another_teams_name(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Three teams: "apps" is called "Mobile", and "mobile" is another team's id. A CI
    naming `team=mobile` (the org's token) acts for team "mobile", not for the team whose
    display name happens to be "Mobile"."""
    from urllib.parse import urlencode

    from tests.support import httpc
    from tests.support.e2e import AUTH

    shutil.copytree(TEAMS, tmp_path / "teams")
    mobile = (tmp_path / "teams" / "mobile.toml").read_text()
    apps = mobile.replace('id = "mobile"', 'id = "apps"').replace(
        'name = "Mobile Apps"', 'name = "Mobile"'
    )
    apps = apps.replace('team = "#mobile"', 'team = "#apps"')
    (tmp_path / "teams" / "apps.toml").write_text(apps)
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    server.clock.at = NOW
    resp = httpc.get(
        f"{server.url}/api/v1/sprints?{urlencode({'team': 'mobile'})}",
        headers={"Authorization": AUTH["Authorization"]},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["team"] == "mobile"


def test_the_morning_refresh_of_a_two_team_home_keeps_its_switch_button(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob is in both teams (tests.support.server.two_teams): his Home shows mobile's
    dashboard with a "Show Core Platform" button. The 9:00 refresh of mobile's Homes
    re-publishes it; the button must stay, or he cannot reach platform's dashboard."""
    from bot.clock import run_job
    from tests.support.server import two_teams

    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = datetime(2025, 11, 4, 7, 0, tzinfo=UTC)  # 08:00 Berlin
    home_opened(server, "U0BOB")
    [first] = published(server)
    assert [b["text"]["text"] for b in buttons(first)] == ["Show Core Platform"]
    server.clock.at = datetime(2025, 11, 4, 8, 0, tzinfo=UTC)  # 09:00 Berlin: mobile's report
    mobile = server.runtime.teams.get("mobile")
    assert mobile is not None
    run_job(server.runtime, "daily-report", team=mobile)
    views = published(server)
    assert len(views) == 2, len(views)
    assert views[1]["blocks"][0]["text"]["text"].startswith("Offline Sync")
    assert [b["text"]["text"] for b in buttons(views[1])] == ["Show Core Platform"]


def test_day_one_of_the_next_sprint_carries_over_yesterdays_plan(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Alice answers on Phase 4's last day (focus: "memory eviction"); the next morning,
    Phase 5's day 1, her standup form shows yesterday's plan for carry-over, as on every
    other morning (DESIGN: "yesterday's today's plan shown for carry-over")."""
    import json

    from tests.support.e2e import ANSWER, opened, submit

    shutil.copytree(TEAMS, tmp_path / "teams")
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    answer = {**ANSWER, "components_improved": ["Task Orchestration"], "current_blockers": ""}
    server.clock.at = datetime(2025, 11, 10, 15, tzinfo=UTC)  # Phase 4 day 13
    assert (
        submit(server, "U0ALICE", metadata={"day": "2025-11-10", "team": "platform"}, **answer).text
        == ""
    )
    server.clock.at = datetime(2025, 11, 11, 15, tzinfo=UTC)  # Phase 4 day 14
    assert (
        submit(server, "U0ALICE", metadata={"day": "2025-11-11", "team": "platform"}, **answer).text
        == ""
    )
    slash(server.url, "/standup", "platform", user_id="U0ALICE")
    within = json.dumps(opened(server)[-1])
    assert "memory eviction" in within  # a day within the sprint: carried over
    server.clock.at = datetime(2025, 11, 12, 15, tzinfo=UTC)  # Phase 5 day 1
    slash(server.url, "/standup", "platform", user_id="U0ALICE")
    views = opened(server, 2)
    assert "memory eviction" in json.dumps(views[-1])


def test_resolving_a_blocker_by_the_code_a_shared_channel_shows_it_with(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """In #critical-blockers, which both teams use, mobile's blocker is shown as
    "mobile B-001". Dave (mobile's admin) copies that code: `/blocker resolve mobile B-001`
    typed there resolves it rather than refusing the code the bot itself showed."""
    from tests.e2e.test_teams_routing import blockers_of, command, in_channel
    from tests.support.server import two_teams

    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = NOW
    in_channel(server, "platform", "/blocker", "P2 Task Orchestration: slow", user="U0ALICE")
    in_channel(server, "mobile", "/blocker", "P2 Sync: drops", user="U0DAVE")
    listeners_done()
    server.runtime.sender.drain()
    shown = [c.args.get("text", "") for c in server.slack.calls_to("chat.postMessage")]
    assert any("mobile B-001" in t for t in shown), shown
    # Someone acting for platform there is told how to act for mobile's, and nothing moves.
    other = command(
        server,
        "/blocker",
        "resolve mobile B-001 fixed",
        user="U0ALICE",
        channel="CCRITICALBLOCKERS",
        channel_name="critical-blockers",
    )
    assert other.json()["text"] == (
        "You are acting for platform here; for mobile's blocker, type "
        "`/blocker mobile resolve B-001 fixed`."
    )
    listeners_done()
    assert blockers_of(server)["platform"][0].resolved_at is None
    resp = command(
        server,
        "/blocker",
        "resolve mobile B-001 fixed",
        user="U0DAVE",
        channel="CCRITICALBLOCKERS",
        channel_name="critical-blockers",
    )
    assert resp.json()["text"] == ":white_check_mark: B-001 resolved.", resp.json()["text"]
    listeners_done()
    assert blockers_of(server)["mobile"][0].resolved_at is not None

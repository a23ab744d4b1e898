"""The App Home of someone in two teams: one Home tab per person, showing one team's
dashboard with a button for the other, which shows that team's instead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import run_job
from tests.support.e2e import blocks_text, click, home_opened
from tests.support.listeners import listeners_done
from tests.support.server import TEAMS, Server, two_teams

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)  # both teams' sprints run


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = NOW
    return server


def published(server: Server) -> list[dict[str, Any]]:
    listeners_done()
    server.runtime.sender.drain()
    return [c.args["view"] for c in server.slack.calls_to("views.publish")]


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_someone_in_two_teams_switches_their_home_between_them(org: Server) -> None:
    home_opened(org, "U0BOB")
    [first] = published(org)
    header = first["blocks"][0]["text"]["text"]
    assert header.startswith("Offline Sync")  # mobile: the first of Bob's teams
    [show] = buttons(first)
    assert show["text"]["text"] == "Show Core Platform"

    click(org, show["action_id"], show["value"], user="U0BOB", channel="D0HOME")
    views = published(org)
    assert len(views) == 2
    assert views[1]["blocks"][0]["text"]["text"].startswith("Phase 4 Production Readiness")
    assert [b["text"]["text"] for b in buttons(views[1])] == ["Show Mobile Apps"]


def test_someone_in_one_team_gets_no_team_buttons(org: Server) -> None:
    home_opened(org, "U0ALICE")
    [view] = published(org)
    assert view["blocks"][0]["text"]["text"].startswith("Phase 4 Production Readiness")
    assert buttons(view) == []
    assert "Show " not in blocks_text(view["blocks"])


def test_daily_reports_in_a_status_channel_both_teams_use_name_their_team(org: Server) -> None:
    from bot.clock import run_job
    from storage.models import Blocker

    teams = org.runtime.teams
    for team_id, component in (("platform", "Task Orchestration"), ("mobile", "Sync")):
        team = teams.get(team_id)
        assert team is not None
        with org.runtime.for_team(team).db.session() as session:
            session.add(
                Blocker(
                    component=component,
                    description="stuck",
                    severity="P1",
                    reported_by="U0BOB",
                    reported_at=NOW,
                )
            )
            session.commit()
        run_job(org.runtime, "daily-report", team=team)
    org.runtime.sender.drain()
    reports = [
        c.args
        for c in org.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == "#sprint-status" and "thread_ts" not in c.args
    ]
    texts = [blocks_text(r["blocks"]) for r in reports]
    assert len(texts) == 2, texts
    platform, mobile = texts
    assert platform.startswith("platform · Daily report — Day 7 of 14")
    assert "platform B-001" in platform and "mobile" not in platform
    assert mobile.startswith("mobile · Daily report — Day 2 of 14")
    assert "mobile B-001" in mobile and "platform" not in mobile


def _after_two_mornings(org: Server) -> list[str]:
    """Each team's 9:00 the next morning (mobile's at 08:00 UTC, platform's at 14:00 UTC),
    each refreshing the Homes opened this week: the heads of Bob's Homes since."""
    teams = org.runtime.teams
    org.clock.at = datetime(2025, 11, 5, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    run_job(org.runtime, "daily-report", team=teams.get("mobile"))
    org.clock.at = datetime(2025, 11, 5, 14, 0, tzinfo=UTC)  # 09:00 in New York
    run_job(org.runtime, "daily-report", team=teams.get("platform"))
    published(org)
    return [
        c.args["view"]["blocks"][0]["text"]["text"][:30]
        for c in org.slack.calls_to("views.publish")
        if c.args.get("user_id") == "U0BOB"
    ]


def _switch(org: Server, view: dict[str, Any], ts: str) -> dict[str, Any]:
    """Bob clicks his Home's button for his other team; the Home it shows then."""
    [show] = buttons(view)
    click(org, show["action_id"], show["value"], user="U0BOB", channel="D0HOME", ts=ts)
    return published(org)[-1]


def test_the_morning_refresh_keeps_the_team_someone_in_two_went_back_to(org: Server) -> None:
    """Bob (mobile first, and platform) opens Home, looks at platform and goes back to
    mobile: the next morning's refreshes leave his Home on mobile, though platform's 9:00
    comes last."""
    home_opened(org, "U0BOB")
    first = published(org)[-1]
    assert first["blocks"][0]["text"]["text"].startswith("Offline Sync")
    second = _switch(org, first, "9.1")
    assert second["blocks"][0]["text"]["text"].startswith("Phase 4")
    org.clock.at = datetime(2025, 11, 4, 14, 1, tzinfo=UTC)
    assert _switch(org, second, "9.2")["blocks"][0]["text"]["text"].startswith("Offline Sync")
    shown = _after_two_mornings(org)
    assert shown[-1].startswith("Offline Sync"), shown


def test_the_morning_refresh_keeps_the_team_someone_in_two_chose(org: Server) -> None:
    """The mirror case: Bob chooses platform, and mobile (the first team, whose outbox
    keys have no prefix) refreshes first: his Home stays on platform."""
    home_opened(org, "U0BOB")
    first = published(org)[-1]
    assert _switch(org, first, "9.1")["blocks"][0]["text"]["text"].startswith("Phase 4")
    shown = _after_two_mornings(org)
    assert shown[-1].startswith("Phase 4"), shown


# -- more teams and more sprints than a glance holds (found by review) ----------------------


def seven_teams(directory: Path) -> Path:
    """examples/teams (U0BOB in both) plus five more mobile-like teams U0BOB is in too."""
    two_teams(directory)
    mobile = (directory / "mobile.toml").read_text(encoding="utf-8")
    for i in range(1, 6):
        extra = (
            mobile.replace('id = "mobile"', f'id = "squad-{i}"')
            .replace('name = "Mobile Apps"', f'name = "Squad {i}"')
            .replace('team = "#mobile"', f'team = "#squad-{i}"')
        )
        (directory / f"squad-{i}.toml").write_text(extra, encoding="utf-8")
    return directory


def test_home_of_someone_in_seven_teams_offers_every_other_team(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob is in seven teams: his Home offered buttons for five of the other six, and no
    word of the sixth, whose dashboard he could not reach from it."""
    server = make_server(SPRINTBOT_CONFIG=str(seven_teams(tmp_path / "teams")))
    server.clock.at = NOW
    home_opened(server, "U0BOB")
    [view] = published(server)
    shown = sorted(b["text"]["text"] for b in buttons(view))
    assert len(shown) == 6 and [x for x in shown if x.startswith("Show Squad")] == [
        f"Show Squad {i}" for i in range(1, 6)
    ], shown


def weekly_team(directory: Path) -> Path:
    """platform.toml with seven one-week sprints before the running one."""
    text = (TEAMS / "platform.toml").read_text(encoding="utf-8")
    head, tail = text.split("[[sprints]]", 1)[0], "[channels]" + text.split("[channels]", 1)[1]
    sprints = "".join(
        f'[[sprints]]\nname = "Week {k + 1}"\nstart = 2025-09-{10 + 7 * k:02d}\ndays = 7\n'
        "targets = { readiness = 85.0, pass_rate = 87.0 }\n\n"
        if 10 + 7 * k <= 30
        else f'[[sprints]]\nname = "Week {k + 1}"\nstart = 2025-10-{10 + 7 * k - 30:02d}\n'
        "days = 7\ntargets = { readiness = 85.0, pass_rate = 87.0 }\n\n"
        for k in range(7)
    )
    sprints += (
        '[[sprints]]\nname = "Phase 4 Production Readiness"\nstart = 2025-10-29\ndays = 14\n'
        "targets = { readiness = 85.0, pass_rate = 87.0 }\n\n"
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "platform.toml").write_text(head + sprints + tail, encoding="utf-8")
    return directory


def test_home_past_sprints_says_how_many_more_there_are(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Seven weekly sprints ended: the Home listed the newest five and never said two more
    exist, as `/sprint history` does."""
    server = make_server(SPRINTBOT_CONFIG=str(weekly_team(tmp_path / "teams")))
    server.clock.at = NOW
    home_opened(server, "U0ALICE")
    [view] = published(server)
    past = blocks_text(view["blocks"]).split("*Past sprints*\n", 1)[1].split("\nUpdated")[0]
    assert [k for k in range(1, 8) if f"*Week {k}*" in past] == [3, 4, 5, 6, 7], past
    assert past.splitlines()[-1] == "_+2 more — `GET /api/v1/sprints` lists them all_", past

"""App Home for someone in several teams (found by review): the newest request wins, and
opening the tab again keeps the team chosen."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.support.e2e import blocks_text, click, home_opened, home_views, view_buttons
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)  # both teams' sprints run


def test_the_team_clicked_after_opening_the_home_stays_shown(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob is in Mobile Apps (tech lead; its participants are "everyone in #mobile") and
    Core Platform. He opens his Home tab: Slack shows the view he last had, with its
    *Show Core Platform* button, while sprintbot rebuilds Mobile's dashboard (reading
    #mobile up in Slack, slow this moment). He clicks *Show Core Platform* a
    second later. Core Platform's dashboard is published, then the slower Mobile one
    from the open lands after it and replaces it: Bob is back on Mobile Apps though his
    last action asked for Core Platform. The newer request (the click) should win."""
    teams = two_teams(tmp_path / "teams")
    mobile = (teams / "mobile.toml").read_text(encoding="utf-8")
    mobile = mobile.replace(
        'participants = ["U0DAVE", "U0ERIN", "U0BOB"]', 'participants = "team"'
    ).replace('tech_lead = ["U0DAVE"]', 'tech_lead = ["U0DAVE", "U0BOB"]')
    (teams / "mobile.toml").write_text(mobile, encoding="utf-8")
    org = make_server(SPRINTBOT_CONFIG=str(teams))
    org.clock.at = NOW

    home_opened(org, "U0BOB")
    listeners_done()
    org.runtime.sender.drain()
    [first] = home_views(org, "U0BOB")
    assert blocks_text(first["blocks"]).startswith("Offline Sync"), blocks_text(first["blocks"])
    [show] = view_buttons(first)
    assert show["text"]["text"] == "Show Core Platform"

    # Later that day he opens the tab again; Slack is slow to list #mobile's members.
    org.clock.at = datetime(2025, 11, 4, 15, 0, tzinfo=UTC)
    org.slack.slow("conversations.list", 2.0, times=5)
    home_opened(org, "U0BOB")
    time.sleep(0.3)
    click(org, show["action_id"], show["value"], user="U0BOB", channel="D0HOME", ts="1762268401.0")
    listeners_done()
    org.runtime.sender.drain()
    views = home_views(org, "U0BOB")
    heads = [blocks_text(v["blocks"])[:30] for v in views]
    # The open's Home, built after the click's, is not published over it.
    assert len(views) == 2, heads
    assert heads[-1].startswith("Phase 4 Production Readiness"), heads


def test_reopening_the_home_tab_keeps_the_team_chosen(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob (Mobile Apps first, and Core Platform) opens his Home and clicks *Show Core
    Platform*: he works on Platform this week. The morning refresh deliberately keeps his
    Home on Core Platform (tests/e2e/test_teams_home.py). But each time he merely switches
    back to the Home tab (app_home_opened), it is republished as Mobile Apps, the first of
    his teams, and he has to click *Show Core Platform* again, every single time. Opening
    the tab should keep the team he chose, as the morning refresh does."""
    org = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    org.clock.at = NOW
    home_opened(org, "U0BOB")
    listeners_done()
    org.runtime.sender.drain()
    [first] = home_views(org, "U0BOB")
    [show] = view_buttons(first)
    click(org, show["action_id"], show["value"], user="U0BOB", channel="D0HOME", ts="1762264801.0")
    listeners_done()
    org.runtime.sender.drain()
    assert blocks_text(home_views(org, "U0BOB")[-1]["blocks"]).startswith("Phase 4 Production")

    org.clock.at = datetime(2025, 11, 4, 16, 0, tzinfo=UTC)
    home_opened(org, "U0BOB")  # back to the Home tab later
    listeners_done()
    org.runtime.sender.drain()
    views = home_views(org, "U0BOB")
    assert len(views) == 3
    assert blocks_text(views[-1]["blocks"]).startswith("Phase 4 Production"), blocks_text(
        views[-1]["blocks"]
    )[:40]

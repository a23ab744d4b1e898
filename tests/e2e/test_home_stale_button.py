"""App Home (found by review)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.support.e2e import blocks_text, home_opened, home_views, view_buttons
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams
from tests.support.slack import post_signed

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)


def home_click(server: Server, user: str, button: dict[str, Any], ts: str) -> int:
    """A click on a Home tab's button as Slack sends it: a view container, no channel and
    no response_url."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "bob", "team_id": "T1"},
        "api_app_id": "A1",
        "team": {"id": "T1", "domain": "test"},
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": "1.2.3",
        "view": {"id": "V0HOME", "type": "home", "private_metadata": "", "blocks": []},
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b",
                "value": button["value"],
                "type": "button",
                "action_ts": ts,
            }
        ],
    }
    return post_signed(server.url, urlencode({"payload": json.dumps(payload)})).status_code


def three_teams(directory: Path) -> Path:
    two_teams(directory)
    mobile = (directory / "mobile.toml").read_text(encoding="utf-8")
    squad = (
        mobile.replace('id = "mobile"', 'id = "squad"')
        .replace('name = "Mobile Apps"', 'name = "Squad"')
        .replace('team = "#mobile"', 'team = "#squad"')
    )
    (directory / "squad.toml").write_text(squad, encoding="utf-8")
    return directory


def test_a_home_button_for_a_team_removed_since_does_something(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob is in three teams; his Home (Mobile Apps) has *Show Core Platform* and *Show
    Squad*. The Squad team is then removed from the deployment (its file deleted, the bot
    restarted). Bob clicks *Show Squad* on the Home tab he still has open: nothing at all
    happens -- no Home is published, no word of why: the request is routed to "which team?",
    whose answer goes to `respond`, and a Home click has no response_url, so the middleware
    raises (logged: "listener failed: ValueError('respond is unsupported here as there is no
    response_url')"). He should get his
    Home back (e.g. his first team's dashboard, now without the Squad button) or be told
    the team is gone."""
    teams = three_teams(tmp_path / "teams")
    org = make_server(SPRINTBOT_CONFIG=str(teams))
    org.clock.at = NOW
    home_opened(org, "U0BOB")
    listeners_done()
    org.runtime.sender.drain()
    [first] = home_views(org, "U0BOB")
    squad = next(b for b in view_buttons(first) if b["text"]["text"] == "Show Squad")

    (teams / "squad.toml").unlink()
    org2 = make_server(SPRINTBOT_CONFIG=str(teams))
    org2.clock.at = datetime(2025, 11, 4, 14, 5, tzinfo=UTC)
    assert home_click(org2, "U0BOB", squad, "1762265100.000200") == 200
    listeners_done()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(home_views(org2, "U0BOB")) < 2:
        org2.runtime.sender.drain()
        time.sleep(0.1)
    views = home_views(org2, "U0BOB")
    assert len(views) == 2, "clicking Show Squad did nothing: no Home was published"
    assert "Show Squad" not in blocks_text(views[-1]["blocks"])


def _morning_refresh_after_edit(make_server, tmp_path, edit) -> list[dict[str, Any]]:
    from bot.clock import run_job

    teams = three_teams(tmp_path / "teams")
    org = make_server(SPRINTBOT_CONFIG=str(teams))
    org.clock.at = NOW
    home_opened(org, "U0BOB")
    listeners_done()
    org.runtime.sender.drain()
    [first] = home_views(org, "U0BOB")
    assert sorted(b["text"]["text"] for b in view_buttons(first)) == [
        "Show Core Platform",
        "Show Squad",
    ]
    edit(teams)
    org2 = make_server(SPRINTBOT_CONFIG=str(teams))  # the bot restarted on the new files
    org2.clock.at = datetime(2025, 11, 5, 8, 0, tzinfo=UTC)  # 09:00 in Berlin: mobile's report
    said = run_job(org2.runtime, "daily-report", team=org2.runtime.teams.get("mobile"))
    assert said.endswith("posted"), said
    org2.runtime.sender.drain()
    views = home_views(org2, "U0BOB")
    assert len(views) == 2, len(views)
    return views


def test_the_morning_refresh_drops_the_button_of_a_team_removed_since(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob (Mobile Apps, Core Platform, Squad) opened his Home yesterday: Mobile's dashboard
    with *Show Core Platform* and *Show Squad*. The Squad team's file is then deleted and
    the bot restarted. This morning Mobile's 9:00 report refreshes his Home: it still offers
    *Show Squad*, a team the deployment no longer has (the refresh copies the buttons of
    the Home last opened), and clicking it does nothing. The refreshed Home should offer
    only the teams that exist."""
    views = _morning_refresh_after_edit(
        make_server, tmp_path, lambda teams: (teams / "squad.toml").unlink()
    )
    assert [b["text"]["text"] for b in view_buttons(views[-1])] == ["Show Core Platform"]


def test_the_morning_refresh_names_a_renamed_team_by_its_new_name(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """As above, but the Core Platform team is renamed "Platform Guild" in its file (same
    id). This morning's refreshed Home still says *Show Core Platform*, the old name."""

    def rename(teams: Path) -> None:
        p = teams / "platform.toml"
        p.write_text(p.read_text().replace('name = "Core Platform"', 'name = "Platform Guild"'))

    views = _morning_refresh_after_edit(make_server, tmp_path, rename)
    assert sorted(b["text"]["text"] for b in view_buttons(views[-1])) == [
        "Show Platform Guild",
        "Show Squad",
    ]

"""Slack's requests and App Home where they failed a user (each found by review): an
unsigned malformed request, Slack's SSL check, the Home of someone in no team, the Home's
team button, `/readiness show WORDS`, `help` from someone in several teams."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import httpc
from tests.support.e2e import blocks_text, home_opened
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)  # both example teams' sprints run


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


# -- 1. unsigned, malformed requests crash with a 500 --------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", "{not json"),
        ("application/x-www-form-urlencoded", "payload=%7Bnot+json"),
        ("application/x-www-form-urlencoded", "command=%2Freadiness&text=%FF%FE"),
    ],
)
def test_an_unverifiable_malformed_request_is_refused_not_a_500(
    server: Server, content_type: str, body: str
) -> None:
    """A request Slack did not sign (wrong signature) whose body is not what Slack sends is
    refused as unsigned (401), as a non-numeric timestamp is: not a traceback and a 500."""
    raw = body.encode("latin-1") if "%FF" not in body else b"command=%2Freadiness&text=\xff\xfe"
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    resp = httpc.post(f"{server.url}/slack/events", content=raw, headers=headers, timeout=10)
    assert resp.status_code == 401, (resp.status_code, resp.text[:200])


# -- 2. App Home of someone in none of several teams ---------------------------------------


def test_home_of_someone_in_no_team_offers_every_team(org: Server) -> None:
    """U0ZED is in neither team (a manager, a stakeholder). A command tells them "This serves
    several teams (...) and you are in none of them" with a button per team; their Home tab
    shows the first team's dashboard with no word or button of the other team."""
    home_opened(org, "U0ZED")
    [view] = published(org)
    shown = blocks_text(view["blocks"])
    assert view["blocks"][0]["text"]["text"].startswith("Offline Sync")  # mobile's, the first
    offered = [b["text"]["text"] for b in buttons(view)]
    assert offered == ["Show Core Platform"], (offered, shown[-400:])


# -- 4. Slack's SSL check of the request URL is refused -------------------------------------


def test_slacks_ssl_check_is_answered_200(server: Server) -> None:
    """Slack checks the certificate of a slash command's request URL with `ssl_check=1`
    (Bolt answers it 200 before verifying a signature: Slack sends it unsigned); the
    timestamp check in front of Bolt answers it 401."""
    resp = httpc.post(
        f"{server.url}/slack/events",
        content="ssl_check=1&token=legacy-unused",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert resp.status_code == 200, (resp.status_code, resp.text)


# -- 6. the Home's *Show <team>* button is answered 404 ------------------------------------


def test_the_homes_show_team_button_is_acknowledged(org: Server) -> None:
    """Bob (mobile and platform) clicks *Show Core Platform* on his Home. The dashboard is
    published, but the click is answered 404 "unhandled request" (its listener never
    acknowledges), so Slack marks the button with an error as if the app had failed."""
    from tests.support.e2e import click

    home_opened(org, "U0BOB")
    [view] = published(org)
    [show] = buttons(view)
    resp = click(org, show["action_id"], show["value"], user="U0BOB", channel="D0HOME")
    views = published(org)
    assert views[-1]["blocks"][0]["text"]["text"].startswith("Phase 4")  # it did publish
    assert resp.status_code == 200, (resp.status_code, resp.text)


# -- 7. `/readiness show WORDS` answers another breakdown than asked, silently ---------------


def _in_channel(server: Server, channel: str, name: str, text: str, *, user: str) -> Any:
    from urllib.parse import urlencode

    from tests.support.slack import post_signed

    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            "channel_name": (
                "directmessage" if channel.startswith("D") else channel.removeprefix("C0").lower()
            ),
            "user_id": user,
            "command": name,
            "text": text,
            "api_app_id": "A1",
            "response_url": server.slack.response_url("action"),
            "trigger_id": "1.2.3",
        }
    )
    return post_signed(server.url, body)


def test_readiness_show_with_words_after_it_is_not_silently_another_teams(org: Server) -> None:
    """In #platform, Bob (in both teams) types `/readiness show mobile`: he gets platform's
    breakdown, the word "mobile" dropped without a word, where `/sprint status mobile` is
    refused ("takes nothing after it") and `/readiness mobile` shows mobile's. The answer
    should be mobile's breakdown, or a refusal that says how to ask for it."""
    resp = _in_channel(org, "C0PLATFORM", "/readiness", "show mobile", user="U0BOB")
    assert resp.status_code == 200
    answer = resp.json()
    shown = answer.get("text", "") + json.dumps(answer.get("blocks") or [])
    assert "Phase 4 Production Readiness" not in shown, shown[:300]
    assert answer["text"].startswith('`/readiness show` takes nothing after it, not "mobile".')


# -- 8. `help` of a command is answered "which team?" -------------------------------------


@pytest.mark.parametrize("command", ["/readiness", "/sprint", "/blocker", "/standup"])
def test_help_is_answered_with_the_usage_not_which_team(org: Server, command: str) -> None:
    """ "`help` after any command answers its usage" (docs/slack.md). Bob, in both teams,
    types `/sprint help` in a DM: he is asked which team it is for, with a button per team,
    though the usage is the same for every team."""
    resp = _in_channel(org, "D0BOB", command, "help", user="U0BOB")
    assert resp.status_code == 200
    text = resp.json()["text"]
    assert "which is this for?" not in text, text
    assert "Usage" in text, text


def test_a_new_sprints_first_morning_keeps_the_homes_team_button_and_lists_the_sprint_ended(
    org: Server,
) -> None:
    """Bob (mobile and platform) looks at platform's Home on Phase 4's last day. The next
    morning, Phase 5's first, the 9:00 refresh showed Phase 5 without his button back to
    mobile and without Phase 4 under Past sprints: the refresh kept them only from a Home
    of the same sprint."""
    from bot.clock import run_job

    org.clock.at = datetime(2025, 11, 11, 15, 0, tzinfo=UTC)  # Phase 4's last day
    home_opened(org, "U0BOB")
    [show] = buttons(published(org)[-1])
    from tests.support.e2e import click

    click(org, show["action_id"], show["value"], user="U0BOB", channel="D0HOME")
    before = published(org)[-1]
    assert blocks_text(before["blocks"]).startswith("Phase 4 Production Readiness — Day 14")
    assert "*Past sprints*" not in blocks_text(before["blocks"])
    org.clock.at = datetime(2025, 11, 12, 14, 0, tzinfo=UTC)  # 9:00 in New York
    said = run_job(org.runtime, "daily-report", team=org.runtime.teams.get("platform"))
    assert said.startswith("daily-report: posted"), said
    refreshed = published(org)[-1]
    text = blocks_text(refreshed["blocks"])
    assert text.startswith("Phase 5 Hardening — Day 1 of 10"), text
    assert [b["text"]["text"] for b in buttons(refreshed)] == ["Show Mobile Apps"]
    assert "*Past sprints*\n*Phase 4 Production Readiness* (2025-10-29 → 2025-11-11)" in text

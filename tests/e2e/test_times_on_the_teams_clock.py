"""Times shown to users in the team's zone (DESIGN: "All dates are the sprint's local
dates"): a team in Asia/Kolkata (UTC+5:30) beside one in New York. Late on its evening
(00:30 IST on Tuesday 2025-11-04 = 19:00 UTC on Monday 2025-11-03) CI reports and a test
is quarantined for 2 days. Every other surface says Tuesday (the daily report's
"Yesterday (2025-11-04)", the blocker's "(2025-11-04)", `/tests show`'s "Tue 04 Nov
00:30", `/tests quarantined`'s "until Thu 06 Nov 00:30"), but the quarantine
confirmation, the team's quarantine notice, the alert's Quarantine button and App Home
printed UTC — a different time and even a different calendar date for the same instant
(found by review). They say it on the team's clock, as the listing does."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.test_clock_teams import team_file
from tests.e2e.test_teams_routing import command
from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text, home_opened, text_of
from tests.support.fakeslack import channel_id
from tests.support.listeners import listeners_done
from tests.support.reports import report
from tests.support.server import Clock, Server
from tests.support.slack import post_signed

LATE_EVENING = datetime(2025, 11, 3, 19, 0, tzinfo=UTC)  # Tue 04 Nov 00:30 in Kolkata


def org(tmp_path: Path) -> Path:
    folder = tmp_path / "teams"
    folder.mkdir()
    team_file(
        folder, "east", "America/New_York", [("East One", date(2025, 10, 27), 14)], ["U0EAST1"]
    )
    team_file(folder, "india", "Asia/Kolkata", [("India One", date(2025, 10, 27), 14)], ["U0INDIA"])
    return folder


def say(server: Server, text: str) -> str:
    name, _, rest = text.partition(" ")
    resp = command(
        server, name, rest, user="U0INDIA", channel=channel_id("#india"), channel_name="india"
    )
    listeners_done()
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return body.get("text", "") + "\n" + blocks_text(body.get("blocks") or [])


def upload(server: Server, doc: bytes, run: str, at: datetime) -> dict[str, Any]:
    query = urlencode({"team": "india", "run": run, "at": at.isoformat()})
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{query}", content=doc, headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


@pytest.fixture
def india(make_server: Callable[..., Server], clock: Clock, tmp_path: Path) -> Server:
    clock.at = datetime(2025, 11, 3, 3, 30, tzinfo=UTC)  # Mon 09:00 IST
    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path)))
    upload(server, report({"a/x": "passed", "a/flaky": "passed"}), "r1", clock.at)
    clock.at = LATE_EVENING
    return server


def test_the_quarantine_confirmation_and_notice_say_the_end_the_listing_says(
    india: Server,
) -> None:
    said = say(india, "/tests quarantine flaky for 2d because races")
    listing = say(india, "/tests quarantined")
    # The listing, in the team's zone: two days after Tue 04 Nov 00:30.
    assert "until Thu 06 Nov 00:30" in listing, listing
    india.runtime.sender.drain()
    posts = india.slack.calls_to("chat.postMessage")
    [notice] = [text_of(c) for c in posts if ":mute:" in text_of(c)]
    # The user who typed it, and the team told of it, read "05 Nov 19:00 UTC": another
    # day than the listing's, for the same end.
    assert "Thu 06 Nov 00:30" in said and "Thu 06 Nov 00:30" in notice, (said, notice)


def test_the_alert_quarantine_button_says_the_end_in_the_teams_zone(india: Server) -> None:
    reply = upload(india, report({"a/x": "failed", "a/flaky": "passed"}), "r2", LATE_EVENING)
    assert reply["alert"]
    india.runtime.sender.drain()
    [posted] = [c for c in india.slack.calls_to("chat.postMessage") if "regressed" in text_of(c)]
    blocks = posted.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    [value] = [
        e["value"]
        for b in blocks
        for e in b.get("elements", [])
        if isinstance(e, dict) and e.get("action_id") == "alert_mute"
    ]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0INDIA", "username": "dev", "team_id": "T1"},
        "api_app_id": "A1",
        "team": {"id": "T1", "domain": "test"},
        "channel": {"id": posted.args["channel"], "name": "india"},
        "container": {
            "type": "message",
            "message_ts": "1.2",
            "channel_id": posted.args["channel"],
        },
        "trigger_id": "1.2.3",
        "response_url": india.slack.response_url("action"),
        "actions": [
            {
                "action_id": "alert_mute",
                "block_id": "b",
                "value": value,
                "type": "button",
                "action_ts": "1.3",
            }
        ],
    }
    assert post_signed(india.url, urlencode({"payload": json.dumps(payload)})).status_code == 200
    listeners_done()
    [answer] = [c.args.get("text", "") for c in india.slack.calls_to("response/action")]
    # Quarantined for [flaky] quarantine_for (14d by default) from Tue 04 Nov 00:30 IST.
    assert answer.startswith("Quarantined 1 test until Tue 18 Nov 00:30"), answer


def test_app_home_shows_the_last_ci_run_on_the_teams_day(india: Server) -> None:
    upload(india, report({"a/x": "failed", "a/flaky": "passed"}), "r2", LATE_EVENING)
    show = say(india, "/tests show x")
    assert "Tue 04 Nov 00:30" in show, show  # `/tests show`: the run in the team's zone
    home_opened(india, "U0INDIA")
    listeners_done()
    india.runtime.sender.drain()
    [view] = [c.args["view"] for c in india.slack.calls_to("views.publish")]
    view = json.loads(view) if isinstance(view, str) else view
    shown = blocks_text(view["blocks"])
    # Home says the run was on Monday 2025-11-03 at 19:00 UTC: the team's Monday report
    # had long been posted; for the team it ran on day 9, Tuesday, at 00:30.
    assert "*Last CI run* `r2` at Tue 04 Nov 00:30" in shown, shown
    assert "Updated Tue 04 Nov 00:30" in shown, shown

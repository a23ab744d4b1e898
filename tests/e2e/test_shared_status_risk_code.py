"""#sprint-status is both teams' status channel: their reports show risk codes with the
team ("mobile R-001"). That code, typed back, names the risk, as "mobile B-001" does for
`/blocker resolve` (tests/e2e/test_org_edges.py; it was refused, found by review)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot import clock as bot_clock
from tests.e2e.test_teams_routing import NOW, command
from tests.support.e2e import opened, posts, risk_values, text_of, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = NOW
    return server


def test_a_risk_code_the_shared_status_channel_shows_is_taken_back(org: Server) -> None:
    """Mobile's daily report in #sprint-status (both teams' status channel) lists its risk
    as "*mobile R-001*". Dave, mobile's lead, copies it: `/risk update mobile R-001` typed
    in #sprint-status is refused ("mobile R-001" is not a risk id) although the bot itself
    showed the code that way, and `/blocker resolve mobile B-001` typed there works. It
    should open the edit form of mobile's R-001."""
    resp = view_submit(org, "risk", "U0DAVE", risk_values(), {"risk": None, "team": "mobile"})
    assert resp.status_code == 200
    listeners_done()
    mobile = org.runtime.teams.get("mobile")
    assert mobile is not None
    bot_clock.run_job(org.runtime, "daily-report", team=mobile)
    org.runtime.sender.drain()
    shown = [text_of(p) for p in posts(org) if p.args.get("channel") == "#sprint-status"]
    assert any("mobile R-001" in t for t in shown), shown

    resp = command(
        org,
        "/risk",
        "update mobile R-001",
        user="U0DAVE",
        channel="CSPRINTSTATUS",
        channel_name="sprint-status",
    )
    assert resp.status_code == 200
    answer = resp.content and resp.json().get("text")
    assert not answer, answer
    [view] = opened(org)
    assert view["title"]["text"] == "Edit R-001"


def test_a_link_by_both_codes_the_shared_status_channel_shows_is_made(org: Server) -> None:
    """Mobile's daily report in #sprint-status lists "*mobile B-001*" and "*mobile R-001*".
    Dave copies both: `/blocker link mobile B-001 mobile R-001` in #sprint-status is refused
    with the usage ("Link a blocker to a risk: `/blocker link B-007 R-002`"), although
    `/blocker link mobile B-001 R-001` works (test_teams_routing). It should link them."""
    command(
        org, "/blocker", "P2 Sync: drops", user="U0DAVE", channel="C0MOBILE", channel_name="mobile"
    )
    view_submit(org, "risk", "U0DAVE", risk_values(), {"risk": None, "team": "mobile"})
    listeners_done()
    resp = command(
        org,
        "/blocker",
        "link mobile B-001 mobile R-001",
        user="U0DAVE",
        channel="CSPRINTSTATUS",
        channel_name="sprint-status",
    )
    assert resp.json()["text"] == ":link: B-001 is linked to R-001.", resp.json()["text"]

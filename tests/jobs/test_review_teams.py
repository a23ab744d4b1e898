"""Two teams post their sprint review drafts in the status channel they share: a lesson
added to either team's review updates that team's draft in place, delivered through the
outbox to Slack — for the first team (whose outbox keys carry no prefix) and for the
second (whose keys do), end to end through the real server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from storage.models import OutboxMessage, OutboxStatus, Team
from storage.scope import Scope
from tests.support.e2e import text_of, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server, two_teams
from tests.support.slack import post_signed

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)  # both teams' sprints run
CHANNELS = {"platform": ("C0PLATFORM", "U0ALICE"), "mobile": ("C0MOBILE", "U0DAVE")}


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    server = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    server.clock.at = NOW
    return server


def review(server: Server, team: str) -> None:
    """/sprint review typed in the team's channel by its tech lead."""
    channel, user = CHANNELS[team]
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": channel,
            "channel_name": team,
            "user_id": user,
            "command": "/sprint",
            "text": "review",
            "api_app_id": "A1",
            "response_url": server.slack.response_url("review"),
            "trigger_id": "1.2.3",
        }
    )
    resp = post_signed(server.url, body)
    assert resp.json()["text"].startswith("Posting the sprint review draft in #sprint-status")


def lesson(server: Server, team: str, user: str, text: str) -> None:
    values = {
        "values": {
            "kind": {"value": {"type": "static_select", "selected_option": {"value": "went_well"}}},
            "text": {"value": {"type": "plain_text_input", "value": text}},
        }
    }
    resp = view_submit(server, "lesson", user, values, {"team": team})
    assert resp.status_code == 200 and resp.text == "", resp.text


def test_a_lesson_updates_its_own_teams_review_draft_for_every_team(org: Server) -> None:
    with org.runtime.contexts.db.read() as s:
        ids = {t.slug: t.id for t in s.exec(select(Team)).all()}
    assert sorted(ids.values()) == [1, 2]  # one team's keys are prefixed, the other's not

    for team in CHANNELS:
        review(org, team)
    listeners_done()
    org.runtime.sender.drain()
    with org.runtime.contexts.db.read() as s:
        sent = {
            r.key: str(r.result["ts"])
            for r in s.exec(select(OutboxMessage)).all()
            if r.status == OutboxStatus.SENT and ":sprint-review:" in f":{r.key}"
        }
    drafts = {  # each team's draft, by the ts Slack gave it
        team: ts
        for team in CHANNELS
        for key, ts in sent.items()
        if key.startswith(Scope(team_id=ids[team]).key_prefix + "sprint-review:")
    }
    assert len(set(drafts.values())) == 2, sent

    for team, (_, user) in CHANNELS.items():
        lesson(org, team, user, f"{team}: shards kept CI fast")
    listeners_done()
    org.runtime.sender.drain()

    updates = org.slack.calls_to("chat.update")
    for team, ts in drafts.items():
        [update] = [u for u in updates if u.args["ts"] == ts]
        shown = text_of(update)
        assert f"• {team}: shards kept CI fast — <@{CHANNELS[team][1]}>" in shown, shown
        other = "mobile" if team == "platform" else "platform"
        assert f"{other}: shards kept CI fast" not in shown
    with org.runtime.contexts.db.read() as s:
        undelivered = [
            (r.key, r.status, r.last_error)
            for r in s.exec(select(OutboxMessage)).all()
            if r.status != OutboxStatus.SENT
        ]
    assert undelivered == []

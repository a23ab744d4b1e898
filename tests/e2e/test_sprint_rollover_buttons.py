"""Buttons and forms of a sprint's messages act for that sprint when clicked after the next
one has started (examples/teams: platform's Phase 4 ends 2025-11-11, Phase 5 starts
2025-11-12); between sprints the standup says when the next starts and takes nothing; a
team whose id is one of a command's words is not taken for that word. Signed requests in,
Web API calls out to the fake Slack."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage import queries
from storage.models import Lesson, Signoff, Standup
from tests.e2e.test_next_sprint import between_sprints, platform, rows
from tests.support.e2e import (
    ANSWER,
    at,
    click,
    opened,
    posts,
    responses,
    state,
    text_of,
    view_submit,
)
from tests.support.listeners import listeners_done
from tests.support.server import ROOT, Server
from tests.support.slack import slash

TEAMS = ROOT / "examples" / "teams"
S1_LAST = datetime(2025, 11, 11, 15, tzinfo=UTC)  # 10:00 in New York, Phase 4's day 14
S2_DAY1 = datetime(2025, 11, 12, 15, tzinfo=UTC)  # Phase 5's day 1
STANDUP = state(**{**ANSWER, "components_improved": ["Task Orchestration"], "current_blockers": ""})


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    shutil.copytree(TEAMS, tmp_path / "teams")
    return make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))


def sent(server: Server, starts: str) -> tuple[dict[str, Any], str]:
    """The newest message posted whose text starts so, and the ts Slack gave it."""
    listeners_done()
    server.runtime.sender.drain()
    found = [p for p in posts(server) if text_of(p).startswith(starts)]
    assert found, [text_of(p)[:60] for p in posts(server)]
    team = platform(server)
    teams = server.runtime.teams
    key = "sprint-review:" if "Sprint review" in starts else "signoff:"
    with server.runtime.contexts.db.scoped(teams.scope(team, team.sprints[0])).read() as s:
        row = queries.latest_message(session=s, key_prefix=key, sent_only=True)
        assert row is not None
        ts = str(row.result["ts"])
    return found[-1].args, ts


def button(args: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(
        e
        for b in args.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


def updates(server: Server, ts: str) -> list[str]:
    """The texts of every update of the message `ts`."""
    listeners_done()
    server.runtime.sender.drain()
    return [text_of(c) for c in server.slack.calls_to("chat.update") if c.args.get("ts") == ts]


def add_lesson(org: Server, add: dict[str, Any], ts: str, text: str) -> None:
    """Bob's "Add a lesson" click on the review draft posted at `ts`, and its form sent."""
    click(org, "lesson_add", add["value"], user="U0BOB", channel="C0STATUS", ts=ts)
    [form] = opened(org)
    values = {
        "values": {
            "kind": {"value": {"type": "static_select", "selected_option": {"value": "went_well"}}},
            "text": {"value": {"type": "plain_text_input", "value": text}},
        }
    }
    resp = view_submit(org, "lesson", "U0BOB", values, json.loads(form["private_metadata"]))
    assert resp.status_code == 200 and resp.text == "", resp.text


def test_a_sign_off_clicked_after_the_next_sprint_started_signs_its_own_sprint(
    org: Server,
) -> None:
    at(org, S1_LAST)
    answer = slash(org.url, "/sprint", "platform signoff 14", user_id="U0ALICE").json()
    assert answer["text"].startswith("Posting the sign-off request for Production go/no-go")
    request, ts = sent(org, "platform · Sign-off: Production go/no-go")
    signoff = button(request, "signoff:qa_lead")

    at(org, S2_DAY1)  # Phase 5 runs; it has no day-14 milestone
    resp = click(org, "signoff:qa_lead", signoff["value"], user="U0BOB", channel="C0STATUS", ts=ts)
    assert resp.status_code == 200
    listeners_done()
    assert not org.slack.calls_to("response/action"), "the click was refused"
    [update] = updates(org, ts)
    assert update.startswith("platform · Sign-off: Production go/no-go")
    assert "<@U0BOB>" in update
    s1, s2 = platform(org).sprints
    assert (rows(org, Signoff, s1), rows(org, Signoff, s2)) == (1, 0)


def test_a_lesson_added_after_the_next_sprint_started_goes_to_its_sprint_and_review(
    org: Server,
) -> None:
    at(org, S1_LAST)
    slash(org.url, "/sprint", "platform review", user_id="U0ALICE")
    review, ts = sent(org, "platform · Sprint review draft — Phase 4")
    add = button(review, "lesson_add")

    at(org, S2_DAY1)  # the retro, the morning Phase 5 starts: its review is posted first
    slash(org.url, "/sprint", "platform review", user_id="U0ALICE")
    _, ts5 = sent(org, "platform · Sprint review draft — Phase 5")
    assert ts5 != ts
    add_lesson(org, add, ts, "Sharding kept CI fast")

    # Phase 4's review shows the lesson, and the lesson is Phase 4's.
    [update] = updates(org, ts)
    assert update.startswith("platform · Sprint review draft — Phase 4 Production Readiness")
    assert "Sharding kept CI fast" in update
    assert updates(org, ts5) == []  # Phase 5's draft is left as it was
    s1, s2 = platform(org).sprints
    assert (rows(org, Lesson, s1), rows(org, Lesson, s2)) == (1, 0)
    with org.runtime.contexts.db.read() as s:
        assert [x.text for x in s.exec(select(Lesson)).all()] == ["Sharding kept CI fast"]


def test_between_sprints_the_standup_says_when_the_next_starts_and_takes_nothing(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = between_sprints(make_server, tmp_path)  # Friday 2025-11-14, Phase 5 from 11-17
    nothing = "No sprint running; the next starts on 2025-11-17"
    body = slash(server.url, "/standup", user_id="U0ALICE").json()
    assert (body["response_type"], body["text"]) == ("ephemeral", nothing)
    skipped = slash(server.url, "/standup", "skip", user_id="U0ALICE").json()
    assert skipped["text"] == nothing
    # The prompt's button (a prompt of Phase 4's last day) opens no form.
    click(server, "standup_open", json.dumps({"team": "platform", "value": ""}), user="U0ALICE")
    [said] = responses(server, 1)
    assert said.args["text"] == nothing and said.args["response_type"] == "ephemeral"
    # A form opened on Phase 4's last day, sent now: the form says so, nothing is stored.
    form = view_submit(server, "standup", "U0ALICE", STANDUP, {"day": "2025-11-11"}).json()
    assert form["response_action"] == "update"
    assert nothing in json.dumps(form["view"])
    listeners_done()
    server.runtime.sender.drain()
    assert not server.slack.calls_to("views.open")
    assert not posts(server), [text_of(p)[:80] for p in posts(server)]
    s1, s2 = platform(server).sprints
    assert (rows(server, Standup, s1), rows(server, Standup, s2)) == (0, 0)


def test_a_team_called_like_a_subcommand_does_not_take_the_subcommand(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    teams = tmp_path / "teams"
    shutil.copytree(TEAMS, teams)
    mobile = (teams / "mobile.toml").read_text()
    (teams / "mobile.toml").write_text(mobile.replace('id = "mobile"', 'id = "review"', 1))
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    at(server, datetime(2025, 11, 5, 15, tzinfo=UTC))  # platform's day 6, the other's day 3
    # Alice (platform's) asks for the review: platform's, not the status of team "review".
    answer = slash(server.url, "/sprint", "review", user_id="U0ALICE").json()
    assert answer["text"].startswith("Posting the sprint review draft in #sprint-status")
    sent(server, "platform · Sprint review draft — Phase 4 Production Readiness")
    # Where the word is not one of the command's, it names the team: its standup opens.
    assert slash(server.url, "/standup", "Review", user_id="U0DAVE").text == ""
    [form] = opened(server)
    assert json.loads(form["private_metadata"])["team"] == "review"

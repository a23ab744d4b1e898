"""`participants = "team"` (the example's own setting: the people in channels.team) is a
role the sprint file may name in `[[escalation]] notify` and a milestone's `signoffs`
(docs/sprint-file.md, [people]; `config check` accepts both). The permission rules
(`jobs.permissions.holds`, through `Sprint.role`) read that role as held by nobody
(found by review)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot import clock as bot_clock
from bot.cli import main
from tests.support.e2e import T0, at, click
from tests.support.listeners import listeners_done
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash


def test_a_team_member_reached_by_a_participants_step_may_resolve(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The "Executive decision" step notifies `participants` (everyone in the team
    channel; the file says participants = "team"). 49 h after a P0 was filed the step has
    reached them; U0ANA, in the team channel, types `/blocker resolve B-001 ...` and is
    refused: "Only B-001's owner, its reporter, the tech lead, an admin or the participants
    (its escalation has reached them) can resolve it." — she is a participant, so the
    refusal contradicts itself. As docs/permissions.md says (whom its escalation path has
    reached by role), she may resolve it."""
    text = EXAMPLE.read_text("utf-8").replace('notify = "executives"', 'notify = "participants"')
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 0
    server = make_server(SPRINTBOT_CONFIG=str(path))
    server.slack.team_members = ["UBOT", "U0ANA", "U0DEV"]
    at(server, T0)
    slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    at(server, T0 + timedelta(hours=49))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    answer = slash(server.url, "/blocker", "resolve B-001 decided: ship", user_id="U0ANA").json()
    assert answer["text"] == ":white_check_mark: B-001 resolved.", answer["text"]


def test_a_team_member_may_sign_off_as_participants(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Day 7's milestone asks `signoffs = ["participants"]` (the team's own sign-off;
    participants = "team"). `config check` accepts it and `/sprint signoff` posts a
    *Sign off as Participants* button, but U0ANA — in the team channel, a standup
    participant — pressing it is told "Only the Participants can sign off as
    Participants." Nobody can ever sign the milestone. A member of channels.team holds
    the role (docs: whoever holds that role)."""
    text = EXAMPLE.read_text("utf-8").replace(
        'signoffs = ["tech_lead", "qa_lead", "product_owner"]', 'signoffs = ["participants"]'
    )
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 0
    server = make_server(SPRINTBOT_CONFIG=str(path))
    server.slack.team_members = ["UBOT", "U0ANA", "U0DEV"]
    at(server, T0)
    resp = slash(server.url, "/sprint", "signoff", user_id="U0DEV")
    assert "Posting the sign-off request" in resp.json()["text"], resp.text
    listeners_done()
    server.runtime.sender.drain()
    request = next(
        p
        for p in server.slack.calls_to("chat.postMessage")
        if str(p.args.get("text", "")).startswith("Sign-off")
    )
    [actions] = [b for b in request.args["blocks"] if b["type"] == "actions"]
    button = actions["elements"][0]
    assert button["text"]["text"] == "Sign off as Participants"
    click(server, button["action_id"], button["value"], user="U0ANA", channel="C0STATUS")
    listeners_done()
    refusals = [r.args.get("text", "") for r in server.slack.calls_to("response/action")]
    assert not any(r.startswith("Only the Participants") for r in refusals), refusals

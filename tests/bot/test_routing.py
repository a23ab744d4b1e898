"""Which team a Slack request acts for (bot.routing), and codes shown with their team."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.outbox import make_client
from bot.routing import ChannelNames, route, which_team, with_team
from jobs.config import Team, load_org
from jobs.teams import Teams
from tests.support.fakeslack import FakeSlack
from tests.support.server import EXAMPLE, two_teams

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)


@pytest.fixture
def teams(tmp_path: Path) -> Teams:
    return Teams(load_org(two_teams(tmp_path / "teams")), rows={})


def routed(teams: Teams, body: dict[str, Any], names: ChannelNames | None = None) -> str | None:
    found = route(body, teams, now=NOW, names=names)
    return found.team.id if found.team else None


def cmd(text: str = "", *, user: str = "U0BOB", channel: str = "D0BOB", **more: Any) -> Any:
    return {"command": "/standup", "text": text, "user_id": user, "channel_id": channel, **more}


def test_one_team_is_every_requests_team() -> None:
    teams = Teams(load_org(EXAMPLE), rows={})
    body = cmd("platform skip", user="U0NOBODY")
    assert routed(teams, body) == teams.first.id
    assert body["text"] == "platform skip"  # nothing taken off: there is nothing to choose


def test_a_team_named_first_is_taken_off_the_text(teams: Teams) -> None:
    body = cmd("Platform skip at the dentist", channel="C0MOBILE", channel_name="mobile")
    found = route(body, teams, now=NOW)
    assert found.team is not None and (found.team.id, found.named) == ("platform", True)
    assert body["text"] == "skip at the dentist"


def test_a_team_named_first_wins_over_the_channel(teams: Teams) -> None:
    assert routed(teams, cmd("mobile", channel="C0P", channel_name="platform")) == "mobile"


def test_a_button_or_form_names_its_team(teams: Teams) -> None:
    click = {"user": {"id": "U0BOB"}, "actions": [{"value": json.dumps({"team": "mobile"})}]}
    assert routed(teams, click) == "mobile"
    form = {
        "user": {"id": "U0BOB"},
        "view": {"private_metadata": '{"day": "x", "team": "platform"}'},
    }
    assert routed(teams, form) == "platform"


def test_the_channel_by_its_name_in_the_request(teams: Teams) -> None:
    assert routed(teams, cmd(channel="C0P", channel_name="platform")) == "platform"
    click = {"user": {"id": "U0BOB"}, "channel": {"id": "C0M", "name": "mobile"}, "actions": []}
    assert routed(teams, click) == "mobile"


def test_the_channel_by_an_id_a_team_file_writes(tmp_path: Path) -> None:
    directory = two_teams(tmp_path / "teams")
    path = directory / "mobile.toml"
    path.write_text(path.read_text().replace('team = "#mobile"', 'team = "C0MOBILE"'))
    teams = Teams(load_org(directory), rows={})
    assert routed(teams, cmd(channel="C0MOBILE")) == "mobile"


def test_the_channel_by_a_name_learned_from_slack(teams: Teams, fake_slack: FakeSlack) -> None:
    fake_slack._names["CPLATFORM"] = "platform"  # as if the bot had posted to #platform
    names = ChannelNames(make_client("xoxb-test-token", fake_slack.url))
    assert routed(teams, cmd(channel="CPLATFORM"), names) == "platform"
    # Learned once: later requests (from any channel) do not ask Slack again.
    assert routed(teams, cmd(channel="CPLATFORM"), names) == "platform"
    assert routed(teams, cmd(channel="CELSEWHERE", user="U0ALICE"), names) == "platform"
    assert len(fake_slack.calls_to("conversations.list")) == 1


def test_a_channel_name_slack_cannot_give_routes_by_the_user(
    teams: Teams, fake_slack: FakeSlack
) -> None:
    fake_slack.outage("503")
    names = ChannelNames(make_client("xoxb-test-token", fake_slack.url, backoff_scale=0.01))
    assert routed(teams, cmd(channel="CPLATFORM", user="U0DAVE"), names) == "mobile"


def test_a_channel_two_teams_use_is_neither_teams(teams: Teams) -> None:
    body = cmd(channel="CSTATUS", channel_name="sprint-status", user="U0ALICE")
    assert routed(teams, body) == "platform"  # the user's only team
    found = route(cmd(channel="CSTATUS", channel_name="sprint-status"), teams, now=NOW)
    assert found.team is None
    assert [t.id for t in found.candidates] == ["mobile", "platform"]


def test_elsewhere_the_users_team(teams: Teams) -> None:
    assert routed(teams, cmd(user="U0ERIN")) == "mobile"
    assert routed(teams, cmd(user="U0CAROL")) == "platform"
    found = route(cmd(user="U0BOB"), teams, now=NOW)
    assert found.team is None and [t.id for t in found.candidates] == ["mobile", "platform"]
    # Someone in no team is offered every team.
    assert len(route(cmd(user="U0STRANGER"), teams, now=NOW).candidates) == 2


def test_the_choice_offers_a_button_per_team_that_runs_the_command_again(teams: Teams) -> None:
    answer = which_team(cmd("skip sick"), tuple(teams.all))
    assert answer["text"] == (
        "You are in several teams (`mobile`, `platform`): which is this for? "
        "Or type the team first, e.g. `/standup mobile skip sick`."
    )
    [actions] = [b for b in answer["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], json.loads(e["value"])) for e in actions["elements"]] == [
        ("team_pick:mobile", {"team": "mobile", "command": "/standup", "text": "skip sick"}),
        ("team_pick:platform", {"team": "platform", "command": "/standup", "text": "skip sick"}),
    ]
    click = {"user": {"id": "U0BOB"}, "actions": [{"value": actions["elements"][1]["value"]}]}
    assert routed(teams, click) == "platform"


def test_a_modal_carries_the_team_it_was_opened_for(teams: Teams) -> None:
    mobile: Team = teams.all[0]
    view = {"type": "modal", "private_metadata": json.dumps({"blocker": 7})}
    assert json.loads(with_team(view, mobile)["private_metadata"]) == {
        "blocker": 7,
        "team": "mobile",
    }
    assert json.loads(with_team({"type": "modal"}, mobile)["private_metadata"]) == {
        "team": "mobile"
    }
    assert with_team(view, None) == view


def test_codes_are_shown_with_their_team_where_two_teams_read(teams: Teams) -> None:
    mobile = teams.all[0].sprints[0]
    assert mobile.shown_code("B-001", "#critical-blockers") == "mobile B-001"  # shared
    assert mobile.shown_code("B-001", "#mobile") == "B-001"  # its own channel
    assert mobile.shown_code("R-002", "U0BOB") == "mobile R-002"  # a DM
    one = load_org(EXAMPLE).teams[0].sprints[0]
    assert one.shown_code("B-001", "#critical-blockers", "U0BOB") == "B-001"  # one team


def test_a_command_too_long_for_a_button_is_typed_again(teams: Teams) -> None:
    answer = which_team(cmd("P1 Sync: " + "x" * 2100), tuple(teams.all))
    assert [b["type"] for b in answer["blocks"]] == ["section"]
    assert answer["text"].endswith("`/standup mobile P1 Sync: " + "x" * 90 + "…`.")


def test_review_and_signoff_buttons_in_a_shared_channel_carry_their_team(teams: Teams) -> None:
    from bot.blocks.review import signoff
    from bot.routing import button_value
    from jobs.milestones import MilestoneData

    data: MilestoneData = {
        "day": 14,
        "name": "Production go/no-go",
        "review": None,
        "criteria": [],
        "met": 0,
        "signoffs": [{"role": "tech_lead", "user": None, "at": None}],
        "team": "mobile",
    }
    button = next(
        e for b in signoff(data)["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    # Clicked in #sprint-status (both teams'), by someone in both teams: mobile's milestone.
    click = {
        "user": {"id": "U0BOB"},
        "channel": {"id": "C0STATUS", "name": "sprint-status"},
        "actions": [{"action_id": button["action_id"], "value": button["value"]}],
    }
    assert routed(teams, click) == "mobile"
    assert button_value(click) == "14:tech_lead"
    # One team: the value is as it always was.
    alone = {**data, "team": None}
    one = next(e for b in signoff(alone)["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert one["value"] == "14:tech_lead"

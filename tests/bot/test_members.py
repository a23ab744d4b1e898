"""Routing by user where a team's people are read from Slack (`participants = "team"`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.members import TeamMembers
from bot.outbox import make_client
from jobs.config import load_org
from jobs.teams import Teams
from tests.support.fakeslack import FakeSlack
from tests.support.server import TEAMS

NOW = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def members(slack: FakeSlack, **kwargs: float) -> TeamMembers:
    # examples/teams: mobile's participants are "team", the members of #mobile.
    teams = Teams(load_org(Path(TEAMS)), rows={})
    return TeamMembers(make_client("xoxb-test", slack.url), teams, **kwargs)


def test_a_member_of_a_team_channel_is_routed_to_that_team(slack: FakeSlack) -> None:
    slack.team_members = ["UBOT", "U0FRANK"]
    slack._names["C0MOBILE"] = "mobile"  # conversations.list knows #mobile
    found = members(slack)
    assert [t.id for t in found.teams_of("U0FRANK", now=NOW)] == ["mobile"]
    assert found.teams_of("U0NOBODY", now=NOW) == []
    # Read once, then from memory: no second call to Slack within refresh_every.
    calls = len(slack.calls_to("conversations.members"))
    assert [t.id for t in found.teams_of("U0FRANK", now=NOW)] == ["mobile"]
    assert len(slack.calls_to("conversations.members")) == calls == 1


def test_slack_down_routes_by_the_files_alone(slack: FakeSlack) -> None:
    slack._names["C0MOBILE"] = "mobile"
    slack.fail("conversations.members", status=500, times=10)
    found = members(slack, wait=2.0)
    assert found.teams_of("U0FRANK", now=NOW) == []


def test_a_dm_from_a_member_of_a_team_channel_routes_to_that_team(slack: FakeSlack) -> None:
    from bot.routing import route

    slack.team_members = ["UBOT", "U0FRANK"]
    slack._names["C0MOBILE"] = "mobile"
    found = members(slack)
    dm = {"command": "/standup", "text": "", "user_id": "U0FRANK", "channel_id": "D0FRANK"}
    routed = route(dm, found.teams, now=NOW, members=found)
    assert routed.team is not None and routed.team.id == "mobile"
    # Without what Slack says, U0FRANK is in no file's [people]: both teams are offered.
    routed = route(dict(dm), found.teams, now=NOW)
    assert routed.team is None and {t.id for t in routed.candidates} == {"mobile", "platform"}

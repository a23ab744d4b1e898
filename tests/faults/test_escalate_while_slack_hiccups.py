"""A permission rule while Slack cannot say who is in a channel (found by review): it goes by
the members as last read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from storage.models import Blocker
from tests.support.e2e import T0, at, click
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults


def _level(server: Server) -> int:
    with server.runtime.db.session() as s:
        return s.exec(select(Blocker)).one().escalation_level


def test_escalate_now_by_a_team_member_is_not_refused_when_slack_answers_one_500(
    server: Server,
) -> None:
    """participants = "team" (the example's): Ana is in #phase4-production-readiness and
    so "on the team". A developer files a P1; Ana clicks "Escalate now" on it and it goes
    to step 2. Half an hour later she clicks it again (the message shows step 2), and at
    that moment Slack answers the one conversations.members call a 500 (or a 429, or
    takes over a second). She is told "Only someone on the team can escalate B-001:
    members of #phase4-production-readiness, ..." — which she is — and nothing is
    escalated. A hiccup of Slack's should not turn a team member into an outsider: the
    members as last read (the morning's jobs read them) or a retry should let it through,
    or at least she should be told Slack could not be asked, not that she may not."""
    server.slack.team_members = ["UBOT", "U0ANA", "U0DEV"]
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    assert _level(server) == 1
    click(server, "blocker_escalate", "1@1", user="U0ANA")
    listeners_done()
    assert _level(server) == 2  # she is on the team
    server.runtime.sender.drain()
    at(server, T0 + timedelta(minutes=30))
    server.slack.fail("conversations.members", status=500, error="internal_error")
    got = click(server, "blocker_escalate", "1@2", user="U0ANA")
    listeners_done()
    said = [r.args.get("text", "") for r in server.slack.calls_to("response/action")]
    refusal = got.text + " ".join(said)
    assert "Only someone on the team" not in refusal, refusal
    assert _level(server) == 3, (refusal, _level(server))

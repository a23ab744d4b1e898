"""/standup waits on Slack before opening its modal: the form lists the open blockers the
user may resolve, and for a blocker whose escalation has reached a user group (the
executives, S0EXECUTIVES, at "Executive decision") it asks Slack for the group's members
(usergroups.users.list) before calling views.open. Slack's trigger_id lives 3 s: with
that look-up slow (4 s), the command is acknowledged empty and views.open comes after
the trigger expired, so in real Slack the form never opens (expired_trigger_id, then
"Sorry, something went wrong"). The fake Slack does not expire trigger ids, so the test
measures when views.open was called."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from bot import people
from storage.models import Blocker
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults  # the production 2 s ack deadline

TRIGGER_LIFETIME = 3.0  # seconds Slack accepts a trigger_id for views.open
# The look-ups of who is in a group are given a quarter of their production second
# (`people.MEMBERS_WITHIN`) here, and the form must open as much earlier than the trigger's
# lifetime: as early as it must in production.
WITHIN = people.MEMBERS_WITHIN / 4
IN_TIME = TRIGGER_LIFETIME - (people.MEMBERS_WITHIN - WITHIN)


@pytest.fixture(autouse=True)
def quick_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """`people.directory` gives Slack WITHIN."""
    monkeypatch.setattr(people, "MEMBERS_WITHIN", WITHIN)


def test_standup_form_opens_within_the_trigger_lifetime_while_slack_is_slow(
    server: Server,
) -> None:
    filed = slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock under partition")
    assert "B-001 filed" in filed.json()["text"]
    with server.runtime.db.session() as s:  # its escalation reached the executives (step 4)
        blocker = s.exec(select(Blocker)).one()
        blocker.escalation_level = len(server.runtime.sprint.escalation)
        s.add(blocker)
        s.commit()
    slash(server.url, "/standup", user_id="U0DEV")  # warm: figures built, a form opened
    listeners_done()
    assert len(server.slack.calls_to("views.open")) == 1

    server.slack.slow("usergroups.users.list", 4.0)
    sent = time.monotonic()
    ack = slash(server.url, "/standup", user_id="U0DEV")
    assert ack.status_code == 200
    listeners_done()
    looked = [c.args.get("usergroup") for c in server.slack.calls_to("usergroups.users.list")]
    assert "S0EXECUTIVES" in looked  # what the form waited for
    opens = server.slack.calls_to("views.open")
    assert len(opens) == 2, "the form was not opened at all"
    took = opens[-1].at - sent
    assert took < IN_TIME, (
        f"views.open called {took:.1f} s after the command: its trigger_id had expired"
    )


def test_resolve_form_opens_within_the_trigger_lifetime_for_an_executive_while_slack_is_slow(
    server: Server,
) -> None:
    """The blocker has reached "Executive decision": an executive (by the S0EXECUTIVES user
    group) clicks Resolve. The rule asks Slack for the group's members before the form is
    opened; slow, the form's views.open comes after the trigger expired."""
    from tests.support.e2e import click

    filed = slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock under partition")
    assert "B-001 filed" in filed.json()["text"]
    with server.runtime.db.session() as s:
        blocker = s.exec(select(Blocker)).one()
        blocker.escalation_level = len(server.runtime.sprint.escalation)
        s.add(blocker)
        s.commit()
    server.slack.usergroups["S0EXECUTIVES"] = ["U0EXEC"]
    server.slack.slow("usergroups.users.list", 4.0)
    sent = time.monotonic()
    got = click(server, "blocker_resolve", "1", user="U0EXEC", channel="CCRITICALBLOCKERS")
    assert got.status_code == 200
    listeners_done()
    opens = server.slack.calls_to("views.open")
    assert len(opens) == 1, "the resolution form was not opened at all"
    took = opens[0].at - sent
    assert took < IN_TIME, (
        f"views.open called {took:.1f} s after the click: its trigger_id had expired"
    )

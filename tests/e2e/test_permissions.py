"""Issue 12, deliverable 7: one permission rule per action, applied the same wherever the
action can be taken (button, command, form, standup); a refusal says who may and changes
nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, Event, Quarantine
from tests.support.e2e import (
    ANSWER,
    T0,
    at,
    click,
    opened,
    post_report,
    responses,
    submit,
    view_submit,
)
from tests.support.server import Server
from tests.support.slack import slash

ONLY = "Only B-001's owner, its reporter, the tech lead or an admin can resolve it."


def _note(text: str) -> dict[str, object]:
    return {"values": {"note": {"value": {"type": "plain_text_input", "value": text}}}}


def _resolved(server: Server) -> list[tuple[int, str]]:
    with server.runtime.db.session() as s:
        events = s.exec(select(Event).where(Event.action == "resolved")).all()
        return [(e.subject_id, e.actor) for e in events]


def test_resolve_is_refused_alike_from_button_command_form_and_standup(server: Server) -> None:
    at(server, T0)
    slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")

    click(server, "blocker_resolve", "1", user="U0BEN")
    assert responses(server, 1)[-1].args["text"] == ONLY
    assert server.slack.calls_to("views.open") == []  # no resolution form for him
    command = slash(server.url, "/blocker", "resolve B-001 not mine", user_id="U0BEN")
    assert command.json()["text"] == ONLY
    form = view_submit(server, "blocker_resolve", "U0BEN", _note("forged"), {"blocker": 1})
    assert form.json() == {"response_action": "errors", "errors": {"note": ONLY}}
    slash(server.url, "/standup", user_id="U0BEN")
    offered = [b for b in opened(server)[-1]["blocks"] if "Blockers resolved" in str(b)]
    assert offered[0]["type"] == "context"  # nothing he may resolve is offered
    standup = submit(
        server, "U0BEN", **{**ANSWER, "current_blockers": "", "blockers_resolved": ["1"]}
    )
    assert standup.json()["errors"] == {"blockers_resolved": ONLY}
    assert _resolved(server) == []

    # Once the path reaches the executives (48 h), a member of that user group may resolve.
    server.slack.usergroups["S0EXECUTIVES"] = ["U0CEO"]
    refused = slash(server.url, "/blocker", "resolve B-001 decided", user_id="U0CEO")
    assert refused.json()["text"] == ONLY
    at(server, T0 + timedelta(hours=48))
    bot_clock.run_job(server.runtime, "blocker-escalation")
    done = slash(server.url, "/blocker", "resolve B-001 decided: ship without it", user_id="U0CEO")
    assert done.json()["text"] == ":white_check_mark: B-001 resolved."
    assert _resolved(server) == [(1, "U0CEO")]


def test_escalate_now_is_for_the_team(server: Server) -> None:
    at(server, T0)
    server.slack.team_members = ["UBOT", "U0ANA"]  # participants = "team": #phase4-…'s members
    slash(server.url, "/blocker", "P1 Unit Tests: shard 3 hangs", user_id="U0DEV")

    click(server, "blocker_escalate", "1", user="U0STRANGER")
    assert responses(server, 1)[-1].args["text"] == (
        "Only someone on the team can escalate B-001: members of #phase4-production-readiness, "
        "anyone with a role in the sprint file, or its reporter or owner."
    )
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().escalation_level == 1

    assert click(server, "blocker_escalate", "1", user="U0ANA").status_code == 200
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().escalation_level == 2


def test_quarantine_is_for_leads_and_admins(server: Server) -> None:
    from tests.support.e2e import _alert_id

    post_report(server, "pytest-xunit1-run1.xml", run="ci-1")
    second = post_report(server, "pytest-xunit1-run2.xml", run="ci-2").json()
    click(server, "alert_mute", str(_alert_id(server, second["alert"])), user="U0DEV")
    assert responses(server, 1)[-1].args["text"] == (
        "Only the tech lead, the QA lead or an admin can quarantine tests; ask "
        "<@U0TECHLEAD>, <@U0QALEAD>."
    )
    with server.runtime.db.session() as s:
        assert s.exec(select(Quarantine)).all() == []

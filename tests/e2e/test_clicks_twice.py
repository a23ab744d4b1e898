"""The same click or form sent twice, or by several people at once: it acts once, and
whoever came second is told what happened (Slack delivers a double click on Submit twice
with one view id; on PostgreSQL nothing but a row lock orders clicks at the same moment)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage import queries as storage_queries
from storage.models import Blocker, Event, Lesson
from tests.e2e.test_mentions import blocks_of
from tests.support.e2e import T0, at, click, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server, together
from tests.support.slack import slash


def _lesson(kind: str, text: str) -> dict[str, Any]:
    return {
        "values": {
            "kind": {"value": {"type": "static_select", "selected_option": {"value": kind}}},
            "text": {"value": {"type": "plain_text_input", "value": text}},
        }
    }


def test_the_lesson_form_sent_twice_stores_one_lesson(server: Server) -> None:
    for _ in range(2):
        sent = view_submit(
            server,
            "lesson",
            "U0QALEAD",
            _lesson("went_well", "Shards kept CI fast"),
            view_id="VLESSON",
        )
        assert sent.status_code == 200 and sent.text == "", sent.text
    with server.runtime.db.session() as s:
        texts = [x.text for x in s.exec(select(Lesson)).all()]
    assert texts == ["Shards kept CI fast"]


def test_escalate_now_clicked_by_several_at_once_fires_one_step(server: Server) -> None:
    """Four people click "Escalate now" on a message showing step 1: the blocker reaches
    step 2 once, the audit trail records it once, and the others are told it was escalated
    meanwhile."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    at(server, T0 + timedelta(minutes=30))
    users = iter(["U0TECHLEAD", "U0QALEAD", "U0DEV", "U0TECHLEAD"])
    together(4, lambda: click(server, "blocker_escalate", "1@1", user=next(users)))
    listeners_done()
    with server.runtime.db.session() as s:
        level = s.exec(select(Blocker)).one().escalation_level
        escalated = [
            e.actor
            for e in s.exec(select(Event).where(Event.action == "escalated")).all()
            if e.actor != "sprintbot"
        ]
    told = [r.args["text"] for r in server.slack.calls_to("response/action")]
    assert (level, len(escalated)) == (2, 1), (level, escalated)
    assert sum("escalated meanwhile" in t for t in told) == 3, told


def test_take_ownership_on_a_message_showing_no_owner_tells_who_took_it_meanwhile(
    server: Server,
) -> None:
    """Ana and the tech lead click "Take ownership" on the same message, which shows the
    blocker unowned: Ana has it, and the tech lead is told so rather than silently taking
    it over (he may, with a click on the message as it now stands)."""
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    [shown] = [
        e["value"]
        for call in server.slack.calls_to("chat.postMessage")
        for b in blocks_of(call.args)
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "blocker_ack"
    ]
    assert shown == "1@"  # the message shows it unowned
    click(server, "blocker_ack", shown, user="U0ANA")
    click(server, "blocker_ack", shown, user="U0TECHLEAD")
    listeners_done()
    told = [r.args["text"] for r in server.slack.calls_to("response/action")]
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().owner == "U0ANA"
    assert told == [
        "<@U0ANA> took B-001 meanwhile; nothing was changed. Click again to take it over."
    ]
    server.runtime.sender.drain()
    click(server, "blocker_ack", "1@U0ANA", user="U0TECHLEAD")  # the message as it stands
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).one().owner == "U0TECHLEAD"


def test_the_escalation_job_does_not_fire_again_a_step_a_click_just_fired(
    server: Server, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """The job lists B-001 (level L), then the tech lead's "Escalate now" commits step L+1
    before the job takes the row's lock. `get(lock=True)` is `session.get(...,
    with_for_update=True)`, which hands back the object already in the session with the
    values read before the lock: the job fires step L+1 again (a second "escalated" entry
    by sprintbot in B-001's trail, for the step the tech lead just took)."""
    if not database_url.startswith("postgresql"):
        # (SQLite's one writer: the click would wait for the job's transaction to end.)
        pytest.skip("a click between the job's listing and its lock needs PostgreSQL")
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    at(server, T0 + timedelta(hours=8, minutes=1))
    with server.runtime.db.session() as s:
        level = s.exec(select(Blocker)).one().escalation_level
    original = storage_queries.open_blockers
    done: list[int] = []

    def listed_then_clicked(**kw: Any) -> Any:
        out = original(**kw)
        if not done:
            done.append(1)
            click(server, "blocker_escalate", f"1@{level}", user="U0TECHLEAD")
            listeners_done()
        return out

    monkeypatch.setattr(storage_queries, "open_blockers", listed_then_clicked)
    bot_clock.run_job(server.runtime, "blocker-escalation")
    listeners_done()
    assert done
    with server.runtime.db.session() as s:
        events = s.exec(
            select(Event).where(Event.subject == "blocker", Event.action == "escalated")
        ).all()
        final = s.exec(select(Blocker)).one().escalation_level
    steps = [(e.actor, (e.detail or {}).get("step", e.detail)) for e in events]
    # Each step once: the click's step is not escalated again by the job.
    assert len(events) == final, (level, final, steps)

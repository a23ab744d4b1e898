"""Issue 12, fault 10: a NUL byte closed the blocker modal as if filed while PostgreSQL
stored nothing (it refuses NUL in text). Every form and command that stores text answers
with the field's error instead and stores nothing — on SQLite (which would store it) and on
PostgreSQL alike (SPRINTBOT_TEST_DATABASE_URL)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from jobs.storable import MESSAGE
from storage.models import Blocker, Event, Lesson, Risk, Standup
from tests.support.e2e import (
    ANSWER,
    T0,
    at,
    blocker_form_values,
    posts,
    risk_values,
    submit,
    view_submit,
)
from tests.support.server import Server
from tests.support.slack import slash

NUL = "deadlock\x00 under partition"


def _text_values(**fields: str) -> dict[str, Any]:
    return {
        "values": {
            k: {"value": {"type": "plain_text_input", "value": v}} for k, v in fields.items()
        }
    }


def _nothing_sent(server: Server) -> bool:
    server.runtime.sender.drain()
    return posts(server) == [] and server.slack.calls_to("chat.update") == []


def test_blocker_form_and_command_refuse_a_nul_byte(server: Server) -> None:
    at(server, T0)
    form = view_submit(server, "blocker", "U0DEV", blocker_form_values(NUL))
    assert form.json() == {"response_action": "errors", "errors": {"description": MESSAGE}}
    target = blocker_form_values()
    target["values"]["target"]["value"]["value"] = "Day\x004"
    answer = view_submit(server, "blocker", "U0DEV", target).json()
    assert answer == {"response_action": "errors", "errors": {"target": MESSAGE}}
    command = slash(server.url, "/blocker", f"P0 Swarm Coordination: {NUL}", user_id="U0DEV")
    assert command.json() == {"response_type": "ephemeral", "text": MESSAGE}
    with server.runtime.db.session() as s:
        assert s.exec(select(Blocker)).all() == []
        assert s.exec(select(Event)).all() == []
    assert _nothing_sent(server)


def test_resolution_notes_refuse_a_nul_byte(server: Server) -> None:
    at(server, T0)
    slash(server.url, "/blocker", "P1 Unit Tests: shard 3 hangs", user_id="U0DEV")
    form = view_submit(
        server, "blocker_resolve", "U0DEV", _text_values(note="fixed\x00"), {"blocker": 1}
    )
    assert form.json() == {"response_action": "errors", "errors": {"note": MESSAGE}}
    command = slash(server.url, "/blocker", "resolve B-001 fixed\x00 it", user_id="U0DEV")
    assert command.json()["text"] == MESSAGE
    with server.runtime.db.session() as s:
        blocker = s.exec(select(Blocker)).one()
        assert (blocker.resolved_at, blocker.resolution) == (None, None)
        assert [e.action for e in s.exec(select(Event))] == ["created", "escalated"]


def test_risk_form_refuses_a_nul_byte(server: Server) -> None:
    at(server, T0)
    answer = view_submit(
        server, "risk", "U0PM", risk_values(description=NUL, mitigation="pin\x00 deps")
    ).json()
    assert answer == {
        "response_action": "errors",
        "errors": {"description": MESSAGE, "mitigation": MESSAGE},
    }
    with server.runtime.db.session() as s:
        assert s.exec(select(Risk)).all() == []
    assert _nothing_sent(server)


def test_standup_form_and_commands_refuse_a_nul_byte(server: Server) -> None:
    at(server, T0)
    answer = submit(server, "U0ANA", **{**ANSWER, "notes": "fixed\x00", "current_blockers": NUL})
    assert answer.json() == {
        "response_action": "errors",
        "errors": {"notes": MESSAGE, "current_blockers": MESSAGE},
    }
    skip = slash(server.url, "/standup", "skip dentist\x00", user_id="U0BEN")
    assert skip.json()["text"] == MESSAGE
    away = slash(server.url, "/standup", "away today tomorrow con\x00f", user_id="U0BEN")
    assert away.json()["text"] == MESSAGE
    with server.runtime.db.session() as s:
        assert s.exec(select(Standup)).all() == []
        assert s.exec(select(Blocker)).all() == []
    assert _nothing_sent(server)


def test_lesson_form_refuses_a_nul_byte(server: Server) -> None:
    values = _text_values(text="Shards\x00 kept CI fast")
    values["values"]["kind"] = {
        "value": {"type": "static_select", "selected_option": {"value": "went_well"}}
    }
    answer = view_submit(server, "lesson", "U0QALEAD", values).json()
    assert answer == {"response_action": "errors", "errors": {"text": MESSAGE}}
    with server.runtime.db.session() as s:
        assert s.exec(select(Lesson)).all() == []

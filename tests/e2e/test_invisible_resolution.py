"""A resolution of invisible characters only is blank, as a description of them is: it was
checked with `strip()` alone, so a zero-width space resolved a blocker, from the form and
from the command, and the card and the review showed an empty resolution (found by
review)."""

from __future__ import annotations

from sqlmodel import select

from storage.models import Blocker
from tests.support.e2e import T0, at, view_submit
from tests.support.server import Server
from tests.support.slack import slash

INVISIBLE = "\u200b\u2060"  # a zero-width space and a word joiner


def _note(text: str) -> dict[str, object]:
    return {"values": {"note": {"value": {"type": "plain_text_input", "value": text}}}}


def _resolved(server: Server) -> str | None:
    with server.runtime.db.read() as s:
        return s.exec(select(Blocker)).one().resolution


def test_an_invisible_resolution_is_refused_from_the_form(server: Server) -> None:
    at(server, T0)
    slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    blank = view_submit(server, "blocker_resolve", "U0DEV", _note("   "), {"blocker": 1})
    assert blank.json()["response_action"] == "errors"  # as it was: "   " is refused
    got = view_submit(server, "blocker_resolve", "U0DEV", _note(INVISIBLE), {"blocker": 1})
    assert _resolved(server) is None, "resolved with an invisible note"
    assert "response_action" in got.text, got.text


def test_an_invisible_resolution_is_refused_from_the_command(server: Server) -> None:
    at(server, T0)
    slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    said = slash(server.url, "/blocker", f"resolve B-001 {INVISIBLE}", user_id="U0DEV").json()
    assert _resolved(server) is None, said

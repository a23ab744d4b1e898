"""A Resolve form opened before its blocker was resolved and reopened does not resolve the
reopened blocker when it is finally submitted, and says why (found by review: the reopen
and its reason were undone by a note written before them)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import select

from storage.models import Blocker
from tests.support.e2e import T0, at, click, opened, view_submit
from tests.support.server import Server
from tests.support.slack import slash


def note(text: str) -> dict[str, Any]:
    return {"values": {"note": {"value": {"type": "plain_text_input", "value": text}}}}


def test_a_resolve_form_opened_before_a_reopen_does_not_close_the_reopened_blocker(
    server: Server,
) -> None:
    at(server, T0)
    slash(
        server.url, "/blocker", "P0 swarm coordination: deadlock under partition", user_id="U0DEV"
    )
    # The reporter clicks Resolve on the card: the form opens (and is left open).
    click(server, "blocker_resolve", "1", user="U0DEV")
    [form] = opened(server)
    assert form["callback_id"] == "blocker_resolve"

    # Meanwhile the reporter resolves it by command, and the tech lead reopens it.
    at(server, T0 + timedelta(hours=1))
    done = slash(server.url, "/blocker", "resolve B-001 fixed the config", user_id="U0DEV")
    assert done.json()["text"] == ":white_check_mark: B-001 resolved."
    at(server, T0 + timedelta(hours=2))
    back = slash(server.url, "/blocker", "reopen B-001 still deadlocks", user_id="U0TECHLEAD")
    assert back.json()["text"] == ":leftwards_arrow_with_hook: B-001 reopened."

    # The form opened before all this is submitted at last.
    at(server, T0 + timedelta(hours=3))
    late = view_submit(
        server,
        "blocker_resolve",
        "U0DEV",
        note("restarted the node"),
        json.loads(form["private_metadata"]),  # (as the form opened: its metadata)
    )
    with server.runtime.db.session() as s:
        b = s.exec(select(Blocker)).one()
    # What the tech lead reopened stays open, and the late form is told why.
    assert b.resolved_at is None, (
        f"the reopened blocker was closed again by a form opened before the reopen "
        f"(resolution {b.resolution!r}; form answered {late.text!r})"
    )
    answer = late.json()
    assert answer.get("response_action") == "errors"
    assert "B-001 was resolved and reopened since this form was opened" in str(answer)

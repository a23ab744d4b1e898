"""A Resolve form opened before its blocker was resolved and reopened does not resolve the
reopened blocker when it is finally submitted, and says why; nor does a standup form that
ticked it (found by review: the reopening and its reason were undone by a note written
before them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage.models import Blocker
from tests.support.e2e import ANSWER, T0, at, click, opened, submit, view_submit
from tests.support.server import EXAMPLE, Server
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


PEOPLE = ["U0ANA", "U0BEN", "U0CAT"]


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)
    return server


def test_a_standup_form_opened_before_a_reopen_does_not_close_the_reopened_blocker(
    team: Server,
) -> None:
    """Ana opens /standup while B-001 is open and ticks it under *Blockers resolved*; before
    she sends it, she resolves it by command and the tech lead reopens it. Her answer, sent
    later, leaves it open (it closed it again)."""
    slash(team.url, "/blocker", "P1 E2E Tests: browser pool exhausted", user_id="U0ANA")
    slash(team.url, "/standup", user_id="U0ANA")  # the form offers B-001
    blocks = opened(team)[-1]["blocks"]
    block = next(b for b in blocks if b.get("block_id") == "blockers_resolved")
    assert [o["value"] for o in block["element"]["options"]] == ["1"]

    at(team, datetime(2025, 10, 31, 13, 10, tzinfo=UTC))
    slash(team.url, "/blocker", "resolve B-001 more runners", user_id="U0ANA")
    at(team, datetime(2025, 10, 31, 13, 20, tzinfo=UTC))
    back = slash(team.url, "/blocker", "reopen B-001 still exhausted", user_id="U0TECHLEAD")
    assert "reopened" in back.json()["text"]

    at(team, datetime(2025, 10, 31, 13, 30, tzinfo=UTC))
    answer = {**ANSWER, "current_blockers": "", "new_risks": "", "blockers_resolved": ["1"]}
    form = opened(team)[0]
    resp = submit(team, "U0ANA", metadata=json.loads(form["private_metadata"]), **answer)
    assert resp.status_code == 200
    with team.runtime.db.session() as s:
        b = s.exec(select(Blocker)).one()
    assert b.resolved_at is None, (
        f"the reopened blocker was closed again by a standup form opened before the reopen "
        f"(resolution {b.resolution!r})"
    )

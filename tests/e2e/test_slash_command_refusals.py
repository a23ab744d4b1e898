"""Slash commands that took bad input without a word, or refused it naming what was not
typed (found by review)."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import Away, Standup
from tests.support.server import Server
from tests.support.slack import slash


def test_blocker_reopen_without_an_id_says_which_blocker_to_name(server: Server) -> None:
    """`/blocker reopen` alone answers '"?" is not a blocker id': a "?" the user never
    typed (the listener substitutes it), not "say which blocker" as `/blocker resolve`
    alone does."""
    body = slash(server.url, "/blocker", "reopen").json()
    assert body["response_type"] == "ephemeral"
    assert '"?"' not in body["text"], body["text"]
    assert "/blocker reopen B-007" in body["text"], body["text"]


@pytest.mark.parametrize("command", ["skip", "away today today"])
def test_a_reason_past_500_characters_is_refused_not_cut(server: Server, command: str) -> None:
    """`/standup skip REASON` and `/standup away FROM TO REASON` keep `reason[:500]`: a
    longer reason is cut without a word and answered ":palm_tree: Marked away" (the
    quarantine's reason past 500 is refused: "Keep the reason under 500 characters")."""
    reason = "conference " * 60  # 660 characters
    body = slash(server.url, "/standup", f"{command} {reason}", user_id="U0DEV").json()
    assert body["response_type"] == "ephemeral"
    assert ":palm_tree:" not in body["text"], body["text"]
    assert "500" in body["text"], body["text"]
    with server.runtime.db.read() as s:
        assert s.exec(select(func.count()).select_from(Standup)).one() == 0
        assert s.exec(select(func.count()).select_from(Away)).one() == 0


@pytest.mark.parametrize(
    "text",
    ["away 2025-10-28 2025-10-28", "away 2024-11-03 2024-11-05 conference"],
    ids=["day-0-as-a-date", "a-year-typo"],
)
def test_an_absence_wholly_before_the_sprint_is_refused(server: Server, text: str) -> None:
    """`/standup away day 0 day 0` is refused ("the sprint has days 1-14"); the same day
    typed as a date, or a year typo that puts the absence a year back, is taken and
    answered ":palm_tree: Away … no prompts, not counted missing" — and the days meant
    still prompt and count the person missing."""
    body = slash(server.url, "/standup", text, user_id="U0DEV").json()
    assert body["response_type"] == "ephemeral"
    assert ":palm_tree:" not in body["text"], body["text"]
    with server.runtime.db.read() as s:
        assert s.exec(select(func.count()).select_from(Away)).one() == 0

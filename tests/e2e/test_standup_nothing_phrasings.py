"""Everyday ways of saying "none" in a standup file nothing; items starting with "No" stay
(found by reviewing this session's change)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, Risk
from tests.e2e.test_standup_typed import _answer, _day_message_now, team  # noqa: F401
from tests.support.e2e import ANSWER, T0, at, submit
from tests.support.server import Server


@pytest.mark.parametrize(
    "typed",
    [
        "Not blocked",
        "Nothing blocking",
        "No blockers for me",
        "None from me",
        "Nothing blocking me",
    ],
)
def test_saying_im_not_blocked_files_no_blocker(server: Server, typed: str) -> None:
    """Ana answers "Current blockers" with "Not blocked" (or "Nothing blocking", "No
    blockers for me", "None from me"). README: blockers typed there are recorded ("None",
    "n/a" and the like are none). `_NOTHING` (jobs/standups.py), then a pattern of a word for
    none + maybe a noun + maybe "today"/"so far", misses these everyday phrasings: a P1
    blocker named "Not blocked" is filed, posted to the blockers channel and escalated.
    Her answer says she has no blocker: nothing should be filed."""
    at(server, T0)
    ok = submit(server, "U0ANA", **{**ANSWER, "current_blockers": typed, "new_risks": ""})
    assert (ok.status_code, ok.text) == (200, "")
    with server.runtime.db.session() as s:
        filed = [b.description for b in s.exec(select(Blocker)).all()]
    assert filed == [], filed


@pytest.mark.parametrize(
    "typed", ["No risks this week", "None identified", "No new risks identified"]
)
def test_saying_no_risks_files_no_risk(server: Server, typed: str) -> None:
    """Ana answers "New risks identified" with "None identified" (the field's own words
    turned round) or "No risks this week": a risk named so is added to the register and
    announced. It should be none."""
    at(server, T0)
    ok = submit(server, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": typed})
    assert (ok.status_code, ok.text) == (200, "")
    with server.runtime.db.session() as s:
        added = [r.description for r in s.exec(select(Risk)).all()]
    assert added == [], added


@pytest.mark.parametrize(
    "typed",
    [
        "No rollback plan",
        "No access to staging",
        "None of the shards pass",
        "No help from infra on the VPN",
        # (Made only of words a "none" may go on with, but not in that order.)
        "Not all risks identified for this sprint",
        "No sprint report this week",
        "None of us can deploy",
        "Not yet reviewed by security",
    ],
)
def test_real_items_starting_with_no_are_kept(server: Server, typed: str) -> None:
    """Control: real risks that start with "No"/"None" must stay items."""
    at(server, T0)
    ok = submit(server, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": typed})
    assert (ok.status_code, ok.text) == (200, "")
    with server.runtime.db.session() as s:
        added = [r.description for r in s.exec(select(Risk)).all()]
    assert added == [typed], added


@pytest.mark.parametrize("typed", ["None needed", "Not needed", "Nothing needed"])
def test_none_needed_in_help_needed_is_not_a_call_for_help(
    team: Server,  # noqa: F811
    typed: str,
) -> None:
    """Ana types "None needed" in *Help needed* (the field's own word: help needed? none
    needed). At 09:30 the day's message says ":raising_hand: <@U0ANA> needs help: None
    needed" and counts it a call for help. `_NOTHING` takes "No help needed" but not "None
    needed"/"Not needed": it should not be shown as a call for help."""
    assert submit(team, "U0ANA", **_answer(help_needed=typed)).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    bot_clock.run_job(team.runtime, "standup-digest")
    shown = _day_message_now(team, "2025-10-31")
    assert "needs help" not in shown, shown

"""Standup answers, days and participation, in the sprint's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from jobs import standups
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.standups import (
    Answers,
    InvalidAnswers,
    Participation,
    away,
    parse_answers,
    parse_day,
    participation,
    skip,
    standup_day,
    submit,
)

T0 = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # 09:05 in New York, day 3


def test_parse_answers(example: Sprint) -> None:
    a = parse_answers(
        {
            "tests_fixed": "7",
            "components_improved": ["Swarm Coordination", "Not A Component"],
            "blockers_resolved": ["3", "99", "x"],
            "current_blockers": "p1 - flaky login\n[P0] deadlock\nno severity here",
            "blocker_severity": "P2",
            "new_risks": "one\n\ntwo",
            "action_items": "Write docs | @ana | 2025-11-03\nShip | <@U1> | day 9",
        },
        sprint=example,
        open_blocker_ids={3},
    )
    assert a.tests_fixed == 7 and a.target_tests is None
    assert a.components_improved == ["Swarm Coordination"]
    assert a.blockers_resolved == [3]
    assert a.current_blockers == [
        ("P1", "flaky login"),
        ("P0", "deadlock"),
        ("P2", "no severity here"),
    ]
    assert a.new_risks == ["one", "two"]
    assert a.action_items == [
        {"item": "Write docs", "owner": "@ana", "due": "2025-11-03"},
        {"item": "Ship", "owner": "<@U1>", "due": "day 9"},
    ]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"tests_fixed": "-3"}, "tests_fixed"),
        ({"target_tests": "1e9"}, "target_tests"),
        ({"action_items": "a | b"}, "action_items"),
        ({"action_items": "a | b | next quarter"}, "action_items"),
        ({"notes": "x" * 3000}, "notes"),
        ({"current_blockers": "P5 oops"}, "current_blockers"),
    ],
)
def test_parse_answers_errors(example: Sprint, values: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidAnswers) as info:
        parse_answers(values, sprint=example, open_blocker_ids=set())
    assert list(info.value.errors) == [field]


def test_an_answer_after_local_midnight_counts_for_the_new_day(example: Sprint) -> None:
    # 23:59 EDT on Oct 31 is 03:59 UTC on Nov 1.
    assert standup_day(example, datetime(2025, 11, 1, 3, 59, tzinfo=UTC)) == date(2025, 10, 31)
    assert standup_day(example, datetime(2025, 11, 1, 4, 1, tzinfo=UTC)) == date(2025, 11, 1)
    # Across the DST change (Nov 2): neither skipped nor doubled.
    days = {
        standup_day(example, datetime(2025, 11, d, h, tzinfo=UTC))
        for d in (1, 2, 3)
        for h in range(0, 24, 3)
    }
    assert days == {date(2025, 10, 31), date(2025, 11, 1), date(2025, 11, 2), date(2025, 11, 3)}
    assert standup_day(example, datetime(2025, 11, 3, 4, 59, tzinfo=UTC)) == date(2025, 11, 2)
    assert standup_day(example, datetime(2025, 11, 3, 5, 0, tzinfo=UTC)) == date(2025, 11, 3)


def test_participation(session: Session, example: Sprint) -> None:
    day = date(2025, 10, 31)
    submit(session=session, sprint=example, user_id="U1", answers=Answers(), now=T0)
    # 09:45 local: after the 09:30 digest.
    submit(
        session=session,
        sprint=example,
        user_id="U2",
        answers=Answers(),
        now=datetime(2025, 10, 31, 13, 45, tzinfo=UTC),
    )
    skip(session=session, sprint=example, user_id="U3", reason="", now=T0)
    away(session=session, user_id="U4", start=day, end=day, reason="", now=T0)
    states = participation(
        session=session, sprint=example, day=day, participants=["U1", "U2", "U3", "U4", "U5"]
    )
    assert states == {
        "U1": Participation.ANSWERED,
        "U2": Participation.LATE,
        "U3": Participation.AWAY,
        "U4": Participation.AWAY,
        "U5": Participation.MISSING,
    }
    with pytest.raises(SprintError, match="already answered"):
        skip(session=session, sprint=example, user_id="U1", reason="", now=T0)


def test_parse_day(example: Sprint) -> None:
    today = date(2025, 10, 31)
    assert parse_day("today", sprint=example, today=today) == today
    assert parse_day("Tomorrow", sprint=example, today=today) == date(2025, 11, 1)
    assert parse_day("day9", sprint=example, today=today) == date(2025, 11, 6)
    assert parse_day("2025-11-05", sprint=example, today=today) == date(2025, 11, 5)


def test_a_severity_is_read_in_brackets_in_pairs_only() -> None:
    """ "(P0) …" and "[P0] …" name a severity; "(P0 and P1 tiers down)" is a blocker's words
    (an unmatched bracket was read as one; found by review)."""
    assert standups._blocker_line("(P0) prod down", "P1") == ("P0", "prod down")
    assert standups._blocker_line("[P2] slow CI", "P1") == ("P2", "slow CI")
    assert standups._blocker_line("P0 — prod down", "P1") == ("P0", "prod down")
    words = "(P0 and P1 tiers down)"
    assert standups._blocker_line(words, "P1") == ("P1", words)
    assert standups._blocker_line("[P0 prod", "P2") == ("P2", "[P0 prod")


# Everyday ways of saying there is nothing, and real items that start the same way (found
# by reviews: "None today" filed a risk named so; then "Not all risks identified for this
# sprint" was swallowed; then "No blocking issues", "from my side" were filed again).
SAYING_NOTHING = [
    "None", "n/a", "N/A.", "No blockers", "None today", "No new risks today",
    "Nothing to report", "Not blocked", "Nothing blocking me", "None from me",
    "No blockers for me", "None identified", "No new risks identified", "No risks this week",
    "None needed", "Not needed", "No help needed", "None, thanks", "No blocking issues",
    "No blockers from my side", "None from our side", "No blockers for this sprint",
    "No blockers for the moment", "None for the sprint", "No help needed from my side",
    "No blockers at this time", "No blockers on my end", "No blockers or issues",
    "No blockers. Thanks!", "No blockers currently", "Nope, all good",
    "No blockers today either", "None on our end", "No issues from my end",
]  # fmt: skip
REAL_ITEMS = [
    "No rollback plan for migration", "No access to staging", "None of the shards pass",
    "Nothing works on ARM", "n/a for iOS but Android blocked", "Need help",
    "None today, but need DBA access", "No help from infra on the VPN",
    "Not all risks identified for this sprint", "No sprint report this week",
    "Not all blockers identified yet", "None of us can deploy", "Not yet reviewed by security",
]  # fmt: skip


@pytest.mark.parametrize("typed", SAYING_NOTHING)
def test_saying_there_is_nothing_files_nothing(example: Sprint, typed: str) -> None:
    a = parse_answers(
        {"current_blockers": typed, "new_risks": typed, "help_needed": typed},
        sprint=example,
        open_blocker_ids=set(),
    )
    assert (a.current_blockers, a.new_risks, a.help_needed) == ([], [], ""), typed


@pytest.mark.parametrize("typed", REAL_ITEMS)
def test_an_item_starting_like_nothing_is_kept(example: Sprint, typed: str) -> None:
    a = parse_answers({"new_risks": typed}, sprint=example, open_blocker_ids=set())
    assert a.new_risks == [typed]

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

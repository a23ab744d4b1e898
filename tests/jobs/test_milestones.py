"""Milestones as a domain: each criterion measured and met or not on a hand-computed
sprint, which milestone is current, and sign-offs once per role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from jobs import milestones
from jobs.config import Sprint
from jobs.errors import SprintError
from tests.support import factories
from tests.support.small_sprint import REPORT_DAY3, small, two_days

PEOPLE = {
    "participants": ["U01", "U02"],
    "tech_lead": ["U01"],
    "qa_lead": ["U02"],
    "admins": ["U01"],
}
CHECKPOINT = {
    "day": 3,
    "name": "Checkpoint",
    "criteria": [
        {"metric": "readiness", "op": ">=", "value": 50},
        {"metric": "pass_rate", "op": ">=", "value": 87},
        {"metric": "tests_fixed", "op": ">=", "value": 1},
        {"blockers": "P0", "op": "==", "value": 0},
        {"component": "Core", "op": ">=", "value": 50},
        {"metric": "regressions_introduced", "op": "==", "value": 0, "label": "No regressions"},
    ],
    "signoffs": ["tech_lead", "qa_lead"],
}
END = {"day": 10, "name": "End", "criteria": [], "signoffs": ["tech_lead"]}


def sprint() -> Sprint:
    return small(people=PEOPLE, milestones=[END, CHECKPOINT])


def results(session: Session, s: Sprint) -> list[tuple[Any, Any, str, bool]]:
    measures = milestones.measure(session=session, sprint=s, now=REPORT_DAY3)
    rows = milestones.evaluate(s.milestones[1], measures)
    return [(r["value"], r["of"], r["unit"], r["met"]) for r in rows]


def test_each_criterion_met_or_not(session: Session) -> None:
    # The figures of `two_days` are worked out in its docstring.
    s = sprint()
    two_days(session, s)
    assert results(session, s) == [
        (pytest.approx(160 / 3), None, "%", True),
        (50.0, None, "%", False),
        (1.0, 2.0, "", True),  # 1 of the 2 failing at the start
        (0.0, None, "", True),
        (50.0, None, "%", True),  # exactly the bound
        (1.0, None, "", False),
    ]
    # A P0 filed since: the blocker criterion is no longer met.
    factories.blocker(session, s, now=REPORT_DAY3 - timedelta(hours=1))
    assert results(session, s)[3] == (1.0, None, "", False)


def test_nothing_measured_is_not_met(session: Session) -> None:
    s = sprint()
    measured = results(session, s)
    assert measured[1] == (None, None, "%", False)  # no tests known: no pass rate
    assert measured[3] == (0.0, None, "", True)  # no blockers is a measure: zero


def test_the_milestone_data_counts_what_is_met_and_names_labels(session: Session) -> None:
    s = sprint()
    two_days(session, s)
    measures = milestones.measure(session=session, sprint=s, now=REPORT_DAY3)
    data = milestones.milestone_data(
        session=session, milestone=s.milestones[1], measures=measures, at=REPORT_DAY3
    )
    assert (data["day"], data["name"], data["met"]) == (3, "Checkpoint", 4)
    assert data["criteria"][-1]["criterion"] == "No regressions"
    assert data["signoffs"] == [
        {"role": "tech_lead", "user": None, "at": None},
        {"role": "qa_lead", "user": None, "at": None},
    ]


@pytest.mark.parametrize(("day", "current"), [(1, 3), (3, 3), (4, 10), (10, 10), (12, 10)])
def test_the_current_milestone_is_the_next_not_past(day: int, current: int) -> None:
    found = milestones.current_milestone(sprint(), day)
    assert found is not None and found.day == current


def test_sign_offs_once_per_role(session: Session) -> None:
    s = sprint()

    def sign(role: str, user: str, day: int = 3) -> str:
        return milestones.sign_off(
            session=session, sprint=s, day=day, role=role, user_id=user, now=REPORT_DAY3
        ).name

    assert sign("qa_lead", "U02") == "Checkpoint"
    with pytest.raises(SprintError) as again:
        sign("qa_lead", "U02")
    assert str(again.value) == "QA Lead has already signed off Checkpoint."
    with pytest.raises(SprintError) as not_needed:
        sign("qa_lead", "U02", day=10)
    assert str(not_needed.value) == "Milestone day 10 needs no sign-off from QA Lead."
    with pytest.raises(SprintError, match="Milestone day 5 needs no sign-off"):
        sign("tech_lead", "U01", day=5)
    state = milestones.signoff_state(session=session, milestone=s.milestones[1], at=REPORT_DAY3)
    assert state == [
        {"role": "tech_lead", "user": None, "at": None},
        {"role": "qa_lead", "user": "U02", "at": REPORT_DAY3.isoformat()},
    ]
    # As of a moment before it, not signed yet.
    earlier = REPORT_DAY3 - timedelta(seconds=1)
    before = milestones.signoff_state(session=session, milestone=s.milestones[1], at=earlier)
    assert [x["user"] for x in before] == [None, None]

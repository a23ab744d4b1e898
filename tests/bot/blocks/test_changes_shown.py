"""A change between two scores is the difference of the two as shown beside it (to 2
decimals): "78.48 % → 79 % (+0.52 pts)", never the unrounded scores' "+0.53" (found by
review: the daily report's change since yesterday, then every "before → after" line)."""

from __future__ import annotations

from typing import Any

from bot.blocks.alerts import regression_alert
from bot.blocks.history import outcome_line
from bot.blocks.review import sprint_review
from jobs.numbers import Impact, Share, change
from tests.bot.blocks.test_review import REVIEW


def test_change_is_of_the_scores_as_shown() -> None:
    assert change(78.476, 79.004) == 0.52  # 78.48 → 79
    assert change(56.7784, 48.9851) == -7.79  # 56.78 → 48.99 (unrounded: -7.7933 → -7.79)
    assert change(80.6249, 81.0051) == 0.39  # 80.62 → 81.01 (unrounded: +0.38)
    assert change(70.0, 70.004) == 0.0


def test_the_alerts_readiness_line_adds_up() -> None:
    d: Any = {
        "branch": "main",
        "commit": "abc123",
        "count": 1,
        "tests": [{"id": "t::a", "component": "Core"}],
        "alert_id": 1,
        "readiness": {"score": 79.004, "previous": 78.476},
        "impact": None,
    }
    assert "readiness 78.48 % → 79 % (+0.52 pts)" in regression_alert(d)["text"]


def test_a_reports_net_impact_adds_up() -> None:
    impact = Impact(78.476, 79.004, Share(1, -0.2), Share(2, 0.7), Share(0, 0.0))
    shown = impact.as_dict()
    assert (shown["before"], shown["after"], shown["net"]) == (78.48, 79.0, 0.52)


def test_the_review_and_the_history_say_the_change_they_show() -> None:
    review: Any = {**REVIEW, "summary": {**REVIEW["summary"], "start": 70.004, "end": 91.246}}
    text = str(sprint_review(review)["blocks"])
    assert "Readiness: 70 % → 91.25 % (+21.25 pts)" in text  # (unrounded: +21.24)
    outcome: Any = {
        "name": "Sprint 3",
        "days": 14,
        "readiness_start": 70.004,
        "readiness_end": 91.246,
        "start": "2025-10-29",
        "end": "2025-11-11",
        "status": "ended",
        "tests_fixed": 0,
        "regressions_introduced": 0,
        "blockers_resolved": 0,
        "median_resolution_hours": None,
        "goals_met": 0,
        "goals": 0,
    }
    assert "(+21.25 pts)" in outcome_line(outcome)

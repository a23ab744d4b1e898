"""What a report's regressions, fixes and new failures are each worth in readiness points
(numbers.impact), and how ingest feeds it: the before counts, the moves, the net."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from jobs.config import Sprint, validate_sprint
from jobs.numbers import Move, Share, TestCounts, impact, moved
from tests.support.reports import ingest, report
from tests.support.sprints import minimal

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)
NEXT_DAY = NOW + timedelta(days=1)


def sprint() -> Sprint:
    """Core (tests, weight 2, starting 60), CLI (tests, weight 1, no starting score),
    Docs (manual, weight 1, starting 50), Perf (metrics, weight 1, starting 40)."""
    return validate_sprint(
        minimal(
            metrics=[{"name": "latency", "unit": "s", "target": 1.0, "better": "lower"}],
            components=[
                {
                    "name": "Core",
                    "weight": 2,
                    "target": 90,
                    "source": "tests",
                    "tests": ["tests/core/**"],
                    "score": 60,
                },
                {
                    "name": "CLI",
                    "weight": 1,
                    "target": 90,
                    "source": "tests",
                    "tests": ["tests/cli/**"],
                },
                {"name": "Docs", "weight": 1, "target": 100, "source": "manual", "score": 50},
                {
                    "name": "Perf",
                    "weight": 1,
                    "target": 90,
                    "source": "metrics",
                    "metrics": ["latency"],
                    "score": 40,
                },
            ],
        )
    )


def by_hand(core: float, cli: float, docs: float, perf: float) -> float:
    """Readiness = Σ weight·score / Σ weight with the weights above."""
    return (2 * core + cli + docs + perf) / 5


def test_each_kind_on_its_own_and_the_net() -> None:
    s = sprint()
    result = impact(
        s,
        before={"Core": TestCounts(6, 10), "CLI": TestCounts(6, 6)},
        after={"Core": TestCounts(10, 10), "CLI": TestCounts(4, 7)},
        regressed=[Move("CLI", passed=-1, known=0)] * 2,
        fixed=[Move("Core", passed=1, known=0)] * 4,
        new_failures=[Move("CLI", passed=0, known=1)],
        manual={"Docs": 70},  # the stored score, not the starting 50
        metric_values={"latency": 2.0},  # beyond target: Perf 0 %, not the starting 40
    )
    before = by_hand(60, 100, 70, 0)
    assert before == 58
    assert result.before == pytest.approx(before)
    # Each kind's points as the net's: the difference of the two scores as shown.
    assert result.regressed == Share(2, round(round(by_hand(60, 400 / 6, 70, 0), 2) - before, 2))
    assert result.fixed == Share(4, round(round(by_hand(100, 100, 70, 0), 2) - before, 2))
    assert result.new_failures == Share(1, round(round(by_hand(60, 600 / 7, 70, 0), 2) - before, 2))
    assert result.after == pytest.approx(by_hand(100, 400 / 7, 70, 0))
    assert result.net == 7.43  # 58 % → 65.43 %, as both are shown
    assert result.as_dict() == {
        "before": 58.0,
        "after": 65.43,
        "net": 7.43,
        "regressed": {"count": 2, "points": -6.67},
        "fixed": {"count": 4, "points": 16.0},
        "new_failures": {"count": 1, "points": -2.86},
    }


def test_a_kind_without_tests_or_outside_every_component_is_worth_nothing() -> None:
    s = sprint()
    result = impact(
        s,
        before={"Core": TestCounts(5, 10)},
        after={"Core": TestCounts(5, 10)},
        regressed=[Move(None, passed=-1, known=0)],  # no component's globs match it
        fixed=[],
        new_failures=[Move("Core", passed=0, known=0)],  # a skipped test now failing
    )
    assert result.before == pytest.approx((2 * 50 + 50 + 40) / 4)  # CLI has no score: out
    assert (result.regressed, result.fixed, result.new_failures) == (
        Share(1, 0.0),
        Share(0, 0.0),
        Share(1, 0.0),
    )
    assert result.net == 0


def test_a_new_failing_test_in_a_component_without_tests_yet() -> None:
    result = impact(
        sprint(),
        before={},
        after={"CLI": TestCounts(0, 1)},
        regressed=[],
        fixed=[],
        new_failures=[Move("CLI", passed=0, known=1)],
    )
    # Before: Core 60, Docs 50, Perf 40 (starting scores; CLI has none) over weight 4.
    assert result.before == pytest.approx((2 * 60 + 50 + 40) / 4)
    assert result.new_failures.points == pytest.approx(by_hand(60, 0, 50, 40) - 52.5)
    assert result.net == result.new_failures.points


def test_no_readiness_no_points() -> None:
    s = validate_sprint(
        minimal(
            components=[
                {"name": "Core", "weight": 1, "target": 90, "source": "tests", "tests": ["x/**"]}
            ]
        )
    )
    result = impact(
        s,
        before={},
        after={"Core": TestCounts(0, 1)},
        regressed=[],
        fixed=[],
        new_failures=[Move("Core", passed=0, known=1)],
    )
    assert (result.before, result.net, result.new_failures) == (None, None, Share(1, None))
    assert result.as_dict()["net"] is None


def test_moved_applies_moves_to_copies() -> None:
    before = {"Core": TestCounts(3, 4)}
    assert moved(before, [Move("Core", -1, 0), Move("CLI", 0, 1), Move(None, 1, 1)]) == {
        "Core": TestCounts(2, 4),
        "CLI": TestCounts(0, 1),
    }
    assert before == {"Core": TestCounts(3, 4)}


# -- through ingest --------------------------------------------------------------------------


def send(
    session: Session, s: Sprint, doc: bytes, run: str, branch: str = "main", at: datetime = NOW
) -> Any:
    return ingest(session, s, doc, run=run, at=at, branch=branch)


def test_ingest_counts_before_from_what_changed(session: Session) -> None:
    s = sprint()
    first = send(
        session,
        s,
        report({"core/a": "passed", "core/b": "skipped", "core/c": "failed", "cli/a": "passed"}),
        "r1",
    )
    # Nothing known before the first report: the starting scores (CLI has none).
    assert first["impact"]["before"] == pytest.approx((2 * 60 + 50 + 40) / 4, abs=0.005)
    assert first["impact"]["after"] == first["readiness"]["score"]
    # The next day core/d is first seen, skipped: a new test (its first report's day was
    # the baseline's), whose first failure is a new failure.
    core_d = {"core/a": "passed", "core/b": "skipped", "core/c": "failed", "core/d": "skipped"}
    mid = send(session, s, report({**core_d, "cli/a": "passed"}), "r1b", at=NEXT_DAY)

    second = send(
        session,
        s,
        report(
            {
                "core/a": "passed",
                "core/b": "failed",  # skipped → failed: the baseline's test, failing
                "core/c": "passed",  # fixed
                "core/d": "failed",  # skipped → failed: a new failure, already counted
                "cli/a": "failed",  # regressed
                "cli/b": "passed",  # a new passing test: only in the net
            }
        ),
        "r2",
        at=NEXT_DAY,
    )
    i = second["impact"]
    core_before, cli_before = 100 / 4, 100.0
    before = by_hand(core_before, cli_before, 50, 40)
    assert i["before"] == mid["impact"]["after"] == pytest.approx(before, abs=0.005)
    assert i["regressed"] == {
        "count": 1,
        "points": pytest.approx(by_hand(core_before, 0, 50, 40) - before, abs=0.005),
    }
    assert i["fixed"] == {
        "count": 1,
        "points": pytest.approx(by_hand(200 / 4, cli_before, 50, 40) - before, abs=0.005),
    }
    assert i["new_failures"] == {"count": 1, "points": 0.0}
    after = by_hand(200 / 4, 50, 50, 40)
    assert i["after"] == second["readiness"]["score"] == pytest.approx(after, abs=0.005)
    assert i["net"] == pytest.approx(after - before, abs=0.005)

    # Another branch leaves readiness alone: no impact to state.
    assert send(session, s, report({"cli/a": "passed"}), "f1", branch="feature/x")["impact"] is None

    # A test moving to another component (its file now under tests/core): before is still
    # what the previous report left.
    third = send(
        session,
        s,
        report({"cli/b": "failed"}, files={"cli/b": "tests/core/test_it.py"}),
        "r3",
        at=NEXT_DAY,
    )
    assert third["impact"]["before"] == second["impact"]["after"]
    assert third["impact"]["regressed"]["count"] == 1
    assert third["impact"]["after"] == third["readiness"]["score"]

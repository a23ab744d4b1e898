"""Readiness from what storage holds: test statuses, manual scores, metrics, blockers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from jobs import figures
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.numbers import Health, pct
from jobs.readiness import current_status, parse_score, set_manual_score
from storage.models import Blocker, KnownTest, MetricSample, TestStatus
from tests.support.small_sprint import ingest, small

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)  # day 3, plan 72


def _tests(session: Session, component: str | None, passed: int, failed: int) -> None:
    for i in range(passed + failed):
        status = TestStatus.PASSED if i < passed else TestStatus.FAILED
        session.add(
            KnownTest(
                key=f"{component}:{i}",
                classname=f"{component}",
                name=f"t{i}",
                component=component,
                status=status,
                first_seen_at=NOW,
                changed_at=NOW,
            )
        )
    session.flush()


def test_status_from_stored_results(session: Session, example: Sprint) -> None:
    _tests(session, "Swarm Coordination", passed=45, failed=5)  # 90 % (was 70)
    _tests(session, None, passed=3, failed=2)  # unmapped: counts in totals only
    session.add(MetricSample(name="api_throughput", value=1200, at=NOW, received_at=NOW))
    session.add(MetricSample(name="swarm_init_time", value=0.9, at=NOW, received_at=NOW))
    session.add(MetricSample(name="agent_spawn_time", value=0.8, at=NOW, received_at=NOW))
    session.flush()
    status = current_status(session=session, sprint=example, now=NOW)
    by_name = {c.name: c for c in status.breakdown.components}
    assert by_name["Swarm Coordination"].score == 90
    assert by_name["Scalability"].score == pytest.approx(200 / 3)
    # 71.55 + 8·(90-70)/100 + 5·(66.67-65)/100
    assert status.breakdown.score == pytest.approx(71.55 + 1.6 + 5 * (200 / 3 - 65) / 100)
    assert (status.passed, status.known, status.unmapped) == (48, 55, 5)
    assert status.pass_rate == pytest.approx(100 * 48 / 55)
    # Every test was first seen today, so they are the baseline and today's readiness is the
    # measured baseline; the plan runs from it to 85 % in the shape of [plan] (day 3: 5/18).
    m = status.breakdown.score
    assert status.day == 3
    assert status.plan == pytest.approx(m + 5 / 18 * (85 - m))
    assert status.health is Health.CRITICAL  # more than 2 points below that plan
    assert status.health_reason.endswith(
        f"below plan ({pct(m)} against today's plan of {pct(status.plan)})"
    )


def test_an_old_p0_blocker_puts_the_sprint_at_risk(session: Session, example: Sprint) -> None:
    _tests(session, "Swarm Coordination", passed=50, failed=0)
    session.add(
        Blocker(
            component="Swarm Coordination",
            description="deadlock",
            severity="P0",
            reported_by="U1",
            reported_at=NOW - timedelta(hours=30),
        )
    )
    session.flush()
    # The file's own plan (72 % on day 3), so readiness is above plan and only the P0 counts.
    stated = example.model_copy(
        update={"plan": example.plan.model_copy(update={"anchor": "stated"})}
    )
    status = current_status(session=session, sprint=stated, now=NOW)
    assert status.breakdown.score is not None and status.breakdown.score >= status.plan == 72
    assert status.health is Health.AT_RISK
    assert status.health_reason == "P0 B-001 open for 30 h"


def test_manual_score_change_snapshots(session: Session, example: Sprint) -> None:
    change = set_manual_score(
        session=session, sprint=example, component="user guides", score=70, user_id="U1", now=NOW
    )
    assert (change.component, change.old, change.new) == ("User Guides", 50, 70)
    assert change.readiness_before == pytest.approx(71.55)
    assert change.readiness_after == pytest.approx(72.55)
    with pytest.raises(SprintError, match="only manual components can be set"):
        set_manual_score(
            session=session,
            sprint=example,
            component="Scalability",
            score=70,
            user_id="U1",
            now=NOW,
        )


@pytest.mark.parametrize(
    ("text", "value"),
    [("70", 70), ("72.5%", 72.5), (" 0 ", 0), ("70.", 70), (".5", 0.5), ("100.0", 100)],
)
def test_parse_score(text: str, value: float) -> None:
    assert parse_score(text) == value


@pytest.mark.parametrize("text", ["-1", "101", "seventy", "", "-0", "1_00", "1e2", "0x10"])
def test_parse_score_rejects(text: str) -> None:
    with pytest.raises(SprintError):
        parse_score(text)


def test_a_sprint_scored_by_hand_alone_gets_a_burn_down_and_a_forecast(session: Session) -> None:
    """A sprint with no `tests` component (its readiness all manual scores) never counted a
    day as measured, which waited for tests to be known: its burn-down showed no readiness,
    and its health never weighed the forecast, so a sprint crawling toward a target it
    cannot reach read "On Track" to the last day (found by review)."""
    sprint = small(
        components=[
            {"name": "Docs", "weight": 1, "target": 100, "source": "manual", "score": 60},
            {"name": "Security", "weight": 1, "target": 100, "source": "manual", "score": 60},
        ],
        plan={"readiness": [60, 60.5, 61, 61.5, 62, 62.5, 63, 63.5, 64, 85]},
    )
    day_one_ten = datetime(2025, 10, 29, 9, tzinfo=UTC)  # 10:00 in Berlin
    for day, score in enumerate((61.0, 62.0, 63.0)):
        set_manual_score(
            session=session,
            sprint=sprint,
            component="Docs",
            score=score,
            user_id="U01",
            now=day_one_ten + timedelta(days=day),
        )
    fig = figures.compute(session=session, sprint=sprint, at=day_one_ten + timedelta(days=3))
    assert [d.readiness for d in fig.days[:3]] == [60.5, 61.0, 61.5]
    outlook = fig.forecast["readiness"]
    assert outlook.points == 3 and outlook.per_day == pytest.approx(0.5)
    # At half a point a day, 85 % is out of reach by day 10: the forecast says so.
    assert fig.health is Health.AT_RISK, fig.health_reason
    assert fig.health_reason == (
        "not by day 10 at this pace (85 % on day 50, +0.50 pts/day); needs +3.92 pts/day"
    )


def test_a_one_day_sprints_plan_is_the_same_with_or_without_a_shape(session: Session) -> None:
    """DESIGN's plan, "with p(last) = p(1): flat at m". A one-day sprint's straight line is
    that case, yet without `[plan]` it planned its day at the target ("Critical, 31.67 pts
    below plan"), and with a one-point `[plan]` at the measured baseline ("On Track"): one
    sprint, opposite health (found by review)."""
    one_day = {"name": "S", "start": "2025-10-29", "days": 1, "timezone": "Europe/Berlin"}
    plain = small(sprint=one_day)
    shaped = small(sprint=one_day, plan={"readiness": [70]})
    statuses = {"core/a": "passed", "core/b": "failed"}
    ingest(session, plain, statuses, "d0", datetime(2025, 10, 28, 18, tzinfo=UTC))
    nine = datetime(2025, 10, 29, 8, tzinfo=UTC)  # 09:00 Berlin on its one day
    for sprint in (plain, shaped):
        fig = figures.compute(session=session, sprint=sprint, at=nine)
        assert fig.plan == fig.baseline_measured, fig.health_reason
        assert fig.health is Health.ON_TRACK, fig.health_reason

"""Readiness now: gathers what storage knows and scores it with jobs.numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from jobs import numbers
from jobs.config import Source, Sprint
from jobs.errors import SprintError
from jobs.numbers import Breakdown, Health, TestCounts
from storage import queries


@dataclass(frozen=True)
class Status:
    """Where the sprint stands at one instant: what /readiness and the API show."""

    breakdown: Breakdown
    day: int
    plan: float
    health: Health
    passed: int
    known: int

    @property
    def pass_rate(self) -> float | None:
        return 100.0 * self.passed / self.known if self.known else None

    def as_dict(self) -> dict[str, object]:
        return {
            **self.breakdown.as_dict(),
            "day": self.day,
            "plan": self.plan,
            "health": str(self.health),
            "tests": {"passed": self.passed, "known": self.known, "pass_rate": self.pass_rate},
        }


def _breakdown(session: Session, sprint: Sprint, branch: str) -> tuple[Breakdown, TestCounts]:
    counts = queries.component_test_counts(session=session, branch=branch)
    bd = numbers.breakdown(
        sprint,
        tests={name: TestCounts(passed=p, total=n) for name, (p, n) in counts.items() if name},
        manual=queries.latest_manual_scores(session=session),
        metric_values=queries.latest_metric_values(session=session),
    )
    totals = TestCounts(
        passed=sum(p for p, _ in counts.values()), total=sum(n for _, n in counts.values())
    )
    return bd, totals


def current_breakdown(*, session: Session, sprint: Sprint, branch: str = "main") -> Breakdown:
    """The readiness breakdown from the latest test statuses, manual scores and metrics."""
    return _breakdown(session, sprint, branch)[0]


def baseline(*, session: Session, sprint: Sprint, current: float | None) -> float:
    """The sprint's starting readiness: stated in the file, else the first snapshot."""
    if sprint.targets.baseline_readiness is not None:
        return sprint.targets.baseline_readiness
    first = queries.first_snapshot(session=session)
    if first is not None and first.score is not None:
        return first.score
    return current if current is not None else 0.0


def current_status(*, session: Session, sprint: Sprint, now: datetime) -> Status:
    """Readiness, plan for today and health at `now`."""
    bd, totals = _breakdown(session, sprint, "main")
    day = numbers.sprint_day(sprint.sprint, now)
    plan = numbers.plan_readiness(
        sprint, day, baseline=baseline(session=session, sprint=sprint, current=bd.score)
    )
    p0_ages = [now - b.reported_at for b in queries.open_blockers(session=session, severity="P0")]
    return Status(
        breakdown=bd,
        day=day,
        plan=plan,
        health=numbers.health(bd.score, plan, open_p0_ages=p0_ages),
        passed=totals.passed,
        known=totals.total,
    )


@dataclass(frozen=True)
class ScoreChange:
    component: str
    old: float | None
    new: float
    readiness_before: float | None
    readiness_after: float | None


def parse_score(text: str) -> float:
    """ "70", "70%", "72.5" → a score in 0..100, else SprintError."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise SprintError(
            f'"{text}" is not a score; give a number from 0 to 100, e.g. 70'
        ) from None
    if not 0 <= value <= 100:
        raise SprintError(f"{value:g} is out of range; a score is from 0 to 100")
    return value


def set_manual_score(
    *, session: Session, sprint: Sprint, component: str, score: float, user_id: str, now: datetime
) -> ScoreChange:
    """Set a manual component's score and snapshot the readiness it leads to."""
    comp = sprint.component(component)
    manual = [c.name for c in sprint.components if c.source is Source.MANUAL]
    if comp is None:
        raise SprintError(
            f'No component called "{component}". Manual components: {", ".join(manual) or "none"}.'
        )
    if comp.source is not Source.MANUAL:
        raise SprintError(
            f"{comp.name} is scored from its {comp.source}; only manual components can be set: "
            f"{', '.join(manual) or 'none'}."
        )
    before = current_breakdown(session=session, sprint=sprint)
    old = next(c.score for c in before.components if c.name == comp.name)
    queries.add_manual_score(
        session=session, component=comp.name, score=score, previous=old, user_id=user_id, at=now
    )
    after = current_breakdown(session=session, sprint=sprint)
    queries.add_snapshot(
        session=session,
        at=now,
        score=after.score,
        cause=f"manual:{comp.name}",
        breakdown=after.as_dict(),
    )
    return ScoreChange(
        component=comp.name,
        old=old,
        new=score,
        readiness_before=before.score,
        readiness_after=after.score,
    )

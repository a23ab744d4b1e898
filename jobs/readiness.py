"""Readiness now: gathers what storage knows and scores it with jobs.numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from jobs import figures, notices, numbers
from jobs.config import Source, Sprint
from jobs.errors import SprintError
from jobs.numbers import Breakdown, Health, TestCounts
from storage import queries
from storage.queries import quarantine as quarantine_store


@dataclass(frozen=True)
class Status:
    """Where the sprint stands at one instant: what /readiness and the API show (a view of
    `jobs.figures.Figures`, which computes every number)."""

    breakdown: Breakdown
    day: int
    plan: float | None  # None: no plan yet
    health: Health
    passed: int
    known: int
    unmapped: int = 0  # tests no component's globs match: in the totals only
    flaky: int = 0  # tests that passed only on a re-run: neither passing nor failing
    health_reason: str = ""
    status_line: str = ""
    plan_note: str = ""

    @property
    def pass_rate(self) -> float | None:
        return 100.0 * self.passed / self.known if self.known else None

    @classmethod
    def of(cls, fig: figures.Figures) -> Status:
        return cls(
            breakdown=fig.breakdown,
            day=fig.sprint_day,  # (as GET /api/v1/sprint gives it)
            plan=fig.plan,
            health=fig.health,
            passed=fig.tests.passing,
            known=fig.tests.known,
            unmapped=fig.tests.unmapped,
            flaky=fig.tests.flaky,
            health_reason=fig.health_reason,
            status_line=fig.status_line(),
            plan_note=fig.plan_note(),
        )

    def as_dict(self) -> dict[str, object]:
        return {
            **self.breakdown.as_dict(),
            "day": self.day,
            "plan": None if self.plan is None else round(self.plan, 2),
            "health": str(self.health),
            "health_reason": self.health_reason,
            "tests": {
                "passed": self.passed,
                "known": self.known,
                "pass_rate": None if self.pass_rate is None else round(self.pass_rate, 2),
                "unmapped": self.unmapped,
                "flaky": self.flaky,
            },
        }


@dataclass(frozen=True)
class TestTally:
    """The tracked branch's tests: per component, and in all."""

    __test__ = False  # not a pytest class

    components: dict[str, TestCounts]
    passed: int
    failing: int
    known: int


def tally(*, session: Session, sprint: Sprint) -> TestTally:
    """Count the tracked branch's known tests from storage."""
    branch = sprint.sprint.branch
    counts = queries.component_test_counts(session=session, branch=branch)
    return TestTally(
        components={k: TestCounts(passed=p, total=n) for k, (p, n) in counts.items() if k},
        passed=sum(p for p, _ in counts.values()),
        failing=queries.failing_count(session=session, branch=branch),
        known=sum(n for _, n in counts.values()),
    )


def breakdown_for(
    *, session: Session, sprint: Sprint, counts: TestTally, at: datetime
) -> Breakdown:
    """Readiness from test counts plus the stored manual scores and metrics; the tests in
    quarantine at `at` count as `[flaky] readiness` says (one past its `until` no longer,
    as the figures count it)."""
    held = quarantine_store.quarantined_states(session=session, branch=sprint.sprint.branch, at=at)
    return numbers.breakdown(
        sprint,
        tests=numbers.quarantine_counted(counts.components, held, sprint.flaky.readiness)
        if held
        else counts.components,
        manual=queries.latest_manual_scores(session=session),
        metric_values=queries.latest_metric_values(session=session),
    )


def current_breakdown(*, session: Session, sprint: Sprint, at: datetime) -> Breakdown:
    """The readiness breakdown from the latest test statuses, manual scores and metrics."""
    return breakdown_for(
        session=session, sprint=sprint, counts=tally(session=session, sprint=sprint), at=at
    )


@dataclass(frozen=True)
class Recorded:
    """A readiness snapshot just taken, and the one before it."""

    summary: notices.ReadinessMove
    snapshot_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def snapshot_readiness(
    *,
    session: Session,
    sprint: Sprint,
    cause: str,
    now: datetime,
    branch: str | None = None,
    counts: TestTally | None = None,
    before_tests: dict[str, TestCounts] | None = None,
    prior: Breakdown | None = None,
) -> Recorded:
    """Recompute readiness and snapshot it. Reports on other branches than the tracked one
    leave readiness alone. `before_tests` (a report's: the tests per component before it,
    quarantine counted): where the sprint has no snapshot yet, readiness from them is the
    one before (a new sprint's first run had none, so no decline was told; found by
    review); `prior` is that readiness where the caller had it before its write
    (`prior_readiness`: a new sprint's first benchmark figures or manual score)."""
    previous = queries.latest_snapshot(session=session)
    before = previous.score if previous is not None else None
    # An ended sprint's figures are its final ones: what CI sends later moves none (a reply
    # said readiness rose past the final score every surface shows; found by review).
    if (branch is not None and branch != sprint.sprint.branch) or figures.phase(
        sprint.sprint, now
    ) is figures.Phase.ENDED:
        return Recorded({"score": _r(before), "previous": _r(before)}, None, None, None)
    before_data = previous.breakdown if previous is not None else None
    # (Tests known before: a first report ever has no readiness before it.)
    if previous is None and before_tests and any(c.total for c in before_tests.values()):
        prior = numbers.breakdown(
            sprint,
            tests=before_tests,
            manual=queries.latest_manual_scores(session=session),
            metric_values=queries.latest_metric_values(session=session),
        )
        before, before_data = prior.score, prior.as_dict()
    elif previous is None and prior is not None:
        before, before_data = prior.score, prior.as_dict()
    counts = counts or tally(session=session, sprint=sprint)
    bd = breakdown_for(session=session, sprint=sprint, counts=counts, at=now)
    data = {
        **bd.as_dict(),
        "tests": {"passed": counts.passed, "failing": counts.failing, "known": counts.known},
    }
    snapshot = queries.add_snapshot(
        session=session, at=now, score=bd.score, cause=cause, breakdown=data
    )
    return Recorded(
        summary={"score": _r(bd.score), "previous": _r(before)},
        snapshot_id=snapshot.id,
        before=before_data,
        after=data,
    )


def announce_decline(
    *, session: Session, sprint: Sprint, recorded: Recorded, causes: dict[str, str], now: datetime
) -> None:
    """Queue a decline notice if the snapshot fell below the one before it, while the
    sprint runs: before day 1 or after the last, no surface shows readiness moving (an
    ended sprint's figures are its final ones) and there is no sprint to call a standup
    for."""
    if recorded.before is None or recorded.after is None or recorded.snapshot_id is None:
        return
    if figures.phase(sprint.sprint, now) is not figures.Phase.RUNNING:
        return
    notices.decline_notice(
        session=session,
        sprint=sprint,
        snapshot_id=recorded.snapshot_id,
        before=recorded.before,
        after=recorded.after,
        causes=causes,
        now=now,
    )


def prior_readiness(*, session: Session, sprint: Sprint, at: datetime) -> Breakdown | None:
    """Readiness before a write, for its snapshot to compare with (`snapshot_readiness`'s
    `prior`), where the sprint has no snapshot yet but something was measured before it:
    the team's tests, figures or scores from the sprint before (a new sprint's first
    benchmark figures that made readiness fall told nothing, as its first test run once
    did; found by review). None otherwise: a first figure ever has no readiness before."""
    if queries.latest_snapshot(session=session) is not None:
        return None
    counts = tally(session=session, sprint=sprint)
    measured = (
        counts.known
        or queries.latest_manual_scores(session=session)
        or queries.latest_metric_values(session=session)
    )
    return breakdown_for(session=session, sprint=sprint, counts=counts, at=at) if measured else None


def record_readiness(
    *,
    session: Session,
    sprint: Sprint,
    cause: str,
    causes: dict[str, str],
    now: datetime,
    prior: Breakdown | None = None,
) -> notices.ReadinessMove:
    """Snapshot readiness and announce a decline; returns {"score", "previous"}."""
    recorded = snapshot_readiness(session=session, sprint=sprint, cause=cause, now=now, prior=prior)
    announce_decline(session=session, sprint=sprint, recorded=recorded, causes=causes, now=now)
    return recorded.summary


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def current_status(*, session: Session, sprint: Sprint, now: datetime) -> Status:
    """Readiness, plan for today and health at `now`."""
    return Status.of(figures.compute(session=session, sprint=sprint, at=now))


@dataclass(frozen=True)
class ScoreChange:
    component: str
    old: float | None
    new: float
    readiness_before: float | None
    readiness_after: float | None
    # Set after the sprint ended (its figures final; the score counts from the next): when.
    ended: str | None = None


_SCORE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")


def parse_score(text: str) -> float:
    """ "70", "70%", "72.5" → a score in 0..100, else SprintError. Digits only (`float`
    also takes "1_00", "1e2", "-0")."""
    number = text.strip().removesuffix("%").strip()
    if not _SCORE.fullmatch(number):
        raise SprintError(f'"{text}" is not a score; give a number from 0 to 100, e.g. 70')
    value = float(number)
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
    before = current_breakdown(session=session, sprint=sprint, at=now)
    prior = prior_readiness(session=session, sprint=sprint, at=now)
    old = next(c.score for c in before.components if c.name == comp.name)
    queries.add_manual_score(
        session=session, component=comp.name, score=score, previous=old, user_id=user_id, at=now
    )
    after = record_readiness(
        session=session,
        sprint=sprint,
        cause=f"manual:{comp.name}",
        causes={
            comp.name: f"manual score set {numbers.pct(old)} → {numbers.pct(score)} by <@{user_id}>"
        },
        now=now,
        prior=prior,
    )
    if figures.phase(sprint.sprint, now) is figures.Phase.ENDED:
        return ScoreChange(comp.name, old, score, None, None, ended=sprint.sprint.end.isoformat())
    return ScoreChange(
        component=comp.name,
        old=old,
        new=score,
        readiness_before=before.score,
        readiness_after=after["score"],
    )

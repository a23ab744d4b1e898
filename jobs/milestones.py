"""Milestones: what the sprint has measurably reached, each criterion evaluated, sign-offs,
and the forecast of when the targets will be reached at the current pace."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from jobs import numbers
from jobs.config import Criterion, Milestone, Sprint
from jobs.errors import SprintError
from jobs.readiness import Status, current_status
from storage import queries
from storage.models import ReadinessSnapshot, Signoff

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
SEVERITIES = {"P0": ("P0",), "P1": ("P1",), "P2": ("P2",), "P0+P1": ("P0", "P1")}
FAILING = ("failed", "error")


def day_bounds(sprint: Sprint, day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local date, in UTC."""
    start = numbers.local_instant(sprint.sprint, day, datetime.min.time())
    end = numbers.local_instant(sprint.sprint, day + timedelta(days=1), datetime.min.time())
    return start, end


def day_ends(*, session: Session, sprint: Sprint, upto: date) -> dict[int, ReadinessSnapshot]:
    """The last readiness snapshot of each sprint day up to `upto` (end-of-day state)."""
    out: dict[int, ReadinessSnapshot] = {}
    for snap in queries.snapshots_between(
        session=session,
        start=day_bounds(sprint, sprint.sprint.start)[0],
        end=day_bounds(sprint, upto)[1],
    ):
        out[numbers.sprint_day(sprint.sprint, snap.at)] = snap  # later ones overwrite
    return out


def _tests(snap: ReadinessSnapshot) -> dict[str, Any]:
    tests: dict[str, Any] = (snap.breakdown or {}).get("tests") or {}
    return tests


@dataclass(frozen=True)
class Measures:
    """Every quantity a milestone criterion can name, measured now."""

    status: Status
    values: dict[str, float | None]  # SPRINT_METRICS
    components: dict[str, float | None]  # leaves and groups
    blockers: dict[str, int]  # open, by severity
    benchmarks: dict[str, float]  # latest values
    regressions: list[str]  # tests that regressed during the sprint (ids)
    still_failing: list[str]  # of those, failing now
    fixed: list[str]  # tests fixed during the sprint and passing now

    def value(self, c: Criterion) -> float | None:
        if c.metric:
            return self.values.get(c.metric)
        if c.component:
            return self.components.get(c.component)
        if c.blockers:
            return float(sum(self.blockers.get(s, 0) for s in SEVERITIES[c.blockers]))
        if c.benchmark:
            return self.benchmarks.get(c.benchmark)
        return None


def measure(*, session: Session, sprint: Sprint, now: datetime) -> Measures:
    info = sprint.sprint
    status = current_status(session=session, sprint=sprint, now=now)
    start = day_bounds(sprint, info.start)[0]
    changes = queries.changes_between(
        session=session, start=start, end=now + timedelta(microseconds=1), branch=info.branch
    )
    regressed = list(dict.fromkeys(c["id"] for c in changes if c["kind"] == "regression"))
    failing_now = {c["id"] for c in changes if c["now"] in FAILING}
    passing_now = {c["id"] for c in changes if c["now"] == "passed"}
    fixed = list(dict.fromkeys(c["id"] for c in changes if c["kind"] == "fixed"))
    metrics = queries.latest_metric_values(session=session)
    states = {
        m.name: numbers.metric_state(m, metrics[m.name], tolerance=sprint.alerts.perf_tolerance)
        for m in sprint.metrics
        if m.name in metrics
    }
    files_passing, _ = queries.file_counts(session=session, branch=info.branch)
    open_blockers = queries.open_blockers(session=session)
    bd = status.breakdown
    components: dict[str, float | None] = {c.name: c.score for c in bd.components}
    components.update({g.name: g.score for g in bd.groups})
    still = [t for t in regressed if t in failing_now]
    values: dict[str, float | None] = {
        "readiness": bd.score,
        "pass_rate": status.pass_rate,
        "passing_tests": float(status.passed),
        "failing_tests": float(queries.failing_count(session=session, branch=info.branch)),
        "tests_fixed": float(sum(1 for t in fixed if t in passing_now)),
        "regressions": float(len(still)),
        "test_files_passing": float(files_passing),
        "benchmarks_met": float(sum(1 for s in states.values() if s is numbers.MetricState.MET)),
    }
    return Measures(
        status=status,
        values=values,
        components=components,
        blockers={s: sum(1 for b in open_blockers if b.severity == s) for s in ("P0", "P1", "P2")},
        benchmarks=metrics,
        regressions=regressed,
        still_failing=still,
        fixed=[t for t in fixed if t in passing_now],
    )


def evaluate(milestone: Milestone, measures: Measures) -> list[dict[str, Any]]:
    """Each criterion: met or not, with the measured value (None: nothing measured yet)."""
    out = []
    for c in milestone.criteria:
        value = measures.value(c)
        out.append(
            {
                "criterion": c.describe(),
                "value": value,
                "unit": "%" if (c.metric in ("readiness", "pass_rate") or c.component) else "",
                "met": value is not None and OPS[c.op](value, c.value),
            }
        )
    return out


def current_milestone(sprint: Sprint, day: int) -> Milestone | None:
    """The first milestone not yet past (its day ≥ today), else the last one."""
    if not sprint.milestones:
        return None
    ahead = [m for m in sprint.milestones if m.day >= day]
    return min(ahead, key=lambda m: m.day) if ahead else max(sprint.milestones, key=lambda m: m.day)


def signoff_state(*, session: Session, milestone: Milestone) -> list[dict[str, Any]]:
    """Each role the milestone needs, and who signed for it and when (None: not yet)."""
    done = {s.role: s for s in queries.signoffs(session=session, milestone_day=milestone.day)}
    return [
        {
            "role": role,
            "user": done[role].user_id if role in done else None,
            "at": done[role].at.isoformat() if role in done else None,
        }
        for role in milestone.signoffs
    ]


def sign_off(
    *, session: Session, sprint: Sprint, day: int, role: str, user_id: str, now: datetime
) -> Milestone:
    """Record `user_id`'s sign-off of milestone `day` as `role` (the caller checks the role)."""
    milestone = next((m for m in sprint.milestones if m.day == day), None)
    if milestone is None or role not in milestone.signoffs:
        raise SprintError(f"Milestone day {day} needs no sign-off from {role_title(role)}.")
    added = queries.add_signoff(
        session=session,
        signoff=Signoff(milestone_day=day, role=role, user_id=user_id, at=now),
    )
    if added is None:
        raise SprintError(f"{role_title(role)} has already signed off {milestone.name}.")
    return milestone


def role_title(role: str) -> str:
    """`qa_lead` → "QA Lead"."""
    words = role.replace("_", " ").split()
    return " ".join(w.upper() if w in ("qa", "po", "cto") else w.capitalize() for w in words)


def milestone_data(*, session: Session, milestone: Milestone, measures: Measures) -> dict[str, Any]:
    results = evaluate(milestone, measures)
    return {
        "day": milestone.day,
        "name": milestone.name,
        "review": milestone.review,
        "criteria": results,
        "met": sum(1 for r in results if r["met"]),
        "signoffs": signoff_state(session=session, milestone=milestone),
    }


def forecasts(*, session: Session, sprint: Sprint, now: datetime) -> dict[str, Any]:
    """Least squares over the sprint's end-of-day readiness and pass rate so far."""
    info = sprint.sprint
    today = numbers.local_date(info, now)
    day = numbers.sprint_day(info, now)
    ends = day_ends(session=session, sprint=sprint, upto=today)
    readiness = {d: s.score for d, s in ends.items() if s.score is not None}
    tests = {d: _tests(s) for d, s in ends.items()}
    rates = {d: 100.0 * t["passed"] / t["known"] for d, t in tests.items() if t.get("known")}
    known = int(tests[max(tests)].get("known") or 0) if tests else 0
    out: dict[str, Any] = {}
    for name, series, target in (
        ("readiness", readiness, sprint.targets.readiness),
        ("pass_rate", rates, sprint.targets.pass_rate),
    ):
        f = numbers.forecast(series, target=target, today=day, days=info.days)
        out[name] = {
            **f.as_dict(),
            "date": numbers.day_date(info, f.day).isoformat() if f.day else None,
            "points": len(series),
        }
    # The pass-rate pace in tests a day: what a team plans with.
    rate = out["pass_rate"]
    out["pass_rate"]["tests_per_day"] = (
        rate["per_day"] * known / 100 if rate["per_day"] is not None and known else None
    )
    out["pass_rate"]["needed_tests_per_day"] = (
        rate["needed_per_day"] * known / 100
        if rate["needed_per_day"] is not None and known
        else None
    )
    return out

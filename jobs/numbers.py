"""The numbers every surface shows (DESIGN.md, "Definitions"), as pure functions.

Nothing here touches Slack, the database or the clock: callers pass in what was measured
and `now`, and get values back, so every figure can be tested by value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from jobs.config import Better, Component, Metric, Source, Sprint, SprintInfo


class Health(StrEnum):
    ON_TRACK = "On Track"
    AT_RISK = "At Risk"
    CRITICAL = "Critical"


class MetricState(StrEnum):
    MET = "met"
    MISSED = "missed"
    DEGRADED = "degraded"
    UNTRACKED = "untracked"


@dataclass(frozen=True)
class TestCounts:
    """Latest statuses of one component's known tests."""

    __test__ = False  # not a pytest class

    passed: int
    total: int

    @property
    def rate(self) -> float | None:
        return 100.0 * self.passed / self.total if self.total else None


@dataclass(frozen=True)
class ComponentScore:
    name: str
    group: str
    weight: float
    target: float
    source: Source
    score: float | None
    detail: str

    @property
    def gap(self) -> float | None:
        return None if self.score is None else self.score - self.target


@dataclass(frozen=True)
class GroupScore:
    name: str
    weight: float
    score: float | None
    target: float
    components: list[ComponentScore] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        return None if self.score is None else self.score - self.target


@dataclass(frozen=True)
class Breakdown:
    """Readiness, its target and every group and leaf behind it."""

    score: float | None
    target: float
    groups: list[GroupScore]

    @property
    def gap(self) -> float | None:
        return None if self.score is None else self.score - self.target

    @property
    def components(self) -> list[ComponentScore]:
        return [c for g in self.groups for c in g.components]

    def as_dict(self) -> dict[str, object]:
        """The breakdown as plain JSON-ready data (API replies, snapshots)."""
        return {
            "score": _round(self.score),
            "target": self.target,
            "gap": _round(self.gap),
            "groups": [
                {
                    "name": g.name,
                    "weight": g.weight,
                    "score": _round(g.score),
                    "target": _round(g.target),
                    "gap": _round(g.gap),
                    "components": [
                        {
                            "name": c.name,
                            "weight": c.weight,
                            "score": _round(c.score),
                            "target": c.target,
                            "gap": _round(c.gap),
                            "source": str(c.source),
                            "detail": c.detail,
                        }
                        for c in g.components
                    ],
                }
                for g in self.groups
            ],
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def pct(x: float | None, *, signed: bool = False) -> str:
    """A percentage for people: at most two decimals, no trailing zeros ("71.55 %", "85 %")."""
    if x is None:
        return "n/a"
    text = f"{x:+.2f}" if signed else f"{x:.2f}"
    text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def weighted(items: Iterable[tuple[float, float | None]]) -> float | None:
    """Σ weight·score / Σ weight over the items that have a score; None when none do."""
    num = den = 0.0
    for weight, score in items:
        if score is not None:
            num += weight * score
            den += weight
    return num / den if den else None


def metric_state(metric: Metric, value: float, *, tolerance: float) -> MetricState:
    """met / missed / degraded (beyond target by more than `tolerance` percent)."""
    if metric.better is Better.LOWER:
        if value <= metric.target:
            return MetricState.MET
        limit = metric.target * (1 + tolerance / 100)
        return MetricState.DEGRADED if value > limit else MetricState.MISSED
    if value >= metric.target:
        return MetricState.MET
    limit = metric.target * (1 - tolerance / 100)
    return MetricState.DEGRADED if value < limit else MetricState.MISSED


def component_score(
    component: Component,
    *,
    tests: TestCounts | None = None,
    manual: float | None = None,
    metric_states: Mapping[str, MetricState] | None = None,
) -> ComponentScore:
    """Score one leaf from its source; fall back to its starting score until data arrives."""
    score: float | None = None
    detail = ""
    if component.source is Source.MANUAL:
        score = manual if manual is not None else component.score
        detail = "set manually" if manual is not None else "starting score"
    elif component.source is Source.TESTS:
        if tests is not None and tests.total:
            score = tests.rate
            detail = f"{tests.passed}/{tests.total} tests passing"
    else:
        states = metric_states or {}
        known = [states[m] for m in component.metrics if m in states]
        if known:
            met = sum(1 for s in known if s is MetricState.MET)
            score = 100.0 * met / len(component.metrics)
            detail = f"{met}/{len(component.metrics)} benchmarks met"
            if len(known) < len(component.metrics):
                detail += f" ({len(component.metrics) - len(known)} not yet reported)"
    if score is None and component.source is not Source.MANUAL:
        score = component.score
        detail = "starting score (no data yet)" if score is not None else "no data yet"
    return ComponentScore(
        name=component.name,
        group=component.group_name,
        weight=component.weight,
        target=component.target,
        source=component.source,
        score=score,
        detail=detail,
    )


def breakdown(
    sprint: Sprint,
    *,
    tests: Mapping[str, TestCounts] | None = None,
    manual: Mapping[str, float] | None = None,
    metric_values: Mapping[str, float] | None = None,
) -> Breakdown:
    """Weighted readiness over the sprint's components, grouped as the sprint file groups them."""
    tests = tests or {}
    manual = manual or {}
    states = {
        m.name: metric_state(m, metric_values[m.name], tolerance=sprint.alerts.perf_tolerance)
        for m in sprint.metrics
        if metric_values and m.name in metric_values
    }
    scores = [
        component_score(c, tests=tests.get(c.name), manual=manual.get(c.name), metric_states=states)
        for c in sprint.components
    ]
    groups = []
    for name in sprint.groups:
        members = [s for s in scores if s.group == name]
        weight = sum(s.weight for s in members)
        target = sum(s.weight * s.target for s in members) / weight
        groups.append(
            GroupScore(
                name=name,
                weight=weight,
                score=weighted((s.weight, s.score) for s in members),
                target=target,
                components=members,
            )
        )
    return Breakdown(
        score=weighted((s.weight, s.score) for s in scores),
        target=sprint.targets.readiness,
        groups=groups,
    )


# -- time --------------------------------------------------------------------------------


def local_date(info: SprintInfo, now: datetime) -> date:
    """The sprint's local calendar date at instant `now` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(info.tz).date()


def sprint_day(info: SprintInfo, now: datetime) -> int:
    """Day d = days since `start` + 1 in the sprint's timezone (may fall outside 1..days)."""
    return (local_date(info, now) - info.start).days + 1


def day_date(info: SprintInfo, day: int) -> date:
    """The local date of sprint day `day`."""
    return info.start + timedelta(days=day - 1)


def local_instant(info: SprintInfo, day: date, at: time) -> datetime:
    """The UTC instant of local wall-clock time `at` on local date `day`.

    On a DST gap the wall time does not exist; zoneinfo then resolves it forward, which
    is what a person expects of "09:00" (it never falls in a gap in practice anyway).
    """
    return datetime.combine(day, at, tzinfo=info.tz).astimezone(UTC)


# -- plan, health, burn-down ---------------------------------------------------------------


def _clamp_day(sprint: Sprint, day: int) -> int:
    return min(max(day, 1), sprint.sprint.days)


def plan_readiness(sprint: Sprint, day: int, *, baseline: float) -> float:
    """Planned readiness for day d: the [plan] entry, else linear from baseline to target."""
    d = _clamp_day(sprint, day)
    if sprint.plan.readiness is not None:
        return float(sprint.plan.readiness[d - 1])
    return _linear(baseline, sprint.targets.readiness, d, sprint.sprint.days)


def plan_passing(sprint: Sprint, day: int, *, baseline_passing: int, total: int) -> int:
    """Planned passing tests for day d: the [plan] entry, else linear to the pass-rate target."""
    d = _clamp_day(sprint, day)
    if sprint.plan.passing is not None:
        return sprint.plan.passing[d - 1]
    goal = math.ceil(total * sprint.targets.pass_rate / 100)
    return round(_linear(baseline_passing, max(goal, baseline_passing), d, sprint.sprint.days))


def _linear(start: float, end: float, day: int, days: int) -> float:
    if days <= 1:
        return end
    return start + (end - start) * (day - 1) / (days - 1)


def health(
    readiness: float | None,
    plan: float,
    *,
    open_p0_ages: Sequence[timedelta] = (),
) -> Health:
    """On Track at or above plan; At Risk within 2 points below or with a P0 open > 24 h."""
    if readiness is None:
        return Health.AT_RISK
    if readiness >= plan:
        stale_p0 = any(age > timedelta(hours=24) for age in open_p0_ages)
        return Health.AT_RISK if stale_p0 else Health.ON_TRACK
    if readiness >= plan - 2:
        return Health.AT_RISK
    return Health.CRITICAL


@dataclass(frozen=True)
class BurnPoint:
    day: int
    date: date
    failing: int | None  # end-of-day actual; None for days not yet reached or without data
    planned: int


def burndown(
    sprint: Sprint,
    failing_by_day: Mapping[int, int],
    *,
    total: int,
    baseline_passing: int,
) -> list[BurnPoint]:
    """Failing tests per day against the plan's failing (total - planned passing)."""
    return [
        BurnPoint(
            day=d,
            date=day_date(sprint.sprint, d),
            failing=failing_by_day.get(d),
            planned=max(
                total - plan_passing(sprint, d, baseline_passing=baseline_passing, total=total), 0
            ),
        )
        for d in range(1, sprint.sprint.days + 1)
    ]


# -- forecast ----------------------------------------------------------------------------


def least_squares(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """(intercept, slope) of the least-squares line through (x, y); None under 2 distinct x."""
    n = len(points)
    if n < 2:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - slope * mx, slope


@dataclass(frozen=True)
class Forecast:
    """When a target is reached at the current pace (a least-squares line over the days)."""

    target: float
    current: float | None
    per_day: float | None  # the fitted pace
    day: int | None  # the sprint day the line reaches the target; None: not in the sprint
    needed_per_day: float | None  # the pace that would reach it by the last day
    reached: bool = False

    @property
    def on_pace(self) -> bool:
        return self.reached or self.day is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "current": self.current,
            "per_day": self.per_day,
            "day": self.day,
            "needed_per_day": self.needed_per_day,
            "reached": self.reached,
            "on_pace": self.on_pace,
        }


def forecast(series: Mapping[int, float], *, target: float, today: int, days: int) -> Forecast:
    """Fit the sprint's days so far; the first day the line reaches `target`, if within the
    sprint, else the pace needed from today's value to reach it on the last day."""
    current = series[max(series)] if series else None
    if current is not None and current >= target:
        return Forecast(target, current, None, max(series), 0.0, reached=True)
    fit = least_squares(sorted(series.items()))
    remaining_days = max(days - today, 0)
    needed = (target - current) / remaining_days if current is not None and remaining_days else None
    if fit is None:
        return Forecast(target, current, None, None, needed)
    intercept, slope = fit
    day = None
    if slope > 0:
        day = max(math.ceil((target - intercept) / slope - 1e-9), today)
        if day > days:
            day = None
    return Forecast(target, current, slope, day, needed)


# -- consistency of what the sprint file states -------------------------------------------


@dataclass(frozen=True)
class Inconsistency:
    """A figure the sprint file states that its own parts contradict."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def consistency_warnings(sprint: Sprint) -> list[Inconsistency]:
    """Where stated baselines disagree with what the file's own components add up to."""
    found: list[Inconsistency] = []
    stated = sprint.targets.baseline_readiness
    starting = breakdown(sprint)
    if stated is not None and starting.score is not None and abs(starting.score - stated) >= 0.05:
        missing = [c.name for c in starting.components if c.score is None]
        note = f" ({len(missing)} components have no starting score)" if missing else ""
        found.append(
            Inconsistency(
                "targets.baseline_readiness",
                f"states {pct(stated)} but the components' starting scores weigh in at "
                f"{pct(starting.score)}{note}",
            )
        )
    b = sprint.baseline
    if b.total_tests is not None and b.passing_tests is not None and b.failing_tests is not None:
        implied = b.total_tests - b.passing_tests
        if implied != b.failing_tests:
            found.append(
                Inconsistency(
                    "baseline.failing_tests",
                    f"states {b.failing_tests} but total - passing = "
                    f"{b.total_tests} - {b.passing_tests} = {implied}",
                )
            )
    if b.areas:
        for key, attr, stated_sum in (
            ("total_tests", "total", b.total_tests),
            ("passing_tests", "passing", b.passing_tests),
            ("failing_tests", "failing", b.failing_tests),
        ):
            summed = sum(getattr(a, attr) for a in b.areas)
            if stated_sum is not None and summed != stated_sum:
                found.append(
                    Inconsistency(
                        f"baseline.{key}",
                        f"states {stated_sum} but baseline.areas add up to {summed}",
                    )
                )
        for i, a in enumerate(b.areas):
            if a.total - a.passing != a.failing:
                found.append(
                    Inconsistency(
                        f"baseline.areas[{i}].failing",
                        f"{a.name}: states {a.failing} but {a.total} - {a.passing} = "
                        f"{a.total - a.passing}",
                    )
                )
    return found

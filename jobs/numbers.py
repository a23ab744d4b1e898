"""The numbers every surface shows (DESIGN.md, "Definitions"), as pure functions.

Nothing here touches Slack, the database or the clock: callers pass in what was measured
and `now`, and get values back, so every figure can be tested by value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal, TypedDict

from jobs.config import (
    FIRST_YEAR,
    LAST_YEAR,
    Better,
    Component,
    Metric,
    Source,
    Sprint,
    SprintInfo,
)
from jobs.errors import shown


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
    # Quarantined tests readiness left out of these counts or counted here as failing
    # (`quarantine_counted`): said beside them, so "1/3 tests passing" does not read as a
    # quarantined test that passes failing (found by review).
    quarantined: int = 0
    quarantine_note: str = ""  # how: "left out" or "counted as failing"

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
        return None if self.score is None else change(self.target, self.score)


@dataclass(frozen=True)
class GroupScore:
    name: str
    weight: float
    score: float | None
    target: float
    components: list[ComponentScore] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        return None if self.score is None else change(self.target, self.score)


@dataclass(frozen=True)
class Breakdown:
    """Readiness, its target and every group and leaf behind it."""

    score: float | None
    target: float
    groups: list[GroupScore]

    @property
    def gap(self) -> float | None:
        return None if self.score is None else change(self.target, self.score)

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


def judged(value: float, *, counted: bool = False) -> float:
    """A figure as it is held against a target: as shown (two decimals: 99.996 % is 100 %),
    or a pass rate as counted (`counted`: a test is whole, so 194 of 223 tests, 86.9955 %,
    shown "87 %", is one short of 87 % — as `target_failing` counts it; to 9 decimals, float
    noise aside)."""
    return round(value, 9 if counted else 2)


def reached(score: float | None, target: float, *, counted: bool = False) -> bool:
    """Whether a score is at its target, both as `judged`: the one comparison of every "at
    target" mark and gap (a group's target, its components' weighted, has more decimals
    than it shows: "88.33 % of 88.33 %" was short of it; found by review)."""
    return score is not None and judged(score, counted=counted) >= judged(target, counted=counted)


def change(before: float, after: float) -> float:
    """`after` less `before` as both are shown (`pct`, to 2 decimals): "80.62 % → 81.01 %
    (+0.39 pts)" whatever their third decimals (the unrounded scores' difference read
    +0.38 beside them; found by review)."""
    return round(round(after, 2) - round(before, 2), 2)


def pct(x: float | None, *, signed: bool = False) -> str:
    """A percentage for people: at most two decimals, no trailing zeros ("71.55 %", "85 %")."""
    if x is None:
        return "n/a"
    x = round(x, 2) + 0.0  # (a change that rounds to nothing is +0, not -0)
    text = f"{x:+.2f}" if signed else f"{x:.2f}"
    text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def quantity(x: float | None, *, significant: int = 6) -> str:
    """A measured value (a benchmark, its target) for people, the same on every surface:
    six significant digits as `:g` gives, but never an exponent, and thousands grouped
    ("1,234,567 MB", "0.00012 s", "2.5 s"; `:g` wrote "1.23457e+06")."""
    if x is None:
        return "n/a"
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    digits = min(max(0, significant - 1 - math.floor(math.log10(abs(x)))), 17)
    text = f"{x:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def with_unit(x: float | None, unit: str | None) -> str:
    """A measured value and its unit, as every surface shows it ("1,200 req/s", "3"; "n/a"
    where nothing was measured)."""
    return quantity(x) if x is None else f"{quantity(x)} {unit or ''}".strip()


def weighted(items: Iterable[tuple[float, float | None]]) -> float | None:
    """Σ weight·score / Σ weight over the items that have a score; None when none do."""
    num = den = 0.0
    for weight, score in items:
        if score is not None:
            num += weight * score
            den += weight
    return num / den if den else None


def _excess(target: float, value: float, *, lower_better: bool) -> float:
    """How far past a (non-zero) target, in percent of it (negative: not past it)."""
    over = value - target if lower_better else target - value
    return over / abs(target) * 100


def beyond_target(target: float, value: float, *, lower_better: bool) -> float | None:
    """How far past the target, in percent of it, as the alert shows it (two decimals, up; 0
    when met). None past a target of 0, which no percent is of (it said "0 % beyond" under
    "More than 10 % beyond target"; found by review)."""
    if target == 0:
        met = value <= 0 if lower_better else value >= 0
        return 0.0 if met else None
    # Rounded up: a figure 10.004 % past said "10 % beyond" under "More than 10 % beyond
    # target" (found by review); never less than it is.
    return math.ceil(max(_excess(target, value, lower_better=lower_better), 0.0) * 100 - 1e-6) / 100


def metric_state(metric: Metric, value: float, *, tolerance: float) -> MetricState:
    """met / missed / degraded (beyond target by more than `tolerance` percent: 89.1
    against 99 is 10 % beyond, not more, whatever the float product 99 * 0.9 comes to; a
    hair past with a tolerance of 0 is)."""
    lower = metric.better is Better.LOWER
    # At the target up to float noise is at it: 0.1 + 0.2 against 0.3 was "missed" beside
    # a figure shown as the target itself (found by review), as the degraded edge forgives.
    hair = 1e-9 * max(1.0, abs(metric.target))
    if (value <= metric.target + hair) if lower else (value >= metric.target - hair):
        return MetricState.MET
    if metric.target == 0:
        return MetricState.DEGRADED
    beyond = _excess(metric.target, value, lower_better=lower)
    return MetricState.DEGRADED if beyond > tolerance + 1e-9 else MetricState.MISSED


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
            if tests.quarantined:
                detail += f" ({tests.quarantined} quarantined, {tests.quarantine_note})"
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


# -- what one report did to readiness ------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One test's change in a report as readiness counts it: in `component` (None: no
    component's globs match it, so readiness does not see it) the passing tests change by
    `passed` and the known tests by `known`. A regression is (c, -1, 0) — (c, 0, 0) from a
    skipped or flaky test, which was not counted passing — a fix (c, +1, 0), a new test
    failing (c, 0, +1), a known skipped or flaky test now failing (c, 0, 0)."""

    component: str | None
    passed: int
    known: int


@dataclass(frozen=True)
class Share:
    """One kind of change in a report: how many tests, and the readiness points those
    changes alone are worth (None when there is no readiness to move)."""

    count: int
    points: float | None

    def as_dict(self) -> ShareData:
        return {"count": self.count, "points": _round(self.points)}


class ShareData(TypedDict):
    """A Share as JSON (in a report's reply and its regression alert)."""

    count: int
    points: float | None


@dataclass(frozen=True)
class Impact:
    """A report's effect on readiness: each kind of change on its own, and the net."""

    before: float | None
    after: float | None
    regressed: Share
    fixed: Share
    new_failures: Share

    @property
    def net(self) -> float | None:
        return (
            None if self.before is None or self.after is None else change(self.before, self.after)
        )

    def as_dict(self) -> ImpactData:
        return {
            "before": _round(self.before),
            "after": _round(self.after),
            "net": _round(self.net),
            "regressed": self.regressed.as_dict(),
            "fixed": self.fixed.as_dict(),
            "new_failures": self.new_failures.as_dict(),
        }


class ImpactData(TypedDict):
    """An Impact as JSON (in a report's reply and its regression alert)."""

    before: float | None
    after: float | None
    net: float | None
    regressed: ShareData
    fixed: ShareData
    new_failures: ShareData


def moved(before: Mapping[str, TestCounts], moves: Iterable[Move]) -> dict[str, TestCounts]:
    """The per-component test counts `before` with `moves` applied."""
    counts = {name: [c.passed, c.total] for name, c in before.items()}
    for m in moves:
        if m.component is not None:
            c = counts.setdefault(m.component, [0, 0])
            c[0] += m.passed
            c[1] += m.known
    return {name: TestCounts(passed=p, total=n) for name, (p, n) in counts.items()}


def impact(
    sprint: Sprint,
    *,
    before: Mapping[str, TestCounts],
    after: Mapping[str, TestCounts],
    regressed: Sequence[Move],
    fixed: Sequence[Move],
    new_failures: Sequence[Move],
    manual: Mapping[str, float] | None = None,
    metric_values: Mapping[str, float] | None = None,
) -> Impact:
    """What a report did to readiness, with the same manual scores and metrics throughout.

    A kind's points = readiness(before + only that kind's moves) - readiness(before): what
    the regressions cost on their own, what the fixes gained, what the new failures cost.
    The net = readiness(after) - readiness(before): everything the report changed (new
    passing tests and skips too). The parts need not add up to the net, since a
    component's score is a ratio of its tests."""

    def score(tests: Mapping[str, TestCounts]) -> float | None:
        return breakdown(sprint, tests=tests, manual=manual, metric_values=metric_values).score

    base = score(before)

    def share(moves: Sequence[Move]) -> Share:
        if base is None:
            return Share(count=len(moves), points=None)
        if not moves:
            return Share(count=0, points=0.0)
        alone = score(moved(before, moves))
        # (As shown, as the net is: a lone regression's cost is the net; found by review.)
        return Share(count=len(moves), points=None if alone is None else change(base, alone))

    return Impact(
        before=base,
        after=score(after),
        regressed=share(regressed),
        fixed=share(fixed),
        new_failures=share(new_failures),
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


def _progress(shape: Sequence[float] | None, day: int, days: int) -> float:
    """How far along the plan's shape day d is: 0 on day 1, 1 on the last day (a straight
    line without a shape; 0 throughout when the shape starts where it ends, as a one-day
    sprint's line does: DESIGN's "flat at m", with a shape of one point or none)."""
    if shape is None:
        return (day - 1) / (days - 1) if days > 1 else 0.0
    first, last = shape[0], shape[-1]
    return (shape[day - 1] - first) / (last - first) if last != first else 0.0


def plan_readiness(sprint: Sprint, day: int, *, baseline: float | None) -> float | None:
    """Planned readiness for day d: the [plan]'s shape rescaled from the measured baseline on
    day 1 to the target on the last day (DESIGN.md); `anchor = "stated"` keeps the file's.
    None while there is no baseline to rescale from (nothing measured, no starting score):
    a plan that starts nowhere is no plan, not one that starts at 0 %."""
    d = _clamp_day(sprint, day)
    shape = sprint.plan.readiness
    if shape is not None and sprint.plan.anchor == "stated":
        return float(shape[d - 1])
    if baseline is None:
        return None
    target = sprint.targets.readiness
    return baseline + _progress(shape, d, sprint.sprint.days) * (target - baseline)


def target_failing(known: int, pass_rate: float) -> int:
    """Known tests - ceil(pass_rate % of known): the one failing-tests target."""
    return known - math.ceil(known * pass_rate / 100 - 1e-9)


def to_go(*, known: int, passing: int, failing: int, target_failing: int) -> int:
    """Tests still to pass before the target is reached: the failing ones over the target
    failing, or more where skipped or flaky tests (neither passing nor failing) leave the
    passing short of the target's (known - target failing). Without those the two agree;
    with them "0 to go" beside a pass rate under its target was a contradiction (two
    failing tests skipped reached the burn-down's target; found by review)."""
    return max(failing - target_failing, known - target_failing - passing, 0)


def plan_failing(sprint: Sprint, day: int, *, baseline_failing: int, known: int) -> int:
    """Planned failing tests for day d: the shape of [plan] passing rescaled from the baseline
    failing on day 1 to the target failing on the last day; `anchor = "stated"` keeps the
    file's passing numbers (failing = known - passing)."""
    d = _clamp_day(sprint, day)
    shape = sprint.plan.passing
    if shape is not None and sprint.plan.anchor == "stated":
        return max(known - shape[d - 1], 0)
    goal = target_failing(known, sprint.targets.pass_rate)
    progress = _progress([float(x) for x in shape] if shape else None, d, sprint.sprint.days)
    return round(baseline_failing + progress * (goal - baseline_failing))


def health(
    readiness: float | None,
    plan: float | None,
    *,
    open_p0_ages: Sequence[timedelta] = (),
) -> Health:
    """Health without the forecast (see `assess`)."""
    p0 = [("P0", age) for age in open_p0_ages]
    return assess(readiness, plan, day=1, outlook=None, open_p0=p0)[0]


def assess(
    readiness: float | None,
    plan: float | None,
    *,
    day: int,
    outlook: Forecast | None,
    open_p0: Sequence[tuple[str, timedelta]] = (),
) -> tuple[Health, str]:
    """Health with its reason (DESIGN.md): On Track at or above plan and, from day 3 on,
    with the forecast reaching the target by the last day; At Risk within 2 points below
    plan, when the forecast misses or a P0 has been open over 24 h; Critical further below."""
    if readiness is None:
        return Health.AT_RISK, "no readiness measured yet"
    if plan is None:
        return Health.AT_RISK, f"{pct(readiness)} with no plan to hold it against yet"
    # Compared as every surface shows them (to 2 decimals): 84.995 is "85 %", on a plan of
    # 85 % — not 0 points below it.
    readiness, plan = round(readiness, 2), round(plan, 2)
    gap = change(plan, readiness)  # (62.4 - 64.4 is -2.000000000000007: "more than 2")
    where = f"{pct(readiness)} against today's plan of {pct(plan)}"
    if gap < -2:
        return Health.CRITICAL, f"{_pts(-gap)} below plan ({where})"
    risks = []
    if gap < 0:
        risks.append(f"{_pts(-gap)} below plan ({where})")
    pace = outlook.describe() if outlook is not None else None
    if outlook is not None and day >= 3 and outlook.enough and not outlook.on_pace:
        risks.append(pace or "")
    stale = [(code, age) for code, age in open_p0 if age > timedelta(hours=24)]
    risks += [f"P0 {code} open for {_hours(age)}" for code, age in stale]
    if risks:
        return Health.AT_RISK, "; ".join(risks)
    reason = f"{_pts(gap)} above plan ({where})" if gap > 0 else f"on plan ({where})"
    if pace is not None:
        reason += f"; {pace}"
    return Health.ON_TRACK, reason


def _pts(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{text} pts" if text != "1" else "1 pt"


def _hours(age: timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 48 else f"{hours} h"


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


MIN_FORECAST_DAYS = 3  # a line through fewer days says little


@dataclass(frozen=True)
class Forecast:
    """When a target is reached at the current pace (a least-squares line over the days)."""

    target: float
    current: float | None
    per_day: float | None  # the fitted pace
    day: int | None  # the sprint day the line reaches the target (may be past the last day)
    needed_per_day: float | None  # the pace that would reach it by the last day
    reached: bool = False
    days: int = 0  # the sprint's length
    points: int = 0  # days measured
    unit: str = "%"

    @property
    def enough(self) -> bool:
        return self.reached or self.points >= MIN_FORECAST_DAYS

    @property
    def on_pace(self) -> bool:
        return self.reached or (self.day is not None and self.day <= self.days)

    def describe(self) -> str:
        """ "at this pace 85 % is reached on day 17", or why there is no forecast yet."""
        goal = pct(self.target) if self.unit == "%" else quantity(self.target)
        if self.reached:
            return f"{goal} reached"
        if not self.enough:
            return f"forecast needs {MIN_FORECAST_DAYS} days of data ({self.points} so far)"
        if self.per_day is None or self.day is None:
            pace = f"{self.per_day:+.2f} pts/day" if self.per_day is not None else "no pace"
            needed = (
                f", needs {self.needed_per_day:+.2f}" if self.needed_per_day is not None else ""
            )
            return f"at this pace ({pace}{needed}) {goal} is not reached"
        if self.day > self.days:
            # After the sprint: not on pace, as the README promises, with the pace needed
            # (it read as a forecast met; found by review).
            needed = (
                f"; needs {self.needed_per_day:+.2f} pts/day"
                if self.needed_per_day is not None
                else ""
            )
            return (
                f"not by day {self.days} at this pace ({goal} on day {self.day}, "
                f"{self.per_day:+.2f} pts/day){needed}"
            )
        return f"at this pace {goal} is reached on day {self.day}"

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "current": _round(self.current),
            "per_day": _round(self.per_day),
            "day": self.day,
            "needed_per_day": _round(self.needed_per_day),
            "reached": self.reached,
            "on_pace": self.on_pace,
            "points": self.points,
            "enough_data": self.enough,
            "text": self.describe(),
        }


def forecast(
    series: Mapping[int, float],
    *,
    target: float,
    today: int,
    days: int,
    counted: bool = False,
    now: float | None = None,
) -> Forecast:
    """Fit the sprint's days so far; the first day the line reaches `target` (past the last
    day when the pace is too slow), and the pace needed from today's value (`now`, where
    the series leaves today out: a score set this morning was read from the day before;
    found by review) to reach it on the last day. Reached as `reached` judges (`counted`:
    a pass rate)."""
    current = now if now is not None else series[max(series)] if series else None
    points = len(series)
    if current is not None and reached(current, target, counted=counted):
        return Forecast(target, current, None, max(series, default=today), 0.0, True, days, points)
    fit = least_squares(sorted(series.items()))
    remaining_days = max(days - today, 0)
    needed = (target - current) / remaining_days if current is not None and remaining_days else None
    if fit is None:
        return Forecast(target, current, None, None, needed, False, days, points)
    intercept, slope = fit
    day = None
    if slope > 0:
        # Not reached yet, so not before tomorrow, whatever the line says of the past.
        day = max(math.ceil((target - intercept) / slope - 1e-9), today + 1)
    return Forecast(target, current, slope, day, needed, False, days, points)


# -- consistency of what the sprint file states -------------------------------------------


@dataclass(frozen=True)
class Inconsistency:
    """A figure the sprint file states that its own parts contradict."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


def consistency_warnings(sprint: Sprint) -> list[Inconsistency]:
    """Where the time zone keeps no daylight saving time for being an abbreviation, where
    stated baselines disagree with what the file's own components add up to, and where
    `[plan]` does not end at the targets."""
    return [found for check in _CHECKS for found in check(sprint)]


def _check_baseline_readiness(sprint: Sprint) -> Iterator[Inconsistency]:
    """The stated baseline readiness against the components' starting scores."""
    stated = sprint.targets.baseline_readiness
    starting = breakdown(sprint)
    if stated is None or starting.score is None or abs(starting.score - stated) < 0.05:
        return
    missing = [c.name for c in starting.components if c.score is None]
    note = f" ({len(missing)} components have no starting score)" if missing else ""
    yield Inconsistency(
        "targets.baseline_readiness",
        f"states {pct(stated)} but the components' starting scores weigh in at "
        f"{pct(starting.score)}{note}",
    )


def _check_baseline_failing(sprint: Sprint) -> Iterator[Inconsistency]:
    """The stated failing tests against total - passing."""
    b = sprint.baseline
    if b.total_tests is None or b.passing_tests is None or b.failing_tests is None:
        return
    implied = b.total_tests - b.passing_tests
    if implied != b.failing_tests:
        yield Inconsistency(
            "baseline.failing_tests",
            f"states {b.failing_tests} but total - passing = "
            f"{b.total_tests} - {b.passing_tests} = {implied}",
        )


def _check_area_sums(sprint: Sprint) -> Iterator[Inconsistency]:
    """The stated totals against what `baseline.areas` add up to."""
    b = sprint.baseline
    if not b.areas:
        return
    for key, attr, stated_sum in (
        ("total_tests", "total", b.total_tests),
        ("passing_tests", "passing", b.passing_tests),
        ("failing_tests", "failing", b.failing_tests),
    ):
        summed = sum(getattr(a, attr) for a in b.areas)
        if stated_sum is not None and summed != stated_sum:
            yield Inconsistency(
                f"baseline.{key}", f"states {stated_sum} but baseline.areas add up to {summed}"
            )


def _check_area_failing(sprint: Sprint) -> Iterator[Inconsistency]:
    """Each area's failing tests against its total - passing."""
    for i, a in enumerate(sprint.baseline.areas):
        if a.total - a.passing != a.failing:
            yield Inconsistency(
                f"baseline.areas[{i}].failing",
                f"{a.name}: states {a.failing} but {a.total} - {a.passing} = {a.total - a.passing}",
            )


def _plan_after(sprint: Sprint) -> str:
    """What becomes of a `[plan]` that does not end at the targets."""
    if sprint.plan.anchor == "measured":
        return "the plan is rescaled to the target"
    return '[plan] anchor = "stated" keeps the plan as written'


def _check_plan_passing(sprint: Sprint) -> Iterator[Inconsistency]:
    """The plan's last passing count against the pass-rate target of the stated tests."""
    b, passing = sprint.baseline, sprint.plan.passing
    total = b.total_tests
    if total is None and b.areas:
        total = sum(a.total for a in b.areas)
    if not passing or total is None:
        return
    pass_rate = sprint.targets.pass_rate
    target = math.ceil(pass_rate / 100 * total - 1e-9)
    if passing[-1] != target:
        yield Inconsistency(
            "plan.passing",
            f"ends at {passing[-1]:,} passing but targets.pass_rate "
            f"{pct(pass_rate)} of the {total:,} known tests is {target:,} passing "
            f"({total - target:,} failing); {_plan_after(sprint)}",
        )


def _check_plan_readiness(sprint: Sprint) -> Iterator[Inconsistency]:
    """The plan's last readiness against the readiness target."""
    planned, target = sprint.plan.readiness, sprint.targets.readiness
    if planned and abs(planned[-1] - target) > 1e-9:
        yield Inconsistency(
            "plan.readiness",
            f"ends at {pct(planned[-1])} but targets.readiness is "
            f"{pct(target)}; {_plan_after(sprint)}",
        )


# Zone names that are an abbreviation or an offset, not a place (tzdata names a few
# countries so too: PRC, ROC, ROK).
_FIXED_ZONE = re.compile(r"(?!PRC|ROC|ROK)[A-Z]{3,4}|[A-Z]{3}\d[A-Z]{3}|(Etc/)?GMT[+-]\d{1,2}")


def _check_timezone(sprint: Sprint) -> Iterator[Inconsistency]:
    """A zone named by an abbreviation or a fixed offset ("EST", "MST", "Etc/GMT+5") that
    keeps no daylight saving time: so a team in New York given "EST" got its 9:00
    report at 10:00 all summer (found by review)."""
    zone, tz = sprint.sprint.timezone, sprint.sprint.tz
    if not _FIXED_ZONE.fullmatch(zone):
        return  # (a place, "Singapore" too: its own rules; found by review)
    year = sprint.sprint.start.year
    winter = datetime(year, 1, 15, tzinfo=tz).utcoffset()
    if not winter or winter != datetime(year, 7, 15, tzinfo=tz).utcoffset():
        return  # (UTC by another name; or an old name keeping daylight saving: "EST5EDT")
    yield Inconsistency(
        "sprint.timezone",
        f'"{zone}" is a fixed offset or an abbreviation, with no daylight saving time: name '
        'the team\'s place, e.g. "America/New_York" or "Europe/Berlin"',
    )


# In the order `config check` lists what it finds.
_CHECKS: tuple[Callable[[Sprint], Iterable[Inconsistency]], ...] = (
    _check_timezone,
    _check_baseline_readiness,
    _check_baseline_failing,
    _check_area_sums,
    _check_area_failing,
    _check_plan_passing,
    _check_plan_readiness,
)


def utcnow() -> datetime:
    """The current instant in UTC: every process's clock unless a test or `--at` sets one."""
    return datetime.now(UTC)


ROW_ID_MAX = 2**31 - 1  # the largest id a table's integer key holds (PostgreSQL's integer)


def row_id(text: str) -> int | None:
    """A row's id as typed (a test's, a blocker's): ASCII digits ("²" is a digit to
    `str.isdigit`, not to `int`) within ROW_ID_MAX; None for anything else."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number <= ROW_ID_MAX else None


def parse_instant(text: str) -> datetime:
    """An ISO-8601 time as given ("Z" or RFC 3339's "z" for UTC accepted); ValueError saying
    why (for a message: "at {error}") if it is not one. Whether a time without an offset is
    refused or read in some zone is the caller's rule. A year before 1900 or after 9000 is
    refused too: no CI run is then, and near the ends of `datetime`'s range converting it
    to another zone overflows."""
    try:
        if not text.isascii() or not text.isprintable():  # (a NUL inside was read past)
            raise ValueError
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{shown(text)} is not an ISO-8601 time") from None
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise ValueError(f"{shown(text)} is not a plausible time (years {FIRST_YEAR}-{LAST_YEAR})")
    return at


def quarantine_counted(
    counts: Mapping[str, TestCounts],
    quarantined: Iterable[tuple[str | None, str | None]],
    mode: Literal["exclude", "failing"],
) -> dict[str, TestCounts]:
    """Component test counts with quarantined tests (their component and status) left out
    (`exclude`) or counted as failing (`failing`): readiness's one rule for them."""
    out = dict(counts)
    for component, status in quarantined:
        if component is None or status is None or component not in out:
            continue
        c = out[component]
        passed = c.passed - (status == "passed")
        out[component] = TestCounts(
            passed=passed,
            total=c.total - 1 if mode == "exclude" else c.total,
            quarantined=c.quarantined + 1,
            quarantine_note="left out" if mode == "exclude" else "counted as failing",
        )
    return out


def change_kind(previous: str | None, status: str, *, ran: str | None = None) -> str:
    """What a test's status going from `previous` (None: first seen) to `status` is — one
    rule for the ingest's reply and alerts, the figures' transitions and the reports' lists
    of changes: `regression`, failing after it passed (a flaky test passed, beside a
    failure); `new`, failing and not after passing or failing (first seen so, or never run
    but skipped); `fixed`, passing after failing; `skipped`, newly skipped; else `other`.

    A skip says nothing of whether the test works, so it is seen through: from skipped, the
    change is judged from `ran`, the status the test last ran with before the skip (None:
    it had not run) — passed, skipped, failed is a regression; failed, skipped, failed is
    still failing."""
    if previous == "skipped" and status != "skipped":
        previous = ran
    failing = ("failed", "error")
    if status in failing:
        if previous in ("passed", "flaky"):
            return "regression"
        return "other" if previous in failing else "new"
    if status == "passed" and previous in failing:
        return "fixed"
    if status == "skipped" and previous != "skipped":
        return "skipped"
    return "other"

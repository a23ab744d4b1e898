"""Every figure of DESIGN.md's Definitions, computed in one place as of one instant.

The daily and weekly reports, /sprint, App Home, the tracker, the chart, milestones, the
forecast, alerts and `GET /api/v1/sprint` render a `Figures`; none counts on its own. The
figures come from stored history (each test's status changes as the reports brought them,
manual scores, benchmark samples, blockers and risk events), so any past instant can be
answered as well as now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar

from sqlmodel import Session

from jobs import numbers
from jobs.config import SEVERITIES, Metric, Sprint, SprintInfo
from jobs.heap import gc_paused
from jobs.numbers import Breakdown, Forecast, Health, MetricState, TestCounts, change
from storage import queries
from storage.models import Blocker, ManualScore
from storage.queries import quarantine as quarantine_store

FAILING = frozenset({"failed", "error"})
PASSED = "passed"
# A flaky test passed at least once: failing after it is a regression (jobs.classify).
FLAKY = "flaky"
PASSED_ONCE = frozenset((PASSED, FLAKY))
SKIPPED = "skipped"
OPEN_RISK = ("Critical", "Active")
RISK_STATUSES = ("Critical", "Active", "Mitigated", "Resolved")
EPSILON = timedelta(microseconds=1)


class Phase(StrEnum):
    """Sprint status: before day 1, running (days 1…days), ended."""

    BEFORE = "before"
    RUNNING = "running"
    ENDED = "ended"


def phase(info: SprintInfo, now: datetime) -> Phase:
    """Where `now` falls against the sprint's days, in the sprint's timezone."""
    today = numbers.local_date(info, now)
    if today < info.start:
        return Phase.BEFORE
    if today > info.end:
        return Phase.ENDED
    return Phase.RUNNING


def day_start(info: SprintInfo, day: date) -> datetime:
    """Local midnight starting `day`, in UTC."""
    return numbers.local_instant(info, day, datetime.min.time())


def end_instant(info: SprintInfo) -> datetime:
    """When the sprint ended: the local midnight after its last day. Its figures as of then
    are its final ones (phase "ended", and what arrived on its last day counted)."""
    return day_start(info, info.end + timedelta(days=1))


@dataclass(frozen=True)
class TestFigures:
    """The tracked branch's tests as of the instant, against the sprint's baseline."""

    __test__ = False  # not a pytest class

    known: int
    passing: int
    failing: int
    skipped: int
    target_failing: int
    baseline_known: int
    baseline_passing: int
    baseline_failing: int
    fixed: int
    regressions_introduced: int
    regressions_open: int
    new_failures_open: int
    test_files_passing: int
    test_files: int
    unmapped: int
    quarantined: int = 0  # tests in quarantine (`[flaky] readiness` says how readiness counts them)
    # Whose latest status is flaky (failed, then passed on a re-run): neither passing nor
    # failing, reported apart (passing + failing + skipped + flaky = known).
    flaky: int = 0
    # The tests behind the counts ("classname::name"), for lists and milestones.
    fixed_ids: tuple[str, ...] = ()
    regressions_introduced_ids: tuple[str, ...] = ()
    regressions_open_ids: tuple[str, ...] = ()
    new_failures_open_ids: tuple[str, ...] = ()

    @property
    def pass_rate(self) -> float | None:
        return 100.0 * self.passing / self.known if self.known else None

    @property
    def target_passing(self) -> int:
        return self.known - self.target_failing

    @property
    def to_go(self) -> int:
        """Tests still to pass to reach the target (`numbers.to_go`)."""
        return numbers.to_go(
            known=self.known,
            passing=self.passing,
            failing=self.failing,
            target_failing=self.target_failing,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "known": self.known,
            "passing": self.passing,
            "failing": self.failing,
            "skipped": self.skipped,
            "flaky": self.flaky,
            "pass_rate": _r(self.pass_rate),
            "target_failing": self.target_failing,
            "baseline_known": self.baseline_known,
            "baseline_passing": self.baseline_passing,
            "baseline_failing": self.baseline_failing,
            "fixed": self.fixed,
            "regressions_introduced": self.regressions_introduced,
            "regressions_open": self.regressions_open,
            "new_failures_open": self.new_failures_open,
            "test_files_passing": self.test_files_passing,
            "test_files": self.test_files,
            "unmapped": self.unmapped,
            "quarantined": self.quarantined,
        }


@dataclass(frozen=True)
class ComponentTests:
    """One component's tests as of the instant (None: tests no component's globs match)."""

    __test__ = False  # not a pytest class

    component: str | None
    total: int = 0
    passing: int = 0
    failing: int = 0
    skipped: int = 0

    @property
    def rate(self) -> float | None:
        return 100.0 * self.passing / self.total if self.total else None


@dataclass(frozen=True)
class DayFigures:
    """One sprint day as it ended (or as it stands, for today): the burn-down's row."""

    day: int
    date: date
    reached: bool  # the day has begun by the instant
    measured: bool  # tests were known by the day's end (any day of a sprint with none)
    active: bool  # a report changed some test's status that day
    known: int | None
    passing: int | None
    failing: int | None
    fixed: int | None  # fixed this sprint, as of the day's end
    fixed_today: int
    regressed_today: int
    readiness: float | None
    plan_readiness: float | None  # None: no plan yet (`numbers.plan_readiness`)
    plan_failing: int
    # The new tests (first seen after the baseline's day) first failing that day, by id:
    # what the daily report calls its new failures (it called the baseline's so).
    new_failed: frozenset[int] = frozenset()

    @property
    def new_failures_today(self) -> int:
        return len(self.new_failed)

    @property
    def on_plan(self) -> bool | None:
        """One verdict per day for every table: readiness at or above its plan and failing
        tests at or below theirs (None: nothing measured)."""
        if not self.measured or self.readiness is None:
            return None
        return not self._below_plan and (self.failing is None or self.failing <= self.plan_failing)

    @property
    def _below_plan(self) -> bool:
        # As shown, as health judges it (`numbers.assess`): 79.996 % is 80 %, on a plan of 80.
        return (
            self.readiness is not None
            and self.plan_readiness is not None
            and not numbers.reached(self.readiness, numbers.judged(self.plan_readiness))
        )

    @property
    def why_off_plan(self) -> str:
        """What put the day below plan ("" when on plan or unmeasured)."""
        if self.on_plan is not False:
            return ""
        parts = []
        if self._below_plan:
            parts.append("readiness below plan")
        if self.failing is not None and self.failing > self.plan_failing:
            parts.append(f"{self.failing - self.plan_failing} failing over plan")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "date": self.date.isoformat(),
            "known": self.known,
            "passing": self.passing,
            "failing": self.failing,
            "fixed": self.fixed,
            "fixed_today": self.fixed_today if self.reached else None,
            "regressed_today": self.regressed_today if self.reached else None,
            "new_failures_today": self.new_failures_today if self.reached else None,
            "readiness": _r(self.readiness),
            "plan_readiness": _r(self.plan_readiness),
            "plan_failing": self.plan_failing,
            "on_plan": self.on_plan,
        }


class _Ranked(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def id(self) -> int | None: ...


_R = TypeVar("_R", bound=_Ranked)


def urgent_first(risks: Iterable[_R]) -> list[_R]:
    """Risks most urgent first (Critical, Active, Mitigated, Resolved), then by id: what
    every list of them cut short keeps (App Home's first ten hid an eleventh, Critical,
    risk; found by review)."""
    order = {s: i for i, s in enumerate(RISK_STATUSES)}
    return sorted(risks, key=lambda r: (order.get(r.status, len(order)), r.id or 0))


# The fields of a risk an edit may change, each kept in its event (`jobs.risks.update`).
RISK_FIELDS = ("description", "impact", "probability", "mitigation", "owner", "status")


@dataclass(frozen=True)
class RiskState:
    """A risk as it stood at the instant (`RISK_FIELDS`, as the first edit after it found
    them)."""

    id: int
    code: str
    description: str
    impact: str
    probability: str
    mitigation: str | None
    owner: str | None
    status: str


@dataclass(frozen=True)
class Benchmark:
    metric: Metric
    value: float | None
    state: MetricState | None


@dataclass(frozen=True)
class Figures:
    """Every number a surface shows, as of `at`."""

    sprint: Sprint
    at: datetime
    today: date
    day: int  # days since start + 1 (may fall outside 1…days)
    phase: Phase
    breakdown: Breakdown
    plan: float | None  # planned readiness for the day (clamped to the sprint); None: no plan yet
    health: Health
    health_reason: str
    previous: float | None  # readiness when yesterday began
    baseline_measured: float | None
    tests: TestFigures
    days: list[DayFigures]
    forecast: dict[str, Forecast]
    blockers: list[Blocker]
    risks: list[RiskState]
    benchmarks: list[Benchmark]
    yesterday: DayFigures | None = field(default=None)
    coverage: dict[str | None, ComponentTests] = field(default_factory=dict)
    # Each open blocker's escalation step at the instant, by id (`level_of`).
    levels: dict[int, int] = field(default_factory=dict)
    # When each open blocker reopened since its report was reopened, by id (`opened_at`).
    reopened: dict[int, datetime] = field(default_factory=dict)
    # A quarantine ends at its `until` with no write (the clock releases it minutes later):
    # the last to have ended so by the instant, and the next to (`jobs.ready`'s times).
    quarantine_ended: datetime | None = None
    quarantine_ends: datetime | None = None

    @property
    def info(self) -> SprintInfo:
        return self.sprint.sprint

    def level_of(self, blocker: Blocker) -> int:
        """The escalation step `blocker` had reached at the instant (its row holds today's)."""
        return self.levels.get(int(blocker.id or 0), blocker.escalation_level)

    def opened_at(self, blocker: Blocker) -> datetime:
        """Since when `blocker` has been open at the instant: its last reopening, else its
        report (a P0's age, for health, counts from then)."""
        return self.reopened.get(int(blocker.id or 0), blocker.reported_at)

    @property
    def score(self) -> float | None:
        return self.breakdown.score

    @property
    def target(self) -> float:
        return self.sprint.targets.readiness

    @property
    def baseline_stated(self) -> float | None:
        return self.sprint.targets.baseline_readiness

    @property
    def change_since_yesterday(self) -> float | None:
        """Today's score less yesterday's, as both are shown (`numbers.change`)."""
        if self.score is None or self.previous is None:
            return None
        return change(self.previous, self.score)

    @property
    def running(self) -> bool:
        return self.phase is Phase.RUNNING

    @property
    def final_day(self) -> bool:
        return self.phase is Phase.RUNNING and self.day == self.info.days

    @property
    def sprint_day(self) -> int:
        """The sprint day as the API gives it: today's (0 or less before the sprint), its
        last once it ended, as its final figures are ("day 6 of 5, the day after the end"
        whenever asked, found by review)."""
        return min(self.day, self.info.days)

    @property
    def shown_day(self) -> int:
        """The day within the sprint the figures speak of (the last one once it ended)."""
        return min(max(self.day, 1), self.info.days)

    @property
    def plan_anchor(self) -> str:
        return self.sprint.plan.anchor

    @property
    def benchmarks_met(self) -> int:
        return sum(1 for b in self.benchmarks if b.state is MetricState.MET)

    @property
    def open_risks(self) -> list[RiskState]:
        return urgent_first(r for r in self.risks if r.status in OPEN_RISK)

    def risk_counts(self) -> dict[str, int]:
        counts = Counter(r.status for r in self.risks)
        return {s: counts.get(s, 0) for s in RISK_STATUSES}

    def blocker_counts(self) -> dict[str, int]:
        counts = Counter(b.severity for b in self.blockers)
        return {s: counts.get(s, 0) for s in SEVERITIES}

    def status_line(self) -> str:
        """ "Day 5 of 14", "Sprint ended on 2025-11-11", "Sprint starts on …"."""
        if self.phase is Phase.BEFORE:
            return f"Sprint starts on {self.info.start.isoformat()}"
        if self.phase is Phase.ENDED:
            return f"Sprint ended on {self.info.end.isoformat()}"
        return f"Day {self.day} of {self.info.days}"

    def plan_note(self) -> str:
        """Where the plan comes from, with both baselines when they differ."""
        stated, measured = self.baseline_stated, self.baseline_measured
        if self.plan_anchor == "stated" and self.sprint.plan.readiness is not None:
            return "plan as the sprint file states it"
        # (A stated anchor without a readiness plan in the file is rescaled as any other.)
        if measured is None:
            if self.plan is None:
                return "no plan until the first CI report measures the baseline"
            return "plan from the components' starting scores (nothing measured yet)"
        if stated is not None and abs(stated - measured) >= 0.05:
            return (
                f"plan rescaled from the stated {numbers.pct(stated)} to the measured "
                f"{numbers.pct(measured)}"
            )
        return f"plan from the measured baseline {numbers.pct(measured)}"

    def as_dict(self) -> dict[str, Any]:
        """`GET /api/v1/sprint`."""
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "sprint": self._sprint_dict(),
            "readiness": self._readiness_dict(),
            "tests": self.tests.as_dict(),
            "burndown": [d.as_dict() for d in self.days],
            "forecast": {k: f.as_dict() for k, f in self.forecast.items()},
            "blockers": self._blockers_dict(),
            "risks": self._risks_dict(),
            "benchmarks": self._benchmarks_dict(),
        }

    def _sprint_dict(self) -> dict[str, Any]:
        info = self.info
        return {
            "name": info.name,
            "goal": info.goal,
            "start": info.start.isoformat(),
            "end": info.end.isoformat(),
            "days": info.days,
            "day": self.sprint_day,
            "status": str(self.phase),
            "timezone": info.timezone,
            "date": min(self.today, info.end).isoformat(),
            "text": self.status_line(),
        }

    def _readiness_dict(self) -> dict[str, Any]:
        return {
            "score": _r(self.score),
            "plan": _r(self.plan),
            "target": self.target,
            "health": str(self.health),
            "health_reason": self.health_reason,
            "change_since_yesterday": _r(self.change_since_yesterday),
            "previous": _r(self.previous),
            "baseline": {
                "stated": self.baseline_stated,
                "measured": _r(self.baseline_measured),
            },
            "plan_anchor": self.plan_anchor,
            "plan_note": self.plan_note(),
            "breakdown": self.breakdown.as_dict(),
        }

    def _blockers_dict(self) -> dict[str, Any]:
        return {
            "open": len(self.blockers),
            "by_severity": self.blocker_counts(),
            "items": [
                {
                    "id": b.code,
                    "severity": b.severity,
                    "component": b.component,
                    "owner": b.owner,
                    "reported_at": b.reported_at.astimezone(UTC).isoformat(),
                    "escalation_level": self.level_of(b),
                }
                for b in self.blockers
            ],
        }

    def _risks_dict(self) -> dict[str, Any]:
        return {
            "open": len(self.open_risks),
            "by_status": self.risk_counts(),
            "items": [
                {
                    "id": r.code,
                    "status": r.status,
                    "impact": r.impact,
                    "probability": r.probability,
                    "owner": r.owner,
                }
                for r in self.risks
            ],
        }

    def _benchmarks_dict(self) -> dict[str, Any]:
        return {
            "met": self.benchmarks_met,
            "of": len(self.benchmarks),
            "items": [
                {
                    "name": b.metric.name,
                    "label": b.metric.title,
                    "unit": b.metric.unit,
                    "target": b.metric.target,
                    "better": str(b.metric.better),
                    "value": b.value,
                    "state": str(b.state) if b.state is not None else None,
                }
                for b in self.benchmarks
            ],
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


# -- the history walk ---------------------------------------------------------------------


@dataclass(slots=True)
class _Test:
    ref: queries.HistoryTest
    status: str | None = None  # None: not yet seen
    baseline: str | None = None  # status at the baseline (None: a new test or not yet)
    new: bool = False
    passed_in_sprint: bool = False
    regressed: bool = False


class _Tally:
    """Running counts over the tests' states, kept as each status change is applied."""

    def __init__(self) -> None:
        self.n: Counter[str] = Counter()
        self.components: dict[str, list[int]] = {}

    def apply(self, t: _Test, sign: int) -> None:
        # Only the counts the test is in are touched (a Counter reads 0 for the others):
        # it runs twice per status change in the history, a fifth of the figures' time.
        status = t.status
        if status is None:
            return
        n = self.n
        n["known"] += sign
        ok = status == PASSED
        bad = status in FAILING
        if ok:
            n["passing"] += sign
        elif bad:
            n["failing"] += sign
        elif status == SKIPPED:
            n["skipped"] += sign
        elif status == FLAKY:
            n["flaky"] += sign
        comp = t.ref.component
        if comp is not None:
            c = self.components.get(comp)
            if c is None:
                c = self.components[comp] = [0, 0]
            if ok:
                c[0] += sign
            c[1] += sign
        else:
            n["unmapped"] += sign
        baseline = t.baseline
        if baseline is not None:
            n["baseline_known"] += sign
            if baseline == PASSED:
                n["baseline_passing"] += sign
            elif baseline in FAILING:
                n["baseline_failing"] += sign
                if ok:
                    n["fixed"] += sign
        if bad:
            if t.passed_in_sprint:
                n["regressions_open"] += sign
            elif t.new:
                n["new_failures_open"] += sign
        if t.regressed:
            n["regressions_introduced"] += sign

    def recount(self, tests: Iterable[_Test]) -> None:
        """The counts from scratch: what applying every test would give, in one pass."""
        known = passing = failing = skipped = flaky = unmapped = 0
        b_known = b_passing = b_failing = fixed = 0
        regressions_open = new_failures_open = regressions_introduced = 0
        components: dict[str, list[int]] = {}
        for t in tests:
            status = t.status
            if status is None:
                continue
            known += 1
            ok = status == PASSED
            bad = status in FAILING
            passing += ok
            failing += bad
            skipped += status == SKIPPED
            flaky += status == FLAKY
            comp = t.ref.component
            if comp is not None:
                c = components.get(comp)
                if c is None:
                    c = components[comp] = [0, 0]
                c[0] += ok
                c[1] += 1
            else:
                unmapped += 1
            baseline = t.baseline
            if baseline is not None:
                b_known += 1
                b_passing += baseline == PASSED
                b_bad = baseline in FAILING
                b_failing += b_bad
                fixed += b_bad and ok
            if bad:
                regressions_open += t.passed_in_sprint
                new_failures_open += t.new and not t.passed_in_sprint
            regressions_introduced += t.regressed
        self.components = components
        self.n = Counter(
            known=known,
            passing=passing,
            failing=failing,
            skipped=skipped,
            flaky=flaky,
            unmapped=unmapped,
            baseline_known=b_known,
            baseline_passing=b_passing,
            baseline_failing=b_failing,
            fixed=fixed,
            regressions_open=regressions_open,
            new_failures_open=new_failures_open,
            regressions_introduced=regressions_introduced,
        )

    def counts(self) -> dict[str, TestCounts]:
        return {k: TestCounts(passed=p, total=n) for k, (p, n) in self.components.items() if n}


@dataclass
class _Checkpoint:
    counts: Counter[str]
    components: dict[str, TestCounts]


# (time, report, test, previous, status, from skipped: the status it last ran with)
_Event = tuple[datetime, int, int, str | None, str, str | None]


def _events(tests: dict[int, _Test], changes: Sequence[queries.HistoryChange]) -> list[_Event]:
    """(time, report, test, previous, status) for every first appearance and status change,
    in the order they were received. A test first seen passing has no change row: it
    appears when known_test says it was first seen.

    `changes` may start at an instant (`fold`) after which alone the walk needs events: a
    test seen before it (its `first_seen_at` None) gets no event but starts the walk with
    its status there, which is the `previous` of its first change from then on, else its
    latest status. Retention deletes old changes on the same premise."""
    first: dict[int, queries.HistoryChange] = {}
    for c in changes:
        first.setdefault(c.test_id, c)
    out: list[_Event] = [
        (c.at, c.report_id, c.test_id, c.previous, c.status, c.ran_before) for c in changes
    ]
    for tid, t in tests.items():
        row = first.get(tid)
        if row is not None and row.previous is None:
            continue  # its first row is its appearance
        status = (row.previous if row is not None else t.ref.status) or PASSED
        seen = t.ref.first_seen_at
        if seen is None:
            t.status = status  # known before the fold
            continue
        at = seen if row is None else min(seen, row.at)
        out.append((at, -1, tid, None, status, None))
    out.sort(key=lambda e: (e[0], e[1]))
    return out


# -- compute: window → gather → walk → score → days → outlook → health ------------------


@dataclass(frozen=True, slots=True)
class _Window:
    """The instants the figures look at."""

    at: datetime
    today: date
    day: int
    start: datetime  # local midnight starting day 1
    until: datetime  # "as of `at`" includes what arrived at `at`
    yesterday_start: datetime
    # Before the first instant any figure looks at, only each test's status matters, and
    # `_events` finds that from its first later change (or its latest status): so the
    # changes before it are not read (retention deletes them on the same premise).
    fold: datetime

    @classmethod
    def of(cls, info: SprintInfo, at: datetime) -> _Window:
        today = numbers.local_date(info, at)
        start = day_start(info, info.start)
        until = taken_until(info, at)
        # Once the sprint ended its figures are its last day's, and so is their yesterday
        # (it was the last day itself: the change since yesterday reversed its sign a
        # minute after the end, beside the same day, date and score; found by review).
        last = info.start + timedelta(days=info.days - 1)
        yesterday_start = day_start(info, min(today, last) - timedelta(days=1))
        return cls(
            at=at,
            today=today,
            day=numbers.sprint_day(info, at),
            start=start,
            until=until,
            yesterday_start=yesterday_start,
            fold=min(start, yesterday_start, until),
        )


@dataclass(frozen=True, slots=True)
class _Inputs:
    """The tests and their history up to the instant, and where the baseline falls in it."""

    tests: dict[int, _Test]
    events: list[_Event]
    cut: datetime | None  # tests first seen from here on are new tests (None: none yet)
    known_before: bool  # some test was known before the sprint began
    first_seen: datetime | None  # when the sprint's first tests arrived
    baseline_inputs_at: datetime  # manual scores and benchmarks of the measured baseline
    day_ends: dict[int, datetime]  # each day reached so far: when it ended (or ends)
    checkpoints: list[datetime]  # where the walk keeps its counts
    quarantines: list[quarantine_store.QuarantineSpan]  # (test id, since, released at or None)
    quarantine_mode: Literal["exclude", "failing"]  # `[flaky] readiness`

    def quarantined_at(self, when: datetime) -> list[int]:
        """The ids of the tests in quarantine at `when`."""
        return [
            test_id
            for test_id, since, released in self.quarantines
            if since <= when and (released is None or released > when)
        ]

    def ends_around(self, when: datetime) -> tuple[datetime | None, datetime | None]:
        """The last end of a quarantine at or before `when`, and the first after it."""
        ends = [end for _, since, end in self.quarantines if end is not None and since <= when]
        return (
            max((e for e in ends if e <= when), default=None),
            min((e for e in ends if e > when), default=None),
        )

    def counted(
        self, components: dict[str, TestCounts], when: datetime, *, baseline: bool = False
    ) -> dict[str, TestCounts]:
        """Component counts as readiness takes them at `when`: quarantined tests left out or
        counted as failing (`numbers.quarantine_counted`)."""
        if not self.quarantines:
            return components
        held = []
        for test_id in self.quarantined_at(when):
            t = self.tests.get(test_id)
            if t is not None:
                held.append((t.ref.component, t.baseline if baseline else t.status))
        return numbers.quarantine_counted(components, held, self.quarantine_mode)


def new_tests_from(info: SprintInfo, first_report: datetime | None) -> datetime | None:
    """From when a test first seen is a new test, not the baseline's: the day after the
    sprint's first report day (tests first seen during it count into the baseline); None
    before the sprint's first report (`first_report`: when it was received)."""
    if first_report is None:
        return None
    return day_start(info, numbers.local_date(info, first_report) + timedelta(days=1))


def _gather(
    *,
    session: Session,
    info: SprintInfo,
    w: _Window,
    quarantine_mode: Literal["exclude", "failing"] = "exclude",
) -> _Inputs:
    """Read the branch's tests and their changes, and place the baseline and checkpoints."""
    branch = info.branch
    tests = {
        t.id: _Test(t)
        for t in queries.history_tests(session=session, branch=branch, seen_since=w.fold)
    }
    changes = queries.history_changes(session=session, branch=branch, since=w.fold)
    events = [e for e in _events(tests, changes) if e[0] < w.until]
    known_at_fold = any(t.status is not None for t in tests.values())
    first_report = queries.first_report_since(session=session, branch=branch, at=w.start)
    if first_report is not None and first_report >= w.until:
        first_report = None
    cut = new_tests_from(info, first_report)
    known_before = known_at_fold or any(e[0] < w.start for e in events)
    # Manual scores and benchmarks count into the measured baseline as they stood when the
    # baseline's tests were first known: at the start, or with the sprint's first report.
    first_seen = first_report or next((e[0] for e in events if e[0] >= w.start), None)
    inputs_at = w.start if known_before or first_seen is None else first_seen + EPSILON
    last_day = min(max(w.day, 0), info.days)
    day_ends = {d: day_start(info, numbers.day_date(info, d + 1)) for d in range(1, last_day + 1)}
    checkpoints = sorted(
        {x for x in (*day_ends.values(), w.yesterday_start, inputs_at) if x <= w.until} | {w.until}
    )
    return _Inputs(
        tests=tests,
        events=events,
        cut=cut,
        known_before=known_before,
        first_seen=first_seen,
        baseline_inputs_at=inputs_at,
        day_ends=day_ends,
        checkpoints=checkpoints,
        quarantines=quarantine_store.quarantine_spans(
            session=session, branch=branch, until=w.until
        ),
        quarantine_mode=quarantine_mode,
    )


@dataclass(frozen=True, slots=True)
class _Walked:
    """The history replayed: the counts at each checkpoint and what each day did."""

    snaps: dict[datetime, _Checkpoint]
    now: _Checkpoint  # the counts at the instant
    baselined: bool  # the sprint had begun by the instant, so baselines are set
    fixed_on: Counter[int]  # per sprint day, failing → passed transitions
    regressed_on: Counter[int]  # per sprint day, passed → failing transitions
    new_failed_on: dict[int, set[int]]  # per sprint day, new tests failing first (ids)
    active_days: set[int]  # sprint days on which a report changed some test's status


class _Walk:
    """Replays the events in order on the tests' states and a running tally, keeping a
    snapshot of the counts at each checkpoint; the baseline is set when the sprint begins."""

    def __init__(self, info: SprintInfo, inputs: _Inputs, w: _Window) -> None:
        self.info, self.inputs, self.w = info, inputs, w
        self.tally = _Tally()
        self.tally.recount(inputs.tests.values())  # the tests known at the fold
        self.snaps: dict[datetime, _Checkpoint] = {}
        self.baselined = False
        self.pending = iter(inputs.checkpoints)
        self.next_cp = next(self.pending, None)
        self.fixed_on: Counter[int] = Counter()
        self.regressed_on: Counter[int] = Counter()
        self.new_failed_on: dict[int, set[int]] = {}
        self.active_days: set[int] = set()

    def set_baseline(self) -> None:
        self.baselined = True
        for t in self.inputs.tests.values():
            if t.status is not None:
                t.baseline = t.status
                t.passed_in_sprint = t.status in PASSED_ONCE
        self.tally.recount(self.inputs.tests.values())

    def snapshot_until(self, when: datetime) -> None:
        while self.next_cp is not None and self.next_cp <= when:
            if not self.baselined and self.next_cp > self.w.start:
                self.set_baseline()
            self.snaps[self.next_cp] = self._checkpoint(self.next_cp)
            self.next_cp = next(self.pending, None)

    def _checkpoint(self, when: datetime) -> _Checkpoint:
        return _Checkpoint(Counter(self.tally.n), self.inputs.counted(self.tally.counts(), when))

    def replay(self) -> _Walked:
        # One loop over local names: it runs once per status change in the history.
        info, tests, tally, cut = self.info, self.inputs.tests, self.tally, self.inputs.cut
        start, snapshot_until, active_days = self.w.start, self.snapshot_until, self.active_days
        # A report's changes share its instant: its sprint day is worked out once.
        day_of: tuple[datetime | None, int] = (None, 0)
        for when, _report, tid, _previous, status, ran in self.inputs.events:
            snapshot_until(when)
            if not self.baselined and when >= start:
                self.set_baseline()
            t = tests[tid]
            tally.apply(t, -1)
            in_sprint = when >= start
            if in_sprint and day_of[0] != when:
                day_of = (when, numbers.sprint_day(info, when))
            if t.status is None:
                t.status = status
                if in_sprint:
                    if cut is None or when < cut:
                        t.baseline = status
                    else:
                        t.new = True
                        if status in FAILING:
                            self.new_failed_on.setdefault(day_of[1], set()).add(tid)
                    t.passed_in_sprint = status in PASSED_ONCE
            else:
                was: str | None = t.status
                t.status = status
                if was == SKIPPED and status != SKIPPED:
                    was = ran  # a skip seen through (`numbers.change_kind`)
                if in_sprint:
                    d = day_of[1]
                    if was in PASSED_ONCE and status in FAILING:
                        t.regressed = t.passed_in_sprint = True  # (it passed, skips aside)
                        self.regressed_on[d] += 1
                    elif was in FAILING and status == PASSED:
                        self.fixed_on[d] += 1
                    elif t.new and was is None and status in FAILING:  # (it had not run)
                        self.new_failed_on.setdefault(d, set()).add(tid)
                    if status in PASSED_ONCE:
                        t.passed_in_sprint = True
            if in_sprint:
                active_days.add(day_of[1])
            tally.apply(t, +1)
        return self.finish()

    def finish(self) -> _Walked:
        until = self.w.until
        self.snapshot_until(until)
        if not self.baselined and until > self.w.start:
            self.set_baseline()
            self.snaps[until] = self._checkpoint(until)
        return _Walked(
            snaps=self.snaps,
            now=self.snaps[until],
            baselined=self.baselined,
            fixed_on=self.fixed_on,
            regressed_on=self.regressed_on,
            new_failed_on=self.new_failed_on,
            active_days=self.active_days,
        )


@dataclass(frozen=True, slots=True)
class _Scorer:
    """Readiness as of any instant up to `at`: test counts from the walk, with the manual
    scores set and the benchmark samples received before that instant."""

    sprint: Sprint
    manual: list[ManualScore]
    samples: list[queries.HistorySample]

    @classmethod
    def load(cls, *, session: Session, sprint: Sprint, at: datetime) -> _Scorer:
        return cls(
            sprint=sprint,
            manual=queries.manual_score_history(session=session, until=at),
            samples=queries.metric_history(session=session, until=at),
        )

    def breakdown(self, when: datetime, tests: Mapping[str, TestCounts]) -> Breakdown:
        return numbers.breakdown(
            self.sprint,
            tests=tests,
            manual={m.component: m.score for m in self.manual if m.set_at < when},
            metric_values={s.name: s.value for s in self.samples if s.received_at < when},
        )

    def latest_values(self, when: datetime) -> dict[str, float]:
        """Each benchmark's latest value before `when`, as `breakdown` takes them (all the
        samples loaded: one received at the end's instant, the next sprint's, was counted
        met; found by review)."""
        return {s.name: s.value for s in self.samples if s.received_at < when}


def _measured_baseline(inputs: _Inputs, walked: _Walked, scorer: _Scorer) -> float | None:
    """Readiness computed from the baseline (None: no test known by then)."""
    if inputs.first_seen is None and not inputs.known_before:
        return None
    base = walked.snaps.get(inputs.baseline_inputs_at)
    if base is None:
        return None
    counts = (
        inputs.counted(_baseline_components(inputs.tests), inputs.baseline_inputs_at, baseline=True)
        if walked.baselined
        else base.components
    )
    return scorer.breakdown(inputs.baseline_inputs_at, counts).score


@dataclass(frozen=True, slots=True)
class _PlanBasis:
    """What the plans are rescaled from: the measured (else starting) readiness and the
    baseline's failing tests among the known ones."""

    anchor: float | None  # None: nothing measured and no starting score
    baseline_failing: int
    known: int  # the known tests

    @classmethod
    def of(cls, sprint: Sprint, walked: _Walked, *, measured: float | None) -> _PlanBasis:
        n = walked.now.counts
        return cls(
            anchor=measured if measured is not None else numbers.breakdown(sprint).score,
            baseline_failing=n["baseline_failing"] if walked.baselined else n["failing"],
            # (No tests known: no plan of failing tests yet. The file's stated total beside
            # the measured 0 failing planned failing tests climbing from 0 to the target;
            # found by review.)
            known=n["known"],
        )

    def failing(self, sprint: Sprint, day: int) -> int:
        if not self.known:
            return 0
        return numbers.plan_failing(
            sprint, day, baseline_failing=self.baseline_failing, known=self.known
        )


def _day_figures(
    d: int,
    *,
    sprint: Sprint,
    w: _Window,
    inputs: _Inputs,
    walked: _Walked,
    scorer: _Scorer,
    plan: _PlanBasis,
) -> DayFigures:
    """Day `d` as it ended, or as it stands when it is today."""
    end = inputs.day_ends.get(d)
    cp = walked.snaps.get(end) if end is not None else None
    if cp is None and d == w.day:
        cp = walked.now
    reached = d <= w.day
    when = end if end is not None and end <= w.until else w.until
    c = cp.counts if cp is not None else None
    # Tests known by the day's end: its readiness and tests are measured. A sprint scored
    # without tests is measured from its first day (its scores are set by hand or by
    # benchmarks); it counts no tests (found by review: it never had a burn-down or a
    # forecast).
    tested = c is not None and c["known"] > 0 and reached
    measured = tested or (c is not None and reached and not sprint.tested)
    return DayFigures(
        day=d,
        date=numbers.day_date(sprint.sprint, d),
        reached=reached,
        measured=measured,
        active=d in walked.active_days,
        known=c["known"] if tested and c else None,
        passing=c["passing"] if tested and c else None,
        failing=c["failing"] if tested and c else None,
        fixed=c["fixed"] if tested and c else None,
        fixed_today=walked.fixed_on.get(d, 0),
        regressed_today=walked.regressed_on.get(d, 0),
        new_failed=frozenset(walked.new_failed_on.get(d, ())),
        readiness=scorer.breakdown(when, cp.components).score if measured and cp else None,
        plan_readiness=numbers.plan_readiness(sprint, d, baseline=plan.anchor),
        plan_failing=plan.failing(sprint, d),
    )


def _outlook(
    sprint: Sprint, days: list[DayFigures], day: int, *, now: tuple[float | None, float | None]
) -> dict[str, Forecast]:
    """The readiness and pass-rate forecasts over the days measured so far: today only once
    a report changed a test's status today (a part of a day is no day's pace), or once
    today's readiness reached the target (a manual score, a benchmark), which then reads
    "reached" whatever the pace."""
    info = sprint.sprint
    target = sprint.targets.readiness

    def counted(x: DayFigures) -> bool:
        return x.day < day or x.active or numbers.reached(x.readiness, target)

    series = [x for x in days if x.measured and counted(x)]
    today = min(max(day, 1), info.days)
    # (The pace needed from today's readiness and pass rate, as the figures give them.)
    readiness_now, pass_rate_now = now
    return {
        "readiness": numbers.forecast(
            {x.day: x.readiness for x in series if x.readiness is not None},
            target=sprint.targets.readiness,
            today=today,
            days=info.days,
            now=readiness_now,
        ),
        "pass_rate": numbers.forecast(
            {x.day: 100.0 * (x.passing or 0) / x.known for x in series if x.known},
            target=sprint.targets.pass_rate,
            today=today,
            days=info.days,
            counted=True,
            now=pass_rate_now,
        ),
    }


def _health(
    sprint: Sprint,
    w: _Window,
    current: Phase,
    *,
    score: float | None,
    plan: float | None,
    outlook: Forecast,
    open_blockers: list[Blocker],
    reopened: dict[int, datetime],
) -> tuple[Health, str]:
    """Health and its reason; outside the sprint's days the reason says so."""
    info, target = sprint.sprint, sprint.targets.readiness
    health, reason = numbers.assess(
        score,
        plan,
        day=w.day,
        outlook=outlook,
        open_p0=[
            (b.code, w.at - reopened.get(int(b.id or 0), b.reported_at))
            for b in open_blockers
            if b.severity == "P0"
        ],
    )
    if current is Phase.ENDED:
        reached_target = numbers.reached(score, target)  # (as shown)
        reason = (
            f"sprint ended on {info.end.isoformat()}: "
            + ("target reached" if reached_target else f"finished at {numbers.pct(score)}")
            + f" of {numbers.pct(target)}"
        )
        health = Health.ON_TRACK if reached_target else health
    elif current is Phase.BEFORE:
        reason = f"sprint starts on {info.start.isoformat()}"
    return health, reason


def _previous(w: _Window, walked: _Walked, scorer: _Scorer) -> float | None:
    """Readiness when yesterday began, so a morning report covers a whole day: measured once
    tests were known, or from the start in a sprint scored without tests, as its days are
    (`_day_figures`; found by review: such a sprint never had a change since yesterday)."""
    ycp = walked.snaps.get(w.yesterday_start)
    if ycp is None or (not ycp.counts["known"] and scorer.sprint.tested):
        return None
    return scorer.breakdown(w.yesterday_start, ycp.components).score


def _test_figures(
    sprint: Sprint, tests: dict[int, _Test], n: Counter[str], *, quarantined: int
) -> TestFigures:
    """The test counts at the instant (from the walk's tally) with the tests behind them."""
    files_passing, files = _files(tests.values())
    return TestFigures(
        known=n["known"],
        passing=n["passing"],
        failing=n["failing"],
        skipped=n["skipped"],
        target_failing=numbers.target_failing(n["known"], sprint.targets.pass_rate),
        baseline_known=n["baseline_known"],
        baseline_passing=n["baseline_passing"],
        baseline_failing=n["baseline_failing"],
        fixed=n["fixed"],
        regressions_introduced=n["regressions_introduced"],
        regressions_open=n["regressions_open"],
        new_failures_open=n["new_failures_open"],
        test_files_passing=files_passing,
        test_files=files,
        unmapped=n["unmapped"],
        quarantined=quarantined,
        flaky=n["flaky"],
        **_ids(tests.values()),
    )


def final_at(info: SprintInfo, at: datetime) -> datetime:
    """The instant the sprint's figures as of `at` are taken at: `at`, or its end once it
    ended (what happens after it is the next sprint's)."""
    return min(at, end_instant(info))


def taken_until(info: SprintInfo, at: datetime) -> datetime:
    """What the sprint's figures as of `at` take in: what arrived before this instant. As
    of `at` includes what arrived at `at`; once the sprint ended, what arrived by its end,
    not at it: that is the next sprint's (which starts then; a CI run at the very midnight
    after the last day rewrote the final figures, while the last day's burn-down left it
    out, found by review)."""
    end = end_instant(info)
    return end if at >= end else at + EPSILON


def compute(*, session: Session, sprint: Sprint, at: datetime) -> Figures:
    """Every figure of the sprint as of `at` (aware), from stored history. Once it ended,
    its final figures (as of `end_instant`): what CI, scores or blockers do after it are
    the next sprint's, and no surface shows an ended sprint moving."""
    with gc_paused():  # ~100k short-lived objects at 20k tests, none in a cycle
        return _compute(session=session, sprint=sprint, at=at)


def _compute(*, session: Session, sprint: Sprint, at: datetime) -> Figures:
    info = sprint.sprint
    asked, at = at, final_at(info, at)
    w = _Window.of(info, at)
    inputs = _gather(session=session, info=info, w=w, quarantine_mode=sprint.flaky.readiness)
    walked = _Walk(info, inputs, w).replay()
    scorer = _Scorer.load(session=session, sprint=sprint, at=at)
    bd = scorer.breakdown(w.until, walked.now.components)
    measured = _measured_baseline(inputs, walked, scorer)
    basis = _PlanBasis.of(sprint, walked, measured=measured)
    days = [
        _day_figures(d, sprint=sprint, w=w, inputs=inputs, walked=walked, scorer=scorer, plan=basis)
        for d in range(1, info.days + 1)
    ]
    tests = _test_figures(
        sprint,
        inputs.tests,
        walked.now.counts,
        quarantined=sum(t in inputs.tests for t in inputs.quarantined_at(w.until)),
    )
    outlook = _outlook(sprint, days, w.day, now=(bd.score, tests.pass_rate))
    open_blockers = queries.blockers_open_at(session=session, at=at)
    reopened = queries.reopened_at(session=session, blockers=open_blockers, at=at)
    plan = numbers.plan_readiness(sprint, w.day, baseline=basis.anchor)
    current = phase(info, asked)
    health, reason = _health(
        sprint,
        w,
        current,
        score=bd.score,
        plan=plan,
        outlook=outlook["readiness"],
        open_blockers=open_blockers,
        reopened=reopened,
    )
    ended, ends = inputs.ends_around(w.until)
    return Figures(
        sprint=sprint,
        at=at,
        today=w.today,
        day=w.day,
        phase=current,
        breakdown=bd,
        plan=plan,
        health=health,
        health_reason=reason,
        previous=_previous(w, walked, scorer),
        baseline_measured=measured,
        tests=tests,
        days=days,
        forecast=outlook,
        blockers=open_blockers,
        levels=queries.escalation_levels_at(session=session, blockers=open_blockers, at=at),
        reopened=reopened,
        risks=_risks(session=session, at=at, since=w.start),
        benchmarks=_benchmarks(sprint, scorer.latest_values(w.until)),
        yesterday=next((x for x in days if x.day == w.day - 1), None),
        coverage=_coverage(inputs.tests.values()),
        quarantine_ended=ended,
        quarantine_ends=ends,
    )


def _baseline_components(tests: dict[int, _Test]) -> dict[str, TestCounts]:
    """Per component, the baseline's (passed, total)."""
    comps: dict[str, list[int]] = {}
    for t in tests.values():
        if t.baseline is None or t.ref.component is None:
            continue
        c = comps.setdefault(t.ref.component, [0, 0])
        c[0] += t.baseline == PASSED
        c[1] += 1
    return {k: TestCounts(passed=p, total=n) for k, (p, n) in comps.items()}


def _coverage(tests: Iterable[_Test]) -> dict[str | None, ComponentTests]:
    """Per component, its tests' statuses at the instant."""
    counts: dict[str | None, list[int]] = {}
    for t in tests:
        status = t.status
        if status is None:
            continue
        c = counts.get(t.ref.component)
        if c is None:
            c = counts[t.ref.component] = [0, 0, 0, 0]
        c[0] += 1
        c[1] += status == PASSED
        c[2] += status in FAILING
        c[3] += status == SKIPPED
    return {k: ComponentTests(k, *c) for k, c in counts.items()}


def _files(tests: Iterable[_Test]) -> tuple[int, int]:
    """(files all of whose tests pass, files) over the tests seen by the instant."""
    files: set[str] = set()
    bad: set[str] = set()
    for t in tests:
        file = t.ref.file
        if t.status is None or file is None:
            continue
        files.add(file)
        if t.status != PASSED:
            bad.add(file)
    return len(files) - len(bad), len(files)


def _ids(tests: Iterable[_Test]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {
        "fixed_ids": [],
        "regressions_introduced_ids": [],
        "regressions_open_ids": [],
        "new_failures_open_ids": [],
    }
    for t in tests:
        if t.status is None:
            continue
        name = f"{t.ref.classname}::{t.ref.name}"
        bad = t.status in FAILING
        if t.baseline in FAILING and t.status == PASSED:
            out["fixed_ids"].append(name)
        if t.regressed:
            out["regressions_introduced_ids"].append(name)
        if bad and t.passed_in_sprint:
            out["regressions_open_ids"].append(name)
        if bad and t.new and not t.passed_in_sprint:
            out["new_failures_open_ids"].append(name)
    return {k: tuple(v) for k, v in out.items()}


def _risks(*, session: Session, at: datetime, since: datetime | None = None) -> list[RiskState]:
    """Each risk recorded by `at`, as it was then, but those resolved already when the
    sprint began (`since`): open risks carry over into the next sprint, and one resolved in
    an earlier sprint is none of this one's (each later sprint counted it "1 resolved";
    found by review) — unless it is no longer resolved at `at`: one back since counts
    (set Critical again, it was left out of every figure; found by review)."""
    states = _risks_as_of(session=session, at=at)
    if since is None or since >= at:
        return states
    before = {r.id: r.status for r in _risks_as_of(session=session, at=since)}
    # (Or back in between and resolved again: dealt with in this sprint, it counts among
    # its resolved; it was left out of every figure; found by review.)
    back = {
        e.subject_id
        for e in queries.risk_status_changes(session=session, after=since)
        if e.at <= at and _status_set(e.action, e.detail) not in (None, "Resolved")
    }
    return [
        r
        for r in states
        if before.get(r.id) != "Resolved" or r.status != "Resolved" or r.id in back
    ]


def _status_set(action: str, detail: dict[str, Any] | None) -> str | None:
    """The status a risk event set (None: it left the status alone); an event written
    before edits kept their `changes` says it as `new`."""
    detail = detail or {}
    changed = detail.get("changes")
    if changed is None:
        new = detail.get("new")
        return new if action == "status" and isinstance(new, str) else None
    return changed["status"][1] if "status" in changed else None


def _risks_as_of(*, session: Session, at: datetime) -> list[RiskState]:
    """Each risk recorded by `at`, as it was then: each field as the first edit after `at`
    found it (an edit keeps every field it changed; one from before that, its status)."""
    risks = queries.risks_at(session=session, at=at)
    was: dict[int, dict[str, Any]] = {}
    for e in queries.risk_status_changes(session=session, after=at):
        detail, fields = e.detail or {}, was.setdefault(e.subject_id, {})
        changes = detail.get("changes")
        for name, (old, _) in (changes or {}).items():
            fields.setdefault(name, old)
        if changes is None and e.action == "status" and isinstance(detail.get("old"), str):
            fields.setdefault("status", detail["old"])
    out = []
    for r in risks:
        edited = was.get(r.id or 0, {})
        then = {f: edited.get(f, getattr(r, f)) for f in RISK_FIELDS}
        out.append(RiskState(id=r.id or 0, code=r.code, **then))
    return out


def _benchmarks(sprint: Sprint, values: dict[str, float]) -> list[Benchmark]:
    out = []
    for m in sprint.metrics:
        value = values.get(m.name)
        state = (
            numbers.metric_state(m, value, tolerance=sprint.alerts.perf_tolerance)
            if value is not None
            else None
        )
        out.append(Benchmark(metric=m, value=value, state=state))
    return out

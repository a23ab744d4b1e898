"""The 9:00 daily report (the seed's "Automated Daily Report") as data, queued once per day."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, NotRequired, TypedDict, TypeVar, cast

from sqlmodel import Session

from jobs import causes, durations, figures, milestones, numbers, review, standups
from jobs.config import Sprint
from jobs.history import SprintOutcome
from jobs.messages import Spec, Template, payload, short
from jobs.milestones import ForecastData, MilestoneData, day_bounds
from jobs.notices import live_key, post
from jobs.review import Goal, LessonItem, ReviewSummary
from storage import queries
from storage.models import Blocker, OutboxStatus, Risk

HOME_KEY = "home:"  # outbox keys of Home tabs published because their user opened them
LATE_AFTER = timedelta(minutes=30)  # a daily report this long after its time says it is late
HOME_REFRESH_DAYS = 7  # the morning report refreshes the Home of who opened it lately
OPEN_RISK = figures.OPEN_RISK
LISTED = 10  # items named per list in a message; the rest are counted and pointed to
CHANGE_KINDS = {"regressed": "regression", "new_failures": "new", "fixed": "fixed"}


class Baseline(TypedDict):
    stated: float | None
    measured: float | None


class ReadinessFigures(TypedDict):
    score: float | None
    previous: float | None
    change: float | None
    target: float
    plan: float | None
    health: str
    health_reason: str
    plan_note: str | None
    baseline: Baseline


class TestFigures(TypedDict):
    """The sprint's test figures by their DESIGN names."""

    passed: int
    known: int
    pass_rate: float | None
    pass_rate_target: float
    failing: int | None
    skipped: int
    target_failing: int
    baseline_failing: int | None  # None before the baseline is taken
    fixed: int
    regressions_introduced: int
    regressions_open: int
    new_failures_open: int
    test_files_passing: int
    test_files: int
    quarantined: NotRequired[int]  # in quarantine now (missing from rows stored before)
    flaky: NotRequired[int]  # flaky now: passed only on a re-run (missing from older rows)


class BlockerRow(TypedDict):
    code: str
    severity: str
    component: str
    description: str
    age: str
    level: int


class RiskRow(TypedDict):
    code: str
    status: str
    impact: str
    probability: str
    owner: str | None
    mitigation: str
    description: str


class BenchmarkRow(TypedDict):
    label: str
    unit: str
    target: float
    better: str
    value: float | None
    state: str | None


class Summary(TypedDict):
    """What every report, /sprint and App Home start with."""

    name: str
    day: int
    shown_day: int  # the day within the sprint (`Figures.shown_day`): a chart's
    days: int
    date: str
    phase: str
    status_line: str | None
    final: bool
    end: str
    readiness: ReadinessFigures
    tests: TestFigures
    blockers: list[BlockerRow]
    blocker_count: int
    risks: list[RiskRow]
    risk_open_count: int
    risk_counts: dict[str, int]  # by status, every status present
    benchmarks: list[BenchmarkRow]
    benchmarks_met: int


class TestChange(TypedDict):
    """A test that changed on a day (storage.queries.changes_between)."""

    id: str
    component: str | None
    kind: str
    now: str


class Yesterday(TypedDict):
    """What changed since the day before's report: yesterday, or (after days without a
    report, a weekend) every day since the last report's day (`since`)."""

    date: str
    since: str
    runs: int
    reports: int
    passed: int
    failed: int
    skipped: int
    flaky: NotRequired[int]  # (a report queued before it was shown has none)
    regressed: list[TestChange]
    regressed_count: int
    new_failures: list[TestChange]
    new_failures_count: int
    fixed: list[TestChange]
    fixed_count: int


class Velocity(TypedDict):
    last: int | None  # tests fixed on the last day CI reported on before today
    last_date: str | None  # that day
    average: float | None
    target: list[int]  # [low, high]: the fixes a day the plan needs (`velocity_target`)


class Participation(TypedDict):
    answered: int
    expected: int
    missing: list[str]


class LastStandups(Participation):
    """The daily report's: of the last day a standup was asked for (None: none yet)."""

    day: str | None
    yesterday: bool


class OnDemand(TypedDict):
    """Set on a report posted by `/sprint report` rather than by the clock."""

    on_demand: NotRequired[bool]


class DailyReport(Summary, OnDemand):
    # In a status channel another team uses too: the team whose report it is.
    team: NotRequired[str | None]
    late: bool
    yesterday: Yesterday
    # One row per sprint day, as bot.charts draws it (jobs.figures.Day.as_dict + "planned").
    burndown: list[dict[str, Any]]
    velocity: Velocity
    standups: LastStandups
    # The commonest causes of the branch's failing tests (jobs.causes); missing from older rows.
    top_causes: NotRequired[list[causes.CauseCount]]
    # Slower tests and the suite's time (jobs.durations); None: no run timed its tests.
    durations: NotRequired[durations.DurationFigures | None]


class GroupScoreRow(TypedDict):
    name: str
    weight: float
    score: float | None
    target: float


class DashboardGroup(GroupScoreRow):
    components: list[GroupScoreRow]


class Completion(TypedDict):
    goals: list[Goal]
    summary: ReviewSummary
    next_phase: list[LessonItem]
    next_phase_count: NotRequired[int]  # every action item (missing from older rows)


class Final(TypedDict):
    """Set on the last week's report: the sprint's completion summary."""

    completion: NotRequired[Completion]


class WeeklyReport(DailyReport, Final):
    week: int
    dashboard: list[DashboardGroup]
    measures: dict[str, float | None]
    milestones: list[MilestoneData]
    forecast: dict[str, ForecastData]  # "readiness", "pass_rate"
    risk_assessment: list[RiskRow]
    risk_assessment_count: int


class ChangeList(TypedDict):
    """Every test of each kind that changed on `date` (ids), or from `since` to it."""

    date: str
    since: NotRequired[str]
    regressed: list[str]
    new_failures: list[str]
    fixed: list[str]
    # One of several messages (`change_parts`): which, of how many, and each kind's total.
    part: NotRequired[int]
    parts: NotRequired[int]
    counts: NotRequired[dict[str, int]]


class BurndownNow(TypedDict):
    failing: int | None
    planned: int | None
    final: int
    fixed: int | None
    remaining: int | None
    regressions_open: int


class SprintStatus(Summary):
    burndown: BurndownNow


class HomeStandups(Participation):
    mine: str  # answered, late, away, missing or "not a participant"
    unknown: NotRequired[bool]  # Slack could not say who takes part (the counts say nothing)


class LastRun(TypedDict):
    run: str
    at: str
    passed: int
    failed: int
    skipped: int
    commit: str | None
    url: str | None
    flaky: NotRequired[int]  # (a Home queued before it was shown has none)


class TeamName(TypedDict):
    id: str
    name: str


# A team's ended sprints as App Home lists them: the newest outcomes (newest first) and
# how many ended (jobs.history's `past` and `past_total`).
PastSprints = tuple[list[SprintOutcome], int]


class AppHome(SprintStatus):
    user: str
    groups: list[GroupScoreRow]
    standups: HomeStandups
    last_run: LastRun | None
    chart_file: str | None  # the newest chart Slack holds
    # The newest chart, while it is still being uploaded (its outbox key, with its team's
    # prefix): the Home is published with it once it is there (bot.outbox).
    chart_key: NotRequired[str | None]
    at: str
    past_sprints: list[SprintOutcome]  # newest first (jobs.history; filled by the caller)
    past_total: NotRequired[int]  # how many sprints ended (past_sprints: the newest of them)
    # The user's other teams, whose Home a button shows instead (one Home tab per person).
    other_teams: NotRequired[list[TeamName]]


DAILY_REPORT: Spec[DailyReport] = Spec(Template.DAILY_REPORT)
WEEKLY_REPORT: Spec[WeeklyReport] = Spec(Template.WEEKLY_REPORT)
CHANGE_LIST: Spec[ChangeList] = Spec(Template.CHANGE_LIST)
# The chart is drawn (bot.charts) from the report it hangs under.
BURNDOWN_CHART: Spec[DailyReport] = Spec(Template.BURNDOWN_CHART)
APP_HOME: Spec[AppHome] = Spec(Template.APP_HOME)

Report = TypeVar("Report", bound=DailyReport)  # a daily or a weekly report


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def _readiness(fig: figures.Figures) -> ReadinessFigures:
    return {
        "score": _r(fig.score),
        "previous": _r(fig.previous),
        "change": _r(fig.change_since_yesterday),
        "target": fig.target,
        "plan": _r(fig.plan),
        "health": str(fig.health),
        "health_reason": fig.health_reason,
        "plan_note": fig.plan_note(),
        "baseline": {"stated": fig.baseline_stated, "measured": _r(fig.baseline_measured)},
    }


def _tests(fig: figures.Figures) -> TestFigures:
    t = fig.tests
    return {
        "passed": t.passing,
        "known": t.known,
        "pass_rate": _r(t.pass_rate),
        "pass_rate_target": fig.sprint.targets.pass_rate,
        "failing": t.failing if t.known else None,
        "skipped": t.skipped,
        "target_failing": t.target_failing,
        # None until the baseline is taken (day 1's first instant): not "0 failing".
        "baseline_failing": t.baseline_failing if t.baseline_known else None,
        "fixed": t.fixed,
        "regressions_introduced": t.regressions_introduced,
        "regressions_open": t.regressions_open,
        "new_failures_open": t.new_failures_open,
        "test_files_passing": t.test_files_passing,
        "test_files": t.test_files,
        "quarantined": t.quarantined,
        "flaky": t.flaky,
    }


def summary(fig: figures.Figures, *, now: datetime) -> Summary:
    """What every report, /sprint and App Home head with: the day, readiness with plan and
    health (and why), the tests against the baseline and the one target, blockers, risks
    and benchmarks — all as `fig` computed them."""
    info = fig.info
    risks = fig.open_risks
    return {
        "name": info.name,
        "day": fig.day,
        "shown_day": fig.shown_day,
        "days": info.days,
        # The day it is shown: once the sprint ended its figures are its final ones, as of
        # its end, but a report asked for later is dated the day it is asked for.
        "date": (
            numbers.local_date(info, now) if fig.phase is figures.Phase.ENDED else fig.today
        ).isoformat(),
        "phase": str(fig.phase),
        "status_line": status_line(fig),
        "final": fig.final_day,
        "end": info.end.isoformat(),
        "readiness": _readiness(fig),
        "tests": _tests(fig),
        # Aged as health ages them: open since their last reopening, as of the figures (an
        # ended sprint's as they were at its end, not older each day it is looked at; found
        # by review).
        "blockers": [
            _blocker_row(b, figures.final_at(info, now) - fig.opened_at(b), fig.level_of(b))
            for b in fig.blockers[:LISTED]
        ],
        "blocker_count": len(fig.blockers),
        "risks": [risk_row(r) for r in risks[:LISTED]],
        "risk_open_count": len(risks),
        "risk_counts": fig.risk_counts(),
        "benchmarks": [
            BenchmarkRow(
                label=b.metric.title,
                unit=b.metric.unit,
                target=b.metric.target,
                better=str(b.metric.better),
                value=b.value,
                state=str(b.state) if b.state is not None else None,
            )
            for b in fig.benchmarks
        ],
        "benchmarks_met": fig.benchmarks_met,
    }


def status_line(fig: figures.Figures) -> str:
    """The day as people read it; before the sprint's first day, that none runs yet."""
    if fig.phase is figures.Phase.BEFORE:
        return f"No sprint running; the next starts on {fig.info.start.isoformat()}"
    return fig.status_line()


def burndown_rows(fig: figures.Figures) -> list[dict[str, Any]]:
    """The burn-down as the chart and the reports draw it: one row per sprint day."""
    return [{**d.as_dict(), "planned": d.plan_failing} for d in fig.days]


def velocity(fig: figures.Figures) -> Velocity:
    """Tests fixed per day (transitions on each local day): on the last day CI reported on,
    and on average over every day from day 2 to yesterday, a day without CI included (the
    target is over every day: averaged over the days with CI alone, two days' fixes in
    one run read as twice the pace; found by review)."""
    days = [d for d in fig.days if d.day > 1 and d.day < fig.day]
    active = [d for d in days if d.active]
    return {
        "last": active[-1].fixed_today if active else None,
        "last_date": active[-1].date.isoformat() if active else None,
        "average": (sum(d.fixed_today for d in days) / len(days) if active else None),
        "target": velocity_target(fig),
    }


def target_text(v: Velocity) -> str:
    """A velocity's target as every surface shows it: "5" or "4-5" (tests a day)."""
    low, high = v["target"]
    return str(low) if low == high else f"{low}-{high}"


def velocity_target(fig: figures.Figures) -> list[int]:
    """The tests a day the sprint must fix, from day 2 to its last, to bring its baseline
    failing down to the target failing (the seed's "18-20" was its own sprint's): that
    figure rounded down and up ([5, 5] where it is whole)."""
    t, days = fig.tests, fig.info.days
    per_day = max(t.baseline_failing - t.target_failing, 0) / max(days - 1, 1)
    return [math.floor(per_day), math.ceil(per_day)]


def daily_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    fig: figures.Figures | None = None,
) -> DailyReport:
    """Everything the seed's daily report lists, for the local day of `now` (`fig`: the
    figures at `now`, when the caller has them already)."""
    info = sprint.sprint
    fig = fig or figures.compute(session=session, sprint=sprint, at=now)
    today = fig.today
    yesterday = today - timedelta(days=1)
    # The days since the last report's day (a Monday's: Friday to Sunday, the sprint's
    # first Monday's too, after a sprint that ended on Friday; every day a workday:
    # yesterday). Reports run on workdays, as standups.
    since = standups.last_workday(sprint, before=today) or yesterday
    # Counted as the figures count them (transitions on each day) where the sprint's days
    # are the whole span; one reaching before the sprint (its first report, after a
    # weekend) counts the tests it names (found by review: "Regressed: 0" above Friday's).
    covered = [x for x in fig.days if since <= x.date <= yesterday] if since >= info.start else []
    y_start, y_end = day_bounds(sprint, since)[0], day_bounds(sprint, yesterday)[1]
    reports = queries.reports_between(session=session, start=y_start, end=y_end, branch=info.branch)
    # The last of those runs, every shard of it counted once (as App Home's "Last CI run").
    last = (
        queries.latest_run(session=session, branch=info.branch, before=y_end) if reports else None
    )
    changes = _day_changes(
        session=session, start=y_start, end=y_end, branch=info.branch, new=_new_failed(fig, since)
    )
    regressed = _changes(changes, "regression")
    new = _changes(changes, "new")
    fixed = _changes(changes, "fixed")
    # The last day standups were asked for (a Monday's: Friday's; day 1's: none).
    standup_day = standups.last_standup_day(sprint, before=today)
    # Among the people that day's digest counted: those in the team now counted Friday's
    # standup among Saturday's joiners, against Friday's digest (found by review).
    counted = (
        standups.counted_on(session=session, day=standup_day) if standup_day is not None else None
    )
    standup_states = (
        standups.participation(
            session=session,
            sprint=sprint,
            day=standup_day,
            participants=participants if counted is None else counted,
        )
        if participants and standup_day is not None
        else {}
    )
    # Strict mypy wants each NotRequired key in some ** item: OnDemand() names on_demand
    # (adding no key; the caller sets it).
    return {
        **summary(fig, now=now),
        **OnDemand(),
        "team": None,  # set where the channel is two teams' (_queue_report)
        "late": now > numbers.local_instant(info, today, sprint.schedule.daily_report) + LATE_AFTER,
        "yesterday": {
            "date": yesterday.isoformat(),
            "since": since.isoformat(),
            "runs": len({r.run for r in reports}),
            "reports": len(reports),
            "passed": last.passed if last else 0,
            "failed": last.failed if last else 0,
            "skipped": last.skipped if last else 0,
            "flaky": last.flaky if last else 0,
            # Counts are the figures' (transitions on that local day); names are listed up
            # to LISTED, the whole lists go in the report's thread.
            "regressed": regressed[:LISTED],
            "regressed_count": sum(x.regressed_today for x in covered)
            if covered
            else len(regressed),
            "new_failures": new[:LISTED],
            "new_failures_count": sum(x.new_failures_today for x in covered)
            if covered
            else len(new),
            "fixed": fixed[:LISTED],
            "fixed_count": sum(x.fixed_today for x in covered) if covered else len(fixed),
        },
        "burndown": burndown_rows(fig),
        "velocity": velocity(fig),
        "standups": {
            **_participation(standup_states),
            "day": standup_day.isoformat() if standup_day is not None else None,
            "yesterday": standup_day == yesterday,
        },
        "top_causes": causes.top_causes(
            session=session, branch=info.branch, categories=sprint.causes, at=fig.at
        ),
        # As the figures, of the runs received by the report's instant (a backfilled
        # report showed a later day's run; found by review).
        "durations": durations.figures(
            session=session,
            sprint=sprint,
            before=figures.taken_until(info, now),
        ),
    }


def _new_failed(fig: figures.Figures, since: date) -> frozenset[int] | None:
    """The tests the figures count as new failures on the sprint's days from `since` to
    yesterday (None: the days reach before the sprint, which has no baseline there)."""
    if since < fig.info.start:
        return None
    return frozenset().union(*(x.new_failed for x in fig.days if since <= x.date < fig.today))


def _day_changes(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    branch: str,
    new: frozenset[int] | None = None,
) -> list[TestChange]:
    """The branch's status changes in [start, end), each of the kind the ingest's reply
    called it (`numbers.change_kind`); `new`: the new failures as the figures count them,
    where a change to failing of a test not among them is no new failure (a test of the
    baseline first seen failing on its day is failing since the baseline)."""
    changes: list[TestChange] = []
    for c in queries.changes_between(session=session, start=start, end=end, branch=branch):
        kind = numbers.change_kind(c["previous"], c["status"], ran=c["ran"])
        if kind == "new" and new is not None and c["test"] not in new:
            kind = "other"
        changes.append({"id": c["id"], "component": c["component"], "kind": kind, "now": c["now"]})
    return changes


def _changes(changes: list[TestChange], kind: str) -> list[TestChange]:
    return [c for c in changes if c["kind"] == kind]


def _mine(
    *, session: Session, user_id: str, day: date, states: dict[str, standups.Participation]
) -> str:
    """A user's own standup state on a day: as counted, or (not a participant) answered."""
    if user_id in states:
        return str(states[user_id])
    row = queries.standup_for(session=session, user_id=user_id, day=day)
    return "answered" if row is not None and not row.skipped else "not a participant"


def _participation(states: dict[str, standups.Participation]) -> Participation:
    return {
        "answered": sum(
            1
            for s in states.values()
            if s in (standups.Participation.ANSWERED, standups.Participation.LATE)
        ),
        "expected": sum(1 for s in states.values() if s is not standups.Participation.AWAY),
        "missing": sorted(u for u, s in states.items() if s is standups.Participation.MISSING),
    }


def risk_row(r: figures.RiskState | Risk, chars: int = 120) -> RiskRow:
    return {
        "code": r.code,
        "status": r.status,
        "impact": r.impact,
        "probability": r.probability,
        "owner": r.owner,
        # (Ending "…" where cut: cut silently, a risk's "…only matters if the team does
        # not" read as the whole, saying the opposite; found by review.)
        "mitigation": short(r.mitigation or "", chars),
        "description": short(r.description, chars),
    }


def _blocker_row(b: Blocker, age: timedelta, level: int) -> BlockerRow:
    return {
        "code": b.code,
        "severity": b.severity,
        "component": b.component,
        "description": short(b.description, 120),
        "age": _age(age),
        "level": level,
    }


def sprint_status(*, fig: figures.Figures, now: datetime) -> SprintStatus:
    """/sprint: day, health and why, readiness against the plan, burn-down, open blockers."""
    t = fig.tests
    today = next((d for d in fig.days if d.day == fig.shown_day), None)
    return {
        **summary(fig, now=now),
        "burndown": {
            "failing": t.failing if t.known else None,
            "planned": today.plan_failing if today is not None else None,
            "final": t.target_failing,
            "fixed": t.fixed if t.known else None,
            "remaining": t.to_go if t.known else None,
            "regressions_open": t.regressions_open,
        },
    }


def home(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    user_id: str,
    participants: list[str] | None,
    fig: figures.Figures | None = None,
    wait_for_chart: bool = False,
) -> AppHome:
    """The App Home dashboard: /sprint's numbers plus the breakdown by group, risks,
    today's standups, the last CI run and the newest burn-down chart Slack holds; with
    `wait_for_chart` (the morning's refreshes), the one still being uploaded once Slack
    has it (`chart_key`). A Home the user asks for goes at once (found by review: it
    waited up to ten minutes for a slow chart)."""
    fig = fig or figures.compute(session=session, sprint=sprint, at=now)
    data = sprint_status(fig=fig, now=now)
    today = fig.today
    asked = standups.expected_on(sprint, today)
    # Once the day's digest ran, among the people it counted, as the day's message and the
    # next report count (one who joined the channel since made Home say "1 of 3" beside the
    # digest's "1 of 2"; found by review).
    counted = standups.counted_on(session=session, day=today) if asked else None
    people = participants if counted is None else counted
    # (None: Slack could not say who the participants are just now; the Home goes all the
    # same, saying so: it was never queued; found by review.)
    unknown = people is None and asked
    states = (
        standups.participation(session=session, sprint=sprint, day=today, participants=people)
        if people and asked
        else {}
    )
    # The sprint's last run as the figures take them in (before its end, once it ended: CI
    # from then on is not the sprint's), every shard of it counted.
    run = queries.latest_run(
        session=session,
        branch=sprint.sprint.branch,
        before=figures.taken_until(sprint.sprint, now),
    )
    chart_file, chart_key = _newest_chart(session=session, sprint=sprint)
    shown: AppHome = {
        **data,
        "user": user_id,
        "other_teams": [],
        "groups": [
            {"name": g.name, "weight": g.weight, "score": g.score, "target": g.target}
            for g in fig.breakdown.groups
        ],
        "standups": {
            **_participation(states),
            # (Who takes part unknown: the user's own answer is still known.)
            "mine": _mine(session=session, user_id=user_id, day=today, states=states)
            if asked
            else "none today",
            "unknown": unknown,
        },
        "last_run": LastRun(
            run=run.run,
            # On the team's clock, as every time its Home shows (UTC gave a run of day 9 in
            # Kolkata day 8's date; found by review).
            at=run.received_at.astimezone(sprint.sprint.tz).isoformat(),
            passed=run.passed,
            failed=run.failed,
            skipped=run.skipped,
            commit=run.commit,
            url=run.url,
            flaky=run.flaky,
        )
        if run is not None
        else None,
        "chart_file": chart_file,
        "chart_key": chart_key if wait_for_chart else None,
        "at": now.astimezone(sprint.sprint.tz).isoformat(),
        "past_sprints": [],
        "past_total": 0,
    }
    return shown


def _newest_chart(*, session: Session, sprint: Sprint) -> tuple[str | None, str | None]:
    """(the file of the sprint's newest burn-down chart Slack holds, the outbox key of a
    newer one still being uploaded). The morning's Home refreshes are queued with the
    morning's chart, before it is uploaded: they showed yesterday's chart beside today's
    numbers (found by review)."""
    # This sprint's: on a sprint's first morning the last one's is no chart of its own.
    since = figures.day_start(sprint.sprint, sprint.sprint.start)
    prefix, suffix = "daily-report:", ":chart"
    # (The newest day's, not the one queued last: a backfilled earlier day's chart was
    # shown under today's figures; found by review.)
    newest = queries.latest_message(
        session=session, key_prefix=prefix, key_suffix=suffix, since=since, by_time=True
    )
    if newest is None or newest.status == OutboxStatus.SENT:
        return (newest.result or {}).get("file") if newest is not None else None, None
    sent = queries.latest_message(
        session=session,
        key_prefix=prefix,
        key_suffix=suffix,
        since=since,
        sent_only=True,
        by_time=True,
    )
    file = (sent.result or {}).get("file") if sent is not None else None
    return file, newest.key if newest.status != OutboxStatus.FAILED else None


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def _queue_report(
    *,
    session: Session,
    sprint: Sprint,
    key: str,
    spec: Spec[Report],
    data: Report,
    now: datetime,
    fig: figures.Figures,
) -> bool:
    """A report to channels.status with its burn-down chart in its thread, and the whole
    lists of yesterday's changes there too when the report names only the first few (as
    `fig`, the figures it was made from, counts them).
    False (nothing queued) when `key` was queued already, e.g. by a concurrent run.
    In a status channel another team uses too, the report names its team and its codes
    carry the team ("platform B-001")."""
    channel = sprint.channels.status
    if sprint.shared(channel):
        data["team"] = sprint.shown_team
        for row in data["blockers"]:
            row["code"] = sprint.shown_code(row["code"], channel)
        for risk in data["risks"]:
            risk["code"] = sprint.shown_code(risk["code"], channel)
        # (A weekly report's risk assessment too: its codes read as another team's; found
        # by review.)
        for risk in cast("dict[str, Any]", data).get("risk_assessment") or []:
            risk["code"] = sprint.shown_code(risk["code"], channel)
    if not post(
        session=session,
        key=key,
        spec=spec,
        data=data,
        now=now,
        channel=sprint.channels.status,
    ):
        return False
    y = data["yesterday"]
    # (The daily report's: the weekly one shows no "yesterday", and its thread carried the
    # same list again; found by review.)
    if spec is DAILY_REPORT and (
        y["regressed_count"] > len(y["regressed"])
        or y["new_failures_count"] > len(y["new_failures"])
        or y["fixed_count"] > len(y["fixed"])
    ):
        full = _full_changes(
            session=session, sprint=sprint, day=y["date"], since=y["since"], fig=fig
        )
        for n, part in enumerate(change_parts(full), 1):
            post(
                session=session,
                key=f"{key}:changes" if n == 1 else f"{key}:changes:{n}",
                spec=CHANGE_LIST,
                data=part,
                now=now,
                parent_key=key,
            )
    # A weekly report's chart is drawn from its daily part; after the end (`/sprint
    # report`) it is the last day's, not "day 11 of 10" (found by review).
    chart: DailyReport = {**cast("DailyReport", data), "day": data["shown_day"]}
    queries.enqueue(
        session=session,
        key=f"{key}:chart",
        method="files.upload_v2",
        payload=payload(BURNDOWN_CHART, chart),
        now=now,
        parent_key=key,
    )
    session.flush()
    return True


CHANGES_PER_MESSAGE = 400  # ids of up to ~200 characters: ~30 sections of a message's 50


def change_parts(full: ChangeList) -> list[ChangeList]:
    """The thread's list of every changed test, in as many messages as it takes: one
    message holds 50 sections, and a day that broke 3,000 tests lost 800 of them."""
    items = [(kind, x) for kind in CHANGE_KINDS for x in full[kind]]  # type: ignore[literal-required]
    if len(items) <= CHANGES_PER_MESSAGE:
        return [full]
    chunks = [items[i : i + CHANGES_PER_MESSAGE] for i in range(0, len(items), CHANGES_PER_MESSAGE)]
    counts = {kind: len(full[kind]) for kind in CHANGE_KINDS}  # type: ignore[literal-required]
    return [
        ChangeList(
            date=full["date"],
            since=full.get("since", full["date"]),
            regressed=[x for kind, x in chunk if kind == "regressed"],
            new_failures=[x for kind, x in chunk if kind == "new_failures"],
            fixed=[x for kind, x in chunk if kind == "fixed"],
            part=n,
            parts=len(chunks),
            counts=counts,
        )
        for n, chunk in enumerate(chunks, 1)
    ]


def _full_changes(
    *, session: Session, sprint: Sprint, day: str, since: str, fig: figures.Figures
) -> ChangeList:
    """Every test of each kind that changed in the days the report covers: its yesterday
    (`day`), from `since` (a Monday's: from Friday), as the report counts them (`fig`)."""
    start = day_bounds(sprint, date.fromisoformat(since))[0]
    end = day_bounds(sprint, date.fromisoformat(day))[1]
    changes = _day_changes(
        session=session,
        start=start,
        end=end,
        branch=sprint.sprint.branch,
        new=_new_failed(fig, date.fromisoformat(since)),
    )
    ids = {k: [c["id"] for c in changes if c["kind"] == v] for k, v in CHANGE_KINDS.items()}
    return {
        "date": day,
        "since": since,
        "regressed": ids["regressed"],
        "new_failures": ids["new_failures"],
        "fixed": ids["fixed"],
    }


def _days_key(*, session: Session, key: str) -> str | None:
    """The outbox key for the day's report `key`: itself while free; None once it is
    queued or posted; a new one where Slack refused it for good (its channel archived or
    missing: `job run` after the fix posts the day's report, not "already posted")."""
    live, queued = live_key(session=session, key=key)
    return None if queued else live


def post_daily_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    on_demand: bool = False,
) -> bool:
    """Queue today's report to channels.status, with its burn-down chart in the thread;
    once per local day (a second run queues nothing). On demand (`/sprint report`) it
    takes the day's slot if it is still free, else posts an extra, timestamped report."""
    posted = _post_daily_report(
        session=session, sprint=sprint, participants=participants, now=now, on_demand=on_demand
    )
    return posted is not None


def _post_daily_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    on_demand: bool,
    posted_at: datetime | None = None,
) -> figures.Figures | None:
    """`post_daily_report`, returning the figures the report was queued with (None: none
    was). `posted_at`: when it goes out, where that is not `now` (a backfill as of a day
    past: it says it is late, as the clock down at its time made it; found by review)."""
    day = numbers.local_date(sprint.sprint, now)
    if not on_demand and figures.phase(sprint.sprint, now) is not figures.Phase.RUNNING:
        return None  # the daily report belongs to the sprint's days
    key = _days_key(session=session, key=f"daily-report:{day.isoformat()}")
    if key is None:
        if not on_demand:
            return None
        key = f"daily-report:{day.isoformat()}:{now.strftime('%H%M%S.%f')}"
    fig = figures.compute(session=session, sprint=sprint, at=now)
    data = daily_report(session=session, sprint=sprint, participants=participants, now=now, fig=fig)
    if on_demand:
        data["late"] = False
        data["on_demand"] = True
    else:
        data["late"] = data["late"] or _posted_late(sprint, day, posted_at)
    queued = _queue_report(
        session=session, sprint=sprint, key=key, spec=DAILY_REPORT, data=data, now=now, fig=fig
    )
    return fig if queued else None


def _posted_late(sprint: Sprint, day: date, posted_at: datetime | None) -> bool:
    """Whether a report of `day` going out at `posted_at` (None: as of when it is) is
    late: a report backfilled as of a day past said nothing of it (found by review)."""
    due = numbers.local_instant(sprint.sprint, day, sprint.schedule.daily_report)
    return posted_at is not None and posted_at > due + LATE_AFTER


def morning_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    past: PastSprints | None = None,
    teams: Mapping[str, str] | None = None,
    posted_at: datetime | None = None,
) -> bool:
    """The 9:00 job: today's report, then this morning's App Home for who opened it lately,
    each Home from the report's figures (computed once: each computation reads the sprint's
    history, SQLite's write lock held meanwhile) and with the team's ended sprints `past`
    (read by the caller before the transaction). `posted_at`: when the report goes out,
    where it is not `now` (`_post_daily_report`)."""
    fig = _post_daily_report(
        session=session,
        sprint=sprint,
        participants=participants,
        now=now,
        on_demand=False,
        posted_at=posted_at,
    )
    posted = fig is not None
    if fig is None:
        if not _asked_for_today(session=session, sprint=sprint, now=now):
            return False
        # The day's report went already, asked for by `/sprint report` before 9:00: the
        # Homes are still this morning's to refresh (they kept yesterday's all day; found
        # by review). Once a day all the same: a refresh's key is the day's.
        fig = figures.compute(session=session, sprint=sprint, at=now)
    refresh_homes(
        session=session,
        sprint=sprint,
        now=now,
        participants=participants,
        fig=fig,
        past=past,
        teams=teams,
    )
    return posted


def _asked_for_today(*, session: Session, sprint: Sprint, now: datetime) -> bool:
    """Whether the day's report took its slot when someone asked for it (`/sprint report`)
    while the sprint runs: the morning's Homes were not refreshed with it."""
    if figures.phase(sprint.sprint, now) is not figures.Phase.RUNNING:
        return False
    day = numbers.local_date(sprint.sprint, now)
    row = queries.outbox_message(session=session, key=f"daily-report:{day.isoformat()}")
    return row is not None and bool((row.payload.get("data") or {}).get("on_demand"))


def weekly_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    fig: figures.Figures | None = None,
) -> WeeklyReport:
    """The seed's weekly report: the full dashboard, each milestone's criteria evaluated,
    the sign-offs so far, the risk assessment and the forecast (`fig`: the figures at
    `now`, where the caller computed them already)."""
    fig = fig or figures.compute(session=session, sprint=sprint, at=now)
    measures = milestones.measure(session=session, sprint=sprint, now=now, fig=fig)
    assessed = figures.urgent_first(r for r in fig.risks if r.status != "Resolved")
    # Final() names the NotRequired completion for strict mypy (adding no key; set below).
    data: WeeklyReport = {
        **daily_report(session=session, sprint=sprint, participants=participants, now=now, fig=fig),
        **Final(),
        "week": (fig.shown_day + 6) // 7,
        "dashboard": [
            {
                "name": g.name,
                "weight": g.weight,
                "score": g.score,
                "target": g.target,
                "components": [
                    {"name": c.name, "weight": c.weight, "score": c.score, "target": c.target}
                    for c in g.components
                ],
            }
            for g in fig.breakdown.groups
        ],
        "measures": measures.values,
        "milestones": [
            milestones.milestone_data(session=session, milestone=m, measures=measures, at=now)
            for m in sorted(sprint.milestones, key=lambda m: m.day)
        ],
        "forecast": milestones.forecasts(fig),
        "risk_assessment": [risk_row(r, chars=200) for r in assessed[:LISTED]],
        "risk_assessment_count": len(assessed),
    }
    if fig.shown_day >= sprint.sprint.days:
        # The last week's report is also the sprint's completion summary.
        final = review.sprint_review(session=session, sprint=sprint, now=now, measures=measures)
        data["completion"] = {
            "goals": final["goals"],
            "summary": final["summary"],
            "next_phase": final["lessons"][str(review.LessonKind.ACTION)][:LISTED],
            "next_phase_count": len(final["lessons"][str(review.LessonKind.ACTION)]),
        }
    return data


def post_weekly_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    posted_at: datetime | None = None,
) -> str:
    """Queue the weekly report on the sprint days `schedule.weekly_report_days` names
    (`posted_at`: as the daily report's)."""
    day = numbers.sprint_day(sprint.sprint, now)
    if figures.phase(sprint.sprint, now) is not figures.Phase.RUNNING:
        return "the sprint is not running"
    if day not in sprint.schedule.weekly_report_days:
        return f"day {day} is not a weekly report day"
    today = numbers.local_date(sprint.sprint, now)
    key = _days_key(session=session, key=f"weekly-report:{today.isoformat()}")
    if key is None:
        return "already posted today"
    fig = figures.compute(session=session, sprint=sprint, at=now)
    data = weekly_report(
        session=session, sprint=sprint, participants=participants, now=now, fig=fig
    )
    data["late"] = data["late"] or _posted_late(sprint, today, posted_at)
    queued = _queue_report(
        session=session, sprint=sprint, key=key, spec=WEEKLY_REPORT, data=data, now=now, fig=fig
    )
    return "posted" if queued else "already posted today"


def publish_home(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    user_id: str,
    participants: list[str] | None,
    key: str,
    data: AppHome | None = None,
    fig: figures.Figures | None = None,
    past: PastSprints | None = None,
    wait_for_chart: bool = False,
    teams: Mapping[str, str] | None = None,
) -> None:
    """Queue the user's App Home dashboard (views.publish); `data` when `home` was computed
    already (in a read session, so that no write lock is held meanwhile), else built from
    `fig` (the figures at `now`) where the caller has them, with the team's ended sprints
    `past` where the caller read them (else as the user's last Home of this sprint had
    them), and buttons to the user's other teams as it had them, of `teams` (id → name:
    the teams there are now, under their names now) where given."""
    if data is None:
        data = home(
            session=session,
            sprint=sprint,
            now=now,
            user_id=user_id,
            participants=participants,
            fig=fig,
            wait_for_chart=wait_for_chart,
        )
        shown = _shown(session=session, user_id=user_id)
        if past is not None:
            data["past_sprints"], data["past_total"] = list(past[0]), past[1]
        elif shown.get("name") == data["name"]:  # (a sprint before this: ended since)
            data["past_sprints"] = list(shown.get("past_sprints") or [])
            if "past_total" in shown:
                data["past_total"] = shown["past_total"]
        # The user's other teams, whichever of this team's sprints the Home showed.
        others = list(shown.get("other_teams") or [])
        if teams is not None:
            others = [{**t, "name": teams[t["id"]]} for t in others if t.get("id") in teams]
        data["other_teams"] = others
    queries.enqueue(
        session=session,
        key=key,
        method="views.publish",
        payload=payload(APP_HOME, data, user_id=user_id),
        now=now,
    )


def _shown(*, session: Session, user_id: str) -> dict[str, Any]:
    """What the user's Home of this team showed when they last opened it, which the
    listener computes knowing the team's sprints and the user's other teams: a refresh
    keeps its buttons to the user's other teams (without them, the user could not go
    back) and, opened in this sprint, its past sprints (an ended sprint's outcome stays as
    it was)."""
    last = queries.latest_message(session=session, key_prefix=f"{HOME_KEY}{user_id}:")
    shown: dict[str, Any] = (last.payload.get("data") or {}) if last is not None else {}
    return shown


def refresh_homes(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    participants: list[str],
    fig: figures.Figures,
    past: PastSprints | None = None,
    teams: Mapping[str, str] | None = None,
) -> int:
    """Re-publish the Home of everyone who opened it in the last week, once a day, so the
    dashboard is this morning's even before they open it again: each from the morning's
    figures (`fig`, as of `now`) and the team's ended sprints (`past`), the user's own
    parts apart; `teams`: the teams there are now (id → name), for its buttons."""
    day = numbers.local_date(sprint.sprint, now).isoformat()
    users = queries.home_users(
        session=session,
        key_prefix=HOME_KEY,
        since=now - timedelta(days=HOME_REFRESH_DAYS),
        until=now,
    )
    for user_id in users:
        publish_home(
            session=session,
            sprint=sprint,
            now=now,
            user_id=user_id,
            participants=participants,
            key=f"home-refresh:{user_id}:{day}",
            fig=fig,
            past=past,
            wait_for_chart=True,
            teams=teams,
        )
    return len(users)

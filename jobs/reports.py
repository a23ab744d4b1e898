"""The 9:00 daily report (the seed's "Automated Daily Report") as data, queued once per day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from jobs import milestones, numbers, review, standups
from jobs.config import Sprint
from jobs.milestones import day_bounds, day_ends
from jobs.notices import Template, post
from jobs.readiness import Status, baseline, current_status
from storage import queries
from storage.models import Blocker, ReadinessSnapshot, Risk

HOME_KEY = "home:"  # outbox keys of Home tabs published because their user opened them
HOME_REFRESH_DAYS = 7  # the morning report refreshes the Home of who opened it lately
OPEN_RISK = ("Critical", "Active")
VELOCITY_TARGET = (18, 20)  # tests fixed per day, the seed's days 2-5 target
LISTED = 10  # tests named per list; the rest are counted


def failing_by_day(*, session: Session, sprint: Sprint, upto: date) -> dict[int, int]:
    """End-of-day failing tests per sprint day, from the last snapshot of each local day."""
    return failing_of(day_ends(session=session, sprint=sprint, upto=upto))


def failing_of(ends: dict[int, ReadinessSnapshot]) -> dict[int, int]:
    """The failing tests each end-of-day snapshot recorded."""
    return {
        day: int(snap.breakdown["tests"]["failing"])
        for day, snap in ends.items()
        if (snap.breakdown or {}).get("tests")
    }


def fixed_per_day(failing: dict[int, int]) -> list[int]:
    """Net tests fixed on each day that follows a recorded day."""
    return [failing[d - 1] - failing[d] for d in sorted(failing) if d - 1 in failing]


def daily_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    status: Status | None = None,
) -> dict[str, Any]:
    """Everything the seed's daily report lists, for the local day of `now` (`status`:
    readiness now, when the caller has it already)."""
    info = sprint.sprint
    today = numbers.local_date(info, now)
    yesterday = today - timedelta(days=1)
    status = status or current_status(session=session, sprint=sprint, now=now)
    y_start, y_end = day_bounds(sprint, yesterday)
    reports = queries.reports_between(session=session, start=y_start, end=y_end, branch=info.branch)
    changes = queries.changes_between(session=session, start=y_start, end=y_end, branch=info.branch)
    # "Change": against readiness when yesterday began, so the report covers a whole day.
    prior = queries.snapshot_before(session=session, at=y_start)
    failing = failing_by_day(session=session, sprint=sprint, upto=today)
    passed, known = status.passed, status.known
    points = burndown_points(sprint, status, failing)
    fixed = fixed_per_day(failing)
    metrics = queries.latest_metric_values(session=session)
    risks = queries.all_risks(session=session)
    blockers = queries.open_blockers(session=session)
    yesterday_states = (
        standups.participation(
            session=session, sprint=sprint, day=yesterday, participants=participants
        )
        if participants
        else {}
    )
    return {
        "name": info.name,
        "day": numbers.sprint_day(info, now),
        "days": info.days,
        "date": today.isoformat(),
        "late": now
        > numbers.local_instant(info, today, sprint.schedule.daily_report) + timedelta(minutes=30),
        "readiness": {
            "score": status.breakdown.score,
            "previous": prior.score if prior else None,
            "target": sprint.targets.readiness,
            "plan": status.plan,
            "health": str(status.health),
            "baseline": baseline(session=session, sprint=sprint, current=status.breakdown.score),
        },
        "tests": {
            "passed": passed,
            "known": known,
            "pass_rate": status.pass_rate,
            "pass_rate_target": sprint.targets.pass_rate,
            "failing": failing.get(status.day),
        },
        "yesterday": {
            "date": yesterday.isoformat(),
            "runs": len({r.run for r in reports}),
            "reports": len(reports),
            "passed": sum(r.passed for r in reports[-1:]),
            "failed": sum(r.failed + r.errors for r in reports[-1:]),
            "skipped": sum(r.skipped for r in reports[-1:]),
            "new_failures": [c for c in changes if c["kind"] in ("regression", "new")][:LISTED],
            "new_failures_count": sum(1 for c in changes if c["kind"] in ("regression", "new")),
            "fixed": [c for c in changes if c["kind"] == "fixed"][:LISTED],
            "fixed_count": sum(1 for c in changes if c["kind"] == "fixed"),
        },
        "burndown": [
            {"day": p.day, "date": p.date.isoformat(), "failing": p.failing, "planned": p.planned}
            for p in points
        ],
        "velocity": {
            "last": fixed[-1] if fixed else None,
            "average": (sum(fixed) / len(fixed) if fixed else None),
            "target": list(VELOCITY_TARGET),
        },
        "risks": [risk_row(r) for r in risks if r.status in OPEN_RISK][:LISTED],
        "risk_counts": {
            s: sum(1 for r in risks if r.status == s)
            for s in ("Critical", "Active", "Mitigated", "Resolved")
        },
        "blockers": [_blocker_row(b, now) for b in blockers[:LISTED]],
        "blocker_count": len(blockers),
        "benchmarks": [
            {
                "label": m.title,
                "unit": m.unit,
                "target": m.target,
                "better": str(m.better),
                "value": metrics.get(m.name),
                "state": str(
                    numbers.metric_state(m, metrics[m.name], tolerance=sprint.alerts.perf_tolerance)
                )
                if m.name in metrics
                else None,
            }
            for m in sprint.metrics
        ],
        "standups": _participation(yesterday_states),
    }


def _participation(states: dict[str, standups.Participation]) -> dict[str, Any]:
    return {
        "answered": sum(
            1
            for s in states.values()
            if s in (standups.Participation.ANSWERED, standups.Participation.LATE)
        ),
        "expected": sum(1 for s in states.values() if s is not standups.Participation.AWAY),
        "missing": sorted(u for u, s in states.items() if s is standups.Participation.MISSING),
    }


def burndown_points(
    sprint: Sprint, status: Status, failing: dict[int, int]
) -> list[numbers.BurnPoint]:
    """Failing tests per day against the plan, for the tests known now (else the file's)."""
    return numbers.burndown(
        sprint,
        failing,
        total=status.known or (sprint.baseline.total_tests or 0),
        baseline_passing=sprint.baseline.passing_tests or status.passed,
    )


def risk_row(r: Risk, chars: int = 120) -> dict[str, Any]:
    return {
        "code": f"R-{r.id or 0:03d}",
        "status": r.status,
        "impact": r.impact,
        "probability": r.probability,
        "owner": r.owner,
        "mitigation": (r.mitigation or "")[:chars],
        "description": r.description[:chars],
    }


def _blocker_row(b: Blocker, now: datetime) -> dict[str, Any]:
    return {
        "code": b.code,
        "severity": b.severity,
        "component": b.component,
        "description": b.description[:120],
        "age": _age(now - b.reported_at),
        "level": b.escalation_level,
    }


def sprint_status(
    *, session: Session, sprint: Sprint, now: datetime, status: Status | None = None
) -> dict[str, Any]:
    """/sprint: day, health, readiness against the plan, burn-down numbers, open blockers."""
    info = sprint.sprint
    today = numbers.local_date(info, now)
    status = status or current_status(session=session, sprint=sprint, now=now)
    failing_now = queries.failing_count(session=session, branch=info.branch)
    failing = failing_by_day(session=session, sprint=sprint, upto=today)
    if status.known and 1 <= status.day <= info.days:
        failing[status.day] = failing_now
    points = burndown_points(sprint, status, failing)
    by_day = {p.day: p for p in points}
    first = min(failing) if failing else None
    blockers = queries.open_blockers(session=session)
    day = min(max(status.day, 1), info.days)
    return {
        "name": info.name,
        "day": status.day,
        "days": info.days,
        "date": today.isoformat(),
        "readiness": {
            "score": status.breakdown.score,
            "plan": status.plan,
            "target": sprint.targets.readiness,
            "health": str(status.health),
        },
        "tests": {
            "passed": status.passed,
            "known": status.known,
            "pass_rate": status.pass_rate,
            "failing": failing_now if status.known else None,
        },
        "burndown": {
            "failing": failing_now if status.known else None,
            "planned": by_day[day].planned if points else None,
            "final": points[-1].planned if points else None,
            "fixed": (failing[first] - failing_now) if first is not None else None,
            "remaining": max(failing_now - points[-1].planned, 0)
            if points and status.known
            else None,
        },
        "blockers": [_blocker_row(b, now) for b in blockers[:LISTED]],
        "blocker_count": len(blockers),
    }


def home(
    *, session: Session, sprint: Sprint, now: datetime, user_id: str, participants: list[str]
) -> dict[str, Any]:
    """The App Home dashboard: /sprint's numbers plus the breakdown by group, risks,
    today's standups, the last CI run and the newest burn-down chart."""
    status = current_status(session=session, sprint=sprint, now=now)
    data = sprint_status(session=session, sprint=sprint, now=now, status=status)
    today = numbers.local_date(sprint.sprint, now)
    states = (
        standups.participation(session=session, sprint=sprint, day=today, participants=participants)
        if participants
        else {}
    )
    mine = queries.standup_for(session=session, user_id=user_id, day=today)
    run = queries.latest_report(session=session, branch=sprint.sprint.branch)
    chart = queries.latest_message(
        session=session, key_prefix="daily-report:", key_suffix=":chart", sent_only=True
    )
    data.update(
        {
            "user": user_id,
            "groups": [
                {"name": g.name, "weight": g.weight, "score": g.score, "target": g.target}
                for g in status.breakdown.groups
            ],
            "risks": [
                risk_row(r) for r in queries.all_risks(session=session) if r.status in OPEN_RISK
            ][:LISTED],
            "standups": {
                **_participation(states),
                "mine": "answered"
                if mine is not None
                else str(states.get(user_id, "not a participant")),
            },
            "last_run": {
                "run": run.run,
                "at": run.received_at.isoformat(),
                "passed": run.passed,
                "failed": run.failed + run.errors,
                "skipped": run.skipped,
                "commit": run.commit,
                "url": run.url,
            }
            if run is not None
            else None,
            "chart_file": (chart.result or {}).get("file") if chart is not None else None,
            "at": now.isoformat(),
        }
    )
    return data


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def _queue_report(
    *,
    session: Session,
    sprint: Sprint,
    key: str,
    template: Template,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """A report to channels.status with its burn-down chart in its thread."""
    post(
        session=session,
        key=key,
        template=template,
        data=data,
        now=now,
        channel=sprint.channels.status,
    )
    queries.enqueue(
        session=session,
        key=f"{key}:chart",
        method="files.upload_v2",
        payload={"template": str(Template.BURNDOWN_CHART), "data": data},
        now=now,
        parent_key=key,
    )
    session.flush()


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
    day = numbers.local_date(sprint.sprint, now)
    key = f"daily-report:{day.isoformat()}"
    if queries.outbox_message(session=session, key=key) is not None:
        if not on_demand:
            return False
        key = f"{key}:{now.strftime('%H%M%S.%f')}"
    data = daily_report(session=session, sprint=sprint, participants=participants, now=now)
    if on_demand:
        data["late"] = False
        data["on_demand"] = True
    _queue_report(
        session=session, sprint=sprint, key=key, template=Template.DAILY_REPORT, data=data, now=now
    )
    return True


def morning_report(
    *, session: Session, sprint: Sprint, participants: list[str], now: datetime
) -> bool:
    """The 9:00 job: today's report, then this morning's App Home for who opened it lately."""
    posted = post_daily_report(session=session, sprint=sprint, participants=participants, now=now)
    if posted:
        refresh_homes(session=session, sprint=sprint, now=now, participants=participants)
    return posted


def weekly_report(
    *, session: Session, sprint: Sprint, participants: list[str], now: datetime
) -> dict[str, Any]:
    """The seed's weekly report: the full dashboard, each milestone's criteria evaluated,
    the sign-offs so far, the risk assessment and the forecast."""
    measures = milestones.measure(session=session, sprint=sprint, now=now)
    data = daily_report(
        session=session,
        sprint=sprint,
        participants=participants,
        now=now,
        status=measures.status,
    )
    bd = measures.status.breakdown
    data["week"] = (data["day"] + 6) // 7
    data["dashboard"] = [
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
        for g in bd.groups
    ]
    data["measures"] = measures.values
    data["milestones"] = [
        milestones.milestone_data(session=session, milestone=m, measures=measures)
        for m in sorted(sprint.milestones, key=lambda m: m.day)
    ]
    data["forecast"] = milestones.forecasts(session=session, sprint=sprint, now=now)
    data["risk_assessment"] = [
        risk_row(r, chars=200) for r in queries.all_risks(session=session) if r.status != "Resolved"
    ][:LISTED]
    if data["day"] >= sprint.sprint.days:
        # The last week's report is also the sprint's completion summary.
        final = review.sprint_review(session=session, sprint=sprint, now=now, measures=measures)
        data["completion"] = {
            "goals": final["goals"],
            "summary": final["summary"],
            "next_phase": final["lessons"][str(review.LessonKind.ACTION)][:LISTED],
        }
    return data


def post_weekly_report(
    *, session: Session, sprint: Sprint, participants: list[str], now: datetime
) -> str:
    """Queue the weekly report on the sprint days `schedule.weekly_report_days` names."""
    day = numbers.sprint_day(sprint.sprint, now)
    if day not in sprint.schedule.weekly_report_days:
        return f"day {day} is not a weekly report day"
    key = f"weekly-report:{numbers.local_date(sprint.sprint, now).isoformat()}"
    if queries.outbox_message(session=session, key=key) is not None:
        return "already posted today"
    data = weekly_report(session=session, sprint=sprint, participants=participants, now=now)
    _queue_report(
        session=session, sprint=sprint, key=key, template=Template.WEEKLY_REPORT, data=data, now=now
    )
    return "posted"


def publish_home(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    user_id: str,
    participants: list[str],
    key: str,
) -> None:
    """Queue the user's App Home dashboard (views.publish)."""
    data = home(session=session, sprint=sprint, now=now, user_id=user_id, participants=participants)
    queries.enqueue(
        session=session,
        key=key,
        method="views.publish",
        payload={"user_id": user_id, "template": str(Template.APP_HOME), "data": data},
        now=now,
    )


def refresh_homes(
    *, session: Session, sprint: Sprint, now: datetime, participants: list[str]
) -> int:
    """Re-publish the Home of everyone who opened it in the last week, once a day, so the
    dashboard is this morning's even before they open it again."""
    day = numbers.local_date(sprint.sprint, now).isoformat()
    users = queries.home_users(
        session=session, key_prefix=HOME_KEY, since=now - timedelta(days=HOME_REFRESH_DAYS)
    )
    for user_id in users:
        publish_home(
            session=session,
            sprint=sprint,
            now=now,
            user_id=user_id,
            participants=participants,
            key=f"home-refresh:{user_id}:{day}",
        )
    return len(users)

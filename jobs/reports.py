"""The 9:00 daily report (the seed's "Automated Daily Report") as data, queued once per day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from jobs import numbers, standups
from jobs.config import Sprint
from jobs.notices import Template, post
from jobs.readiness import baseline, current_status
from storage import queries

VELOCITY_TARGET = (18, 20)  # tests fixed per day, the seed's days 2-5 target
LISTED = 10  # tests named per list; the rest are counted


def _day_bounds(sprint: Sprint, day: date) -> tuple[datetime, datetime]:
    start = numbers.local_instant(sprint.sprint, day, datetime.min.time())
    end = numbers.local_instant(sprint.sprint, day + timedelta(days=1), datetime.min.time())
    return start, end


def failing_by_day(*, session: Session, sprint: Sprint, upto: date) -> dict[int, int]:
    """End-of-day failing tests per sprint day, from the last snapshot of each local day."""
    out: dict[int, int] = {}
    for snap in queries.snapshots_between(
        session=session,
        start=_day_bounds(sprint, sprint.sprint.start)[0],
        end=_day_bounds(sprint, upto)[1],
    ):
        tests = (snap.breakdown or {}).get("tests")
        if tests:
            day = numbers.sprint_day(sprint.sprint, snap.at)
            out[day] = int(tests["failing"])  # later snapshots of a day overwrite earlier
    return out


def daily_report(
    *, session: Session, sprint: Sprint, participants: list[str], now: datetime
) -> dict[str, Any]:
    """Everything the seed's daily report lists, for the local day of `now`."""
    info = sprint.sprint
    today = numbers.local_date(info, now)
    yesterday = today - timedelta(days=1)
    status = current_status(session=session, sprint=sprint, now=now)
    y_start, y_end = _day_bounds(sprint, yesterday)
    reports = queries.reports_between(session=session, start=y_start, end=y_end, branch=info.branch)
    changes = queries.changes_between(session=session, start=y_start, end=y_end, branch=info.branch)
    # "Change": against readiness when yesterday began, so the report covers a whole day.
    prior = queries.snapshot_before(session=session, at=y_start)
    failing = failing_by_day(session=session, sprint=sprint, upto=today)
    passed, known = status.passed, status.known
    points = numbers.burndown(
        sprint,
        failing,
        total=known or (sprint.baseline.total_tests or 0),
        baseline_passing=sprint.baseline.passing_tests or passed,
    )
    fixed_per_day = [failing[d - 1] - failing[d] for d in sorted(failing) if d - 1 in failing]
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
            "last": fixed_per_day[-1] if fixed_per_day else None,
            "average": (sum(fixed_per_day) / len(fixed_per_day) if fixed_per_day else None),
            "target": list(VELOCITY_TARGET),
        },
        "risks": [
            {
                "code": f"R-{r.id or 0:03d}",
                "status": r.status,
                "impact": r.impact,
                "description": r.description[:120],
            }
            for r in risks
            if r.status in ("Critical", "Active")
        ][:LISTED],
        "risk_counts": {
            s: sum(1 for r in risks if r.status == s)
            for s in ("Critical", "Active", "Mitigated", "Resolved")
        },
        "blockers": [
            {
                "code": b.code,
                "severity": b.severity,
                "component": b.component,
                "description": b.description[:120],
                "age": _age(now - b.reported_at),
                "level": b.escalation_level,
            }
            for b in blockers
        ][:LISTED],
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
        "standups": {
            "answered": sum(
                1
                for s in yesterday_states.values()
                if s in (standups.Participation.ANSWERED, standups.Participation.LATE)
            ),
            "expected": sum(
                1 for s in yesterday_states.values() if s is not standups.Participation.AWAY
            ),
            "missing": sorted(
                u for u, s in yesterday_states.items() if s is standups.Participation.MISSING
            ),
        },
    }


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def post_daily_report(
    *, session: Session, sprint: Sprint, participants: list[str], now: datetime
) -> bool:
    """Queue today's report to channels.status, with its burn-down chart in the thread;
    once per local day (a second run queues nothing)."""
    day = numbers.local_date(sprint.sprint, now)
    key = f"daily-report:{day.isoformat()}"
    if queries.outbox_message(session=session, key=key) is not None:
        return False
    data = daily_report(session=session, sprint=sprint, participants=participants, now=now)
    post(
        session=session,
        key=key,
        template=Template.DAILY_REPORT,
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
    return True

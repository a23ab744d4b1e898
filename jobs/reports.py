"""The 9:00 daily report (the seed's "Automated Daily Report") as data, queued once per day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from jobs import figures, milestones, numbers, review, standups
from jobs.config import Sprint
from jobs.milestones import day_bounds
from jobs.notices import Template, post
from storage import queries
from storage.models import Blocker, Risk

HOME_KEY = "home:"  # outbox keys of Home tabs published because their user opened them
HOME_REFRESH_DAYS = 7  # the morning report refreshes the Home of who opened it lately
OPEN_RISK = figures.OPEN_RISK
VELOCITY_TARGET = (18, 20)  # tests fixed per day, the seed's days 2-5 target
LISTED = 10  # items named per list in a message; the rest are counted and pointed to
CHANGE_KINDS = ("regressed", "new_failures", "fixed")


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def summary(fig: figures.Figures, *, now: datetime) -> dict[str, Any]:
    """What every report, /sprint and App Home head with: the day, readiness with plan and
    health (and why), the tests against the baseline and the one target, blockers, risks
    and benchmarks — all as `fig` computed them."""
    info, t = fig.info, fig.tests
    risks = fig.open_risks
    return {
        "name": info.name,
        "day": fig.day,
        "days": info.days,
        "date": fig.today.isoformat(),
        "phase": str(fig.phase),
        "status_line": fig.status_line(),
        "final": fig.final_day,
        "end": info.end.isoformat(),
        "readiness": {
            "score": _r(fig.score),
            "previous": _r(fig.previous),
            "change": _r(fig.change_since_yesterday),
            "target": fig.target,
            "plan": _r(fig.plan),
            "health": str(fig.health),
            "health_reason": fig.health_reason,
            "plan_note": fig.plan_note(),
            "baseline": {"stated": fig.baseline_stated, "measured": _r(fig.baseline_measured)},
        },
        "tests": {
            "passed": t.passing,
            "known": t.known,
            "pass_rate": _r(t.pass_rate),
            "pass_rate_target": fig.sprint.targets.pass_rate,
            "failing": t.failing if t.known else None,
            "skipped": t.skipped,
            "target_failing": t.target_failing,
            "baseline_failing": t.baseline_failing,
            "fixed": t.fixed,
            "regressions_introduced": t.regressions_introduced,
            "regressions_open": t.regressions_open,
            "new_failures_open": t.new_failures_open,
            "test_files_passing": t.test_files_passing,
            "test_files": t.test_files,
        },
        "blockers": [_blocker_row(b, now) for b in fig.blockers[:LISTED]],
        "blocker_count": len(fig.blockers),
        "risks": [risk_row(r) for r in risks[:LISTED]],
        "risk_open_count": len(risks),
        "risk_counts": fig.risk_counts(),
        "benchmarks": [
            {
                "label": b.metric.title,
                "unit": b.metric.unit,
                "target": b.metric.target,
                "better": str(b.metric.better),
                "value": b.value,
                "state": str(b.state) if b.state is not None else None,
            }
            for b in fig.benchmarks
        ],
        "benchmarks_met": fig.benchmarks_met,
    }


def burndown_rows(fig: figures.Figures) -> list[dict[str, Any]]:
    """The burn-down as the chart and the reports draw it: one row per sprint day."""
    return [{**d.as_dict(), "planned": d.plan_failing} for d in fig.days]


def velocity(fig: figures.Figures) -> dict[str, Any]:
    """Tests fixed per day (transitions on each local day) over the days CI reported on,
    from day 2 on and before today."""
    fixed = [d.fixed_today for d in fig.days if d.active and d.day > 1 and d.day < fig.day]
    return {
        "last": fixed[-1] if fixed else None,
        "average": (sum(fixed) / len(fixed) if fixed else None),
        "target": list(VELOCITY_TARGET),
    }


def daily_report(
    *,
    session: Session,
    sprint: Sprint,
    participants: list[str],
    now: datetime,
    fig: figures.Figures | None = None,
) -> dict[str, Any]:
    """Everything the seed's daily report lists, for the local day of `now` (`fig`: the
    figures at `now`, when the caller has them already)."""
    info = sprint.sprint
    fig = fig or figures.compute(session=session, sprint=sprint, at=now)
    today = fig.today
    yesterday = today - timedelta(days=1)
    y_start, y_end = day_bounds(sprint, yesterday)
    reports = queries.reports_between(session=session, start=y_start, end=y_end, branch=info.branch)
    changes = queries.changes_between(session=session, start=y_start, end=y_end, branch=info.branch)
    regressed = [c for c in changes if c["kind"] == "regression"]
    new = [c for c in changes if c["kind"] == "new"]
    fixed = [c for c in changes if c["kind"] == "fixed"]
    y = fig.yesterday
    yesterday_states = (
        standups.participation(
            session=session, sprint=sprint, day=yesterday, participants=participants
        )
        if participants
        else {}
    )
    return {
        **summary(fig, now=now),
        "late": now
        > numbers.local_instant(info, today, sprint.schedule.daily_report) + timedelta(minutes=30),
        "yesterday": {
            "date": yesterday.isoformat(),
            "runs": len({r.run for r in reports}),
            "reports": len(reports),
            "passed": sum(r.passed for r in reports[-1:]),
            "failed": sum(r.failed + r.errors for r in reports[-1:]),
            "skipped": sum(r.skipped for r in reports[-1:]),
            # Counts are the figures' (transitions on that local day); names are listed up
            # to LISTED, the whole lists go in the report's thread.
            "regressed": regressed[:LISTED],
            "regressed_count": y.regressed_today if y is not None else len(regressed),
            "new_failures": new[:LISTED],
            "new_failures_count": len(new),
            "fixed": fixed[:LISTED],
            "fixed_count": y.fixed_today if y is not None else len(fixed),
        },
        "burndown": burndown_rows(fig),
        "velocity": velocity(fig),
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


def risk_row(r: figures.RiskState | Risk, chars: int = 120) -> dict[str, Any]:
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


def sprint_status(*, fig: figures.Figures, now: datetime) -> dict[str, Any]:
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
            "remaining": max(t.failing - t.target_failing, 0) if t.known else None,
            "regressions_open": t.regressions_open,
        },
    }


def home(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    user_id: str,
    participants: list[str],
    fig: figures.Figures | None = None,
) -> dict[str, Any]:
    """The App Home dashboard: /sprint's numbers plus the breakdown by group, risks,
    today's standups, the last CI run and the newest burn-down chart."""
    fig = fig or figures.compute(session=session, sprint=sprint, at=now)
    data = sprint_status(fig=fig, now=now)
    today = fig.today
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
                for g in fig.breakdown.groups
            ],
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
) -> bool:
    """A report to channels.status with its burn-down chart in its thread, and the whole
    lists of yesterday's changes there too when the report names only the first few.
    False (nothing queued) when `key` was queued already, e.g. by a concurrent run."""
    if not post(
        session=session,
        key=key,
        template=template,
        data=data,
        now=now,
        channel=sprint.channels.status,
    ):
        return False
    y = data.get("yesterday") or {}
    if any(y.get(f"{kind}_count", 0) > len(y.get(kind, [])) for kind in CHANGE_KINDS):
        post(
            session=session,
            key=f"{key}:changes",
            template=Template.CHANGE_LIST,
            data={"date": y["date"], **_full_changes(session=session, sprint=sprint, day=y)},
            now=now,
            parent_key=key,
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


def _full_changes(*, session: Session, sprint: Sprint, day: dict[str, Any]) -> dict[str, Any]:
    """Every test of each kind that changed on the report's yesterday."""
    start, end = day_bounds(sprint, date.fromisoformat(day["date"]))
    changes = queries.changes_between(
        session=session, start=start, end=end, branch=sprint.sprint.branch
    )
    kinds = {"regressed": "regression", "new_failures": "new", "fixed": "fixed"}
    return {k: [c["id"] for c in changes if c["kind"] == v] for k, v in kinds.items()}


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
    if not on_demand and figures.phase(sprint.sprint, now) is not figures.Phase.RUNNING:
        return False  # the daily report belongs to the sprint's days
    key = f"daily-report:{day.isoformat()}"
    if queries.outbox_message(session=session, key=key) is not None:
        if not on_demand:
            return False
        key = f"{key}:{now.strftime('%H%M%S.%f')}"
    data = daily_report(session=session, sprint=sprint, participants=participants, now=now)
    if on_demand:
        data["late"] = False
        data["on_demand"] = True
    return _queue_report(
        session=session, sprint=sprint, key=key, template=Template.DAILY_REPORT, data=data, now=now
    )


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
    fig = figures.compute(session=session, sprint=sprint, at=now)
    measures = milestones.measure(session=session, sprint=sprint, now=now, fig=fig)
    data = daily_report(session=session, sprint=sprint, participants=participants, now=now, fig=fig)
    data["week"] = (fig.shown_day + 6) // 7
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
        for g in fig.breakdown.groups
    ]
    data["measures"] = measures.values
    data["milestones"] = [
        milestones.milestone_data(session=session, milestone=m, measures=measures)
        for m in sorted(sprint.milestones, key=lambda m: m.day)
    ]
    data["forecast"] = milestones.forecasts(fig)
    assessed = [r for r in fig.risks if r.status != "Resolved"]
    data["risk_assessment"] = [risk_row(r, chars=200) for r in assessed[:LISTED]]
    data["risk_assessment_count"] = len(assessed)
    if fig.shown_day >= sprint.sprint.days:
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
    if figures.phase(sprint.sprint, now) is not figures.Phase.RUNNING:
        return "the sprint is not running"
    if day not in sprint.schedule.weekly_report_days:
        return f"day {day} is not a weekly report day"
    key = f"weekly-report:{numbers.local_date(sprint.sprint, now).isoformat()}"
    if queries.outbox_message(session=session, key=key) is not None:
        return "already posted today"
    data = weekly_report(session=session, sprint=sprint, participants=participants, now=now)
    queued = _queue_report(
        session=session, sprint=sprint, key=key, template=Template.WEEKLY_REPORT, data=data, now=now
    )
    return "posted" if queued else "already posted today"


def publish_home(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    user_id: str,
    participants: list[str],
    key: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Queue the user's App Home dashboard (views.publish); `data` when `home` was computed
    already (in a read session, so that no write lock is held meanwhile)."""
    if data is None:
        data = home(
            session=session, sprint=sprint, now=now, user_id=user_id, participants=participants
        )
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

"""The clock: APScheduler running each scheduled job under a stable id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.people import participants
from bot.runtime import Runtime
from jobs import blockers, figures, notices, reports, retention, standups
from jobs.config import WEEKDAYS, SprintInfo
from jobs.numbers import local_date, local_instant, sprint_day
from storage import queries

log = logging.getLogger(__name__)

OUTBOX_INTERVAL_SECONDS = 15


@dataclass(frozen=True)
class JobSpec:
    name: str
    schedule: str
    description: str


FOLLOWUP_INTERVAL_SECONDS = 60
RETENTION_AT = time(3, 30)  # local: before the morning's jobs, away from CI's busy hours
ESCALATION_INTERVAL_SECONDS = 300

# Listed explicitly, with the ids `sprintbot job run NAME` accepts.
JOBS = (
    JobSpec(
        "daily-report",
        "schedule.daily_report on workdays",
        "post the daily report to channels.status, burn-down chart in its thread; refresh "
        "the App Home of who opened it this week",
    ),
    JobSpec(
        "weekly-report",
        "schedule.daily_report on schedule.weekly_report_days (workdays or not)",
        "post the weekly report (dashboard, milestones, sign-offs, risks, forecast)",
    ),
    JobSpec(
        "blocker-escalation",
        f"every {ESCALATION_INTERVAL_SECONDS} s",
        "move open blockers up the [[escalation]] path as their times pass",
    ),
    JobSpec(
        "standup-prompt",
        "schedule.standup_prompt on workdays",
        "DM each participant who is not away the button that opens the standup",
    ),
    JobSpec(
        "standup-reminder",
        "schedule.standup_reminder on workdays",
        "DM those who have not answered and are not away",
    ),
    JobSpec(
        "standup-digest",
        "schedule.standup_digest on workdays",
        "update the day's standup message: who answered, who is missing, blockers",
    ),
    JobSpec(
        "alert-followup",
        f"every {FOLLOWUP_INTERVAL_SECONDS} s",
        "re-ping unacknowledged regression/performance alerts and mention the tech lead",
    ),
    JobSpec(
        "outbox",
        f"every {OUTBOX_INTERVAL_SECONDS} s, and at once after anything is queued by `web`",
        "deliver queued Slack messages and e-mails (retrying 429/5xx/network errors)",
    ),
    JobSpec(
        "retention",
        f"daily at {RETENTION_AT:%H:%M}, every day",
        "delete raw history older than [retention] allows, never what the sprint's figures need",
    ),
)


def job_names() -> list[str]:
    return [j.name for j in JOBS]


def run_job(runtime: Runtime, name: str) -> str:
    """Run one job now; return a one-line summary of what it did."""
    if name == "outbox":
        return f"outbox: {runtime.sender.drain()}"
    if name == "retention":
        return prune(runtime)
    if name in daily_jobs(runtime):
        outside = not_running(runtime.sprint.sprint, runtime.now())
        if outside:
            return f"{name}: {outside}; nothing posted"
        return run_daily(runtime, name)
    if name == "alert-followup":
        return f"alert-followup: {alert_followup(runtime)} alerts followed up"
    if name == "blocker-escalation":
        return f"blocker-escalation: {blocker_escalation(runtime)} steps fired"
    raise KeyError(name)


def _daily_report(**kwargs: Any) -> str:
    return "posted" if reports.morning_report(**kwargs) else "already posted today"


def _counted(job: Callable[..., int], what: str) -> Callable[..., str]:
    return lambda **kwargs: f"{int(job(**kwargs))} {what}"


# Each daily job queues its messages in the session it is given and says what it did.
DAILY_WORK: dict[str, Callable[..., str]] = {
    "daily-report": _daily_report,
    "weekly-report": reports.post_weekly_report,
    "standup-prompt": _counted(standups.prompt, "prompts sent"),
    "standup-reminder": _counted(standups.remind, "reminders sent"),
    "standup-digest": _counted(standups.digest, "digest posted"),
}


def run_daily(runtime: Runtime, name: str, *, slot: str | None = None) -> str:
    """Run a daily job in one transaction, then deliver what it queued.

    With `slot`, the (job, slot) claim is part of that transaction: the claim and the
    job's outbox rows commit together, so a crash between them neither loses the day's
    report (nothing was claimed) nor posts it twice (a second run finds the claim). The
    participants are read from Slack before the transaction, never while holding it."""
    people = participants(runtime.client, runtime.sprint)
    with runtime.db.session() as session:
        claim = None
        if slot is not None:
            claim = queries.claim_job_slot(session=session, job=name, slot=slot, now=runtime.now())
            if claim is None:
                log.info("%s for %s already ran; skipping", name, slot)
                return f"{name}: already ran for {slot}"
        result = f"{name}: " + DAILY_WORK[name](
            session=session, sprint=runtime.sprint, participants=people, now=runtime.now()
        )
        if claim is not None:
            claim.result = result
        session.commit()
    runtime.sender.drain()
    return result


def daily_jobs(runtime: Runtime) -> dict[str, time]:
    """The jobs that run once a day, at their local times."""
    sched = runtime.sprint.schedule
    return {
        "daily-report": sched.daily_report,
        "weekly-report": sched.daily_report,
        "standup-prompt": sched.standup_prompt,
        "standup-reminder": sched.standup_reminder,
        "standup-digest": sched.standup_digest,
    }


def scheduled(runtime: Runtime, name: str) -> str:
    """Run a daily job for today's slot exactly once: the (job, local date) claim commits
    with the work, so a second clock, a restart or a catch-up skips it."""
    today = local_date(runtime.sprint.sprint, runtime.now())
    slot = today.isoformat()
    if not runs_on(runtime, name, today):
        return f"{name}: no slot on {slot}"
    result = run_daily(runtime, name, slot=slot)
    log.info("%s", result)
    return result


def catch_up(runtime: Runtime) -> list[str]:
    """On start: run today's daily jobs whose time has passed (the report says it is late);
    earlier days' missed slots are not replayed, only logged."""
    now = runtime.now()
    info = runtime.sprint.sprint
    today = local_date(info, now)
    for line in missed_slots(runtime, today):
        log.warning("%s", line)
    done = []
    for name, at in sorted(daily_jobs(runtime).items(), key=lambda item: item[1]):
        if runs_on(runtime, name, today) and local_instant(info, today, at) <= now:
            done.append(scheduled(runtime, name))
    log.info("clock started; missed slots before %s are not replayed", today)
    return done


def not_running(info: SprintInfo, now: datetime) -> str:
    """Why daily jobs do nothing now ("" while the sprint runs)."""
    current = figures.phase(info, now)
    if current is figures.Phase.BEFORE:
        return f"the sprint starts on {info.start.isoformat()}"
    if current is figures.Phase.ENDED:
        return f"the sprint ended on {info.end.isoformat()}"
    return ""


def runs_on(runtime: Runtime, name: str, day: date) -> bool:
    """Whether a daily job has a slot on a local date: only the sprint's days; the weekly
    report on the sprint days `weekly_report_days` names (workday or not), the others on
    workdays."""
    info = runtime.sprint.sprint
    if not info.start <= day <= info.end:
        return False
    if name == "weekly-report":
        noon = local_instant(info, day, time(12))
        return sprint_day(info, noon) in runtime.sprint.schedule.weekly_report_days
    return WEEKDAYS[day.weekday()] in info.workdays


def missed_slots(runtime: Runtime, today: date) -> list[str]:
    """Per daily job, the slots between its last run and today that it did not run."""
    out = []
    with runtime.db.session() as session:
        last = queries.last_job_slots(session=session)
    for name in daily_jobs(runtime):
        if name not in last:
            continue
        day, missed = date.fromisoformat(last[name]) + timedelta(days=1), []
        while day < today:
            if runs_on(runtime, name, day):
                missed.append(day.isoformat())
            day += timedelta(days=1)
        if missed:
            shown = ", ".join(missed[:7]) + (
                f" and {len(missed) - 7} more" if len(missed) > 7 else ""
            )
            out.append(
                f"{name}: missed {shown} while the clock was down; not replayed "
                f"(backfill with `sprintbot job run {name} --at ISO`)"
            )
    return out


def prune(runtime: Runtime, *, slot: str | None = None) -> str:
    """The retention job, in batches of their own transactions (it is idempotent: a second
    run finds nothing more to delete). With `slot` (the clock's), once per local date."""
    if slot is not None:
        with runtime.db.session() as session:
            claim = queries.claim_job_slot(
                session=session, job="retention", slot=slot, now=runtime.now()
            )
            session.commit()
        if claim is None:
            return f"retention: already ran for {slot}"
    result = "retention: " + retention.run_all(
        db=runtime.db, sprint=runtime.sprint, now=runtime.now()
    )
    log.info("%s", result)
    return result


def scheduled_prune(runtime: Runtime) -> str:
    """The clock's daily retention run: every day, sprint or not, once per local date."""
    return prune(runtime, slot=local_date(runtime.sprint.sprint, runtime.now()).isoformat())


def blocker_escalation(runtime: Runtime) -> int:
    """Fire the escalation steps that are due, then deliver them."""
    with runtime.db.session() as session:
        fired = blockers.escalate_due(session=session, sprint=runtime.sprint, now=runtime.now())
        session.commit()
    if fired:
        runtime.sender.drain()
    return fired


def alert_followup(runtime: Runtime) -> int:
    """Queue follow-ups for overdue alerts, then deliver them."""
    with runtime.db.session() as session:
        count = notices.follow_up(session=session, sprint=runtime.sprint, now=runtime.now())
        session.commit()
    if count:
        runtime.sender.drain()
    return count


def _schedule(scheduler: BlockingScheduler | BackgroundScheduler, runtime: Runtime) -> None:
    workdays = ",".join(runtime.sprint.sprint.workdays)
    for name, at in daily_jobs(runtime).items():
        # The weekly report fires daily and `scheduled` keeps it to its sprint days.
        days = "*" if name == "weekly-report" else workdays
        scheduler.add_job(
            scheduled,
            CronTrigger(
                day_of_week=days, hour=at.hour, minute=at.minute, timezone=runtime.sprint.sprint.tz
            ),
            args=[runtime, name],
            id=name,
            name=name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            replace_existing=True,
        )
    scheduler.add_job(
        scheduled_prune,
        CronTrigger(
            hour=RETENTION_AT.hour, minute=RETENTION_AT.minute, timezone=runtime.sprint.sprint.tz
        ),
        args=[runtime],
        id="retention",
        name="retention",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
        replace_existing=True,
    )
    interval_jobs: list[tuple[str, Callable[[], object], int]] = [
        ("blocker-escalation", lambda: blocker_escalation(runtime), ESCALATION_INTERVAL_SECONDS),
        ("alert-followup", lambda: alert_followup(runtime), FOLLOWUP_INTERVAL_SECONDS),
        ("outbox", runtime.sender.drain, OUTBOX_INTERVAL_SECONDS),
    ]
    for job_id, func, seconds in interval_jobs:
        scheduler.add_job(
            func,
            IntervalTrigger(seconds=seconds),
            id=job_id,
            name=job_id,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )


def start_background(runtime: Runtime) -> BackgroundScheduler:
    """The clock in a background thread (for `sprintbot run`)."""
    scheduler = BackgroundScheduler(timezone=runtime.sprint.sprint.tz)
    _schedule(scheduler, runtime)
    scheduler.start()
    scheduler.add_job(catch_up, args=[runtime], id="catch-up", name="catch-up")
    return scheduler


def run_forever(runtime: Runtime) -> None:
    """The clock in the foreground (for `sprintbot clock`)."""
    scheduler = BlockingScheduler(timezone=runtime.sprint.sprint.tz)
    _schedule(scheduler, runtime)
    log.info(
        "clock started in %s with jobs: %s", runtime.sprint.sprint.timezone, ", ".join(job_names())
    )
    # A job with no trigger runs once, at once: today's slots missed while down.
    scheduler.add_job(catch_up, args=[runtime], id="catch-up", name="catch-up")
    scheduler.start()

"""The clock: APScheduler running each scheduled job of one table (`JOBS`) under a stable id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.people import participants
from bot.runtime import Runtime
from jobs import blockers, figures, notices, reports, retention, standups
from jobs.config import WEEKDAYS, Sprint, SprintInfo
from jobs.numbers import local_date, local_instant, sprint_day
from storage import queries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AtSetting:
    """Daily at a time of the sprint file's [schedule], on workdays, or with `days` on the
    sprint days that [schedule] list names (workday or not)."""

    setting: str  # a time of [schedule], e.g. "daily_report"
    days: str | None = None  # a list of sprint days in [schedule], e.g. "weekly_report_days"

    def at(self, sprint: Sprint) -> time:
        at = getattr(sprint.schedule, self.setting)
        if not isinstance(at, time):  # a mistake in the table, not in a sprint file
            raise TypeError(f"schedule.{self.setting} is not a time of day")
        return at

    def describe(self) -> str:
        if self.days is None:
            return f"schedule.{self.setting} on workdays"
        return f"schedule.{self.setting} on schedule.{self.days} (workdays or not)"


@dataclass(frozen=True)
class AtLocal:
    """Daily at a fixed time of the sprint's zone, every day, sprint or not."""

    at: time

    def describe(self) -> str:
        return f"daily at {self.at:%H:%M}, every day"


@dataclass(frozen=True)
class Every:
    """Every `seconds`, from the clock's start; `also` says what else runs it."""

    seconds: int
    also: str = ""

    def describe(self) -> str:
        return f"every {self.seconds} s" + (f", and {self.also}" if self.also else "")


Trigger = AtSetting | AtLocal | Every

# A job's work: (runtime, its own name, the clock's slot or None for `job run`) → the
# one-line summary. The name is passed in so that it is written once, in the table.
Run = Callable[[Runtime, str, str | None], str]


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: Trigger
    run: Run
    description: str

    @property
    def schedule(self) -> str:
        """When it runs, in words (`sprintbot job list`, the README's table)."""
        return self.trigger.describe()

    @property
    def slotted(self) -> bool:
        """Whether the clock runs it once per local date, claiming the (job, date) slot."""
        return not isinstance(self.trigger, Every)


# Each daily job's work queues its messages in the session it is given and says what it did.
Work = Callable[..., str]


def _daily_report(**kwargs: Any) -> str:
    return "posted" if reports.morning_report(**kwargs) else "already posted today"


def _counted(job: Callable[..., int], what: str) -> Work:
    return lambda **kwargs: f"{int(job(**kwargs))} {what}"


def daily(work: Work) -> Run:
    """A daily job's run: by hand only while the sprint runs; by the clock in its slot."""

    def run(runtime: Runtime, name: str, slot: str | None) -> str:
        if slot is None:
            outside = not_running(runtime.sprint.sprint, runtime.now())
            if outside:
                return f"{name}: {outside}; nothing posted"
        return run_daily(runtime, name, work, slot=slot)

    return run


# An interval job's step: queues its messages in the session it is given, says how many.
Step = Callable[..., int]


def interval(step: Step, what: str) -> Run:
    """An interval job's run: `step` in one transaction, then deliver what it queued."""

    def run(runtime: Runtime, name: str, _slot: str | None) -> str:
        with runtime.db.session() as session:
            count = step(session=session, sprint=runtime.sprint, now=runtime.now())
            session.commit()
        if count:
            runtime.sender.drain()
        return f"{name}: {count} {what}"

    return run


def _deliver(runtime: Runtime, name: str, _slot: str | None) -> str:
    return f"{name}: {runtime.sender.drain()}"


OUTBOX_INTERVAL_SECONDS = 15
FOLLOWUP_INTERVAL_SECONDS = 60
ESCALATION_INTERVAL_SECONDS = 300
RETENTION_AT = time(3, 30)  # local: before the morning's jobs, away from CI's busy hours

# Every job, in the order `job list` and the README show them, with the ids `sprintbot job
# run NAME` accepts.
JOBS = (
    JobSpec(
        "daily-report",
        AtSetting("daily_report"),
        daily(_daily_report),
        "post the daily report to channels.status, burn-down chart in its thread; refresh "
        "the App Home of who opened it this week",
    ),
    JobSpec(
        "weekly-report",
        AtSetting("daily_report", days="weekly_report_days"),
        daily(reports.post_weekly_report),
        "post the weekly report (dashboard, milestones, sign-offs, risks, forecast)",
    ),
    JobSpec(
        "blocker-escalation",
        Every(ESCALATION_INTERVAL_SECONDS),
        interval(blockers.escalate_due, "steps fired"),
        "move open blockers up the [[escalation]] path as their times pass",
    ),
    JobSpec(
        "standup-prompt",
        AtSetting("standup_prompt"),
        daily(_counted(standups.prompt, "prompts sent")),
        "DM each participant who is not away the button that opens the standup",
    ),
    JobSpec(
        "standup-reminder",
        AtSetting("standup_reminder"),
        daily(_counted(standups.remind, "reminders sent")),
        "DM those who have not answered and are not away",
    ),
    JobSpec(
        "standup-digest",
        AtSetting("standup_digest"),
        daily(_counted(standups.digest, "digest posted")),
        "update the day's standup message: who answered, who is missing, blockers",
    ),
    JobSpec(
        "alert-followup",
        Every(FOLLOWUP_INTERVAL_SECONDS),
        interval(notices.follow_up, "alerts followed up"),
        "re-ping unacknowledged regression/performance alerts and mention the tech lead",
    ),
    JobSpec(
        "outbox",
        Every(OUTBOX_INTERVAL_SECONDS, also="at once after anything is queued by `web`"),
        _deliver,
        "deliver queued Slack messages and e-mails (retrying 429/5xx/network errors)",
    ),
    JobSpec(
        "retention",
        AtLocal(RETENTION_AT),
        lambda runtime, name, slot: prune(runtime, name=name, slot=slot),
        "delete raw history older than [retention] allows, never what the sprint's figures need",
    ),
)
BY_NAME = {j.name: j for j in JOBS}


def job_names() -> list[str]:
    return [j.name for j in JOBS]


def readme_table() -> str:
    """The README's table of jobs (tests/bot/test_clock.py keeps the README's copy equal)."""
    rows = [f"| `{j.name}` | {j.schedule} | {j.description} |" for j in JOBS]
    return "\n".join(["| Job | When | What it does |", "|---|---|---|", *rows])


def run_job(runtime: Runtime, name: str) -> str:
    """Run one job now; return a one-line summary of what it did."""
    return BY_NAME[name].run(runtime, name, None)


def run_daily(runtime: Runtime, name: str, work: Work, *, slot: str | None = None) -> str:
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
        result = f"{name}: " + work(
            session=session, sprint=runtime.sprint, participants=people, now=runtime.now()
        )
        if claim is not None:
            claim.result = result
        session.commit()
    runtime.sender.drain()
    return result


def daily_jobs(runtime: Runtime) -> dict[str, time]:
    """The jobs that run at a [schedule] time, at their local times."""
    return {j.name: j.trigger.at(runtime.sprint) for j in JOBS if isinstance(j.trigger, AtSetting)}


def scheduled(runtime: Runtime, name: str) -> str:
    """Run a slotted job for today's slot exactly once: the (job, local date) claim commits
    with the work, so a second clock, a restart or a catch-up skips it."""
    today = local_date(runtime.sprint.sprint, runtime.now())
    slot = today.isoformat()
    if not runs_on(runtime, name, today):
        return f"{name}: no slot on {slot}"
    result = BY_NAME[name].run(runtime, name, slot)
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
    """Whether a slotted job has a slot on a local date: one at a fixed time every day; one
    at a [schedule] time only on the sprint's days — on those its `days` list names
    (workday or not), else on workdays."""
    trigger = BY_NAME[name].trigger
    if not isinstance(trigger, AtSetting):
        return isinstance(trigger, AtLocal)
    info = runtime.sprint.sprint
    if not info.start <= day <= info.end:
        return False
    if trigger.days is not None:
        noon = local_instant(info, day, time(12))
        return sprint_day(info, noon) in getattr(runtime.sprint.schedule, trigger.days)
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


def prune(runtime: Runtime, *, name: str, slot: str | None = None) -> str:
    """The retention job, in batches of their own transactions (it is idempotent: a second
    run finds nothing more to delete). With `slot` (the clock's), once per local date."""
    if slot is not None:
        with runtime.db.session() as session:
            claim = queries.claim_job_slot(session=session, job=name, slot=slot, now=runtime.now())
            session.commit()
        if claim is None:
            return f"{name}: already ran for {slot}"
    result = f"{name}: " + retention.run_all(
        db=runtime.db, sprint=runtime.sprint, now=runtime.now()
    )
    if slot is None:  # the clock's run is logged by `scheduled`
        log.info("%s", result)
    return result


def scheduled_prune(runtime: Runtime) -> str:
    """The clock's daily retention run: every day, sprint or not, once per local date."""
    [name] = (j.name for j in JOBS if isinstance(j.trigger, AtLocal))
    return scheduled(runtime, name)


def aps_trigger(trigger: Trigger, sprint: Sprint) -> BaseTrigger:
    """The APScheduler trigger of a job's schedule, in the sprint's zone."""
    tz = sprint.sprint.tz
    if isinstance(trigger, Every):
        return IntervalTrigger(seconds=trigger.seconds)
    if isinstance(trigger, AtLocal):
        return CronTrigger(hour=trigger.at.hour, minute=trigger.at.minute, timezone=tz)
    at = trigger.at(sprint)
    # A job with its own list of sprint days fires daily and `scheduled` keeps it to them.
    days = "*" if trigger.days is not None else ",".join(sprint.sprint.workdays)
    return CronTrigger(day_of_week=days, hour=at.hour, minute=at.minute, timezone=tz)


def _schedule(scheduler: BlockingScheduler | BackgroundScheduler, runtime: Runtime) -> None:
    for spec in JOBS:
        if spec.slotted:
            func: Callable[..., str] = scheduled
            args: list[object] = [runtime, spec.name]
            # A slot claimed once per date may run late (a busy or paused process).
            extra: dict[str, Any] = {"misfire_grace_time": 3600}
        else:
            func, args, extra = spec.run, [runtime, spec.name, None], {}
        scheduler.add_job(
            func,
            aps_trigger(spec.trigger, runtime.sprint),
            args=args,
            id=spec.name,
            name=spec.name,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            **extra,
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

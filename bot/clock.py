"""The clock: APScheduler running each scheduled job under a stable id."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import Runtime
from jobs import notices

log = logging.getLogger(__name__)

OUTBOX_INTERVAL_SECONDS = 15


@dataclass(frozen=True)
class JobSpec:
    name: str
    schedule: str
    description: str


FOLLOWUP_INTERVAL_SECONDS = 60

# Listed explicitly, with the ids `sprintbot job run NAME` accepts.
JOBS = (
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
)


def job_names() -> list[str]:
    return [j.name for j in JOBS]


def run_job(runtime: Runtime, name: str) -> str:
    """Run one job now; return a one-line summary of what it did."""
    if name == "outbox":
        return f"outbox: {runtime.sender.drain()}"
    if name == "alert-followup":
        return f"alert-followup: {alert_followup(runtime)} alerts followed up"
    raise KeyError(name)


def alert_followup(runtime: Runtime) -> int:
    """Queue follow-ups for overdue alerts, then deliver them."""
    with runtime.db.session() as session:
        count = notices.follow_up(session=session, sprint=runtime.sprint, now=runtime.now())
        session.commit()
    if count:
        runtime.sender.drain()
    return count


def _schedule(scheduler: BlockingScheduler | BackgroundScheduler, runtime: Runtime) -> None:
    scheduler.add_job(
        alert_followup,
        IntervalTrigger(seconds=FOLLOWUP_INTERVAL_SECONDS),
        args=[runtime],
        id="alert-followup",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
    scheduler.add_job(
        runtime.sender.drain,
        IntervalTrigger(seconds=OUTBOX_INTERVAL_SECONDS),
        id="outbox",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )


def start_background(runtime: Runtime) -> BackgroundScheduler:
    """The clock in a background thread (for `sprintbot run`)."""
    scheduler = BackgroundScheduler(timezone=runtime.sprint.sprint.tz)
    _schedule(scheduler, runtime)
    scheduler.start()
    return scheduler


def run_forever(runtime: Runtime) -> None:
    """The clock in the foreground (for `sprintbot clock`)."""
    scheduler = BlockingScheduler(timezone=runtime.sprint.sprint.tz)
    _schedule(scheduler, runtime)
    log.info(
        "clock started in %s with jobs: %s", runtime.sprint.sprint.timezone, ", ".join(job_names())
    )
    scheduler.start()

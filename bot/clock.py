"""The clock: APScheduler running each scheduled job under a stable id."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import Runtime

log = logging.getLogger(__name__)

OUTBOX_INTERVAL_SECONDS = 15


@dataclass(frozen=True)
class JobSpec:
    name: str
    schedule: str
    description: str


# Listed explicitly, with the ids `sprintbot job run NAME` accepts.
JOBS = (
    JobSpec(
        "outbox",
        f"every {OUTBOX_INTERVAL_SECONDS} s, and at once after anything is queued by `web`",
        "deliver queued Slack messages (retrying 429/5xx/network errors)",
    ),
)


def job_names() -> list[str]:
    return [j.name for j in JOBS]


def run_job(runtime: Runtime, name: str) -> str:
    """Run one job now; return a one-line summary of what it did."""
    if name == "outbox":
        return f"outbox: {runtime.sender.drain()}"
    raise KeyError(name)


def _schedule(scheduler: BlockingScheduler | BackgroundScheduler, runtime: Runtime) -> None:
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

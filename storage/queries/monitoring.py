"""What /metrics and /healthz read at each request: the outbox's depth and age, each job's
last run and the clock's heartbeat, the same for every process that shares the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.models import JobRun, OutboxMessage, OutboxStatus, Team

from ._common import insert_unless_taken

# The clock's heartbeat is a job_run row of its own: a (job, slot) no scheduled job uses,
# whose `started_at` each tick moves on (no table or migration of its own).
HEARTBEAT_JOB = "clock"
HEARTBEAT_SLOT = "heartbeat"
UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def record_heartbeat(*, session: Session, now: datetime) -> None:
    """Record that the clock ticked at `now` (one row per team scope, updated in place)."""
    moved = session.execute(
        update(JobRun)
        .where(col(JobRun.job) == HEARTBEAT_JOB, col(JobRun.slot) == HEARTBEAT_SLOT)
        .values(started_at=now)
    )
    if getattr(moved, "rowcount", 0) == 0:
        row = JobRun(job=HEARTBEAT_JOB, slot=HEARTBEAT_SLOT, started_at=now, result="tick")
        if not insert_unless_taken(session, row):  # another clock inserted it meanwhile
            session.execute(
                update(JobRun)
                .where(col(JobRun.job) == HEARTBEAT_JOB, col(JobRun.slot) == HEARTBEAT_SLOT)
                .values(started_at=now)
            )


def last_heartbeat(*, session: Session) -> datetime | None:
    """When a clock last ticked (any clock of the database); None before the first tick."""
    found: datetime | None = session.exec(
        select(func.max(JobRun.started_at)).where(
            JobRun.job == HEARTBEAT_JOB, JobRun.slot == HEARTBEAT_SLOT
        )
    ).one()
    return found


def last_job_runs(*, session: Session) -> list[tuple[str, str, datetime]]:
    """Each (team id, job) with the start of its newest claimed slot: a slot's claim commits
    with the job's work, so a claim is a run that succeeded."""
    rows = session.exec(
        select(Team.slug, Team.id, JobRun.job, func.max(JobRun.started_at))
        .join(Team, col(Team.id) == col(JobRun.team_id))
        .where(JobRun.job != HEARTBEAT_JOB)
        .group_by(col(Team.slug), col(Team.id), col(JobRun.job))
    ).all()
    return [(slug or str(team_id), job, at) for slug, team_id, job, at in rows if at is not None]


def outbox_counts(*, session: Session) -> dict[str, int]:
    """How many outbox rows are in each state (every state present, 0 when none)."""
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    ).all()
    counts = {state.value: 0 for state in OutboxStatus}
    counts.update({str(status): int(n) for status, n in rows})
    return counts


def oldest_undelivered(*, session: Session) -> datetime | None:
    """When the oldest message not yet delivered (pending or being sent) was queued."""
    found: datetime | None = session.exec(
        select(func.min(OutboxMessage.created_at)).where(col(OutboxMessage.status).in_(UNDELIVERED))
    ).one()
    return found

"""Job slots: which scheduled run has claimed which day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import JobRun

from ._common import insert_unless_taken


def last_job_slots(*, session: Session) -> dict[str, str]:
    """Each job's newest slot claimed (slots are ISO dates, so the greatest is the newest)."""
    rows = session.exec(select(JobRun.job, func.max(JobRun.slot)).group_by(col(JobRun.job)))
    return {job: slot for job, slot in rows.all() if slot}


def job_slot_taken(*, session: Session, job: str, slot: str) -> bool:
    """Whether (job, slot) was claimed (a read: `claim_job_slot` decides under its lock)."""
    found = session.exec(select(JobRun.id).where(JobRun.job == job, JobRun.slot == slot))
    return found.first() is not None


def claim_job_slot(*, session: Session, job: str, slot: str, now: datetime) -> JobRun | None:
    """Claim (job, slot); None when another run already has it (on PostgreSQL a concurrent
    claimer waits for the first to commit, then gets None)."""
    if job_slot_taken(session=session, job=job, slot=slot):
        return None
    row = JobRun(job=job, slot=slot, started_at=now)
    return row if insert_unless_taken(session, row) else None


def job_slot_started(*, session: Session, job: str, slot: str) -> datetime | None:
    """When the run that claimed (job, slot) started; None while it is not taken."""
    found = session.exec(select(JobRun.started_at).where(JobRun.job == job, JobRun.slot == slot))
    return found.first()


def release_job_slot(*, session: Session, job: str, slot: str) -> None:
    """Give (job, slot) back: its run failed, and the clock's next look runs it again."""
    for row in session.exec(select(JobRun).where(JobRun.job == job, JobRun.slot == slot)):
        session.delete(row)
    session.flush()

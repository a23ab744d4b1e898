"""Retention's queries: delete raw history older than a horizon, one batch at a time.

Each function deletes (or shrinks) at most `limit` rows and returns how many it touched, so
the caller commits batch by batch and calls again until it gets 0. None of them touches
known_test: a test's latest status and when it was first seen stay, which is what lets the
figures fold the deleted changes into each test's state (jobs/figures.py, `_events`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    cast,
    delete,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from storage.models import (
    MetricSample,
    OutboxMessage,
    OutboxStatus,
    ReadinessSnapshot,
    Standup,
    Team,
    TestReport,
    TestResult,
)
from storage.scope import ALL_SPRINTS, LEGACY, key_prefix

# The reply's lists name the tests a report changed; older than the horizon, the counts stay.
REPLY_LISTS = ("regressions", "fixed", "new_failures", "flaky", "newly_skipped")
# The tables whose old rows are deleted outright, a batch at a time.
_Batched = TestResult | ReadinessSnapshot | MetricSample | Standup


def _ids(session: Session, query: Any) -> list[int]:
    return [int(i) for i in session.execute(query).scalars().all()]


def _set(
    session: Session, table: type[TestReport | OutboxMessage], ids: list[int], **values: Any
) -> int:
    """Set `values` on the rows of `table` with these ids; how many."""
    if ids:
        session.execute(
            update(table)
            .where(col(table.id).in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def _delete_first(
    session: Session, table: type[_Batched], *where: ColumnElement[bool], limit: int
) -> int:
    """Delete up to `limit` rows of `table` that match `where`, lowest ids first (the
    oldest), of every sprint of the session's team (the job runs as the sprint served now;
    the ended ones' figures are kept, `jobs.history.freeze`); returns how many."""
    query = select(col(table.id)).where(*where).order_by(col(table.id)).limit(limit)
    ids = _ids(session, query.execution_options(**{ALL_SPRINTS: True}))
    if ids:
        gone = delete(table).where(col(table.id).in_(ids))
        session.execute(gone.execution_options(**{ALL_SPRINTS: True}))
    return len(ids)


def delete_results(*, session: Session, before: datetime, limit: int) -> int:
    """Delete up to `limit` status changes recorded by reports received before `before`."""
    old_reports = select(col(TestReport.id)).where(col(TestReport.received_at) < before)
    return _delete_first(
        session, TestResult, col(TestResult.report_id).in_(old_reports), limit=limit
    )


def drop_statuses(*, session: Session, before: datetime, limit: int) -> int:
    """Drop the packed statuses of up to `limit` reports received before `before`."""
    ids = _ids(
        session,
        select(col(TestReport.id))
        .where(col(TestReport.received_at) < before, col(TestReport.statuses).is_not(None))
        .order_by(col(TestReport.id))
        .limit(limit),
    )
    return _set(session, TestReport, ids, statuses=None, durations=None)


def shrink_reports(*, session: Session, before: datetime, limit: int) -> int:
    """Shrink up to `limit` reports received before `before` and not shrunk yet: their
    reply's lists of tests emptied (the counts stay) and marked `"pruned": true`. Returns
    how many. No report row is ever deleted, however old: it is the record that its run's
    document was received (the same document posted again is a replay, answered with this
    reply: `report_by_digest`), the report a test's last change or an alert names, and
    the branch's version while it is its newest (on SQLite a deleted one's id would be
    taken again by the next report)."""
    pruned = col(TestReport.reply)["pruned"].as_boolean()
    rows = session.execute(
        select(col(TestReport.id), col(TestReport.reply))
        .where(col(TestReport.received_at) < before, or_(pruned.is_(None), not_(pruned)))
        .order_by(col(TestReport.id))
        .limit(limit)
    ).all()
    for report_id, reply in rows:
        lists: dict[str, list[Any]] = {k: [] for k in REPLY_LISTS if k in (reply or {})}
        session.execute(
            update(TestReport)
            .where(col(TestReport.id) == report_id)
            .values(reply={**(reply or {}), **lists, "pruned": True})
            .execution_options(synchronize_session=False)
        )
    return len(rows)


def delete_snapshots(*, session: Session, before: datetime, limit: int) -> int:
    """Delete up to `limit` readiness snapshots taken before `before`, never a sprint's
    newest."""
    newest = select(func.max(col(ReadinessSnapshot.id))).group_by(col(ReadinessSnapshot.sprint_id))
    return _delete_first(
        session,
        ReadinessSnapshot,
        col(ReadinessSnapshot.at) < before,
        col(ReadinessSnapshot.id).not_in(newest),
        limit=limit,
    )


def delete_metric_samples(*, session: Session, before: datetime, limit: int) -> int:
    """Delete up to `limit` benchmark samples received before `before`, except each
    metric's latest of them (by measurement time, then arrival: the value it had then) and
    its first sample ever (the tracker's trends start from it)."""
    newer = aliased(MetricSample, name="newer")
    older = aliased(MetricSample, name="older")
    superseded = exists().where(
        col(newer.name) == col(MetricSample.name),
        col(newer.received_at) < before,
        or_(
            col(newer.at) > col(MetricSample.at),
            and_(col(newer.at) == col(MetricSample.at), col(newer.id) > col(MetricSample.id)),
        ),
    )
    not_first = exists().where(
        col(older.name) == col(MetricSample.name),
        or_(
            col(older.at) < col(MetricSample.at),
            and_(col(older.at) == col(MetricSample.at), col(older.id) < col(MetricSample.id)),
        ),
    )
    return _delete_first(
        session,
        MetricSample,
        col(MetricSample.received_at) < before,
        superseded,
        not_first,
        limit=limit,
    )


def delete_standups(*, session: Session, before: date, limit: int) -> int:
    """Delete up to `limit` standup rows of local dates before `before`. (Days away stay:
    they are a person's, in each of their teams, which prune as their own files say.)"""
    return _delete_first(session, Standup, col(Standup.day) < before, limit=limit)


def empty_outbox(
    *, session: Session, before: datetime, limit: int, keep: Sequence[str] = ()
) -> int:
    """Empty the payloads of up to `limit` of the session's team's outbox messages queued
    before `before` and delivered or refused for good, oldest first; returns how many. The
    rows stay with their key (so the key is never delivered again), status and result (a
    reply in a thread, an update or a follow-up still finds the message it belongs to).
    Messages whose key starts with one of `keep` (after the team's prefix) keep theirs:
    what is read back later; so do messages without a lane (sent before migration 0003
    gave lanes), whose replies and updates find their channel's lane in the payload."""
    prefix = key_prefix(session)
    key = col(OutboxMessage.key)
    if prefix:
        mine: ColumnElement[bool] = key.startswith(prefix, autoescape=True)
    else:  # the first team's keys have no prefix: every key but the other teams'
        others = session.execute(
            select(col(Team.id)).where(col(Team.id) != LEGACY.team_id)
        ).scalars()
        mine = not_(or_(false(), *(key.startswith(f"t{i}:", autoescape=True) for i in others)))
    ids = _ids(
        session,
        select(col(OutboxMessage.id))
        .where(
            mine,
            col(OutboxMessage.created_at) < before,
            col(OutboxMessage.status).in_(
                [OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.WITHDRAWN]
            ),
            col(OutboxMessage.lane).is_not(None),
            cast(col(OutboxMessage.payload), Text) != "{}",
            *(not_(key.startswith(prefix + k, autoescape=True)) for k in keep),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit),
    )
    return _set(session, OutboxMessage, ids, payload={})

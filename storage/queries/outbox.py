"""The outbox: enqueueing, lanes, claims and delivery outcomes of messages to Slack."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import Update, bindparam, case, func, inspect, or_, union_all, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import OutboxMessage, OutboxStatus
from storage.scope import key_prefix as team_keys
from storage.types import UTCDateTime

# Delivery order: rows of one lane (a channel, a user's Home, e-mail) go one at a time,
# oldest first; a row waits behind an older undelivered (pending or sending) row of its
# lane. Pacing: a sent row's `next_attempt_at` is reused as the time its lane may send
# again, so every sender (thread or process) sees the lane's pace in the database.
UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.SENDING)
# A time this far ahead of the real time (`wall`) was written before the machine's clock
# stepped back (NTP, a VM restored): a lane's pace is a second, and rows are queued and
# claimed at the time. Such a pace is spent and such a row dated again (an hour's step
# back silenced every channel that had posted in the hour before, and held a 2 s retry an
# hour; found by review). (Against `wall`, not the scheduling clock a backfill or a test
# moves: a backfill's rows, on the real time, are no step back to the other senders.)
CLOCK_STEP = timedelta(minutes=1)
# Built once: the question every idle sender asks (ix_outbox_due answers it).
_ANY_UNDELIVERED = sa_select(col(OutboxMessage.id)).where(
    col(OutboxMessage.status).in_(UNDELIVERED)
)


# A new row's columns as the model's defaults give them (`enqueue` sets the rest).
_NEW_ROW = {
    c.name: getattr(OutboxMessage(key="", method="", payload={}), c.name)
    for c in OutboxMessage.__table__.columns  # type: ignore[attr-defined]
    if c.name != "id"
}


def any_undelivered(*, session: Session) -> bool:
    """Whether any row waits to be delivered: what a sender asks before building its claim
    (a dozen milliseconds of the interpreter's time, each time every sender thread wakes)."""
    return session.execute(_ANY_UNDELIVERED.limit(1)).first() is not None


def lane_for(
    method: str,
    payload: dict[str, Any],
    parent_key: str | None,
    parent: tuple[str | None, dict[str, Any]] | None,
) -> str | None:
    """The lane rule without a session: `parent` is the parent row's (lane, payload), or
    None when there is no parent row (migration 0003 backfills lanes with it)."""
    if method == "email.send":
        return "email"
    if method == "views.publish":
        return f"home:{payload.get('user_id', '')}"[:300]
    if parent_key is not None and parent is not None:
        lane, parent_payload = parent
        if lane or (parent_payload or {}).get("channel"):
            return str(lane or parent_payload["channel"])[:300]
    channel = payload.get("channel")
    if channel:
        return str(channel)[:300]
    return f"thread:{parent_key}"[:300] if parent_key is not None else None


def outbox_lane(
    *, session: Session, method: str, payload: dict[str, Any], parent_key: str | None
) -> str | None:
    """The lane a message is delivered in: its channel as the payload names it (a thread
    reply, update or file joins its parent's lane), `home:<user>` for an App Home,
    `email` for e-mail; None (a lane of its own) when nothing names one."""
    parent = None
    if parent_key is not None and method not in ("email.send", "views.publish"):
        row = session.exec(
            select(OutboxMessage.lane, OutboxMessage.payload).where(OutboxMessage.key == parent_key)
        ).first()
        if row is not None:
            parent = (row[0], dict(row[1] or {}))
    return lane_for(method, payload, parent_key, parent)


def enqueue(
    *,
    session: Session,
    key: str,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    parent_key: str | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox; None (and nothing added) when `key` is already there.
    Keys are the session's team's (`storage.scope.Scope.key_prefix`): two teams' daily
    reports of one day are two messages."""
    prefix = team_keys(session)
    key = prefix + key
    parent_key = prefix + parent_key if parent_key is not None else None
    values = {
        **_NEW_ROW,
        "result": {},  # (a dict of its own: not the one `_NEW_ROW` holds)
        "key": key,
        "method": method,
        "payload": payload,
        "parent_key": parent_key,
        "created_at": now,
        "next_attempt_at": now,
        "lane": outbox_lane(session=session, method=method, payload=payload, parent_key=parent_key),
    }
    # One statement: nothing is inserted when the key is there, or when another
    # transaction inserts it meanwhile (PostgreSQL waits for that one to end first).
    statement = _enqueue_statement(session.get_bind().dialect.name)
    added = session.execute(statement, values).scalar()
    if added is None:
        return None
    return OutboxMessage(id=int(added), **values)  # (not in the session: it is stored)


@functools.cache
def _enqueue_statement(dialect: str) -> Any:
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)


def outbox_message(*, session: Session, key: str) -> OutboxMessage | None:
    """The outbox row for `key` (of the session's team)."""
    key = team_keys(session) + key
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()


# In a sent row's last_error: the message was deleted in Slack since (an update of it was
# answered `message_not_found`). What is meant to be live there is posted anew.
GONE = "gone: "


def mark_gone(*, session: Session, key: str, why: str) -> None:
    """Record that the message sent for `key` is gone from Slack (`GONE`)."""
    key = team_keys(session) + key
    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.key) == key, col(OutboxMessage.status) == OutboxStatus.SENT)
        .values(last_error=GONE + why)
    )


def reparent(*, session: Session, key: str, parent_key: str) -> None:
    """Make the row `key` (an update) change `parent_key`'s message instead (full keys)."""
    session.exec(
        update(OutboxMessage).where(col(OutboxMessage.key) == key).values(parent_key=parent_key)
    )


def repayload(*, session: Session, key: str, payload: dict[str, Any]) -> None:
    """Give the row `key` (not sent yet) another payload (full key)."""
    session.exec(update(OutboxMessage).where(col(OutboxMessage.key) == key).values(payload=payload))


def newer_in_lane(*, session: Session, message: OutboxMessage) -> bool:
    """Whether a newer undelivered row waits behind `message` in its lane."""
    if message.lane is None or message.id is None:
        return False
    return (
        session.exec(
            select(OutboxMessage.id).where(
                OutboxMessage.lane == message.lane,
                col(OutboxMessage.id) > message.id,
                col(OutboxMessage.status).in_(UNDELIVERED),
            )
        ).first()
        is not None
    )


def own_key(*, session: Session, row: OutboxMessage) -> str:
    """A row read back from the outbox (`outbox_message`, `latest_message`) holds its key
    with its team's prefix; this is the key as the session's team names it, the one
    `enqueue` (a `parent_key` too) and `outbox_message` take and prefix again."""
    return row.key.removeprefix(team_keys(session))


def _alias(name: str) -> Any:
    """An alias of the outbox whose columns SQLAlchemy has already adapted, in this thread.

    SQLAlchemy adapts an alias's column to it on the column's first use and keeps the
    result. Two threads doing that first use at once could leave one of them with the
    table's own column (SAWarning "Did not locate an expression in selectable"), kept for
    the life of the process: the pace check joined `outbox` whole, and a busy lane held
    back every lane."""
    alias = aliased(OutboxMessage, name=name)
    for column in inspect(OutboxMessage).column_attrs:
        getattr(alias, column.key).__clause_element__()
    return alias


# The aliases of the lane queries, made once: building them (SQLAlchemy's adapters) was
# most of what a claim cost the interpreter, ~10 ms, several times a delivery.
_RECENT = _alias("recent")


@functools.cache
def _lane_heads() -> Any:
    """(the row alias, a condition) selecting rows with no older undelivered row in their
    lane; rows without a lane are each their own. (Built once: it holds no values.)

    The heads are the oldest undelivered id of each lane (one aggregate over the
    undelivered rows) plus the undelivered rows without a lane, selected in a subquery:
    an anti-join against every older row of the lane grows with the square of a lane's
    backlog on PostgreSQL, and FOR UPDATE (claim_due) cannot share a SELECT with GROUP BY.
    """
    head, first, lone = _alias("head"), _alias("first"), _alias("lone")
    head_ids = union_all(
        sa_select(func.min(col(first.id)))
        .where(col(first.status).in_(UNDELIVERED), col(first.lane).is_not(None))
        .group_by(col(first.lane)),
        sa_select(col(lone.id)).where(col(lone.status).in_(UNDELIVERED), col(lone.lane).is_(None)),
    )
    return head, col(head.id).in_(head_ids)


def _paced(head: Any, wall: Any, methods: Sequence[str] | None) -> Any:
    """Whether `head` (if one of the paced `methods`; None: any) must wait because its
    lane sent a message less than its pace ago (on the wall clock)."""
    recent = _RECENT
    lane_busy = (
        sa_select(col(recent.id))
        .where(
            col(recent.lane) == col(head.lane),
            col(recent.status) == OutboxStatus.SENT,
            col(recent.next_attempt_at) > wall,
            col(recent.next_attempt_at) <= bindparam("wall_stepped", type_=_WHEN),
        )
        .exists()
    )
    return lane_busy if methods is None else col(head.method).in_(methods) & lane_busy


_WHEN = UTCDateTime()  # the type of the claim's times, as the columns store them


@functools.lru_cache(maxsize=64)
def _claim(limit: int, paced_methods: tuple[str, ...] | None) -> Any:
    """The UPDATE of `claim_due`, its values left as parameters (`now`, `stale`, `wall`,
    `token`, `reclaimed`): built once, as building it cost more than running it."""
    head, is_head = _lane_heads()
    now, wall = bindparam("now", type_=_WHEN), bindparam("wall", type_=_WHEN)
    due = or_(
        (col(head.status) == OutboxStatus.PENDING) & (col(head.next_attempt_at) <= now),
        (col(head.status) == OutboxStatus.SENDING)
        & (col(head.claimed_at) < bindparam("stale", type_=_WHEN)),
    )
    candidates = (
        sa_select(col(head.id))
        .where(is_head, due, ~_paced(head, wall, paced_methods))
        .order_by(col(head.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(candidates.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING,
            claimed_at=now,
            attempts=col(OutboxMessage.attempts) + 1,
            claim_token=bindparam("token"),
            last_error=case(
                (col(OutboxMessage.status) == OutboxStatus.SENDING, bindparam("reclaimed")),
                else_=col(OutboxMessage.last_error),
            ),
        )
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    )


def _redate_stepped(session: Session, wall: datetime) -> None:
    """Undelivered rows written before the machine's clock stepped back (queued or claimed
    more than CLOCK_STEP ahead of `wall`) dated again from `wall`: a queued row is due now
    (one queued 2 s before an hour's step back waited the hour, and every row behind it),
    a retry waits again what it was to wait from its attempt (a Retry-After Slack asked
    for was dropped, posted again at once; found by review), and a claim's lease runs
    from now — not taken over at once, which posted a live sender's row twice (found by
    review). Such rows are few and only after a step: read, then each dated again."""
    row = OutboxMessage
    ahead = wall + CLOCK_STEP
    stepped = session.execute(
        sa_select(
            col(row.id),
            col(row.status),
            col(row.created_at),
            col(row.claimed_at),
            col(row.next_attempt_at),
        ).where(
            col(row.status).in_(UNDELIVERED),
            or_(col(row.created_at) > ahead, col(row.claimed_at) > ahead),
        )
    ).all()
    for row_id, status, created, claimed, due in stepped:
        values: dict[str, Any] = {}
        if status == OutboxStatus.PENDING and due > ahead:
            values["next_attempt_at"] = wall + max(due - (claimed or created), timedelta(0))
        if claimed is not None and claimed > ahead:
            values["claimed_at"] = wall
        if created > ahead:
            values["created_at"] = wall
        session.execute(
            update(row)
            .where(col(row.id) == row_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def claim_due(
    *,
    session: Session,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
    wall: datetime | None = None,
    reclaimed_error: str = "uncertain: the previous claim expired mid-send",
    paced_methods: Sequence[str] | None = None,
    redate: bool = True,
) -> list[OutboxMessage]:
    """Claim up to `limit` due messages, at most one per lane (its oldest undelivered),
    each with a fresh `claim_token`; safe against concurrent senders.

    A lane's head is due when pending and its next attempt has come, or when a sender
    claimed it longer than `lease` ago and died (its `last_error` becomes
    `reclaimed_error`: it may have reached Slack); and, when it is one of `paced_methods`
    (None: any), once its lane's pace has passed at `wall` (the real time; `now` is the
    scheduling clock, which tests and backfills move). One UPDATE claims the candidates:
    on PostgreSQL they are selected FOR UPDATE SKIP LOCKED, so racing senders take
    disjoint rows; on SQLite the write lock serialises them.
    """
    methods = None if paced_methods is None else tuple(paced_methods)
    if wall is not None and redate:  # (the real time given: a step back of it can be seen)
        _redate_stepped(session, wall)
    claimed_ids = (
        session.execute(
            _claim(limit, methods),
            {
                "now": now,
                "stale": now - lease,
                "wall": wall or now,
                "wall_stepped": (wall or now) + CLOCK_STEP,
                "token": uuid4().hex,
                "reclaimed": reclaimed_error,
            },
        )
        .scalars()
        .all()
    )
    if not claimed_ids:
        return []
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(claimed_ids))
        .order_by(col(OutboxMessage.id))
        .execution_options(populate_existing=True)
    ).all()
    return list(rows)


@dataclass(frozen=True)
class LaneHead:
    """When a lane's oldest undelivered row may next be claimed: `due_at` on the
    scheduling clock, `paced_until` (its lane's last send plus pace) on the wall clock."""

    due_at: datetime
    paced_until: datetime | None


@functools.cache
def _heads_query() -> Any:
    """Each lane's head, with the time its lane last sent (built once: it holds no values)."""
    head, is_head = _lane_heads()
    recent = _RECENT
    paced_until = (
        sa_select(func.max(col(recent.next_attempt_at)))
        .where(col(recent.lane) == col(head.lane), col(recent.status) == OutboxStatus.SENT)
        .scalar_subquery()
    )
    return sa_select(
        col(head.method),
        col(head.status),
        col(head.next_attempt_at),
        col(head.claimed_at),
        paced_until,
    ).where(is_head)


def lane_heads(
    *,
    session: Session,
    lease: timedelta,
    paced_methods: Sequence[str] | None = None,
    wall: datetime | None = None,
) -> list[LaneHead]:
    """The head of every lane with undelivered rows, for a sender deciding how long to
    sleep; only heads of `paced_methods` (None: any) wait for their lane's pace. Given
    `wall`, a pace from before the clock stepped back is spent, as `claim_due` judges it
    (which dates rows queued or claimed before the step again: `_redate_stepped`)."""
    rows = session.execute(_heads_query()).all()
    heads = []
    for method, status, next_attempt_at, claimed_at, paced in rows:
        due_at = next_attempt_at
        if status == OutboxStatus.SENDING and claimed_at is not None:
            due_at = claimed_at + lease
        if paced_methods is not None and method not in paced_methods:
            paced = None
        if wall is not None and paced is not None and paced > wall + CLOCK_STEP:
            paced = None
        heads.append(LaneHead(due_at=due_at, paced_until=paced))
    return heads


def _held_by(claim_token: str) -> tuple[Any, ...]:
    """Conditions for a row still claimed by `claim_token` (being sent under it)."""
    return (
        col(OutboxMessage.claim_token) == claim_token,
        col(OutboxMessage.status) == OutboxStatus.SENDING,
    )


def _updated(session: Session, query: Update) -> int:
    """Run an UPDATE of outbox rows; how many rows it changed. The session's loaded rows
    are left as they are: callers that need them read them again."""
    changed = session.execute(
        query.returning(col(OutboxMessage.id)).execution_options(synchronize_session=False)
    ).all()
    return len(changed)


def renew_claim(*, session: Session, message_id: int, claim_token: str, now: datetime) -> bool:
    """Extend a claim's lease; False when the row is no longer held by `claim_token`."""
    query = update(OutboxMessage).where(col(OutboxMessage.id) == message_id, *_held_by(claim_token))
    return bool(_updated(session, query.values(claimed_at=now)))


def finish_message(
    *,
    session: Session,
    message_id: int,
    status: OutboxStatus,
    now: datetime,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
    attempts: int | None = None,
    claim_token: str | None = None,
    lane_free_at: datetime | None = None,
) -> bool:
    """Record a delivery outcome: sent, failed for good, or pending again at `retry_at`.

    With `claim_token`, only while the row is still held by it (a sender whose lease
    expired and whose row another sender re-claimed must not overwrite that one's
    outcome); returns whether the row was updated. `lane_free_at` (sent rows) is when
    the next row of its lane may go.
    """
    values: dict[str, Any] = {"status": status, "last_error": error, "claim_token": None}
    if attempts is not None:
        values["attempts"] = attempts
    if status is OutboxStatus.SENT:
        values.update(sent_at=now, result=result or {})
        if lane_free_at is not None:
            values["next_attempt_at"] = lane_free_at
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    query = update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
    if claim_token is not None:
        query = query.where(*_held_by(claim_token))
    return bool(_updated(session, query.values(**values)))


def retry_now(
    *, session: Session, now: datetime, error_prefixes: Sequence[str], unless: str | None = None
) -> int:
    """Bring forward the pending rows backing off after an error starting with one of
    `error_prefixes` (the destination is reachable again), except those whose error holds
    `unless` (a wait the destination asked for); how many."""
    if not error_prefixes:
        return 0
    query = update(OutboxMessage).where(
        col(OutboxMessage.status) == OutboxStatus.PENDING,
        col(OutboxMessage.next_attempt_at) > now,
        or_(
            *(col(OutboxMessage.last_error).startswith(p, autoescape=True) for p in error_prefixes)
        ),
    )
    if unless is not None:
        query = query.where(~col(OutboxMessage.last_error).contains(unless, autoescape=True))
    return _updated(session, query.values(next_attempt_at=now))


def withdraw(*, session: Session, keys: Sequence[str] = (), key_prefix: str | None = None) -> int:
    """Take back the messages under `keys` (and those whose keys start with `key_prefix`)
    that are still waiting to go, with the replies waiting under them; how many. A row
    being sent is marked `withdrawn`: it ends so unless that attempt goes through (a
    retry, or a claim that ran out, would have sent it again). A sent row stays sent."""
    prefix = team_keys(session)
    chosen = [col(OutboxMessage.key).in_([prefix + k for k in keys])] if keys else []
    if key_prefix is not None:
        chosen.append(_key_starting(prefix + key_prefix))
    if not chosen:
        return 0
    sending = col(OutboxMessage.status) == OutboxStatus.SENDING
    _updated(session, update(OutboxMessage).where(sending, or_(*chosen)).values(withdrawn=True))
    waiting = col(OutboxMessage.status) == OutboxStatus.PENDING
    taken = session.execute(
        update(OutboxMessage)
        .where(waiting, or_(*chosen))
        .values(status=OutboxStatus.WITHDRAWN, claim_token=None)
        .returning(col(OutboxMessage.key))
        .execution_options(synchronize_session=False)
    ).scalars()
    parents = list(taken)
    if not parents:
        return 0
    replies = update(OutboxMessage).where(waiting, col(OutboxMessage.parent_key).in_(parents))
    return len(parents) + _updated(session, replies.values(status=OutboxStatus.WITHDRAWN))


def lane_channel(*, session: Session, lane: str | None) -> str | None:
    """The channel ID Slack reported for the newest delivered message of `lane`."""
    if lane is None:
        return None
    rows = session.exec(
        select(OutboxMessage.result)
        .where(OutboxMessage.lane == lane, OutboxMessage.status == OutboxStatus.SENT)
        .order_by(col(OutboxMessage.id).desc())
        .limit(20)
    ).all()
    for result in rows:
        channel = (result or {}).get("channel")
        if isinstance(channel, str) and channel:
            return channel
    return None


def outbox_counts(*, session: Session) -> dict[str, int]:
    """How many outbox rows are in each status."""
    rows = session.exec(
        select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    ).all()
    return {str(s): int(n) for s, n in rows}


def all_messages(*, session: Session) -> Sequence[OutboxMessage]:
    """Every outbox row, oldest first (the demo reads back what the bot queued)."""
    return session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()


def failed_messages(*, session: Session, limit: int = 20) -> Sequence[OutboxMessage]:
    """Messages Slack refused for good, newest first."""
    return session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()


def release_claim(*, session: Session, message_id: int, claim_token: str) -> bool:
    """Give back a row claimed but not attempted (its sender is stopping): pending again,
    its attempt undone, its last error kept; False when `claim_token` no longer holds it."""
    query = update(OutboxMessage).where(col(OutboxMessage.id) == message_id, *_held_by(claim_token))
    released = query.values(
        status=OutboxStatus.PENDING, claim_token=None, attempts=col(OutboxMessage.attempts) - 1
    )
    return bool(_updated(session, released))


def latest_message(
    *,
    session: Session,
    key_prefix: str,
    key_suffix: str = "",
    sent_only: bool = False,
    since: datetime | None = None,
    by_time: bool = False,
) -> OutboxMessage | None:
    """The newest outbox message whose key starts (and ends) so; only delivered ones if
    `sent_only`, only those queued from `since` on if given (of the session's team).
    Newest: queued last, or with `by_time` dated last (a day's message queued later by a
    backfill is dated its day)."""
    found = keyed_messages(
        session=session,
        key_prefix=key_prefix,
        key_suffix=key_suffix,
        sent_only=sent_only,
        since=since,
        limit=1,
        by_time=by_time,
    )
    return found[0] if found else None


def _key_starting(prefix: str) -> Any:
    """Keys that start with `prefix`, found on the key's index: the pattern one bound
    value (SQLAlchemy's `startswith` makes it `? || '%'`, which SQLite cannot look up, so
    App Home's chart scanned every row the outbox ever held; found by review)."""
    escaped = prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return col(OutboxMessage.key).like(escaped + "%", escape="/")


def keyed_messages(
    *,
    session: Session,
    key_prefix: str,
    key_suffix: str = "",
    sent_only: bool = False,
    since: datetime | None = None,
    limit: int | None = None,
    by_time: bool = False,
) -> list[OutboxMessage]:
    """The outbox messages whose keys start (and end) so, newest first, as `latest_message`
    picks among them; at most `limit`."""
    query = select(OutboxMessage).where(
        _key_starting(team_keys(session) + key_prefix),
        col(OutboxMessage.key).endswith(key_suffix, autoescape=True),
    )
    if since is not None:
        query = query.where(col(OutboxMessage.created_at) >= since)
    if by_time:
        query = query.order_by(col(OutboxMessage.created_at).desc())
    query = query.order_by(col(OutboxMessage.id).desc())
    if not sent_only:
        return list(session.exec(query.limit(limit)).all())
    # The keys' statuses read first, then the rows sent: asked for in SQL, the status was
    # looked up on its own index, every row ever sent read for a chart (found by review).
    ids = [
        i
        for i, status in session.execute(
            query.with_only_columns(col(OutboxMessage.id), col(OutboxMessage.status))
        )
        if status == OutboxStatus.SENT
    ][:limit]
    if not ids:
        return []
    rows = {
        r.id: r for r in session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))
    }
    return [rows[i] for i in ids]  # (in the order found)


def shows_home(*, session: Session, user_id: str) -> bool:
    """Whether the newest Home published for `user_id` (every team's Homes of theirs share
    one lane) is the session's team's: the team they last saw or chose."""
    team = team_keys(session)
    newest = session.exec(
        select(OutboxMessage.key)
        .where(col(OutboxMessage.lane) == f"home:{user_id}"[:300])
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    ).first()
    return newest is not None and newest.startswith(team) and newest[len(team) :].startswith("home")


def newest_home_asked(*, session: Session, user_id: str, rows: int = 20) -> float:
    """When Slack sent the newest request (an open of the Home tab, a click on it: its
    `event_ts` or `action_ts`, the end of a Home's key) whose Home is queued for `user_id`,
    any team's, among the lane's newest `rows`; 0 if none."""
    keys = session.exec(
        select(OutboxMessage.key)
        .where(col(OutboxMessage.lane) == f"home:{user_id}"[:300])
        .order_by(col(OutboxMessage.id).desc())
        .limit(rows)
    ).all()
    asked = 0.0
    for key in keys:
        if f"home:{user_id}:" in key:
            with contextlib.suppress(ValueError):
                asked = max(asked, float(key.rsplit(":", 1)[1]))
    return asked


def home_users(
    *, session: Session, key_prefix: str, since: datetime, until: datetime | None = None
) -> list[str]:
    """Users whose Home was published for them (key `prefix + user + ":…"`) since `since`,
    and whose Home tab shows the session's team still: one in several teams who last saw
    (or chose) another team's is left to that team's (the newest row of their Home's lane,
    which every team's Home of theirs shares, is another team's). With `until`, only those
    whose Home is from before it (a past day's report backfilled does not turn a newer Home
    back to that day)."""
    team = team_keys(session)
    key_prefix = team + key_prefix
    keys = session.exec(
        select(OutboxMessage.key).where(
            _key_starting(key_prefix),
            col(OutboxMessage.created_at) >= since,
        )
    ).all()
    users = sorted({k.removeprefix(key_prefix).split(":", 1)[0] for k in keys})
    if not users:
        return users
    newest: dict[str, str] = {}
    later: set[str] = set()  # lanes whose newest row is after `until`
    lanes = [f"home:{u}"[:300] for u in users]
    for start in range(0, len(lanes), 500):
        latest = (
            select(func.max(OutboxMessage.id))
            .where(col(OutboxMessage.lane).in_(lanes[start : start + 500]))
            .group_by(col(OutboxMessage.lane))
        )
        for lane, key, created in session.exec(
            select(OutboxMessage.lane, OutboxMessage.key, OutboxMessage.created_at).where(
                col(OutboxMessage.id).in_(latest)
            )
        ).all():
            if lane is not None:
                newest[lane] = key
                if until is not None and created > until:
                    later.add(lane)
    # (The first team's keys have no prefix: another team's, `t<id>:home…`, are not its.)
    return [
        u
        for u in users
        if (key := newest.get(f"home:{u}"[:300], key_prefix)).startswith(team)
        and key[len(team) :].startswith("home")
        and f"home:{u}"[:300] not in later
    ]


def delivery_of(*, session: Session, key_prefix: str) -> tuple[int, datetime | None]:
    """Of the messages whose keys start with `key_prefix`: how many still wait to go
    (pending or being sent), and when the last of those sent went."""
    rows = session.execute(
        sa_select(col(OutboxMessage.status), col(OutboxMessage.sent_at)).where(
            _key_starting(team_keys(session) + key_prefix)
        )
    ).all()
    waiting = sum(s in (OutboxStatus.PENDING, OutboxStatus.SENDING) for s, _ in rows)
    sent = [at for s, at in rows if s == OutboxStatus.SENT and at is not None]
    return waiting, max(sent, default=None)

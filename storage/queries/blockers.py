"""Blockers: filed, open, resolved, and open as of an instant."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import Blocker, Event

from ._common import add_keyed


def open_blockers(*, session: Session, severity: str | None = None) -> list[Blocker]:
    """Unresolved blockers, most severe and oldest first."""
    q = select(Blocker).where(col(Blocker.resolved_at).is_(None))
    if severity is not None:
        q = q.where(Blocker.severity == severity)
    return list(session.exec(q.order_by(col(Blocker.severity), col(Blocker.reported_at))).all())


def blocker_like(*, session: Session, description: str, reported_by: str) -> bool:
    """Whether this person already has an open blocker with this text (standup re-edits)."""
    return (
        open_blocker_like(session=session, description=description, reported_by=reported_by)
        is not None
    )


def open_blocker_like(*, session: Session, description: str, reported_by: str) -> Blocker | None:
    """This person's open blocker with this text, if any."""
    return session.exec(
        select(Blocker).where(
            Blocker.description == description,
            Blocker.reported_by == reported_by,
            col(Blocker.resolved_at).is_(None),
        )
    ).first()


def blocker_by_id(*, session: Session, blocker_id: int, lock: bool = False) -> Blocker | None:
    """One blocker, open or resolved; `lock`: its row locked until the transaction ends
    (PostgreSQL: FOR UPDATE; SQLite's one writer serialises already)."""
    # (Locked, it is read again: a copy the session held from before the lock is stale.)
    return session.get(Blocker, blocker_id, with_for_update=lock or None, populate_existing=lock)


def blocker_codes(*, session: Session, ids: Collection[int]) -> dict[int, str]:
    """The codes (B-007: the team's numbers) of blockers by their row ids."""
    rows = session.exec(select(Blocker).where(col(Blocker.id).in_(list(ids)))).all()
    return {int(b.id or 0): b.code for b in rows}


def add_blocker(*, session: Session, blocker: Blocker) -> Blocker:
    """Insert a blocker; when its request_key is taken, the blocker that holds it instead
    (nothing inserted). A concurrent insert of the same key waits for the first on
    PostgreSQL, then finds it."""
    return add_keyed(session, blocker, Blocker)


def resolved_blockers(*, session: Session) -> list[Blocker]:
    """Resolved blockers, in the order they were resolved."""
    return list(
        session.exec(
            select(Blocker)
            .where(col(Blocker.resolved_at).is_not(None))
            .order_by(col(Blocker.resolved_at), col(Blocker.id))
        ).all()
    )


def _reopened(session: Session) -> set[int]:
    """The blockers ever reopened: their rows hold only their latest resolution."""
    return set(
        session.exec(
            select(Event.subject_id)
            .where(col(Event.subject) == "blocker", col(Event.action) == "reopened")
            .distinct()
        ).all()
    )


class _Move(NamedTuple):
    blocker_id: int
    action: str  # "resolved" or "reopened"
    at: datetime
    actor: str
    detail: dict[str, Any] | None


def _moves(session: Session, ids: Collection[int], at: datetime) -> list[_Move]:
    """The resolutions and reopenings of blockers `ids` by `at`, in order."""
    rows = session.execute(
        sa_select(
            col(Event.subject_id),
            col(Event.action),
            col(Event.at),
            col(Event.actor),
            col(Event.detail),
        )
        .where(
            col(Event.subject) == "blocker",
            col(Event.subject_id).in_(list(ids)),
            col(Event.action).in_(["resolved", "reopened"]),
            col(Event.at) <= at,
        )
        .order_by(col(Event.at), col(Event.id))
    ).all()
    return [_Move(*row) for row in rows]


class Resolution(NamedTuple):
    """A blocker's resolution as it stood at an instant: when, by whom, with what note."""

    blocker: Blocker
    at: datetime
    by: str | None
    note: str | None


def resolutions_at(*, session: Session, at: datetime) -> list[Resolution]:
    """The blockers resolved as of `at`, each with the resolution standing then, in the
    order resolved. A blocker reopened since is resolved then by its audit trail (its last
    resolution by `at`, not reopened after it by then), as `blockers_open_at` reads it."""
    reopened = _reopened(session)
    found = [
        Resolution(b, b.resolved_at, b.resolved_by, b.resolution)
        for b in session.exec(
            select(Blocker).where(
                col(Blocker.resolved_at).is_not(None), col(Blocker.resolved_at) <= at
            )
        ).all()
        if b.resolved_at is not None and b.id not in reopened
    ]
    if reopened:
        last = {move.blocker_id: move for move in _moves(session, reopened, at)}
        standing = {i: m for i, m in last.items() if m.action == "resolved"}
        if standing:
            rows = session.exec(select(Blocker).where(col(Blocker.id).in_(list(standing)))).all()
            for b in rows:
                move = standing[int(b.id or 0)]
                note = (move.detail or {}).get("note")
                found.append(Resolution(b, move.at, move.actor, note))
    return sorted(found, key=lambda r: (r.at, r.blocker.id or 0))


def reopened_at(
    *, session: Session, blockers: Collection[Blocker], at: datetime
) -> dict[int, datetime]:
    """When each of `blockers` (open at `at`) was last reopened by then, for those reopened
    since their report: by id (one open at `at` with a move by then was reopened last)."""
    ids = [int(b.id or 0) for b in blockers]
    last = {move.blocker_id: move for move in _moves(session, ids, at)} if ids else {}
    return {i: m.at for i, m in last.items() if m.action == "reopened"}


def blockers_open_at(*, session: Session, at: datetime) -> list[Blocker]:
    """Blockers reported by `at` and not resolved by then, most severe and oldest first. A
    blocker ever reopened holds only its latest resolution on its row: whether it was open
    at `at` is its audit trail's (its last resolution or reopening by then)."""
    reopened = _reopened(session)
    by_row = session.exec(
        select(Blocker).where(
            col(Blocker.reported_at) <= at,
            or_(col(Blocker.resolved_at).is_(None), col(Blocker.resolved_at) > at),
        )
    ).all()
    found = [b for b in by_row if b.id not in reopened]
    if reopened:
        # Each blocker's last resolution or reopening by `at`.
        last = {move.blocker_id: move.action for move in _moves(session, reopened, at)}
        found += [
            b
            for b in session.exec(
                select(Blocker).where(
                    col(Blocker.id).in_(list(reopened)), col(Blocker.reported_at) <= at
                )
            ).all()
            if last.get(int(b.id or 0)) != "resolved"
        ]
    found = _as_of(session, found, at)
    return sorted(found, key=lambda b: (b.severity, b.reported_at, b.id or 0))


def _as_of(session: Session, blockers: list[Blocker], at: datetime) -> list[Blocker]:
    """The blockers with the severity and owner each had at `at`: its row's, less what
    its audit trail records changing after `at`, undone newest first (a P2 raised to P0
    later was counted a P0 at a time it was a P2, an owner taken later shown then; found
    by review). Changed ones are copies, never written back."""
    ids = [int(b.id or 0) for b in blockers]
    later = (
        session.exec(
            select(Event.subject_id, Event.action, Event.detail)
            .where(
                col(Event.subject) == "blocker",
                col(Event.subject_id).in_(ids),
                col(Event.action).in_(("severity", "acknowledged")),
                col(Event.at) > at,
            )
            .order_by(col(Event.at).desc(), col(Event.id).desc())
        ).all()
        if ids
        else []
    )
    if not later:
        return blockers
    copies = {
        int(b.id or 0): Blocker.model_validate(b.model_dump())
        for b in blockers
        if int(b.id or 0) in {i for i, _, _ in later}
    }
    for blocker_id, action, detail in later:
        shown, detail = copies[blocker_id], detail or {}
        if action == "severity" and detail.get("was"):
            shown.severity = detail["was"]
        elif action == "acknowledged":
            shown.owner = detail.get("previous_owner")
    return [copies.get(int(b.id or 0), b) for b in blockers]


def escalation_levels_at(
    *, session: Session, blockers: Collection[Blocker], at: datetime
) -> dict[int, int]:
    """Each blocker's escalation step as of `at` (0: not escalated by then): its row's
    where it reached that step by `at`, else its audit trail's last step by then."""
    levels = {
        int(b.id or 0): b.escalation_level
        for b in blockers
        if b.escalated_at is None or b.escalated_at <= at
    }
    earlier = [int(b.id or 0) for b in blockers if int(b.id or 0) not in levels]
    if earlier:
        levels.update(dict.fromkeys(earlier, 0))
        steps = session.exec(
            select(Event.subject_id, Event.detail)
            .where(
                col(Event.subject) == "blocker",
                col(Event.subject_id).in_(earlier),
                col(Event.action) == "escalated",
                col(Event.at) <= at,
            )
            .order_by(col(Event.at), col(Event.id))
        ).all()
        for blocker_id, detail in steps:
            levels[blocker_id] = int((detail or {}).get("step") or 0)
    return levels

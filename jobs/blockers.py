"""The blocker log (the seed's "Blocker Resolution Log"): filing, the escalation path,
ownership, resolution, and the audit trail of every change."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import NotRequired, TypedDict, final

from sqlmodel import Session

from jobs import permissions, storable
from jobs.config import (
    CHANNEL_KEYS,
    SEVERITIES,
    STANDARD_ROLES,
    Escalation,
    Sprint,
    format_duration,
    is_user_id,
)
from jobs.errors import FieldErrors, SprintError
from jobs.messages import Spec, Template
from jobs.notices import live_key, post, post_live
from jobs.owners import OwnerMap
from jobs.permissions import Action, Directory, no_directory
from storage import queries
from storage.models import Blocker, OutboxStatus

MAX_DESCRIPTION = 2000
_QUICK = re.compile(r"^\s*(P\d)\s+(.+?)\s*:\s*(.+)$", re.IGNORECASE | re.DOTALL)
_CODE = re.compile(r"^B-?0*(\d{1,9})$", re.IGNORECASE)


def parse_code(text: str) -> int:
    """ "B-007", "b7", "7" → 7; SprintError otherwise."""
    m = _CODE.match(text.strip()) or re.match(r"^0*(\d{1,9})$", text.strip())
    if not m:
        raise SprintError(f'"{text}" is not a blocker id; they look like B-007.')
    return int(m.group(1))


class AlreadyFiled(SprintError):
    """A second submission of the request that filed `blocker` (a double click, a retry)."""

    def __init__(self, blocker: Blocker, channel: str) -> None:
        self.blocker = blocker
        super().__init__(
            f":information_source: Already filed as {blocker.code} in {channel}; "
            "nothing new was filed."
        )


class BlockerField(StrEnum):
    """Fields of the blocker form: its block ids, and the keys `field_errors` returns."""

    COMPONENT = "component"
    DESCRIPTION = "description"
    SEVERITY = "severity"
    OWNER = "owner"
    TARGET = "target"


class ResolveField(StrEnum):
    """The one field of the form asking how a blocker was resolved."""

    NOTE = "note"


def field_errors(
    *,
    sprint: Sprint,
    component: str,
    description: str,
    severity: str,
    target: str = "",
    owner: str = "",
) -> dict[str, str]:
    """What is wrong with each field of a blocker, by BlockerField ({} when nothing is)."""
    errors: dict[str, str] = {}
    if sprint.component(component) is None:
        names = ", ".join(c.name for c in sprint.components)
        errors[BlockerField.COMPONENT] = (
            f'No component called "{component.strip()}". Components: {names}.'
        )
    text = description.strip()
    if storable.blank(text):
        errors[BlockerField.DESCRIPTION] = "Describe the blocker."
    elif len(text) > MAX_DESCRIPTION:
        errors[BlockerField.DESCRIPTION] = (
            f"Keep the description under {MAX_DESCRIPTION} characters."
        )
    elif why := storable.problem(text):
        errors[BlockerField.DESCRIPTION] = why
    if severity.strip().upper() not in SEVERITIES:
        errors[BlockerField.SEVERITY] = f'Severity "{severity}" is not one of P0, P1, P2.'
    if why := storable.problem(target):
        errors[BlockerField.TARGET] = why
    # A user picker: only a forged payload gets here (its text was written into the
    # message as a mention: `<!channel>` pinged the channel; found by review).
    if owner and not is_user_id(owner):
        errors[BlockerField.OWNER] = "Pick the owner from the list."
    return errors


def check_fields(
    *, sprint: Sprint, component: str, description: str, severity: str
) -> tuple[str, str, str]:
    """Normalised (component, description, severity), or FieldErrors saying what is wrong."""
    errors = field_errors(
        sprint=sprint, component=component, description=description, severity=severity
    )
    comp = sprint.component(component)
    if errors or comp is None:
        raise FieldErrors(errors)
    return comp.name, description.strip(), severity.strip().upper()


def parse_quick(text: str, *, sprint: Sprint) -> tuple[str, str, str]:
    """`P0 Swarm Coordination: deadlock under partition` → (component, description, severity)."""
    m = _QUICK.match(text)
    if not m:
        raise SprintError(
            "File a blocker as `/blocker P0 Swarm Coordination: what is blocked`, or run "
            "`/blocker` for the form."
        )
    return check_fields(
        sprint=sprint, component=m.group(2), description=m.group(3), severity=m.group(1)
    )


def command_key(*, user_id: str, component: str, description: str, severity: str) -> str:
    """The request key of `/blocker P0 COMPONENT: text`: who and what, whitespace and case
    aside. It is held while the blocker is open, so the same user sending the same command
    again (a retry after Slack's timeout) finds it; resolving frees it."""
    what = " ".join(f"{severity}|{component}|{description}".casefold().split())
    return f"blocker-cmd:{user_id}:{hashlib.sha256(what.encode()).hexdigest()[:40]}"


def view_key(view_id: str) -> str:
    """The request key of a blocker form: Slack delivers a double click with one view id."""
    return f"blocker-view:{view_id}"[:200]


def file_blocker(
    *,
    session: Session,
    sprint: Sprint,
    component: str,
    description: str,
    severity: str,
    reporter: str,
    now: datetime,
    owner: str | None = None,
    target: str | None = None,
    request_key: str | None = None,
) -> Blocker:
    """Record a blocker, post it to channels.blockers and start its escalation path.

    AlreadyFiled (and nothing recorded or posted) when `request_key` filed one already."""
    component, description, severity = check_fields(
        sprint=sprint, component=component, description=description, severity=severity
    )
    storable.check(target)
    blocker = Blocker(
        component=component,
        description=description,
        severity=severity,
        owner=owner,
        reported_by=reporter,
        reported_at=now,
        target=(target or "").strip()[:100] or None,
        request_key=request_key,
    )
    stored = queries.add_blocker(session=session, blocker=blocker)
    if stored is not blocker:
        raise AlreadyFiled(stored, sprint.channels.blockers)
    announce(session=session, sprint=sprint, blocker=blocker, now=now)
    return blocker


def announce(*, session: Session, sprint: Sprint, blocker: Blocker, now: datetime) -> None:
    """Post a newly recorded blocker (from /blocker or a standup) and escalate what is due."""
    audit(
        session=session,
        blocker=blocker,
        action="created",
        actor=blocker.reported_by,
        now=now,
        severity=blocker.severity,
    )
    post(
        session=session,
        key=message_key(blocker),
        spec=BLOCKER,
        data=blocker_data(sprint, blocker, now),  # (new: never reopened)
        now=now,
        channel=sprint.channels.blockers,
    )
    if escalate_due(session=session, sprint=sprint, now=now, only=blocker):
        # The message is still unsent, in this transaction: let it show the step just fired.
        row = queries.outbox_message(session=session, key=message_key(blocker))
        if row is not None:
            row.payload = {**row.payload, "data": blocker_data(sprint, blocker, now)}
            session.flush()


def card(*, session: Session, sprint: Sprint, blocker: Blocker, now: datetime) -> BlockerMessage:
    """`blocker_data`, aged as health and `/sprint` age it: since its last reopening (a P0
    reopened a moment ago read "31h5m" old; found by review)."""
    since = queries.reopened_at(session=session, blockers=[blocker], at=now)
    return blocker_data(
        sprint,
        blocker,
        now,
        opened_at=since.get(_id(blocker)),
        risk=linked_risks(session=session, blockers=[blocker]).get(_id(blocker)),
    )


def linked_risks(*, session: Session, blockers: list[Blocker]) -> dict[int, str]:
    """The code of the risk each of `blockers` is linked to, by blocker id (if linked)."""
    codes = queries.risk_codes(session=session, ids={b.risk_id for b in blockers if b.risk_id})
    return {_id(b): codes[b.risk_id] for b in blockers if b.risk_id in codes}


def message_key(blocker: Blocker) -> str:
    return f"blocker:{_id(blocker)}"


def live_card(*, session: Session, sprint: Sprint, blocker: Blocker, now: datetime) -> str:
    """The key of the blocker's card, for what goes in its thread or replaces it: its first
    post's, unless Slack refused that for good (the channel archived, private without the
    bot, missing); then the card is posted again as it stands now, and what hangs under it
    goes once the channel is mended (every step under a refused card failed with it, and
    the tech lead was never called; found by review)."""
    return post_live(
        session=session,
        key=message_key(blocker),
        spec=BLOCKER,
        data=lambda: card(session=session, sprint=sprint, blocker=blocker, now=now),
        now=now,
        channel=sprint.channels.blockers,
    )


def _id(blocker: Blocker) -> int:
    if blocker.id is None:
        raise RuntimeError("blocker has no id; flush first")
    return blocker.id


def audit(
    *, session: Session, blocker: Blocker, action: str, actor: str, now: datetime, **details: object
) -> None:
    """Keep a change of `blocker` in the audit trail (its history, the review's figures)."""
    queries.audit(
        session=session,
        subject="blocker",
        subject_id=_id(blocker),
        action=action,
        actor=actor,
        at=now,
        **details,
    )


def step_name(sprint: Sprint, level: int) -> str | None:
    """The name of the escalation step a blocker has reached (None: not escalated)."""
    steps = sprint.escalation
    return steps[level - 1].name if 0 < level <= len(steps) else None


class BlockerMessage(TypedDict):
    """Template.BLOCKER and BLOCKER_RESOLVED: a blocker as its message shows it (times ISO)."""

    id: int
    code: str
    component: str
    description: str
    severity: str
    reporter: str
    owner: str | None
    reported_at: str
    now: str
    age: str
    target: str | None
    level: int
    levels: int
    step: str | None
    acknowledged_by: str | None
    resolved_by: str | None
    resolution: str | None
    resolved_at: str | None
    took: str | None
    # While nobody owns it: its component's owners ([[owners]] / CODEOWNERS), suggested.
    suggested: NotRequired[list[str]]
    risk: NotRequired[str]  # the code of the risk it realises (`/blocker link`)


# Template.BLOCKER_STEP is one of two messages in the blocker's thread; final, so that a
# renderer can tell them apart by a key.
@final
class EscalationStep(BlockerMessage):
    """A step of the escalation path was reached (`by` "sprintbot" when by the clock)."""

    step_index: int
    step_name: str
    after: str
    mentions: list[str]
    channels: list[str]
    by: str


class ReopenReason(TypedDict, total=False):
    reason: str  # why it was reopened, as typed (`/blocker reopen B-007 why`)


@final
class BlockerReopened(BlockerMessage, ReopenReason):
    """A resolved blocker was reopened."""

    reopened_by: str


BLOCKER: Spec[BlockerMessage] = Spec(Template.BLOCKER)
BLOCKER_STEP: Spec[EscalationStep | BlockerReopened] = Spec(Template.BLOCKER_STEP)
BLOCKER_RESOLVED: Spec[BlockerMessage] = Spec(Template.BLOCKER_RESOLVED)


def blocker_data(
    sprint: Sprint,
    b: Blocker,
    now: datetime,
    *,
    opened_at: datetime | None = None,
    risk: str | None = None,
) -> BlockerMessage:
    """What the blocker's message shows; its age since `opened_at` (its last reopening:
    `card`), else since its report; the code of the `risk` it is linked to, if given."""
    steps = sprint.escalation
    level = b.escalation_level
    data: BlockerMessage = {
        "id": _id(b),
        # In a blockers channel two teams use, "platform B-001" (codes are per team).
        "code": sprint.shown_code(b.code, sprint.channels.blockers),
        "component": b.component,
        "description": b.description,
        "severity": b.severity,
        "reporter": b.reported_by,
        "owner": b.owner,
        "reported_at": b.reported_at.isoformat(),
        "now": now.isoformat(),
        "age": format_duration(now - (opened_at or b.reported_at)),
        "target": b.target,
        "level": level,
        "levels": len(steps),
        "step": step_name(sprint, level),
        "acknowledged_by": b.acknowledged_by,
        "resolved_by": b.resolved_by,
        "resolution": b.resolution,
        "resolved_at": b.resolved_at.isoformat() if b.resolved_at else None,
        "took": format_duration(b.resolved_at - b.reported_at) if b.resolved_at else None,
        "suggested": [] if b.owner or b.resolved_at else component_owners(sprint, b.component),
    }
    if not data["suggested"]:
        del data["suggested"]  # a message without suggestions stays as it was
    if risk is not None:
        data["risk"] = risk
    return data


def component_owners(sprint: Sprint, component: str) -> list[str]:
    """Who owns a component's tests (Slack IDs), to suggest as a blocker's owner."""
    c = sprint.component(component)
    return OwnerMap(sprint).of_component(c) if c is not None else []


def refresh_message(
    *, session: Session, sprint: Sprint, blocker: Blocker, now: datetime, why: str
) -> None:
    post(
        session=session,
        key=f"{message_key(blocker)}:update:{why}",
        spec=BLOCKER,
        data=card(session=session, sprint=sprint, blocker=blocker, now=now),
        now=now,
        parent_key=live_card(session=session, sprint=sprint, blocker=blocker, now=now),
        update=True,
    )


def targets(sprint: Sprint, step: Escalation) -> tuple[list[str], list[str]]:
    """(channels to post to, Slack IDs to mention) for an escalation step."""
    names = [step.notify] if isinstance(step.notify, str) else list(step.notify)
    channels: list[str] = []
    ids: list[str] = []
    for n in names:
        if n in CHANNEL_KEYS:
            channels.append(sprint.channel(n))
        elif n == "participants" and sprint.people.get("participants") == "team":
            channels.append(sprint.channels.team)  # (they are the team channel's people)
        elif n in sprint.people or n in STANDARD_ROLES:  # (one nobody holds: nobody)
            ids += sprint.role(n)
        elif n.startswith(("#", "C", "G", "D")):  # (a DM channel too, as the file takes)
            channels.append(n)
        else:
            ids.append(n)
    return channels, ids


def _fire_step(
    *, session: Session, sprint: Sprint, blocker: Blocker, index: int, actor: str, now: datetime
) -> None:
    step = sprint.escalation[index]
    channels, ids = targets(sprint, step)
    data: EscalationStep = {
        # Aged from the report, as the path's steps are due (a step reached after a
        # reopening read "after 5m" for one due 8h after the report; found by review).
        **blocker_data(sprint, blocker, now),
        "code": sprint.shown_code(blocker.code, sprint.channels.blockers, *channels),
        "step_index": index + 1,
        "step_name": step.name,
        "after": format_duration(step.after),
        "mentions": ids,
        "channels": channels,
        "by": actor,
    }
    # (A step taken back at its resolution is due again once the blocker is reopened: its
    # first key is the withdrawn row's.)
    step_key, _ = live_key(session=session, key=f"{message_key(blocker)}:step:{index}")
    post(
        session=session,
        key=step_key,
        spec=BLOCKER_STEP,
        data=data,
        now=now,
        parent_key=live_card(session=session, sprint=sprint, blocker=blocker, now=now),
    )
    for channel in channels:
        if channel != sprint.channels.blockers:
            # (Its own key's next where the copy alone was taken back: the thread's post
            # went, and the channel's copy, deduplicated, never did; found by review.)
            copy_key, _ = live_key(session=session, key=f"{step_key}:{channel}")
            post(
                session=session,
                key=copy_key,
                spec=BLOCKER_STEP,
                data=data,
                now=now,
                channel=channel,
            )
    blocker.escalation_level = index + 1
    blocker.escalated_at = now
    audit(
        session=session,
        blocker=blocker,
        action="escalated",
        actor=actor,
        now=now,
        step=index + 1,
        name=step.name,
    )


def escalate_due(
    *, session: Session, sprint: Sprint, now: datetime, only: Blocker | None = None
) -> int:
    """Move open blockers up the escalation path as `after` times pass; each step once."""
    fired = 0
    blockers = [only] if only is not None else queries.open_blockers(session=session)
    steps = sprint.escalation
    for listed in blockers:
        level = listed.escalation_level
        if level >= len(steps) or listed.reported_at + steps[level].after > now:
            continue  # (nothing due: no lock taken)
        # Its row locked before its steps are queued, in the order a click ("Escalate
        # now") takes them: the other way round the two deadlocked on PostgreSQL.
        blocker = get(session=session, blocker_id=listed.id or 0, lock=True)
        if blocker.resolved_at is not None:
            continue
        start = blocker.escalation_level
        for index in range(start, len(sprint.escalation)):
            if blocker.reported_at + sprint.escalation[index].after > now:
                break
            _fire_step(
                session=session,
                sprint=sprint,
                blocker=blocker,
                index=index,
                actor="sprintbot",
                now=now,
            )
            fired += 1
        if blocker.escalation_level != start and only is None:
            _show_level(session=session, sprint=sprint, blocker=blocker, now=now)
    session.flush()
    return fired


def _show_level(*, session: Session, sprint: Sprint, blocker: Blocker, now: datetime) -> None:
    refresh_message(
        session=session,
        sprint=sprint,
        blocker=blocker,
        now=now,
        # (Its time too: reached again after a resolution took it back and a reopening, the
        # key was taken and the card kept the step before; found by review.)
        why=f"level:{blocker.escalation_level}:{now.isoformat()}",
    )


def get(*, session: Session, blocker_id: int, lock: bool = False) -> Blocker:
    """A blocker by id, open or not; SprintError when there is none. `lock`: its row held
    until the transaction ends, for a change decided on what it holds (two clicks at
    once: the second sees the first's change, as on SQLite, whose one writer waits)."""
    blocker = queries.blocker_by_id(session=session, blocker_id=blocker_id, lock=lock)
    if blocker is None:
        raise SprintError(f"There is no blocker B-{blocker_id:03d}. `/blocker list` shows them.")
    return blocker


def by_code(*, session: Session, code: str) -> Blocker:
    """The blocker a person names ("B-007": its number within the session's team, which is
    not its row id once several teams share the table); SprintError when there is none."""
    number = parse_code(code)
    # A team's blockers number in the hundreds: read them rather than add a query for one.
    found = next(
        (
            b
            for b in [
                *queries.open_blockers(session=session),
                *queries.resolved_blockers(session=session),
            ]
            if (b.number or b.id) == number
        ),
        None,
    )
    if found is None:
        raise SprintError(f"There is no blocker B-{number:03d}. `/blocker list` shows them.")
    return found


def get_open(*, session: Session, blocker_id: int, lock: bool = False) -> Blocker:
    """An open blocker by id; SprintError when there is none or it is resolved."""
    blocker = get(session=session, blocker_id=blocker_id, lock=lock)
    if blocker.resolved_at is not None:
        raise SprintError(f"{blocker.code} was already resolved by <@{blocker.resolved_by}>.")
    return blocker


def escalate_now(
    *,
    session: Session,
    sprint: Sprint,
    blocker_id: int,
    user_id: str,
    now: datetime,
    directory: Directory = no_directory,
    shown: int | None = None,
) -> Blocker:
    """ "Escalate now": the next step at once (anyone on the team). `shown`: the step the
    clicked message showed; a blocker past it was escalated since (a second click on the
    same message), and is not escalated again."""
    blocker = get_open(session=session, blocker_id=blocker_id, lock=True)
    permissions.require_role(sprint, Action.ESCALATE, user_id, directory, blocker=blocker)
    if shown is not None and blocker.escalation_level > shown:
        level = blocker.escalation_level
        raise SprintError(
            f"{blocker.code} was escalated meanwhile, to step {level} of {len(sprint.escalation)}"
            f" ({step_name(sprint, level)}); nothing more was done. Click again to go further."
        )
    if blocker.escalation_level >= len(sprint.escalation):
        raise SprintError(f"{blocker.code} is already at the last step of the escalation path.")
    _fire_step(
        session=session,
        sprint=sprint,
        blocker=blocker,
        index=blocker.escalation_level,
        actor=user_id,
        now=now,
    )
    _show_level(session=session, sprint=sprint, blocker=blocker, now=now)
    session.flush()
    return blocker


def take_ownership(
    *,
    session: Session,
    sprint: Sprint,
    blocker_id: int,
    user_id: str,
    now: datetime,
    directory: Directory = no_directory,
    shown_owner: str | None = None,
) -> Blocker:
    """Acknowledge: the clicker owns the blocker now. Taking it from another owner is a
    reassignment (`permissions.Action.REASSIGN`). `shown_owner`: the owner the clicked
    message showed ("" none); one who took it since is not silently replaced."""
    blocker = get_open(session=session, blocker_id=blocker_id, lock=True)
    previous = blocker.owner
    if previous == user_id:
        raise SprintError(f"You already own {blocker.code}.")
    if shown_owner is not None and previous is not None and previous != shown_owner:
        raise SprintError(
            f"<@{previous}> took {blocker.code} meanwhile; nothing was changed. Click again "
            "to take it over."
        )
    permissions.require_role(sprint, Action.REASSIGN, user_id, directory, blocker=blocker)
    blocker.owner = user_id
    blocker.acknowledged_by, blocker.acknowledged_at = user_id, now
    audit(
        session=session,
        blocker=blocker,
        action="acknowledged",
        actor=user_id,
        now=now,
        previous_owner=previous,
    )
    refresh_message(
        session=session,
        sprint=sprint,
        blocker=blocker,
        now=now,
        why=f"owner:{user_id}:{now.isoformat()}",
    )
    session.flush()
    return blocker


def change_severity(
    *,
    session: Session,
    sprint: Sprint,
    blocker: Blocker,
    severity: str,
    user_id: str,
    now: datetime,
) -> None:
    """Set a blocker's severity (its reporter's standup raised or lowered it): audited, and
    its message shows it."""
    if severity == blocker.severity:
        return
    was, blocker.severity = blocker.severity, severity
    audit(
        session=session,
        blocker=blocker,
        action="severity",
        actor=user_id,
        now=now,
        was=was,
        severity=severity,
    )
    refresh_message(
        session=session, sprint=sprint, blocker=blocker, now=now, why=f"severity:{now.isoformat()}"
    )
    session.flush()


def reopen(
    *,
    session: Session,
    sprint: Sprint,
    blocker_id: int,
    user_id: str,
    now: datetime,
    directory: Directory = no_directory,
    reason: str = "",
) -> Blocker:
    """Reopen a resolved blocker (`permissions.Action.REOPEN`), saying why if `reason`
    does; its path goes on."""
    blocker = get(session=session, blocker_id=blocker_id, lock=True)
    if blocker.resolved_at is None:
        raise SprintError(f"{blocker.code} is open.")
    permissions.require_role(sprint, Action.REOPEN, user_id, directory, blocker=blocker)
    why = reason.strip()
    if len(why) > MAX_DESCRIPTION:
        raise SprintError(f"Keep the reason under {MAX_DESCRIPTION} characters.")
    storable.check(why)
    blocker.resolved_at = blocker.resolved_by = blocker.resolution = None
    details = {"reason": why} if why else {}
    audit(session=session, blocker=blocker, action="reopened", actor=user_id, now=now, **details)
    said: ReopenReason = {"reason": why} if why else {}
    data: BlockerReopened = {
        **card(session=session, sprint=sprint, blocker=blocker, now=now),
        **said,
        "reopened_by": user_id,
    }
    post(
        session=session,
        key=f"{message_key(blocker)}:reopened:{now.isoformat()}",
        spec=BLOCKER_STEP,
        data=data,
        now=now,
        parent_key=live_card(session=session, sprint=sprint, blocker=blocker, now=now),
    )
    refresh_message(
        session=session, sprint=sprint, blocker=blocker, now=now, why=f"reopened:{now.isoformat()}"
    )
    session.flush()
    return blocker


def resolvable(
    *,
    session: Session,
    sprint: Sprint,
    blocker_id: int,
    user_id: str,
    directory: Directory = no_directory,
    lock: bool = False,
) -> Blocker:
    """The open blocker `user_id` may resolve (the rule of its button, its form, `/blocker
    resolve` and the standup); SprintError or NotAllowed saying why not."""
    blocker = get_open(session=session, blocker_id=blocker_id, lock=lock)
    permissions.require_role(sprint, Action.RESOLVE, user_id, directory, blocker=blocker)
    return blocker


def resolved_times(*, session: Session, blocker_id: int) -> int:
    """How often a blocker has been resolved (a reopened one, once more each time)."""
    return resolved_counts(session=session, blocker_ids=[blocker_id])[blocker_id]


def resolved_counts(*, session: Session, blocker_ids: Collection[int]) -> dict[int, int]:
    """`resolved_times` of many blockers at once (one query), by id."""
    return queries.event_counts(
        session=session, subject="blocker", subject_ids=blocker_ids, action="resolved"
    )


def resolve(
    *,
    session: Session,
    sprint: Sprint,
    blocker_id: int,
    user_id: str,
    note: str,
    now: datetime,
    directory: Directory = no_directory,
    via: str = "blocker",
    resolved_before: int | None = None,
) -> Blocker:
    """Resolve with a note: the one way a blocker is resolved, from its button, `/blocker
    resolve` or a standup (`via`). Checked by `resolvable`; audited; a note in
    its thread and its message updated. `resolved_before`: how often it had been resolved
    when the form was opened (`resolved_times`): resolved since, it is not resolved again
    (a form left open across a resolution and a reopening closed the reopened blocker
    again, with the old note; found by review)."""
    blocker = resolvable(
        session=session,
        sprint=sprint,
        blocker_id=blocker_id,
        user_id=user_id,
        directory=directory,
        lock=True,
    )
    text = note.strip()
    if storable.blank(text):  # (a zero-width space resolved it with no word; found by review)
        raise SprintError(
            f"Say how {blocker.code} was resolved: `/blocker resolve {blocker.code} what fixed it`."
        )
    if len(text) > MAX_DESCRIPTION:
        raise SprintError(f"Keep the resolution under {MAX_DESCRIPTION} characters.")
    storable.check(text)
    # A reopened blocker resolved again gets a note and an update of its own.
    times = resolved_times(session=session, blocker_id=blocker_id)
    if resolved_before is not None and times != resolved_before:
        raise SprintError(
            f"{blocker.code} was resolved and reopened since this form was opened: nothing "
            "was changed. Resolve it again from its message if it is resolved now."
        )
    suffix = "resolved" if times == 0 else f"resolved:{times + 1}"
    blocker.resolved_at, blocker.resolved_by, blocker.resolution = now, user_id, text
    if (blocker.request_key or "").startswith("blocker-cmd:"):
        blocker.request_key = None  # the same command may file it anew
    audit(
        session=session,
        blocker=blocker,
        action="resolved",
        actor=user_id,
        now=now,
        note=text,
        via=via,
    )
    # Its escalation steps still waiting to go are taken back: queued while Slack was down,
    # they called the next person and the team's meeting for it after it was resolved
    # (found by review).
    steps = f"{message_key(blocker)}:step:"
    waiting = [
        int(m.key.rpartition(steps)[2].split(":")[0])
        for m in queries.keyed_messages(session=session, key_prefix=steps)
        # (One being sent is taken back too unless that attempt goes through: reopened, a
        # step that went is not sent again, its key's, and one that did not is; found by
        # review.)
        if m.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
    ]
    queries.withdraw(session=session, key_prefix=steps)
    # Its level goes back over the tail of steps taken back, from its top step down, the
    # first too: reopened, they are due again (it read "step 3 of 3" with steps 2 and 3
    # never called; a first step taken back was never called; found by review).
    was = blocker.escalation_level
    while blocker.escalation_level > 0 and blocker.escalation_level - 1 in waiting:
        blocker.escalation_level -= 1
    if blocker.escalation_level != was:
        # (Its level changed now: an earlier instant's is its audit trail's, as it stood
        # then; read from the row, `?at=` of a time at step 3 said 1; found by review.)
        blocker.escalated_at = now
    data = blocker_data(sprint, blocker, now)  # (resolved: it shows how long it took)
    post(
        session=session,
        key=f"{message_key(blocker)}:{suffix}",
        spec=BLOCKER_RESOLVED,
        data=data,
        now=now,
        parent_key=live_card(session=session, sprint=sprint, blocker=blocker, now=now),
    )
    refresh_message(session=session, sprint=sprint, blocker=blocker, now=now, why=suffix)
    session.flush()
    return blocker

"""The risk matrix (the seed's "Risk Tracking Matrix"): entries, status history, and links
from blockers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypedDict, final

from sqlmodel import Session

from jobs import blockers, figures, storable
from jobs.config import Sprint, is_user_id
from jobs.errors import FieldErrors, SprintError
from jobs.messages import Spec, Template
from jobs.notices import post
from storage import queries
from storage.models import Risk

LEVELS = ("High", "Medium", "Low")
STATUSES = ("Critical", "Active", "Mitigated", "Resolved")
STATUS_EMOJI = {
    "Critical": ":red_circle:",
    "Active": ":large_yellow_circle:",
    "Mitigated": ":large_green_circle:",
    "Resolved": ":white_circle:",
}
MAX_TEXT = 2000
_CODE = re.compile(r"^R-?0*(\d{1,9})$", re.IGNORECASE)


def code(risk: Risk) -> str:
    return risk.code


def parse_code(text: str) -> int:
    """ "R-003", "r3" → 3; SprintError otherwise."""
    m = _CODE.match(text.strip())
    if not m:
        raise SprintError(f'"{text}" is not a risk id; they look like R-003.')
    return int(m.group(1))


@dataclass(frozen=True)
class RiskFields:
    description: str
    impact: str
    probability: str
    mitigation: str
    owner: str | None
    status: str


class RiskField(StrEnum):
    """Fields of the risk form: its block ids, and the keys `field_errors` returns."""

    DESCRIPTION = "description"
    IMPACT = "impact"
    PROBABILITY = "probability"
    MITIGATION = "mitigation"
    OWNER = "owner"
    STATUS = "status"


def field_errors(fields: RiskFields) -> dict[str, str]:
    """What is wrong with each field, by RiskField ({} when nothing is)."""
    errors: dict[str, str] = {}
    if storable.blank(fields.description):
        errors[RiskField.DESCRIPTION] = "Describe the risk."
    elif len(fields.description) > MAX_TEXT:
        errors[RiskField.DESCRIPTION] = f"Keep the description under {MAX_TEXT} characters."
    elif why := storable.problem(fields.description):
        errors[RiskField.DESCRIPTION] = why
    if len(fields.mitigation) > MAX_TEXT:
        errors[RiskField.MITIGATION] = f"Keep the mitigation under {MAX_TEXT} characters."
    elif why := storable.problem(fields.mitigation):
        errors[RiskField.MITIGATION] = why
    # A user picker: only a forged payload gets here (its text was written into the
    # message as a mention: `<!channel>` pinged the channel; found by review).
    if fields.owner and not is_user_id(fields.owner):
        errors[RiskField.OWNER] = "Pick the owner from the list."
    for name, value, allowed in (
        (RiskField.IMPACT, fields.impact, LEVELS),
        (RiskField.PROBABILITY, fields.probability, LEVELS),
        (RiskField.STATUS, fields.status, STATUSES),
    ):
        if value not in allowed:
            errors[name] = f'"{value}" is not one of {", ".join(allowed)}.'
    return errors


def _check(fields: RiskFields) -> None:
    FieldErrors.raise_any(field_errors(fields))


def get(*, session: Session, risk_id: int) -> Risk:
    """A risk by id; SprintError when there is none."""
    risk = queries.risk_by_id(session=session, risk_id=risk_id)
    if risk is None:
        raise SprintError(f"There is no risk R-{risk_id:03d}. `/risk list` shows the register.")
    return risk


def by_code(*, session: Session, code: str) -> Risk:
    """The risk a person names ("R-003": its number within the session's team, not its row
    id); SprintError when there is none."""
    number = parse_code(code)
    found = next(
        (r for r in queries.all_risks(session=session) if (r.number or r.id) == number), None
    )
    if found is None:
        raise SprintError(f"There is no risk R-{number:03d}. `/risk list` shows the register.")
    return found


class AlreadyAdded(SprintError):
    """A second submission of the form that added `risk` (a double click, a retry)."""

    def __init__(self, risk: Risk) -> None:
        self.risk = risk
        super().__init__(
            f":information_source: Already added as {code(risk)}; nothing new was added."
        )


def view_key(view_id: str) -> str:
    """The request key of a risk form: Slack delivers a double click with one view id."""
    return f"risk-view:{view_id}"[:200]


def create(
    *,
    session: Session,
    sprint: Sprint,
    fields: RiskFields,
    user_id: str,
    now: datetime,
    request_key: str | None = None,
) -> Risk:
    """Add a risk to the register and announce it in the team channel.

    AlreadyAdded (and nothing recorded or posted) when `request_key` added one already."""
    _check(fields)
    risk = Risk(
        description=fields.description.strip(),
        impact=fields.impact,
        probability=fields.probability,
        mitigation=fields.mitigation.strip() or None,
        owner=fields.owner,
        status=fields.status,
        created_by=user_id,
        created_at=now,
        updated_at=now,
        request_key=request_key,
    )
    if (stored := queries.add_risk(session=session, risk=risk)) is not risk:
        raise AlreadyAdded(stored)
    rid = risk.id or 0
    queries.audit(
        session=session,
        subject="risk",
        subject_id=rid,
        action="created",
        actor=user_id,
        at=now,
        status=risk.status,
    )
    post(
        session=session,
        key=f"risk:{rid}:created",
        spec=RISK_CHANGE,
        data=RiskAdded(**risk_data(risk), user=user_id, change="created"),
        now=now,
        channel=sprint.channels.team,
    )
    session.flush()
    return risk


def update(
    *,
    session: Session,
    sprint: Sprint,
    risk_id: int,
    fields: RiskFields,
    user_id: str,
    now: datetime,
    opened_on: str | None = None,
    request_key: str | None = None,
) -> Risk:
    """Edit a risk; a status change is posted in the team channel and kept as history.
    `opened_on`: the edit its form was opened on (its `updated_at`); after another since,
    SprintError: saving it would put back what the other changed — unless that one was
    this same form's (`request_key`: Submit pressed again, as it was or corrected), whose
    edit this one takes on from."""
    _check(fields)
    risk = get(session=session, risk_id=risk_id)
    own = False
    if opened_on is not None and opened_on != risk.updated_at.isoformat():
        last = queries.last_event(session=session, subject="risk", subject_id=risk_id)
        # (Its own earlier save was called a conflict; then a corrected one was dropped
        # as a repeat: found by review.)
        own = (
            request_key is not None
            and last is not None
            and (last.actor, last.detail.get("request")) == (user_id, request_key)
        )
        if not own:
            raise SprintError(
                f"{risk.code} was changed since you opened this form: saving it would undo that. "
                f"Copy what you wrote, close the form and open `/risk update {risk.code}` again."
            )
    old_status = risk.status
    before = {f: getattr(risk, f) for f in figures.RISK_FIELDS}
    after = {
        "description": fields.description.strip(),
        "impact": fields.impact,
        "probability": fields.probability,
        "mitigation": fields.mitigation.strip() or None,
        "owner": fields.owner,
        "status": fields.status,
    }
    if own and after == before:
        return risk  # the same again: saved already
    for name, value in after.items():
        setattr(risk, name, value)
    risk.updated_at = now
    changed = old_status != risk.status
    queries.audit(
        session=session,
        subject="risk",
        subject_id=risk_id,
        action="status" if changed else "updated",
        actor=user_id,
        at=now,
        old=old_status,
        new=risk.status,
        # Every field it changed, [old, new]: a past instant shows the risk as it was.
        changes={f: [v, getattr(risk, f)] for f, v in before.items() if v != getattr(risk, f)},
        **({"request": request_key} if request_key is not None else {}),
    )
    if changed:
        post(
            session=session,
            key=f"risk:{risk_id}:status:{now.isoformat()}",
            spec=RISK_CHANGE,
            data=RiskStatusChanged(
                **risk_data(risk), user=user_id, change="status", old=old_status
            ),
            now=now,
            channel=sprint.channels.team,
        )
    session.flush()
    return risk


class RiskMessage(TypedDict):
    """A risk as its messages show it."""

    id: int | None
    code: str
    description: str
    impact: str
    probability: str
    mitigation: str | None
    owner: str | None
    status: str


@final
class RiskAdded(RiskMessage):
    """Template.RISK_CHANGE when `user` added the risk."""

    user: str
    change: Literal["created"]


@final
class RiskStatusChanged(RiskMessage):
    """Template.RISK_CHANGE when `user` changed the risk's status from `old`."""

    user: str
    change: Literal["status"]
    old: str


RiskChange = RiskAdded | RiskStatusChanged
RISK_CHANGE: Spec[RiskChange] = Spec(Template.RISK_CHANGE)


def risk_data(risk: Risk) -> RiskMessage:
    return {
        "id": risk.id,
        "code": code(risk),
        "description": risk.description,
        "impact": risk.impact,
        "probability": risk.probability,
        "mitigation": risk.mitigation,
        "owner": risk.owner,
        "status": risk.status,
    }


def link_blocker(
    *,
    session: Session,
    sprint: Sprint,
    blocker_id: int,
    risk_id: int,
    user_id: str,
    now: datetime,
) -> None:
    """Tie a blocker to the risk it realises: its message then names the risk."""
    blocker = blockers.get_open(session=session, blocker_id=blocker_id)
    risk = get(session=session, risk_id=risk_id)
    blocker.risk_id = risk.id
    blockers.audit(
        session=session, blocker=blocker, action="linked", actor=user_id, now=now, risk=code(risk)
    )
    session.flush()
    links = queries.count_events(
        session=session, subject="blocker", subject_id=blocker_id, action="linked"
    )
    blockers.refresh_message(
        session=session,
        sprint=sprint,
        blocker=blocker,
        now=now,
        # Each link its own update (the links counted): linked back to a risk it was
        # linked to before, the update's key was taken and the message kept the other
        # risk (found by review).
        why=f"risk:{risk.id}:link-{links}",
    )
    session.flush()

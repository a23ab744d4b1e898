"""Alerts and notices as data (a TypedDict per message), queued in the outbox with their
template and version (jobs.messages); the bot renders them when it sends (bot.blocks)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict, TypeVar, cast

from sqlmodel import Session

from jobs.causes import CauseGroup, group
from jobs.config import Sprint, format_duration
from jobs.errors import SprintError
from jobs.messages import UNVERSIONED, VERSIONS, Spec, payload
from jobs.messages import Template as Template  # re-exported until every importer moves
from jobs.numbers import ImpactData as Impact
from jobs.numbers import change
from jobs.owners import OwnerMap, union
from storage import queries
from storage.models import Alert, OutboxStatus
from storage.queries import quarantine as quarantine_store

# Above this many tests an alert shows a count; the full list goes in its thread.
ALERT_INLINE_TESTS = 10
LIST_CHUNK = 40  # tests per thread reply (each reply stays within Block Kit limits)


class ReadinessMove(TypedDict):
    score: float | None
    previous: float | None


class TestRef(TypedDict):
    """A test as a report's reply and its alert name it."""

    id: str
    classname: str
    name: str
    file: str | None
    component: str | None


class RegressedTest(TestRef):
    message: NotRequired[str | None]


class AlertContext(TypedDict):
    """The CI run behind a regression alert."""

    commit: str | None
    branch: str
    url: str | None
    run: str
    report: int
    readiness: ReadinessMove
    impact: NotRequired[Impact | None]  # missing from rows queued before it existed


class Acknowledged(TypedDict):
    user: str
    at: str


class AlertState(TypedDict):
    """What an alert's own message shows once someone took it, or once it is resolved."""

    acknowledged: NotRequired[Acknowledged]
    resolved: NotRequired[Mapping[str, object]]
    quarantined: NotRequired[Acknowledged]  # its tests, by whom (its Quarantine button)


class RegressionFields(AlertContext):
    count: int
    tests: list[RegressedTest]
    ack_within: str
    # Every regressed test's owners once, and the owners of each test in `tests` by id
    # (Slack IDs, jobs.owners); missing when no test has an owner, and from older rows.
    owners: NotRequired[list[str]]
    owned: NotRequired[dict[str, list[str]]]
    # All the tests' causes (jobs.causes), most tests first; missing from older rows.
    causes: NotRequired[list[CauseGroup]]


class RegressionAlert(RegressionFields):
    alert_id: int


class RegressionShown(RegressionAlert, AlertState):
    """The alert's message as re-rendered when someone takes it or it resolves."""


class RegressionList(TypedDict):
    """One thread reply of a long alert's list: `tests` from `start` of `count`."""

    tests: list[RegressedTest]
    start: int
    count: int


class AlertResolved(TypedDict):
    count: int | None
    commit: str | None
    url: str | None
    report: int


class AlertFollowup(TypedDict):
    kind: str
    tech_lead: list[str]
    waited: str
    owners: NotRequired[list[str]]  # pinged instead of the tech lead when there are any


class UserCount(TypedDict):
    """Who took an alert (alert_acked)."""

    user: str


class MutedTests(UserCount):
    """Who muted an alert's tests as flaky, and how many."""

    count: int
    owners: NotRequired[list[str]]  # the muted tests' owners, told their tests are muted


class FellComponent(TypedDict):
    name: str
    before: float
    after: float
    weight: float
    why: str | None


class DeclineFields(TypedDict):
    before: float
    after: float
    lost: float
    components: list[FellComponent]
    within: str


class DeclineNotice(DeclineFields):
    alert_id: int


class DeclineShown(DeclineNotice, AlertState):
    """The notice as re-rendered once someone called the emergency standup."""


class EmergencyStandup(DeclineNotice):
    user: str
    by: str
    timezone: str


class PerformanceFields(TypedDict):
    """A benchmark past its target (queued by jobs.ingest)."""

    metric: str
    label: str
    value: float
    target: float
    unit: str | None
    better: str
    beyond_target_percent: float | None  # None past a target of 0
    commit: str | None
    tolerance: float


class PerformanceAlert(PerformanceFields):
    ack_within: str
    alert_id: int


class PerformanceShown(PerformanceAlert, AlertState):
    """The alert as re-rendered when someone takes it or it resolves."""


REGRESSION_ALERT: Spec[RegressionShown] = Spec(Template.REGRESSION_ALERT)
REGRESSION_LIST: Spec[RegressionList] = Spec(Template.REGRESSION_LIST)
REGRESSION_EMAIL: Spec[RegressionAlert] = Spec(Template.REGRESSION_EMAIL)
ALERT_RESOLVED: Spec[AlertResolved] = Spec(Template.ALERT_RESOLVED)
ALERT_FOLLOWUP: Spec[AlertFollowup] = Spec(Template.ALERT_FOLLOWUP)
ALERT_ACKED: Spec[UserCount] = Spec(Template.ALERT_ACKED)
TESTS_MUTED: Spec[MutedTests] = Spec(Template.TESTS_MUTED)
DECLINE_NOTICE: Spec[DeclineShown] = Spec(Template.DECLINE_NOTICE)
EMERGENCY_STANDUP: Spec[EmergencyStandup] = Spec(Template.EMERGENCY_STANDUP)
PERFORMANCE_ALERT: Spec[PerformanceShown] = Spec(Template.PERFORMANCE_ALERT)
PERFORMANCE_RESOLVED: Spec[PerformanceFields] = Spec(Template.PERFORMANCE_RESOLVED)
PERFORMANCE_EMAIL: Spec[PerformanceAlert] = Spec(Template.PERFORMANCE_EMAIL)

T = TypeVar("T")
# A resolved alert's reply: a regression's or a benchmark's.
Resolved = TypeVar("Resolved", AlertResolved, PerformanceFields)


class AlertKind(StrEnum):
    REGRESSION = "regression"
    DECLINE = "decline"
    PERFORMANCE = "performance"


def live_key(*, session: Session, key: str) -> tuple[str, bool]:
    """The key of a message meant once per `key` (a day's report, a day's standup message)
    and whether it is queued already: `key` itself, unless Slack refused it for good (its
    channel archived, private without the bot, missing); then the next of `key:again-1`, …
    (after the fix the day's message is queued again, and what hangs under it goes too);
    so too where it was withdrawn (a blocker's step taken back at its resolution, due again
    once it is reopened)."""
    first = key
    for attempt in itertools.count(1):
        queued = queries.outbox_message(session=session, key=key)
        if queued is None:
            return key, False
        # (Taken back before it went, as one refused for good: it went to no one. Deleted
        # in Slack since: its edits were refused for good, every one; found by review.)
        gone = (queued.last_error or "").startswith(queries.GONE)
        if queued.status not in (OutboxStatus.FAILED, OutboxStatus.WITHDRAWN) and not gone:
            return key, True
        key = f"{first}:again-{attempt}"
    raise AssertionError("unreachable")  # pragma: no cover


def post_live(
    *,
    session: Session,
    key: str,
    spec: Spec[T],
    data: Callable[[], T],
    now: datetime,
    channel: str,
) -> str:
    """Queue the message meant once per `key` in `channel` unless it is queued already
    (`live_key`: again where Slack refused it for good, so what hangs under it is not all
    lost with it); its key, for what goes in its thread. `data` is asked only if posted."""
    live, queued = live_key(session=session, key=key)
    if not queued:
        post(session=session, key=live, spec=spec, data=data(), now=now, channel=channel)
    return live


def unused_key(*, session: Session, key: str) -> str:
    """`key`, or the first of `key:2`, `key:3`, … not queued yet: for a message queued
    again each time its data changes, however close together."""
    found = key
    for n in itertools.count(2):
        if queries.outbox_message(session=session, key=found) is None:
            return found
        found = f"{key}:{n}"
    raise AssertionError("unreachable")  # pragma: no cover


def queued_data(*, session: Session, key: str) -> dict[str, Any]:
    """The data of the message queued under `key`: {} where there is none, or retention
    emptied its payload."""
    row = queries.outbox_message(session=session, key=key)
    data = (row.payload or {}).get("data") if row is not None else None
    return data if isinstance(data, dict) else {}


def post(
    *,
    session: Session,
    key: str,
    spec: Spec[T],
    data: T,
    now: datetime,
    channel: str | None = None,
    parent_key: str | None = None,
    update: bool = False,
    version: int | None = None,
) -> bool:
    """Queue a message: to `channel`, or in the thread of (or replacing) `parent_key`'s;
    `version`: the data's, when it is not the current one (an alert's stored data).
    False when `key` was queued already (by this or a concurrent transaction)."""
    args = {} if channel is None else {"channel": channel}
    return (
        queries.enqueue(
            session=session,
            key=key,
            method="chat.update" if update else "chat.postMessage",
            payload=payload(spec, data, version=version, **args),
            now=now,
            parent_key=parent_key,
        )
        is not None
    )


def email(
    *,
    session: Session,
    sprint: Sprint,
    key: str,
    spec: Spec[T],
    data: T,
    now: datetime,
) -> None:
    """Queue an e-mail copy to `alerts.email_to`, when the sprint file names anyone. It
    names its sprint (and team, of several): in Slack an alert sits in its team's channel,
    an e-mail has nothing else to go by (two teams' alerts to one on-call address read
    the same, found by review)."""
    if sprint.alerts.email_to:
        mail = cast(Mapping[str, Any], data)
        whose = cast(T, {**mail, "sprint": sprint.sprint.name, "team": sprint.shown_team})
        queries.enqueue(
            session=session,
            key=key,
            method="email.send",
            payload=payload(spec, whose, to=list(sprint.alerts.email_to)),
            now=now,
        )


# -- regressions -------------------------------------------------------------------------


def regression_alert(
    *,
    session: Session,
    sprint: Sprint,
    report_id: int,
    tests: list[RegressedTest],
    context: AlertContext,
    now: datetime,
) -> Alert:
    """One bundled alert for a report's regressions, to the team channel, naming each
    test's owners."""
    key = f"regression:{report_id}"
    owner_of = OwnerMap(sprint)
    owned = {t["id"]: owner_of(t["file"], t["classname"]) for t in tests}
    owners = union(owned.values())
    fields: RegressionFields = {
        **context,
        "count": len(tests),
        "tests": tests[:ALERT_INLINE_TESTS],
        "ack_within": format_duration(sprint.alerts.regression_ack),
        "causes": group(tests, sprint.causes),
        "owners": owners,
        "owned": {t["id"]: owned[t["id"]] for t in tests[:ALERT_INLINE_TESTS] if owned[t["id"]]},
    }
    if not owners:  # an alert without owners stays as it was
        del fields["owners"], fields["owned"]
    alert = queries.add_alert(
        session=session,
        alert=Alert(
            kind=AlertKind.REGRESSION,
            key=key,
            report_id=report_id,
            created_at=now,
            payload=dict(fields),
        ),
    )
    data: RegressionAlert = {**fields, "alert_id": alert.id or 0}
    # A new alert's message: no state (acknowledged, resolved) yet.
    shown: RegressionShown = {**data, **AlertState()}
    announce(
        session=session, sprint=sprint, alert=alert, spec=REGRESSION_ALERT, data=shown, now=now
    )
    if len(tests) > ALERT_INLINE_TESTS:
        for n, start in enumerate(range(0, len(tests), LIST_CHUNK)):
            post(
                session=session,
                key=f"{key}:list:{n}",
                spec=REGRESSION_LIST,
                data=RegressionList(
                    tests=tests[start : start + LIST_CHUNK], start=start, count=len(tests)
                ),
                now=now,
                parent_key=key,
            )
    email(
        session=session,
        sprint=sprint,
        key=f"{key}:email",
        spec=REGRESSION_EMAIL,
        data=RegressionAlert({**data, "tests": tests}),
        now=now,
    )
    return alert


def resolve_alert(
    *,
    session: Session,
    alert: Alert,
    reply: Spec[Resolved],
    data: Resolved,
    now: datetime,
) -> None:
    """The alert's cause is gone: say so in its thread (`reply`: ALERT_RESOLVED or
    PERFORMANCE_RESOLVED) and mark the message resolved."""
    alert.resolved_at = now
    post(
        session=session,
        key=f"{alert.key}:resolved",
        spec=reply,
        data=data,
        now=now,
        parent_key=alert.key,
    )
    update_alert_message(
        session=session, alert=alert, change={"resolved": data}, suffix="resolved:update", now=now
    )
    session.flush()


def update_alert_message(
    *,
    session: Session,
    alert: Alert,
    change: AlertState,
    suffix: str,
    now: datetime,
    drop: Sequence[str] = (),
) -> None:
    """Re-render the alert's own message with `change` (acknowledged, resolved, ...) and
    without the states in `drop`, at the version its stored data was written in (the
    registry upgrades or refuses it). The row keeps what the message now shows, so the
    next change adds to it ("is on it" re-rendered the alert as first posted, and the
    line saying its tests were quarantined was gone; found by review)."""
    version, data = stored_data(alert)
    shown = {k: v for k, v in {**data, **change}.items() if k not in drop}
    alert.payload = shown if version == UNVERSIONED else {**shown, "v": version}
    post(
        session=session,
        key=f"{alert.key}:{suffix}",
        spec=_spec_of(alert),
        data=shown,
        now=now,
        parent_key=alert.key,
        update=True,
        version=version,
    )


def announce(
    *, session: Session, sprint: Sprint, alert: Alert, spec: Spec[T], data: T, now: datetime
) -> None:
    """Post a new alert to the team channel; its row keeps the message's data (with its id)
    and that data's version, so that a later update re-renders the same message."""
    version = VERSIONS[spec.template]
    # Without "v" the data is version 1's, as in a queued row (and rows stored before).
    stored = dict(cast(Mapping[str, object], data))
    alert.payload = stored if version == UNVERSIONED else {**stored, "v": version}
    post(
        session=session, key=alert.key, spec=spec, data=data, now=now, channel=sprint.channels.team
    )


def stored_data(alert: Alert) -> tuple[int, dict[str, Any]]:
    """(version, data) of the message an alert row keeps: rows written before versions
    were stored hold version 1's shape."""
    data = dict(alert.payload)
    return int(data.pop("v", UNVERSIONED)), data


Owned = TypeVar("Owned", AlertFollowup, MutedTests)


def _with_owners(data: Owned, alert: Alert) -> Owned:
    """A reply in a regression alert's thread with the owners the alert named, if any."""
    owners = alert.payload.get("owners") if alert.kind == AlertKind.REGRESSION else None
    if isinstance(owners, list) and owners:
        data["owners"] = [str(o) for o in owners]
    return data


def _owners_now(
    *, session: Session, sprint: Sprint, data: Owned, alert: Alert, now: datetime
) -> Owned:
    """A follow-up's owners: of the alert's tests still failing and not in quarantine at
    `now` (the owner of a test quarantined since was pinged about a test that never alerts;
    found by review); the alert's own where its tests are not known any more."""
    tests = queries.alert_tests(session=session, alert_id=alert.id or 0)
    stored = alert.payload.get("owners")
    if not tests or not isinstance(stored, list) or (not sprint.owners and not sprint.codeowners):
        return _with_owners(data, alert)
    held = {
        q.test_id
        for q, _ in quarantine_store.open_quarantines(
            session=session, test_ids=[t.id or 0 for t in tests], at=now
        )
    }
    owner_map = OwnerMap(sprint)
    owners = union(owner_map(t.file, t.classname) for t in tests if t.id not in held)
    if set(owners) == set(stored):
        return _with_owners(data, alert)  # (as the alert listed them)
    if owners:
        data["owners"] = sorted(owners)
    return data


def _spec_of(alert: Alert) -> Spec[Any]:
    # The row's JSON has no static type: its stored version is what vouches for its shape.
    specs: dict[AlertKind, Spec[Any]] = {
        AlertKind.REGRESSION: REGRESSION_ALERT,
        AlertKind.DECLINE: DECLINE_NOTICE,
        AlertKind.PERFORMANCE: PERFORMANCE_ALERT,
    }
    return specs[AlertKind(alert.kind)]


# -- buttons -----------------------------------------------------------------------------


def acknowledge(*, session: Session, alert_id: int, user_id: str, now: datetime) -> Alert:
    """ "I'm on it": record who took the alert; the message shows it. Its row is locked
    first: of people clicking at once one takes it, the others are told who."""
    alert = queries.alert_by_id(session=session, alert_id=alert_id, for_update=True)
    if alert is None:
        raise SprintError("That alert no longer exists.")
    if alert.resolved_at is not None:
        raise SprintError("That alert is resolved already: there is nothing to take on.")
    if alert.acknowledged_by is not None:
        raise SprintError(f"<@{alert.acknowledged_by}> is already on it.")
    _taken(session=session, alert=alert, user_id=user_id, now=now)
    post(
        session=session,
        key=f"{alert.key}:ack:reply",
        spec=ALERT_ACKED,
        data=UserCount(user=user_id),
        now=now,
        parent_key=alert.key,
    )
    session.flush()
    return alert


def call_emergency_standup(
    *, session: Session, sprint: Sprint, alert_id: int, user_id: str, now: datetime
) -> Alert:
    """The decline notice's button: post the call to the team channel and record it."""
    alert = queries.alert_by_id(session=session, alert_id=alert_id, for_update=True)
    if alert is None or alert.kind != AlertKind.DECLINE:
        raise SprintError("That notice no longer exists.")
    if alert.acknowledged_by is not None:
        raise SprintError(f"<@{alert.acknowledged_by}> already called the emergency standup.")
    deadline = now + sprint.alerts.decline_ack
    version, notice = _decline_of(alert)
    standup: EmergencyStandup = {
        **notice,
        "user": user_id,
        "by": deadline.isoformat(),
        "timezone": sprint.sprint.timezone,
        "within": format_duration(sprint.alerts.decline_ack),  # the window as configured now
    }
    post(
        session=session,
        key=f"{alert.key}:standup",
        spec=EMERGENCY_STANDUP,
        data=standup,
        now=now,
        channel=sprint.channels.team,
        version=version,  # its data is the notice's: the two templates' versions go together
    )
    _taken(session=session, alert=alert, user_id=user_id, now=now)
    session.flush()
    return alert


def _taken(*, session: Session, alert: Alert, user_id: str, now: datetime) -> None:
    """Record who took the alert (so nobody is pinged again); its message shows them."""
    alert.acknowledged_by = user_id
    alert.acknowledged_at = now
    update_alert_message(
        session=session,
        alert=alert,
        suffix="ack",
        now=now,
        change={"acknowledged": {"user": user_id, "at": now.isoformat()}},
    )


# -- decline -----------------------------------------------------------------------------


def _decline_of(alert: Alert) -> tuple[int, DeclineNotice]:
    """The decline notice's data and its version as its alert row stored them (JSON,
    written by decline_notice below)."""
    version, data = stored_data(alert)
    # (Without what its message showed since: taken, resolved.)
    notice = {k: v for k, v in data.items() if k not in AlertState.__annotations__}
    return version, cast(DeclineNotice, notice)


def decline_notice(
    *,
    session: Session,
    sprint: Sprint,
    snapshot_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
    causes: dict[str, str],
    now: datetime,
) -> Alert | None:
    """Readiness fell below the previous snapshot: say by how much, where and why."""
    old, new = before.get("score"), after.get("score")
    if old is None or new is None or new >= old - 0.005:
        return None
    old_scores = {c["name"]: c["score"] for g in before.get("groups", []) for c in g["components"]}
    fell: list[FellComponent] = []
    for g in after.get("groups", []):
        for c in g["components"]:
            prev = old_scores.get(c["name"])
            if prev is not None and c["score"] is not None and c["score"] < prev - 0.005:
                fell.append(
                    {
                        "name": c["name"],
                        "before": prev,
                        "after": c["score"],
                        "weight": c["weight"],
                        "why": causes.get(c["name"], c["detail"]),
                    }
                )
    key = f"decline:{snapshot_id}"
    data: DeclineFields = {
        "before": old,
        "after": new,
        "lost": change(new, old),  # (as the two are shown)
        "components": fell,
        "within": format_duration(sprint.alerts.decline_ack),
    }
    alert = queries.add_alert(
        session=session,
        alert=Alert(kind=AlertKind.DECLINE, key=key, created_at=now, payload=dict(data)),
    )
    notice: DeclineShown = {**data, **AlertState(), "alert_id": alert.id or 0}
    announce(session=session, sprint=sprint, alert=alert, spec=DECLINE_NOTICE, data=notice, now=now)
    session.flush()
    return alert


# -- follow-ups --------------------------------------------------------------------------


def follow_up(*, session: Session, sprint: Sprint, now: datetime) -> int:
    """Re-ping alerts nobody acknowledged in time, mentioning the owners of a regression's
    tests, or the tech lead when they have none. Returns how many."""
    windows = {
        AlertKind.REGRESSION: sprint.alerts.regression_ack,
        AlertKind.PERFORMANCE: sprint.alerts.performance_ack,
    }
    count = 0
    for kind, window in windows.items():
        for alert in queries.alerts_to_follow_up(
            session=session, kind=kind, created_before=now - window
        ):
            if kind is AlertKind.REGRESSION and queries.quarantined_whole(
                session=session, alert_id=alert.id or 0, at=now
            ):
                continue  # answered: its tests set apart (released, they alert again)
            sent = queries.outbox_message(session=session, key=alert.key)
            if sent is not None and (sent.sent_at is None or sent.sent_at > now - window):
                # Its window counts from when the channel saw it: held by a Slack outage,
                # it was followed up the moment it arrived (found by review).
                continue
            alert.followed_up_at = now
            post(
                session=session,
                key=f"{alert.key}:followup",
                spec=ALERT_FOLLOWUP,
                data=_owners_now(
                    session=session,
                    sprint=sprint,
                    data=AlertFollowup(
                        kind=str(kind),
                        tech_lead=sprint.role("tech_lead"),
                        waited=format_duration(window),
                    ),
                    alert=alert,
                    now=now,
                ),
                now=now,
                parent_key=alert.key,
            )
            count += 1
    session.flush()
    return count

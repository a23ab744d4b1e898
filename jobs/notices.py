"""Alerts and notices as data, queued in the outbox; the bot renders them when it sends.

Each queued message names a `Template` and carries plain JSON data, so this module knows
nothing of Block Kit and a message waiting while Slack is down is rendered by the newest
code when it finally goes out.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from jobs.config import Sprint, format_duration
from jobs.errors import SprintError
from storage import queries
from storage.models import Alert

# Above this many tests an alert shows a count; the full list goes in its thread.
ALERT_INLINE_TESTS = 10
LIST_CHUNK = 40  # tests per thread reply (each reply stays within Block Kit limits)


class Template(StrEnum):
    REGRESSION_ALERT = "regression_alert"
    REGRESSION_LIST = "regression_list"
    REGRESSION_EMAIL = "regression_email"
    ALERT_RESOLVED = "alert_resolved"
    ALERT_FOLLOWUP = "alert_followup"
    ALERT_ACKED = "alert_acked"
    TESTS_MUTED = "tests_muted"
    DECLINE_NOTICE = "decline_notice"
    EMERGENCY_STANDUP = "emergency_standup"
    PERFORMANCE_ALERT = "performance_alert"
    PERFORMANCE_RESOLVED = "performance_resolved"
    STANDUP_DAY = "standup_day"
    STANDUP_REPLY = "standup_reply"
    STANDUP_PROMPT = "standup_prompt"
    STANDUP_REMINDER = "standup_reminder"
    BLOCKER = "blocker"
    BLOCKER_STEP = "blocker_step"
    BLOCKER_RESOLVED = "blocker_resolved"
    RISK_CHANGE = "risk_change"
    DAILY_REPORT = "daily_report"
    CHANGE_LIST = "change_list"
    BURNDOWN_CHART = "burndown_chart"
    WEEKLY_REPORT = "weekly_report"
    SPRINT_REVIEW = "sprint_review"
    SIGNOFF = "signoff"
    APP_HOME = "app_home"


class AlertKind(StrEnum):
    REGRESSION = "regression"
    DECLINE = "decline"
    PERFORMANCE = "performance"


def post(
    *,
    session: Session,
    key: str,
    template: Template,
    data: dict[str, Any],
    now: datetime,
    channel: str | None = None,
    parent_key: str | None = None,
    update: bool = False,
) -> bool:
    """Queue a message: to `channel`, or in the thread of (or replacing) `parent_key`'s.
    False when `key` was queued already (by this or a concurrent transaction)."""
    payload: dict[str, Any] = {"template": str(template), "data": data}
    if channel is not None:
        payload["channel"] = channel
    return (
        queries.enqueue(
            session=session,
            key=key,
            method="chat.update" if update else "chat.postMessage",
            payload=payload,
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
    template: Template,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Queue an e-mail copy to `alerts.email_to`, when the sprint file names anyone."""
    if sprint.alerts.email_to:
        queries.enqueue(
            session=session,
            key=key,
            method="email.send",
            payload={"template": str(template), "data": data, "to": list(sprint.alerts.email_to)},
            now=now,
        )


# -- regressions -------------------------------------------------------------------------


def regression_alert(
    *,
    session: Session,
    sprint: Sprint,
    report_id: int,
    tests: list[dict[str, Any]],
    context: dict[str, Any],
    now: datetime,
) -> Alert:
    """One bundled alert for a report's regressions, to the team channel."""
    key = f"regression:{report_id}"
    data = {
        **context,
        "count": len(tests),
        "tests": tests[:ALERT_INLINE_TESTS],
        "ack_within": format_duration(sprint.alerts.regression_ack),
    }
    alert = queries.add_alert(
        session=session,
        alert=Alert(
            kind=AlertKind.REGRESSION,
            key=key,
            report_id=report_id,
            created_at=now,
            payload=dict(data),
        ),
    )
    data["alert_id"] = alert.id
    alert.payload = dict(data)
    post(
        session=session,
        key=key,
        template=Template.REGRESSION_ALERT,
        data=data,
        now=now,
        channel=sprint.channels.team,
    )
    if len(tests) > ALERT_INLINE_TESTS:
        for n, start in enumerate(range(0, len(tests), LIST_CHUNK)):
            post(
                session=session,
                key=f"{key}:list:{n}",
                template=Template.REGRESSION_LIST,
                data={
                    "tests": tests[start : start + LIST_CHUNK],
                    "start": start,
                    "count": len(tests),
                },
                now=now,
                parent_key=key,
            )
    email(
        session=session,
        sprint=sprint,
        key=f"{key}:email",
        template=Template.REGRESSION_EMAIL,
        data={**data, "tests": tests},
        now=now,
    )
    return alert


def resolve_alert(
    *,
    session: Session,
    alert: Alert,
    data: dict[str, Any],
    now: datetime,
    reply: Template = Template.ALERT_RESOLVED,
) -> None:
    """The alert's cause is gone: say so in its thread and mark the message resolved."""
    alert.resolved_at = now
    session.add(alert)
    post(
        session=session,
        key=f"{alert.key}:resolved",
        template=reply,
        data=data,
        now=now,
        parent_key=alert.key,
    )
    update_alert_message(
        session=session, alert=alert, change={"resolved": data}, suffix="resolved:update", now=now
    )
    session.flush()


def update_alert_message(
    *, session: Session, alert: Alert, change: dict[str, Any], suffix: str, now: datetime
) -> None:
    """Re-render the alert's own message with `change` (acknowledged, resolved, ...)."""
    post(
        session=session,
        key=f"{alert.key}:{suffix}",
        template=_template_of(alert),
        data={**alert.payload, **change},
        now=now,
        parent_key=alert.key,
        update=True,
    )


def _template_of(alert: Alert) -> Template:
    return {
        AlertKind.REGRESSION: Template.REGRESSION_ALERT,
        AlertKind.DECLINE: Template.DECLINE_NOTICE,
        AlertKind.PERFORMANCE: Template.PERFORMANCE_ALERT,
    }[AlertKind(alert.kind)]


# -- buttons -----------------------------------------------------------------------------


def acknowledge(*, session: Session, alert_id: int, user_id: str, now: datetime) -> Alert:
    """ "I'm on it": record who took the alert; the message shows it."""
    alert = queries.alert_by_id(session=session, alert_id=alert_id)
    if alert is None:
        raise SprintError("That alert no longer exists.")
    if alert.acknowledged_by is not None:
        raise SprintError(f"<@{alert.acknowledged_by}> is already on it.")
    alert.acknowledged_by = user_id
    alert.acknowledged_at = now
    session.add(alert)
    update_alert_message(
        session=session,
        alert=alert,
        suffix="ack",
        now=now,
        change={"acknowledged": {"user": user_id, "at": now.isoformat()}},
    )
    post(
        session=session,
        key=f"{alert.key}:ack:reply",
        template=Template.ALERT_ACKED,
        data={"user": user_id},
        now=now,
        parent_key=alert.key,
    )
    session.flush()
    return alert


def mute_as_flaky(*, session: Session, alert_id: int, user_id: str, now: datetime) -> int:
    """ "Mute as flaky": the alert's tests stop alerting; their failures count as flaky."""
    alert = queries.alert_by_id(session=session, alert_id=alert_id)
    if alert is None or alert.kind != AlertKind.REGRESSION:
        raise SprintError("That alert no longer exists.")
    muted = queries.mute_tests(session=session, alert_id=alert_id)
    post(
        session=session,
        key=f"{alert.key}:muted:{user_id}:{now.isoformat()}",
        template=Template.TESTS_MUTED,
        data={"user": user_id, "count": muted},
        now=now,
        parent_key=alert.key,
    )
    return muted


def call_emergency_standup(
    *, session: Session, sprint: Sprint, alert_id: int, user_id: str, now: datetime
) -> Alert:
    """The decline notice's button: post the call to the team channel and record it."""
    alert = queries.alert_by_id(session=session, alert_id=alert_id)
    if alert is None or alert.kind != AlertKind.DECLINE:
        raise SprintError("That notice no longer exists.")
    if alert.acknowledged_by is not None:
        raise SprintError(f"<@{alert.acknowledged_by}> already called the emergency standup.")
    alert.acknowledged_by = user_id
    alert.acknowledged_at = now
    session.add(alert)
    deadline = now + sprint.alerts.decline_ack
    post(
        session=session,
        key=f"{alert.key}:standup",
        template=Template.EMERGENCY_STANDUP,
        data={
            **alert.payload,
            "user": user_id,
            "by": deadline.isoformat(),
            "timezone": sprint.sprint.timezone,
            "within": format_duration(sprint.alerts.decline_ack),
        },
        now=now,
        channel=sprint.channels.team,
    )
    update_alert_message(
        session=session,
        alert=alert,
        suffix="ack",
        now=now,
        change={"acknowledged": {"user": user_id, "at": now.isoformat()}},
    )
    session.flush()
    return alert


# -- decline -----------------------------------------------------------------------------


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
    fell = []
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
    data = {
        "before": old,
        "after": new,
        "lost": round(old - new, 2),
        "components": fell,
        "within": format_duration(sprint.alerts.decline_ack),
    }
    alert = queries.add_alert(
        session=session,
        alert=Alert(kind=AlertKind.DECLINE, key=key, created_at=now, payload=data),
    )
    alert.payload = {**data, "alert_id": alert.id}
    post(
        session=session,
        key=key,
        template=Template.DECLINE_NOTICE,
        data=alert.payload,
        now=now,
        channel=sprint.channels.team,
    )
    session.flush()
    return alert


# -- follow-ups --------------------------------------------------------------------------


def follow_up(*, session: Session, sprint: Sprint, now: datetime) -> int:
    """Re-ping alerts nobody acknowledged in time, mentioning the tech lead. Returns how many."""
    windows = {
        AlertKind.REGRESSION: sprint.alerts.regression_ack,
        AlertKind.PERFORMANCE: sprint.alerts.performance_ack,
    }
    count = 0
    for kind, window in windows.items():
        for alert in queries.alerts_to_follow_up(
            session=session, kind=kind, created_before=now - window
        ):
            alert.followed_up_at = now
            session.add(alert)
            post(
                session=session,
                key=f"{alert.key}:followup",
                template=Template.ALERT_FOLLOWUP,
                data={
                    "kind": str(kind),
                    "tech_lead": sprint.role("tech_lead"),
                    "waited": format_duration(window),
                },
                now=now,
                parent_key=alert.key,
            )
            count += 1
    session.flush()
    return count

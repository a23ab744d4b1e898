"""The buttons on alerts: "I'm on it", "Quarantine", "Call emergency standup"; and the
flaky notice's "Quarantine".

Each records the click and then acknowledges (milliseconds of work, well within Slack's
3 s), so the acknowledgement means it is stored; a refusal goes back privately."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.blocks.common import local_time, plural
from bot.context import AppContext
from bot.payloads import button_int, button_ints
from bot.people import directory
from jobs import notices, permissions, quarantine
from jobs.numbers import row_id
from jobs.permissions import Action


def on_ack(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    with app.write() as session:
        notices.acknowledge(
            session=session, alert_id=button_int(body), user_id=body["user"]["id"], now=app.now()
        )
    ack()


def on_mute(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    """The alert's "Quarantine" button: its failing tests set apart as flaky."""

    def put(session: Session, app: AppContext, user_id: str) -> quarantine.Quarantined:
        return quarantine.quarantine_alert(
            session=session,
            sprint=app.sprint,
            alert_id=button_int(body),
            user_id=user_id,
            now=app.now(),
        )

    _quarantine_click(ack, body, context, respond, client, put)


def on_flaky_quarantine(
    ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, client: WebClient
) -> None:
    """The flaky notice's "Quarantine" button: the tests it names set apart (the ids in
    its value, or those its notice holds: `report:N`)."""
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    report = row_id(value.removeprefix("report:")) if value.startswith("report:") else None
    ids = [] if report is not None else button_ints(body)

    def put(session: Session, app: AppContext, user_id: str) -> quarantine.Quarantined:
        named = ids if report is None else quarantine.notice_tests(session=session, report=report)
        return quarantine.quarantine_flaky(
            session=session, sprint=app.sprint, test_ids=named, user_id=user_id, now=app.now()
        )

    _quarantine_click(ack, body, context, respond, client, put)


def _quarantine_click(
    ack: Ack,
    body: dict[str, Any],
    context: BoltContext,
    respond: Respond,
    client: WebClient,
    put: Callable[[Session, AppContext, str], quarantine.Quarantined],
) -> None:
    """A Quarantine button: for those `permissions.Action.MUTE` allows; stored, then
    acknowledged, and the clicker told until when."""
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    permissions.require_role(app.sprint, Action.MUTE, user_id, directory(client))
    with app.write() as session:
        done = put(session, app, user_id)
    ack()
    respond(
        text=_said(done, app.sprint.sprint.tz), response_type="ephemeral", replace_original=False
    )


def _said(done: quarantine.Quarantined, tz: tzinfo) -> str:
    parts = []
    if done.added:
        parts.append(f"Quarantined {plural(done.added, 'test')}")
    if done.extended:
        parts.append(f"{'extended' if parts else 'Extended'} {plural(done.extended, 'test')}")
    said = f"{' and '.join(parts)} until {local_time(done.until, tz)}." if parts else ""
    if done.kept:
        kept = f"{plural(done.kept, 'test')} in quarantine already, left as {_as(done.kept)}."
        said = f"{said} {kept}" if said else kept[0].upper() + kept[1:]
    return said


def _as(count: int) -> str:
    return "it was" if count == 1 else "they were"


def on_emergency_standup(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    # As the Open standup button: no standup to call between sprints (an old notice clicked
    # after the end called the team to meet for a sprint that was over, found by review).
    app.require_running()
    with app.write() as session:
        notices.call_emergency_standup(
            session=session,
            sprint=app.sprint,
            alert_id=button_int(body),
            user_id=body["user"]["id"],
            now=app.now(),
        )
    ack()

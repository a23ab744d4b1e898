"""The buttons on alerts: "I'm on it", "Mute as flaky", "Call emergency standup".

Each records the click and then acknowledges (milliseconds of work, well within Slack's
3 s), so the acknowledgement means it is stored; a refusal goes back privately."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.context import AppContext
from bot.payloads import button_int
from bot.people import directory
from jobs import notices, permissions
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
    app: AppContext = context["app"]
    # The button is the only way to mute; the rule is `permissions.Action.MUTE`.
    permissions.require_role(app.sprint, Action.MUTE, body["user"]["id"], directory(client))
    with app.write() as session:
        muted = notices.mute_as_flaky(
            session=session, alert_id=button_int(body), user_id=body["user"]["id"], now=app.now()
        )
    ack()
    respond(
        text=f"Muted {muted} test{'s' if muted != 1 else ''} as flaky.",
        response_type="ephemeral",
        replace_original=False,
    )


def on_emergency_standup(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    with app.write() as session:
        notices.call_emergency_standup(
            session=session,
            sprint=app.sprint,
            alert_id=button_int(body),
            user_id=body["user"]["id"],
            now=app.now(),
        )
    ack()

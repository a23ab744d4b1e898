"""The buttons on a blocker: Take ownership, Escalate now, Resolve."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.listeners.commands.blocker import resolve_form
from bot.payloads import button_int
from bot.people import directory
from jobs import blockers, permissions


def on_ack(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    with app.db.session() as session:
        blockers.take_ownership(
            session=session,
            sprint=app.sprint,
            blocker_id=button_int(body),
            user_id=body["user"]["id"],
            now=app.now(),
            directory=directory(client),
        )
        session.commit()
    ack()
    app.notify_outbox()


def on_escalate(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    with app.db.session() as session:
        blockers.escalate_now(
            session=session,
            sprint=app.sprint,
            blocker_id=button_int(body),
            user_id=body["user"]["id"],
            now=app.now(),
            directory=directory(client),
        )
        session.commit()
    ack()
    app.notify_outbox()


def on_resolve(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open the resolution form for those who may resolve (the form's submission checks
    again: the same rule, in `blockers.resolve`)."""
    app: AppContext = context["app"]
    blocker_id = button_int(body)
    with app.db.read() as session:
        blocker = blockers.get_open(session=session, blocker_id=blocker_id)
    permissions.check_resolve(app.sprint, blocker, body["user"]["id"], directory(client))
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=resolve_form(blocker_id, blocker.code))

"""The buttons on a blocker: Take ownership, Escalate now, Resolve."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.listeners.commands.blocker import may_manage, resolve_form
from bot.payloads import button_int
from jobs import blockers
from jobs.errors import SprintError


def on_ack(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    with app.db.session() as session:
        blockers.take_ownership(
            session=session,
            sprint=app.sprint,
            blocker_id=button_int(body),
            user_id=user_id,
            allowed=may_manage(client, app.sprint, user_id),
            now=app.now(),
        )
        session.commit()
    ack()
    app.notify_outbox()


def on_escalate(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    with app.db.session() as session:
        blockers.escalate_now(
            session=session,
            sprint=app.sprint,
            blocker_id=button_int(body),
            user_id=body["user"]["id"],
            now=app.now(),
        )
        session.commit()
    ack()
    app.notify_outbox()


def on_resolve(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    blocker_id = button_int(body)
    with app.db.session() as session:
        blocker = blockers.get_open(session=session, blocker_id=blocker_id)
    if not (
        user_id in (blocker.owner, blocker.reported_by) or may_manage(client, app.sprint, user_id)
    ):
        raise SprintError(
            f"Only {blocker.code}'s owner, its reporter, the tech lead or an admin can resolve it."
        )
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=resolve_form(blocker_id, blocker.code))

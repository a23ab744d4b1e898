"""The buttons on a blocker: Take ownership, Escalate now, Resolve."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.blockers import resolve_form
from bot.context import AppContext
from bot.payloads import button_int
from bot.people import directory
from jobs import blockers


def on_ack(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    with app.write() as session:
        blockers.take_ownership(
            session=session,
            sprint=app.sprint,
            blocker_id=button_int(body),
            user_id=body["user"]["id"],
            now=app.now(),
            directory=directory(client),
        )
    ack()


def on_escalate(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    with app.write() as session:
        blockers.escalate_now(
            session=session,
            sprint=app.sprint,
            blocker_id=button_int(body),
            user_id=body["user"]["id"],
            now=app.now(),
            directory=directory(client),
        )
    ack()


def on_resolve(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open the resolution form for those who may resolve (the form's submission checks
    again: `blockers.resolve` applies the same `blockers.resolvable`)."""
    app: AppContext = context["app"]
    blocker_id = button_int(body)
    with app.db.read() as session:
        blocker = blockers.resolvable(
            session=session,
            sprint=app.sprint,
            blocker_id=blocker_id,
            user_id=body["user"]["id"],
            directory=directory(client),
        )
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=resolve_form(blocker_id, blocker.code))

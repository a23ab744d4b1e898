"""Submissions of the blocker form and the resolution form."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.listeners.commands.blocker import may_manage
from bot.payloads import view_values
from jobs import blockers
from jobs.errors import SprintError


def on_file(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    values = view_values(view)
    errors = blockers.field_errors(
        sprint=app.sprint,
        component=str(values.get("component") or ""),
        description=str(values.get("description") or ""),
        severity=str(values.get("severity") or ""),
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with app.db.session() as session:
        blockers.file_blocker(
            session=session,
            sprint=app.sprint,
            component=str(values["component"]),
            description=str(values["description"]),
            severity=str(values["severity"]),
            reporter=body["user"]["id"],
            owner=values.get("owner") or None,
            target=values.get("target") or None,
            now=app.now(),
        )
        session.commit()
    ack()
    app.notify_outbox()


def on_resolve(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    blocker_id = int(json.loads(view.get("private_metadata") or "{}").get("blocker", 0))
    note = str(view_values(view).get("note") or "")
    try:
        with app.db.session() as session:
            blockers.resolve(
                session=session,
                sprint=app.sprint,
                blocker_id=blocker_id,
                user_id=user_id,
                note=note,
                allowed=may_manage(client, app.sprint, user_id),
                now=app.now(),
            )
            session.commit()
    except SprintError as exc:
        ack(response_action="errors", errors={"note": str(exc)})
        return
    ack()
    app.notify_outbox()

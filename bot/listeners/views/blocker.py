"""Submissions of the blocker form and the resolution form."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.context import AppContext
from bot.payloads import view_values
from bot.people import directory
from jobs import blockers
from jobs.errors import SprintError


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something: what a repeated submission is answered with."""
    return View(
        type="modal",
        title=title,
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    ).to_dict()


def on_file(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    values = view_values(view)
    errors = blockers.field_errors(
        sprint=app.sprint,
        component=str(values.get("component") or ""),
        description=str(values.get("description") or ""),
        severity=str(values.get("severity") or ""),
        target=str(values.get("target") or ""),
        owner=str(values.get("owner") or ""),
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
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
                # Slack delivers a double click (or its own retry) with the same view id.
                request_key=blockers.view_key(view["id"]) if view.get("id") else None,
            )
            session.commit()
    except blockers.AlreadyFiled as exc:
        ack(response_action="update", view=notice_view("Report a blocker", str(exc)))
        return
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
                now=app.now(),
                directory=directory(client),
            )
            session.commit()
    except SprintError as exc:
        ack(response_action="errors", errors={"note": str(exc)})
        return
    ack()
    app.notify_outbox()

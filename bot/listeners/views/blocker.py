"""Submissions of the blocker form and the resolution form."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.common import notice_view
from bot.context import AppContext
from bot.payloads import view_values
from bot.people import directory_for
from jobs import blockers
from jobs.blockers import BlockerField, ResolveField
from jobs.errors import FieldErrors, SprintError
from jobs.permissions import Action
from storage import queries


def on_file(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    values = view_values(view)
    # The Owner field's block id names the owner it suggests (`owner-U…`), so that Slack
    # shows a new suggestion when another component is picked (bot.blocks.blockers).
    for block_id in [k for k in values if k.startswith(f"{BlockerField.OWNER}-")]:
        values[BlockerField.OWNER] = values.pop(block_id)
    errors = blockers.field_errors(
        sprint=app.sprint,
        component=str(values.get(BlockerField.COMPONENT) or ""),
        description=str(values.get(BlockerField.DESCRIPTION) or ""),
        severity=str(values.get(BlockerField.SEVERITY) or ""),
        target=str(values.get(BlockerField.TARGET) or ""),
        owner=str(values.get(BlockerField.OWNER) or ""),
    )
    FieldErrors.raise_any(errors)
    try:
        with app.write() as session:
            blockers.file_blocker(
                session=session,
                sprint=app.sprint,
                component=str(values[BlockerField.COMPONENT]),
                description=str(values[BlockerField.DESCRIPTION]),
                severity=str(values[BlockerField.SEVERITY]),
                reporter=body["user"]["id"],
                owner=values.get(BlockerField.OWNER) or None,
                target=values.get(BlockerField.TARGET) or None,
                now=app.now(),
                # Slack delivers a double click (or its own retry) with the same view id.
                request_key=blockers.view_key(view["id"]) if view.get("id") else None,
            )
    except blockers.AlreadyFiled as exc:
        ack(response_action="update", view=notice_view("Report a blocker", str(exc)))
        return
    ack()


def on_resolve(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    meta = json.loads(view.get("private_metadata") or "{}")
    blocker_id = int(meta.get("blocker", 0))
    before = meta.get("resolved")  # (a form opened before it was sent: None)
    note = str(view_values(view).get(ResolveField.NOTE) or "")
    members = directory_for(
        client,
        db=app.db,
        sprint=app.sprint,
        rule=Action.RESOLVE,
        user_id=user_id,
        blockers=lambda s: [queries.blocker_by_id(session=s, blocker_id=blocker_id)],
    )
    try:
        with app.write() as session:
            blockers.resolve(
                session=session,
                sprint=app.sprint,
                blocker_id=blocker_id,
                user_id=user_id,
                note=note,
                now=app.now(),
                directory=members,
                resolved_before=before if isinstance(before, int) else None,
            )
    except SprintError as exc:
        # The form has one field: every refusal (who may, an empty note) is shown under it.
        raise FieldErrors({ResolveField.NOTE: str(exc)}) from exc
    ack()

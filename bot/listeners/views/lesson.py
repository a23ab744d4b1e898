"""The lessons-learned modal: stored, and the review draft refreshed in place."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.context import AppContext
from bot.payloads import view_values
from jobs import review, storable
from jobs.errors import SprintError


def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    values = view_values(view)
    if why := storable.problem(str(values.get("text") or "")):
        ack(response_action="errors", errors={"text": why})
        return
    try:
        kind, text = review.parse_lesson(values.get("kind"), values.get("text"))
    except SprintError as exc:
        field = "kind" if "kind" in str(exc) else "text"
        ack(response_action="errors", errors={field: str(exc)})
        return
    with app.db.session() as session:
        review.add_lesson(
            session=session,
            sprint=app.sprint,
            kind=kind,
            text=text,
            author=body["user"]["id"],
            now=app.now(),
        )
        session.commit()
    ack()
    app.notify_outbox()

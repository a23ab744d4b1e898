"""The lessons-learned modal: stored, and the review draft refreshed in place."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from bot.context import AppContext
from bot.payloads import view_values
from jobs import review, storable
from jobs.errors import FieldErrors, SprintError


def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    values = view_values(view)
    if why := storable.problem(str(values.get(review.LessonField.TEXT) or "")):
        raise FieldErrors({review.LessonField.TEXT: why})
    try:
        kind, text = review.parse_lesson(
            values.get(review.LessonField.KIND), values.get(review.LessonField.TEXT)
        )
    except SprintError as exc:
        field = review.LessonField.KIND if "kind" in str(exc) else review.LessonField.TEXT
        raise FieldErrors({field: str(exc)}) from exc
    with app.write() as session:
        review.add_lesson(
            session=session,
            sprint=app.sprint,
            kind=kind,
            text=text,
            author=body["user"]["id"],
            now=app.now(),
            request_key=f"lesson-view:{view['id']}"[:200] if view.get("id") else None,
        )
    ack()

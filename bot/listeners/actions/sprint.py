"""Buttons of the sprint's reports: sign off a milestone; add a lesson to the review."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

from bot.context import AppContext
from bot.ids import View as ViewId
from bot.people import directory
from jobs import milestones, permissions, review
from jobs.errors import SprintError
from jobs.notices import Template
from storage import queries


def on_signoff(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Record the clicker's sign-off for the button's role, then update the request."""
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    day_text, _, role = str(body["actions"][0].get("value") or "").partition(":")
    if not day_text.isdigit() or not role:
        raise SprintError("That button is not attached to a milestone sprintbot knows.")
    permissions.check_sign_off(app.sprint, role, user_id, directory(client))
    now = app.now()
    fig = app.ready.figures(now)  # sign-offs change no figure
    with app.db.session() as session:
        milestone = milestones.sign_off(
            session=session,
            sprint=app.sprint,
            day=int(day_text),
            role=role,
            user_id=user_id,
            now=now,
        )
        measures = milestones.measure(session=session, sprint=app.sprint, now=now, fig=fig)
        data = milestones.milestone_data(session=session, milestone=milestone, measures=measures)
        container = body.get("container") or {}
        queries.enqueue(
            session=session,
            key=f"signed:{milestone.day}:{role}",
            method="chat.update",
            payload={
                "template": str(Template.SIGNOFF),
                "data": data,
                "channel": container.get("channel_id") or (body.get("channel") or {}).get("id"),
                "ts": container.get("message_ts") or (body.get("message") or {}).get("ts"),
            },
            now=now,
        )
        session.commit()
    ack()
    app.notify_outbox()


def lesson_form() -> dict[str, Any]:
    kinds = [Option(value=str(k), text=t) for k, t in review.LESSON_TITLES.items()]
    return View(
        type="modal",
        callback_id=ViewId.LESSON,
        title="Lesson learned",
        submit="Add",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="kind",
                label="Kind",
                element=StaticSelectElement(
                    action_id="value", options=kinds, initial_option=kinds[0]
                ),
            ),
            InputBlock(
                block_id="text",
                label="Lesson",
                element=PlainTextInputElement(
                    action_id="value", multiline=True, max_length=review.LESSON_CHARS
                ),
            ),
        ],
    ).to_dict()


def on_lesson_add(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=lesson_form())

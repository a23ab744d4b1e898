"""Buttons of the sprint's reports: sign off a milestone; add a lesson to the review."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.acks import open_form
from bot.blocks.review import lesson_form
from bot.context import AppContext
from bot.people import directory
from bot.routing import button_value, with_team
from jobs import milestones, permissions
from jobs.errors import SprintError
from jobs.numbers import row_id
from jobs.permissions import Action


def on_signoff(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Record the clicker's sign-off for the button's role, then update the request."""
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    day_text, _, role = button_value(body).partition(":")
    if row_id(day_text) is None or not role:
        raise SprintError("That button is not attached to a milestone sprintbot knows.")
    permissions.require_role(app.sprint, Action.SIGN_OFF, user_id, directory(client), role=role)
    now = app.now()
    fig = app.ready.figures(now)  # sign-offs change no figure
    container = body.get("container") or {}
    with app.write() as session:
        milestones.record_signoff(
            session=session,
            sprint=app.sprint,
            day=int(day_text),
            role=role,
            user_id=user_id,
            now=now,
            fig=fig,
            channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        )
    ack()


def on_lesson_add(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    ack()
    # The form goes to the sprint of the review it was opened from (app.sprint: the
    # button's), wherever its submission comes after the next sprint started.
    view = with_team(lesson_form(), app.team, app.sprint)
    open_form(client, body["trigger_id"], view)

"""The "Open standup" button of the daily prompt."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.acks import open_form
from bot.context import AppContext
from bot.listeners.commands.standup import standup_view
from bot.routing import with_team


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    app.require_running()  # a prompt clicked between sprints: said privately, no form
    view = with_team(standup_view(app, client, body["user"]["id"]), app.team, app.sprint)
    ack()
    open_form(client, body["trigger_id"], view)

"""The buttons of the "which team?" answer: run the command again for the team chosen."""

from __future__ import annotations

import inspect
import json
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from bot.listeners.commands import HANDLERS
from jobs.errors import SprintError


def on_pick(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """As if the user had typed `/cmd team text`: the middleware has routed the click to the
    button's team; the command's answer replaces the choice (ephemeral, as typed it is)."""
    action = (body.get("actions") or [{}])[0]
    try:
        data = json.loads(str(action.get("value") or ""))
    except ValueError:
        data = None
    handler = HANDLERS.get(str(data.get("command"))) if isinstance(data, dict) else None
    if handler is None or not isinstance(data, dict):
        raise SprintError("That button is not attached to a command sprintbot knows.")
    command = {
        "command": data["command"],
        "text": str(data.get("text") or ""),
        "user_id": body["user"]["id"],
        "channel_id": (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id"),
        "trigger_id": body.get("trigger_id"),
        "response_url": body.get("response_url"),
    }
    acked = answered = False

    def answer(*_: Any, **message: Any) -> None:
        nonlocal acked, answered
        if not acked:
            acked = True
            ack()
        if message.get("text") or message.get("blocks"):
            message.pop("response_type", None)
            respond(**message, response_type="ephemeral", replace_original=True)
            answered = True

    given = {"ack": answer, "command": command, "context": context, "client": client}
    names = inspect.signature(handler).parameters
    result = handler(**{n: v for n, v in given.items() if n in names})
    if isinstance(result, BoltResponse) and result.body:
        answer(**json.loads(result.body))
    else:
        answer()
    if not answered:  # a form opened: the question has had its answer
        respond(delete_original=True)

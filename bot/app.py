"""The Bolt app factory: one App per process, built from settings, never at import."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.context import AppContext
from bot.identity import BotAuthorize
from bot.listeners import register_listeners
from bot.messages import reply
from bot.outbox import make_client
from bot.settings import Settings
from jobs.config import Sprint
from jobs.errors import SprintError
from storage.db import Database

log = logging.getLogger(__name__)

GENERIC_ERROR = "Sorry, something went wrong on sprintbot's side; it has been logged. Try again."


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    sprint: Sprint,
    db: Database,
    client: WebClient | None = None,
    now: Callable[[], datetime] = _utcnow,
    notify_outbox: Callable[[], None] = lambda: None,
    authorize: BotAuthorize | None = None,
) -> App:
    """Build the Bolt app: signature verification, context middleware, listeners, errors.

    Requests are authorized from memory (`bot.identity`), never by a call to Slack, so
    commands are answered while Slack's API is down."""
    token = settings.secret("SLACK_BOT_TOKEN")
    client = client or make_client(token, settings.SLACK_API_URL)
    app = App(
        # Bolt gives each request a copy of this client with the token `authorize` returns.
        client=WebClient(
            base_url=client.base_url, timeout=client.timeout, retry_handlers=client.retry_handlers
        ),
        signing_secret=settings.secret("SLACK_SIGNING_SECRET"),
        authorize=authorize or BotAuthorize(client, token),
        logger=logging.getLogger("bot.bolt"),
    )
    shared = AppContext(
        settings=settings, sprint=sprint, db=db, now=now, notify_outbox=notify_outbox
    )

    @app.middleware
    def _inject(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["app"] = shared
        return next()

    register_listeners(app)

    @app.error
    def _on_error(
        error: Exception,
        request: BoltRequest,
        response: BoltResponse | None,
        respond: Any,
    ) -> BoltResponse | None:
        # An error may quote the user's input ("<!channel>" is not a blocker id): shown as
        # typed, never a mention or a link.
        message = reply(str(error)) if isinstance(error, SprintError) else GENERIC_ERROR
        if not isinstance(error, SprintError):
            log.error("listener failed: %r", error, exc_info=error)
        if response is not None and request.body.get("command"):
            # A slash command not yet acknowledged: the answer goes in the acknowledgement.
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", "text": message}),
                headers={"content-type": "application/json;charset=utf-8"},
            )
        if respond is not None and request.context.response_url:
            respond(text=message, response_type="ephemeral", replace_original=False)
        return BoltResponse(status=200, body="") if response is not None else None

    return app

"""The Bolt app factory: one App per process, built from settings, never at import."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.acks import ELSEWHERE, JSON_HEADERS, ON_LOOP, answer_error, respond_after_ack
from bot.blocks.common import Message, notice_view
from bot.context import AppContext, Contexts
from bot.identity import BotAuthorize
from bot.ids import Action
from bot.listeners import register_listeners
from bot.listeners.commands import WORDS
from bot.members import TeamMembers, WouldWait
from bot.outbox import Respond, make_client
from bot.routing import (
    ChannelNames,
    gone_sprint,
    gone_team,
    route,
    stated_sprint,
    which_team,
)
from bot.settings import Settings
from jobs.config import Sprint, Team
from jobs.numbers import utcnow
from jobs.ready import Ready
from storage import queries
from storage.db import Database

log = logging.getLogger(__name__)


class _Called(Middleware):
    """A middleware function given its arguments directly: Bolt's function middleware
    finds them by name on every request (4-5 % more acknowledgements a second, 50 at once,
    and a p99 ~3 ms lower, in alternating runs beside bare Bolt)."""

    def __init__(self, func: Callable[..., BoltResponse]) -> None:
        self.func = func

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,  # noqa: ARG002  (Bolt's signature)
        next: Callable[[], BoltResponse],
    ) -> BoltResponse:
        return self.func(req.body, req.context, next)


def create_app(
    settings: Settings,
    *,
    sprint: Sprint,
    db: Database,
    client: WebClient | None = None,
    now: Callable[[], datetime] = utcnow,
    notify_outbox: Callable[[], None] = lambda: None,
    authorize: BotAuthorize | None = None,
    ready: Ready | None = None,
    contexts: Contexts | None = None,
) -> App:
    """Build the Bolt app: signature verification, context middleware, listeners, errors.

    Requests are authorized from memory (`bot.identity`), never by a call to Slack, so
    commands are answered while Slack's API is down. Bolt answers when a listener function
    returns (`process_before_response`); listeners that go on after acknowledging run as
    `bot.acks` says."""
    token = settings.secret("SLACK_BOT_TOKEN")
    client = client or make_client(token, settings.SLACK_API_URL)
    app = App(
        name="sprintbot",  # (unnamed, Bolt reads its caller's file name off inspect.stack())
        # Bolt gives each request a copy of this client with the token `authorize` returns.
        client=WebClient(
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            retry_handlers=client.retry_handlers,
        ),
        signing_secret=settings.secret("SLACK_SIGNING_SECRET"),
        authorize=authorize or BotAuthorize(client, token),
        logger=logging.getLogger("bot.bolt"),
        process_before_response=True,
    )
    shared = AppContext.of(
        settings, sprint=sprint, db=db, now=now, notify_outbox=notify_outbox, ready=ready
    )

    names = ChannelNames(client)
    members = TeamMembers(client, contexts.teams) if contexts is not None else None

    def _inject(
        body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        if context.response_url:  # (Bolt's own respond() does not retry a 5xx)
            context["respond"] = Respond(context.response_url)
        if contexts is None:
            context["app"] = shared
            return next()
        context["members"] = members  # who is in a team by its channel (App Home's teams)
        try:
            found = route(
                body,
                contexts.teams,
                now=now(),
                names=names,
                db=contexts.db,
                words=WORDS,
                members=members,
                wait=not context.get(ON_LOOP, False),
            )
        except WouldWait:
            return ELSEWHERE
        event = body.get("event") or {}
        if (
            found.team is None
            and found.candidates
            and (event.get("type") == "app_home_opened" or _home_team_button(body))
        ):
            # One Home tab for someone in several teams: the team they last saw or chose,
            # else the first, with a button for each of the others (bot.blocks.home);
            # so too for the button of a team gone from the files since (it did nothing;
            # found by review). (Read from the database: not on the event loop.)
            if len(found.candidates) > 1 and context.get(ON_LOOP, False):
                return ELSEWHERE
            context["app"] = _home_of(contexts, found.candidates, str(context.user_id))
            return next()
        if found.gone is not None:
            gone = Message(text=gone_team(found.gone), blocks=[])
            return _refused(body, context, gone, title="Team gone")
        stated = stated_sprint(body)
        if found.team is None or (
            stated is not None
            and contexts.teams.serve_sprint(found.team, stated, now=now()) is None
        ):
            if found.team is None:
                which = which_team(body, found.candidates, member=found.member)
                return _refused(body, context, which, title="Which team?")
            # A sprint dropped from the team's file since (or its start moved).
            dropped = Message(text=gone_sprint(found.team, stated), blocks=[])
            return _refused(body, context, dropped, title="Sprint gone")
        # A button or form of a sprint's message acts for that sprint (the next may run now).
        context["app"] = contexts.for_team(found.team, stated)
        return next()

    app.use(_Called(_inject))
    register_listeners(app)

    app.error(answer_error)
    return app


def _refused(
    body: dict[str, Any], context: BoltContext, answer: Message, *, title: str
) -> BoltResponse:
    """Answer a request that is acted on for no team: a command privately, a form by
    showing `answer` in it (`title`), a button privately by its response_url (a Home tab's
    has none); nothing is done."""
    if body.get("command"):
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", **answer}),
            headers=dict(JSON_HEADERS),
        )
    if body.get("type") == "view_submission":  # a form opened before it named its team
        view = notice_view(title, answer["text"])
        reply = {"response_action": "update", "view": view}
        return BoltResponse(status=200, body=json.dumps(reply), headers=dict(JSON_HEADERS))
    if context.respond is not None and context.response_url:  # the message stays
        respond_after_ack(
            context.respond, text=answer["text"], response_type="ephemeral", replace_original=False
        )
    return BoltResponse(status=200, body="")


def _home_team_button(body: dict[str, Any]) -> bool:
    """Whether `body` is a click of a Home tab's *Show <team>*."""
    actions = body.get("actions") or [{}]
    return body.get("type") == "block_actions" and str(actions[0].get("action_id", "")).startswith(
        f"{Action.HOME_TEAM}:"
    )


def _home_of(contexts: Contexts, candidates: Sequence[Team], user_id: str) -> AppContext:
    """The context of the team whose Home `user_id` last saw or chose among `candidates`
    (opening the tab again showed the first team's, and the choice was lost; found by
    review), else of the first."""
    for team in candidates[1:]:
        app = contexts.for_team(team)
        with app.db.read() as session:
            if queries.shows_home(session=session, user_id=user_id):
                return app
    return contexts.for_team(candidates[0])

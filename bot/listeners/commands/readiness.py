"""/readiness: the breakdown, and /readiness set COMPONENT SCORE for admins."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.acks import ELSEWHERE, JSON_HEADERS, ON_LOOP
from bot.blocks.readiness import (
    READINESS_USAGE,
    readiness_fallback,
    render_readiness,
    render_score_change,
)
from bot.context import AppContext
from bot.listeners.commands.subcommands import typed
from bot.people import directory
from jobs import permissions
from jobs.errors import SprintError
from jobs.figures import Figures
from jobs.permissions import Action
from jobs.readiness import Status, parse_score, set_manual_score

VERBS = ("show", "set", "help")  # /readiness's words after it (bot.routing: never a team)
_AT_ONCE = ("", "show", "help")  # answered from the figures kept ready, or the usage


def answered_at_once(command: dict[str, Any]) -> bool:
    """Whether `command` is answered in its acknowledgement, waiting on nothing (the
    breakdown, the usage); `set` writes, so it may wait for another writer's lock."""
    return typed(command).partition(" ")[0].lower() in _AT_ONCE


def handle(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient
) -> BoltResponse | None:
    """Answer in the acknowledgement itself, from the figures kept ready (`jobs.ready`)."""
    app: AppContext = context["app"]
    text = typed(command)
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    if verb == "show" and rest.strip():
        # (Dropped without a word, `/readiness show mobile` answered this team's; found by
        # review: another team's is `/readiness TEAM`.)
        raise SprintError(
            f'`/readiness show` takes nothing after it, not "{rest.strip()}". {READINESS_USAGE}'
        )
    if verb in ("", "show"):
        # Rendered and encoded once per build of the figures: every answer until the next
        # is the same bytes. With process_before_response, the response a listener returns
        # is its acknowledgement.
        def make(fig: Figures) -> str:
            return _breakdown(app, fig)

        if context.get(ON_LOOP, False):
            # Found fresh when the request came in; a commit since (another user's) would
            # have it read and build on the event loop: a worker thread does that instead.
            answer = app.ready.derived_if_fresh(app.now(), "/readiness", make)
            if answer is None:
                return ELSEWHERE
        else:
            answer = app.ready.derived(app.now(), "/readiness", make)
        return BoltResponse(status=200, body=answer, headers=dict(JSON_HEADERS))
    elif verb == "set":
        # (`… 70 %`: the sign after a space is the score's)
        name, _, score_text = rest.strip().removesuffix("%").strip().rpartition(" ")
        if not name or not score_text:
            raise SprintError("Give a component and a score: `/readiness set User Guides 70`.")
        score = parse_score(score_text)
        user_id = command["user_id"]
        permissions.require_role(app.sprint, Action.SET_SCORE, user_id, directory(client))
        with app.write() as session:
            change = set_manual_score(
                session=session,
                sprint=app.sprint,
                component=name.strip().strip('"'),
                score=score,
                user_id=user_id,
                now=app.now(),
            )
        ack(response_type="ephemeral", text=render_score_change(change))
    elif verb == "help":
        ack(response_type="ephemeral", text=READINESS_USAGE)
    else:
        raise SprintError(f'Unknown option "{verb}". {READINESS_USAGE}')
    return None


def _breakdown(app: AppContext, fig: Figures) -> str:
    status = Status.of(fig)
    return json.dumps(
        {
            "response_type": "ephemeral",
            "text": readiness_fallback(status),
            "blocks": render_readiness(
                status, sprint_name=app.sprint.sprint.name, days=app.sprint.sprint.days
            ),
        }
    )

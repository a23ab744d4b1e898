"""/blocker: the form; `/blocker P0 COMPONENT: text`; `/blocker list`; `/blocker resolve ID`."""

from __future__ import annotations

import html
import json
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.context import AppContext
from bot.ids import View as ViewId
from bot.messages import clip, escape
from bot.people import directory
from jobs import blockers, risks
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.numbers import local_date
from storage import queries

USAGE = (
    "Usage: `/blocker` opens the form; `/blocker P0 Swarm Coordination: what is blocked` files "
    "one at once; `/blocker list` shows the open ones; `/blocker resolve B-007 what fixed it`; "
    "`/blocker link B-007 R-002` ties it to a risk."
)


def blocker_form(sprint: Sprint) -> dict[str, Any]:
    """The modal for filing a blocker."""
    components = [Option(value=c.name, text=c.name[:75]) for c in sprint.components][:100]
    view = View(
        type="modal",
        callback_id=ViewId.BLOCKER,
        title="Report a blocker",
        submit="File",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="component",
                label="Component",
                element=StaticSelectElement(action_id="value", options=components),
            ),
            InputBlock(
                block_id="description",
                label="What is blocked",
                element=PlainTextInputElement(
                    action_id="value", multiline=True, max_length=blockers.MAX_DESCRIPTION
                ),
            ),
            InputBlock(
                block_id="severity",
                label="Severity",
                element=StaticSelectElement(
                    action_id="value",
                    options=[Option(value=s, text=s) for s in blockers.SEVERITIES],
                    initial_option=Option(value="P1", text="P1"),
                ),
            ),
            InputBlock(
                block_id="owner",
                label="Owner",
                optional=True,
                element=UserSelectElement(action_id="value"),
            ),
            InputBlock(
                block_id="target",
                label="Resolution target",
                optional=True,
                hint="e.g. Day 2, 2025-11-03, EOD",
                element=PlainTextInputElement(action_id="value", max_length=100),
            ),
        ],
    )
    return view.to_dict()


def resolve_form(blocker_id: int, code: str) -> dict[str, Any]:
    """The modal asking how a blocker was resolved."""
    view = View(
        type="modal",
        callback_id=ViewId.BLOCKER_RESOLVE,
        title=f"Resolve {code}",
        submit="Resolve",
        close="Cancel",
        private_metadata=json.dumps({"blocker": blocker_id}),
        blocks=[
            InputBlock(
                block_id="note",
                label="How was it resolved?",
                element=PlainTextInputElement(
                    action_id="value", multiline=True, max_length=blockers.MAX_DESCRIPTION
                ),
            )
        ],
    )
    return view.to_dict()


def _list(app: AppContext) -> str:
    now = app.now()
    with app.db.read() as session:
        rows = queries.open_blockers(session=session)
    if not rows:
        return ":white_check_mark: No open blockers."
    lines = [f"*{len(rows)} open blocker{'s' if len(rows) != 1 else ''}*"]
    for b in rows[:40]:
        data = blockers.blocker_data(app.sprint, b, now)
        owner = f"<@{b.owner}>" if b.owner else "unowned"
        lines.append(
            f"• *{b.code}* {b.severity} · {escape(b.component, 300)} — "
            f"{escape(b.description, 120)} "
            f"({owner}, {data['age']} old, step {b.escalation_level}/"
            f"{len(app.sprint.escalation)})"
        )
    if len(rows) > 40:
        lines.append(f"…and {len(rows) - 40} more.")
    return clip("\n".join(lines), 3000)


def handle(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    user_id = command["user_id"]
    # Slack escapes &, < and > in command text.
    text = html.unescape(command.get("text") or "").strip()
    verb, _, rest = text.partition(" ")
    if verb == "":
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=blocker_form(app.sprint))
    elif verb.lower() == "list":
        ack(response_type="ephemeral", text=_list(app))
    elif verb.lower() == "resolve":
        code, _, note = rest.strip().partition(" ")
        blocker_id = blockers.parse_code(code) if code else None
        if blocker_id is None:
            raise SprintError(f"Say which blocker: `/blocker resolve B-007 what fixed it`. {USAGE}")
        with app.db.session() as session:
            b = blockers.resolve(
                session=session,
                sprint=app.sprint,
                blocker_id=blocker_id,
                user_id=user_id,
                note=note,
                now=app.now(),
                directory=directory(client),
            )
            session.commit()
        app.notify_outbox()
        ack(response_type="ephemeral", text=f":white_check_mark: {b.code} resolved.")
    elif verb.lower() == "reopen":
        with app.db.session() as session:
            b = blockers.reopen(
                session=session,
                sprint=app.sprint,
                blocker_id=blockers.parse_code(rest or "?"),
                user_id=user_id,
                now=app.now(),
                directory=directory(client),
            )
            session.commit()
        app.notify_outbox()
        ack(response_type="ephemeral", text=f":leftwards_arrow_with_hook: {b.code} reopened.")
    elif verb.lower() == "link":
        parts = rest.split()
        if len(parts) != 2:
            raise SprintError("Link a blocker to a risk: `/blocker link B-007 R-002`.")
        with app.db.session() as session:
            risks.link_blocker(
                session=session,
                blocker_id=blockers.parse_code(parts[0]),
                risk_id=risks.parse_code(parts[1]),
                user_id=user_id,
                now=app.now(),
            )
            session.commit()
        ack(
            response_type="ephemeral",
            text=f":link: {parts[0].upper()} is linked to {parts[1].upper()}.",
        )
    elif verb.lower() == "help":
        ack(response_type="ephemeral", text=USAGE)
    else:
        component, description, severity = blockers.parse_quick(text, sprint=app.sprint)
        with app.db.session() as session:
            # The same command again (a retry after a slow answer) finds this one: answered
            # "already filed", nothing filed or posted.
            b = blockers.file_blocker(
                session=session,
                sprint=app.sprint,
                component=component,
                description=description,
                severity=severity,
                reporter=user_id,
                now=app.now(),
                request_key=blockers.command_key(
                    user_id=user_id,
                    component=component,
                    description=description,
                    severity=severity,
                ),
            )
            session.commit()
        app.notify_outbox()
        ack(
            response_type="ephemeral",
            text=f":no_entry: {b.code} filed in {app.sprint.channels.blockers} "
            f"({local_date(app.sprint.sprint, app.now()).isoformat()}).",
        )

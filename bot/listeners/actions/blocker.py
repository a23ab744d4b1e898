"""The buttons on a blocker: Take ownership, Escalate now, Resolve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from sqlmodel import Session

from bot.blocks.blockers import resolve_form
from bot.context import AppContext
from bot.payloads import button_int
from bot.people import directory
from bot.routing import with_team
from jobs import blockers
from jobs.config import Sprint
from jobs.permissions import Directory
from storage.models import Blocker

Listener = Callable[[Ack, dict[str, Any], BoltContext, WebClient], None]


class Change(Protocol):
    """What a button does to its blocker at once (`blockers.take_ownership`, ...)."""

    def __call__(
        self,
        *,
        session: Session,
        sprint: Sprint,
        blocker_id: int,
        user_id: str,
        now: datetime,
        directory: Directory,
    ) -> Blocker: ...


def _button(change: Change) -> Listener:
    """The listener of a button that changes its blocker: the rule and the steps are
    `change`'s, a refusal goes to the error handler."""

    def on_click(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        app: AppContext = context["app"]
        with app.write() as session:
            change(
                session=session,
                sprint=app.sprint,
                blocker_id=button_int(body),
                user_id=body["user"]["id"],
                now=app.now(),
                directory=directory(client),
            )
        ack()

    return on_click


on_ack = _button(blockers.take_ownership)
on_escalate = _button(blockers.escalate_now)


def on_resolve(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open the resolution form for those who may resolve (the form's submission checks
    again: `blockers.resolve` applies the same `blockers.resolvable`)."""
    app: AppContext = context["app"]
    blocker_id = button_int(body)
    with app.db.read() as session:
        blocker = blockers.resolvable(
            session=session,
            sprint=app.sprint,
            blocker_id=blocker_id,
            user_id=body["user"]["id"],
            directory=directory(client),
        )
    ack()
    view = with_team(resolve_form(blocker_id, blocker.code), app.team)
    client.views_open(trigger_id=body["trigger_id"], view=view)

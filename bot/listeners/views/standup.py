"""The standup modal's submission: field errors inline, else store and post."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.blocks.common import notice_view
from bot.context import AppContext
from bot.payloads import view_values
from bot.people import directory_for
from jobs import blockers, figures, standups
from jobs.errors import FieldErrors
from jobs.numbers import row_id
from jobs.permissions import Action, NotAllowed
from storage import queries


def on_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    app: AppContext = context["app"]
    user_id = body["user"]["id"]
    now = app.now()
    # The form's sprint (its metadata routed it) and day: its last evening's form, sent
    # after midnight, counts for that day though the sprint has ended.
    form_day = _form_day(view)
    if not app.running and not standups.last_evening(app.sprint, now, form_day):
        # A form of a sprint that has ended, of a day that has passed, says so on top of
        # the form kept: the team's next sprint may be running ("no sprint running" was
        # false there, and the typed form was replaced; found by review).
        if figures.phase(app.sprint.sprint, now) is figures.Phase.ENDED:
            standups.answer_day(app.sprint, now, form_day)
        # A form opened before the sprint ended: it says so, stores nothing.
        text = standups.no_sprint_running(app.sprint, now)
        ack(response_action="update", view=notice_view("Standup", text))
        return
    day = standups.answer_day(app.sprint, now, form_day)
    fig = app.ready.figures(now)  # before the write lock: the answer keeps them
    ticked = [row_id(str(b)) for b in view_values(view).get(standups.Field.BLOCKERS_RESOLVED) or []]
    members = directory_for(
        client,
        db=app.db,
        sprint=app.sprint,
        rule=Action.RESOLVE,
        user_id=user_id,
        blockers=lambda s: (queries.blocker_by_id(session=s, blocker_id=i) for i in ticked if i),
    )
    offered = _offered(view)
    with app.write() as session:
        open_ids = {b.id for b in queries.open_blockers(session=session) if b.id is not None}
        # A blocker resolved and reopened since the form was opened, ticked there, is as
        # one resolved meanwhile: left as it is (it closed the reopened blocker again;
        # found by review).
        now_counts = blockers.resolved_counts(
            session=session, blocker_ids=[i for i in offered if i in open_ids]
        )
        open_ids -= {i for i, n in now_counts.items() if n != offered[i]}
        # Invalid answers raise standups.InvalidAnswers, a FieldErrors: the one error
        # handler shows them under their fields.
        answers = standups.parse_answers(
            view_values(view), sprint=app.sprint, open_blocker_ids=open_ids
        )
        try:
            # Blockers marked resolved go through the same rule and function as their
            # Resolve button; a refusal stores nothing and says who may.
            standups.submit(
                session=session,
                sprint=app.sprint,
                user_id=user_id,
                answers=answers,
                now=now,
                directory=members,
                fig=fig,
                day=day,
            )
        except NotAllowed as exc:  # rolled back: nothing of the answer is stored
            raise FieldErrors({standups.Field.BLOCKERS_RESOLVED: str(exc)}) from exc
    ack()


def _offered(view: dict[str, Any]) -> dict[int, int]:
    """How often each blocker the form offered had been resolved when it was opened (a
    form opened before it said: none)."""
    try:
        counts = json.loads(view.get("private_metadata") or "{}").get("resolved") or {}
        return {int(i): int(n) for i, n in counts.items()}
    except (ValueError, AttributeError, TypeError):
        return {}


def _form_day(view: dict[str, Any]) -> date | None:
    """The day the form was opened for (its private_metadata), if it says one."""
    try:
        day = json.loads(view.get("private_metadata") or "{}").get("day")
        return date.fromisoformat(day) if isinstance(day, str) else None
    except (ValueError, AttributeError):
        return None

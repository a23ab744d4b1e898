"""/sprint: the sprint at a glance; `report`, `review` and `signoff`."""

from __future__ import annotations

from datetime import datetime

from bot.blocks.common import NAME_CHARS, esc
from bot.blocks.history import sprint_history
from bot.blocks.reports import sprint_status
from bot.context import AppContext
from bot.listeners.commands.subcommands import Call, Subcommand, dispatcher
from bot.people import directory, participants
from jobs import figures, history, milestones, permissions, reports, review
from jobs.config import Milestone, Sprint
from jobs.errors import SprintError
from jobs.numbers import row_id, sprint_day
from jobs.permissions import Action
from storage.db import Database

USAGE = (
    "Usage: `/sprint` shows the day, health, burn-down and open blockers; `/sprint report` "
    "posts today's daily report now (admins); `/sprint review` posts the sprint review draft; "
    "`/sprint signoff [DAY]` posts the current (or day DAY's) milestone's sign-off buttons; "
    "`/sprint history` shows how each past sprint went."
)


def _nothing_after(call: Call) -> None:
    call.nothing_after(USAGE)


def _status(call: Call) -> None:
    _nothing_after(call)
    now = call.app.now()
    data = reports.sprint_status(fig=call.app.ready.figures(now), now=now)
    call.ack(response_type="ephemeral", **sprint_status(data))


def _history(call: Call) -> None:
    _nothing_after(call)
    app = call.app
    now = app.now()
    data = history.sprint_history(app.db, app.team, app.sprint, now, app.ready.figures(now))
    call.ack(response_type="ephemeral", **sprint_history(data))


def _report(call: Call) -> None:
    _nothing_after(call)
    app = call.app
    permissions.require_role(app.sprint, Action.POST_REPORT, call.user_id, directory(call.client))
    now = app.now()
    # Between sprints, the one that just ended (as its review and sign-off): a report of
    # the next one, not begun, was posted as a day's ("Daily report — No sprint running";
    # found by review). Before any has begun there is none to post.
    sprint, db = _reviewed(app, now) or (app.sprint, app.db)
    if figures.phase(sprint.sprint, now) is figures.Phase.BEFORE:
        # (Plain: escaped where it is shown; escaped here too, "R&D" read "R&amp;D".)
        name = sprint.sprint.name[:NAME_CHARS]
        raise SprintError(
            f"No sprint running yet: {name} starts on {sprint.sprint.start}, and its first "
            "daily report is on its day 1.",
            quoted=(name,),
        )
    call.answer(f"Posting today's daily report in {sprint.channels.status}…")
    people = participants(call.client, sprint, now=now)
    with db.session() as session:
        reports.post_daily_report(
            session=session, sprint=sprint, participants=people, now=now, on_demand=True
        )
        session.commit()
    app.notify_outbox()


def _reviewed(app: AppContext, now: datetime) -> tuple[Sprint, Database] | None:
    """Between two sprints, before the next has begun: the one that just ended, and its
    database (its review and sign-off are due now; the next sprint's were posted, its
    goals all failed, its lessons stored there; found by review). None otherwise."""
    sprint = app.sprint
    if now >= figures.day_start(sprint.sprint, sprint.sprint.start):
        return None
    before = [
        s for s in history.team_sprints(app.team, sprint) if s.sprint.start < sprint.sprint.start
    ]
    if not before:
        return None
    scope = history.scopes(app.db)(before[-1])
    return before[-1], app.db if scope is None else app.db.scoped(scope)


def _review(call: Call) -> None:
    _nothing_after(call)
    app = call.app
    now = app.now()
    sprint, db = _reviewed(app, now) or (app.sprint, app.db)
    # Acknowledged first: the review reads the whole sprint.
    call.answer(
        f"Posting the sprint review draft in {sprint.channels.status}; add lessons learned "
        "with its button."
    )
    previous = history.previous(app.db, app.team, sprint, now)
    with db.session() as session:
        review.post_review(
            session=session, sprint=sprint, now=now, user_id=call.user_id, previous=previous
        )
        session.commit()
    app.notify_outbox()


def _signoff(call: Call) -> None:
    app = call.app
    now = app.now()
    ended = _reviewed(app, now)
    sprint, db = ended or (app.sprint, app.db)
    milestone = _milestone(sprint, call.rest.strip(), sprint_day(sprint.sprint, now))
    call.answer(
        f"Posting the sign-off request for {esc(milestone.name, NAME_CHARS)} in "
        f"{sprint.channels.status}."
    )
    # Before the write lock, as the Sign off button does.
    if ended is None:
        fig = app.ready.figures(now)
    else:
        with db.read() as session:
            fig = figures.compute(session=session, sprint=sprint, at=now)
    with db.session() as session:
        milestones.request_signoff(
            session=session, sprint=sprint, milestone=milestone, now=now, fig=fig
        )
        session.commit()
    app.notify_outbox()


SUBCOMMANDS: dict[str, Subcommand] = {
    "": _status,
    "status": _status,
    "report": _report,
    "review": _review,
    "signoff": _signoff,
    "sign-off": _signoff,
    "history": _history,
}


# (Read as typed: the verb is looked up in any case, and a refusal quotes the words typed;
# lower-cased whole, "Tomorrow" was quoted "tomorrow"; found by review.)
handle = dispatcher(SUBCOMMANDS, usage=USAGE)


def _milestone(sprint: Sprint, text: str, day: int) -> Milestone:
    """`/sprint signoff` → the current milestone; `/sprint signoff 14` → day 14's."""
    named = [m for m in sprint.milestones if m.signoffs]
    days = ", ".join(str(m.day) for m in named)
    if not named:
        raise SprintError(
            "The sprint file names no milestone with sign-offs; add `signoffs = [...]` to a "
            "`[[milestones]]` entry."
        )
    if text:
        wanted = text.lower().removeprefix("day").strip()
        asked = row_id(wanted)
        found = next((m for m in named if m.day == asked), None)
        if found is None:
            raise SprintError(
                f'No milestone with sign-offs on day "{text}"; milestones: day {days}. '
                "Try `/sprint signoff` for the current one."
            )
        return found
    # The first of them not yet past, else the latest (by day: the file's last one was
    # asked for while an earlier one was next; found by review).
    ahead = [m for m in named if m.day >= day]
    return min(ahead, key=lambda m: m.day) if ahead else max(named, key=lambda m: m.day)

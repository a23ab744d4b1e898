"""/sprint: the sprint at a glance; `report`, `review` and `signoff`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.people import directory, participants
from bot.templates import sprint_status
from jobs import milestones, permissions, reports, review
from jobs.config import Milestone
from jobs.errors import SprintError
from jobs.notices import Template, post
from jobs.numbers import sprint_day

USAGE = (
    "Usage: `/sprint` shows the day, health, burn-down and open blockers; `/sprint report` "
    "posts today's daily report now (admins); `/sprint review` posts the sprint review draft; "
    "`/sprint signoff [DAY]` posts the current (or day DAY's) milestone's sign-off buttons."
)


def handle(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    verb, _, rest = (command.get("text") or "").strip().lower().partition(" ")
    rest = rest.strip()
    user_id = command["user_id"]
    status_channel = app.sprint.channels.status
    if verb in ("", "status") and not rest:
        now = app.now()
        data = reports.sprint_status(fig=app.ready.figures(now), now=now)
        ack(response_type="ephemeral", **sprint_status(data))
    elif verb == "report" and not rest:
        permissions.check_post_report(app.sprint, user_id, directory(client))
        ack(response_type="ephemeral", text=f"Posting today's daily report in {status_channel}…")
        people = participants(client, app.sprint)
        with app.db.session() as session:
            reports.post_daily_report(
                session=session,
                sprint=app.sprint,
                participants=people,
                now=app.now(),
                on_demand=True,
            )
            session.commit()
        app.notify_outbox()
    elif verb == "review" and not rest:
        # Acknowledged first: the review reads the whole sprint.
        ack(
            response_type="ephemeral",
            text=f"Posting the sprint review draft in {status_channel}; add lessons learned "
            "with its button.",
        )
        with app.db.session() as session:
            review.post_review(session=session, sprint=app.sprint, now=app.now(), user_id=user_id)
            session.commit()
        app.notify_outbox()
    elif verb in ("signoff", "sign-off"):
        now = app.now()
        milestone = _milestone(app, rest, sprint_day(app.sprint.sprint, now))
        ack(
            response_type="ephemeral",
            text=f"Posting the sign-off request for {milestone.name} in {status_channel}.",
        )
        with app.db.session() as session:
            measures = milestones.measure(
                session=session, sprint=app.sprint, now=now, fig=app.ready.figures(now)
            )
            data = milestones.milestone_data(
                session=session, milestone=milestone, measures=measures
            )
            post(
                session=session,
                key=f"signoff:{milestone.day}:{now.strftime('%Y%m%dT%H%M%S.%f')}",
                template=Template.SIGNOFF,
                data=data,
                now=now,
                channel=status_channel,
            )
            session.commit()
        app.notify_outbox()
    elif verb == "help":
        ack(response_type="ephemeral", text=USAGE)
    elif verb in ("status", "report", "review"):
        raise SprintError(f'`/sprint {verb}` takes nothing after it, not "{rest}". {USAGE}')
    else:
        raise SprintError(f'Unknown option "{verb}". {USAGE}')


def _milestone(app: AppContext, text: str, day: int) -> Milestone:
    """`/sprint signoff` → the current milestone; `/sprint signoff 14` → day 14's."""
    named = [m for m in app.sprint.milestones if m.signoffs]
    days = ", ".join(str(m.day) for m in named)
    if not named:
        raise SprintError(
            "The sprint file names no milestone with sign-offs; add `signoffs = [...]` to a "
            "`[[milestones]]` entry."
        )
    if text:
        wanted = text.removeprefix("day").strip()
        found = next((m for m in named if wanted.isdigit() and m.day == int(wanted)), None)
        if found is None:
            raise SprintError(
                f'No milestone with sign-offs on day "{text}"; milestones: day {days}. '
                "Try `/sprint signoff` for the current one."
            )
        return found
    current = milestones.current_milestone(app.sprint, day)
    return current if current is not None and current.signoffs else named[-1]

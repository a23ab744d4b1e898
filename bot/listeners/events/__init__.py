"""Events listeners: the App Home dashboard."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.acks import after_ack, in_background
from bot.context import AppContext
from bot.ids import Action
from bot.members import TeamMembers
from bot.people import participants
from jobs import history, reports
from storage import queries

log = logging.getLogger(__name__)


def on_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Publish the live dashboard to the user's Home tab (through the outbox)."""
    if event.get("tab", "home") != "home":
        return
    app: AppContext = context["app"]
    # Slack's retries of one event carry its event_ts: they publish once.
    key = event.get("event_ts") or app.now().isoformat()
    publish(app, client, event["user"], key=key, members=context.get("members"))


def publish(
    app: AppContext,
    client: WebClient,
    user_id: str,
    *,
    key: str,
    members: TeamMembers | None = None,
) -> None:
    """Queue `user_id`'s Home: the dashboard of `app`'s team, with a button for each other
    team the user is in — by the files, or (`members`) by a team channel or user group, as
    commands are routed (`bot.routing.route`)."""
    now = app.now()
    try:
        people: list[str] | None = participants(client, app.sprint, now=now)
    except (SlackApiError, SlackClientError, OSError) as exc:
        # Never read, and Slack not answering now: the Home goes all the same, saying
        # so (nothing was queued, only a traceback logged; found by review).
        log.warning("App Home without the participants (%s)", exc)
        people = None
    # The dashboard is read without the write lock; only queuing it writes.
    fig = app.ready.figures(now)
    with app.db.read() as session:
        data = reports.home(
            session=session,
            sprint=app.sprint,
            now=now,
            user_id=user_id,
            participants=people,
            fig=fig,
        )
    data["past_sprints"] = history.past(app.db, app.team, app.sprint, now)
    data["past_total"] = history.past_total(app.team, app.sprint, now)
    if app.teams is not None and app.teams.several:
        mine = list(app.teams.of_user(user_id, now=now))
        if members is not None:
            mine += [t for t in members.teams_of(user_id, now=now) if t not in mine]
        if not mine:
            # In none of them (a manager, a stakeholder): every team, as a command offers
            # (the first team's dashboard alone, no way to the others; found by review).
            mine = list(app.teams.all)
        data["other_teams"] = [
            {"id": t.id, "name": t.name} for t in mine if app.team is None or t.id != app.team.id
        ]
    with app.write() as session:
        # A Home asked for later (a click after an open whose build waited on Slack) is
        # queued already: it stays the one shown (this one went after it; found by review).
        asked = _asked(key)
        if (
            asked is not None
            and queries.newest_home_asked(session=session, user_id=user_id) > asked
        ):
            return
        reports.publish_home(
            session=session,
            sprint=app.sprint,
            now=now,
            user_id=user_id,
            participants=people,
            data=data,
            key=f"{reports.HOME_KEY}{user_id}:{key}",
        )


def _asked(key: str) -> float | None:
    """When Slack sent the request a Home's `key` names (its `event_ts` or `action_ts`)."""
    try:
        return float(key)
    except ValueError:
        return None


def on_home_team(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """*Show <team>* on the Home tab: that team's dashboard (the button routed to it);
    acknowledged first (unacknowledged, Slack marked the button with an error while the
    dashboard appeared; found by review)."""
    ack()
    app: AppContext = context["app"]
    action = (body.get("actions") or [{}])[0]
    key = f"{action.get('action_ts') or app.now()}"
    publish(app, client, body["user"]["id"], key=key, members=context.get("members"))


def register(app: App) -> None:
    """Attach the events listeners."""
    app.event("app_home_opened")(in_background(on_home_opened))
    app.action(re.compile(f"^{Action.HOME_TEAM}:"))(after_ack(on_home_team))

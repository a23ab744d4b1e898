"""Events listeners: the App Home dashboard."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context import AppContext
from bot.people import participants
from jobs import reports
from jobs.notices import Template
from storage import queries


def on_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Publish the live dashboard to the user's Home tab (through the outbox)."""
    if event.get("tab", "home") != "home":
        return
    app: AppContext = context["app"]
    user_id = event["user"]
    now = app.now()
    people = participants(client, app.sprint)
    with app.db.session() as session:
        data = reports.home(
            session=session, sprint=app.sprint, now=now, user_id=user_id, participants=people
        )
        queries.enqueue(
            session=session,
            # Slack's retries of one event carry its event_ts: they publish once.
            key=f"home:{user_id}:{event.get('event_ts') or now.isoformat()}",
            method="views.publish",
            payload={"user_id": user_id, "template": str(Template.APP_HOME), "data": data},
            now=now,
        )
        session.commit()
    app.notify_outbox()


def register(app: App) -> None:
    """Attach the events listeners."""
    app.event("app_home_opened")(on_home_opened)

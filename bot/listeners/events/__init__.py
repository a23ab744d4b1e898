"""Events listeners: the App Home dashboard."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.acks import in_background
from bot.context import AppContext
from bot.people import participants
from jobs import reports


def on_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Publish the live dashboard to the user's Home tab (through the outbox)."""
    if event.get("tab", "home") != "home":
        return
    app: AppContext = context["app"]
    user_id = event["user"]
    now = app.now()
    people = participants(client, app.sprint)
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
    with app.write() as session:
        reports.publish_home(
            session=session,
            sprint=app.sprint,
            now=now,
            user_id=user_id,
            participants=people,
            data=data,
            # Slack's retries of one event carry its event_ts: they publish once.
            key=f"{reports.HOME_KEY}{user_id}:{event.get('event_ts') or now.isoformat()}",
        )


def register(app: App) -> None:
    """Attach the events listeners."""
    app.event("app_home_opened")(in_background(on_home_opened))

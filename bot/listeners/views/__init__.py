"""Modal submission listeners."""

from slack_bolt import App

from bot.ids import View
from bot.listeners.views import standup


def register(app: App) -> None:
    """Attach the view submission listeners."""
    app.view(View.STANDUP)(standup.on_submit)

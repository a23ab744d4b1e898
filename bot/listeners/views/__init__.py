"""Modal submission listeners."""

from slack_bolt import App

from bot.ids import View
from bot.listeners.views import blocker, lesson, risk, standup


def register(app: App) -> None:
    """Attach the view submission listeners."""
    app.view(View.STANDUP)(standup.on_submit)
    app.view(View.BLOCKER)(blocker.on_file)
    app.view(View.BLOCKER_RESOLVE)(blocker.on_resolve)
    app.view(View.RISK)(risk.on_save)
    app.view(View.LESSON)(lesson.on_submit)

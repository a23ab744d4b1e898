"""Modal submission listeners."""

from slack_bolt import App

from bot.acks import after_ack
from bot.ids import View
from bot.listeners.views import blocker, lesson, risk, standup


def register(app: App) -> None:
    """Attach the view submission listeners."""
    app.view(View.STANDUP)(after_ack(standup.on_submit))
    app.view(View.BLOCKER)(after_ack(blocker.on_file))
    app.view(View.BLOCKER_RESOLVE)(after_ack(blocker.on_resolve))
    app.view(View.RISK)(after_ack(risk.on_save))
    app.view(View.LESSON)(after_ack(lesson.on_submit))

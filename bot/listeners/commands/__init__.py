"""Slash command listeners."""

from slack_bolt import App

from bot.acks import after_ack
from bot.ids import Command
from bot.listeners.commands import blocker, readiness, risk, sprint, standup


def register(app: App) -> None:
    """Attach the slash commands."""
    app.command(Command.READINESS)(readiness.handle)
    app.command(Command.STANDUP)(after_ack(standup.handle))
    app.command(Command.BLOCKER)(after_ack(blocker.handle))
    app.command(Command.RISK)(after_ack(risk.handle))
    app.command(Command.SPRINT)(after_ack(sprint.handle))

"""Slash command listeners."""

from slack_bolt import App

from bot.ids import Command
from bot.listeners.commands import blocker, readiness, risk, sprint, standup


def register(app: App) -> None:
    """Attach the slash commands."""
    app.command(Command.READINESS)(readiness.handle)
    app.command(Command.STANDUP)(standup.handle)
    app.command(Command.BLOCKER)(blocker.handle)
    app.command(Command.RISK)(risk.handle)
    app.command(Command.SPRINT)(sprint.handle)

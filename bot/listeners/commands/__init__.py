"""Slash command listeners."""

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.acks import after_ack
from bot.ids import Command
from bot.listeners.commands import blocker, readiness, risk, sprint, standup

# Each command's listener, by command (the "which team?" buttons run them again).
HANDLERS: dict[str, Callable[..., Any]] = {
    Command.READINESS: readiness.handle,
    Command.STANDUP: standup.handle,
    Command.BLOCKER: blocker.handle,
    Command.RISK: risk.handle,
    Command.SPRINT: sprint.handle,
}


def register(app: App) -> None:
    """Attach the slash commands."""
    app.command(Command.READINESS)(readiness.handle)
    app.command(Command.STANDUP)(after_ack(standup.handle))
    app.command(Command.BLOCKER)(after_ack(blocker.handle))
    app.command(Command.RISK)(after_ack(risk.handle))
    app.command(Command.SPRINT)(after_ack(sprint.handle))

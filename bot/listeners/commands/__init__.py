"""Slash command listeners."""

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.kwargs_injection.args import Args

from bot.acks import after_ack
from bot.ids import Command
from bot.listeners.commands import blocker, readiness, risk, sprint, standup, tests
from jobs.config import SEVERITIES

# Each command's listener, by command (the "which team?" buttons run them again).
HANDLERS: dict[str, Callable[..., Any]] = {
    Command.READINESS: readiness.handle,
    Command.STANDUP: standup.handle,
    Command.BLOCKER: blocker.handle,
    Command.RISK: risk.handle,
    Command.SPRINT: sprint.handle,
    Command.TESTS: tests.handle,
}


def _words(table: Iterable[str], *more: str) -> frozenset[str]:
    return frozenset({w.lower() for w in table if w} | {"help", *more})


# Each command's own words after it (its subcommands, and the severities `/blocker P0 …`
# starts with): a first word among them is never taken for a team's name (bot.routing).
WORDS: dict[str, frozenset[str]] = {
    Command.READINESS: _words(readiness.VERBS),
    Command.STANDUP: _words(standup.SUBCOMMANDS),
    Command.BLOCKER: _words(blocker.SUBCOMMANDS, *(s.lower() for s in SEVERITIES)),
    Command.RISK: _words(risk.SUBCOMMANDS),
    Command.SPRINT: _words(sprint.SUBCOMMANDS),
    Command.TESTS: _words(tests.SUBCOMMANDS),
}


def _readiness() -> Callable[[Args], BoltResponse | None]:
    """/readiness: the breakdown and the usage answered in the acknowledgement itself; a
    score set acknowledged in time however long its write waits (`after_ack`)."""
    setting = after_ack(readiness.handle)

    def run(args: Args) -> BoltResponse | None:
        command = args.command or {}
        if readiness.answered_at_once(command):
            return readiness.handle(args.ack, command, args.context, args.client)
        setting(args)
        return None

    return run


def register(app: App) -> None:
    """Attach the slash commands."""
    app.command(Command.READINESS)(_readiness())
    app.command(Command.STANDUP)(after_ack(standup.handle))
    app.command(Command.BLOCKER)(after_ack(blocker.handle))
    app.command(Command.RISK)(after_ack(risk.handle))
    app.command(Command.SPRINT)(after_ack(sprint.handle))
    app.command(Command.TESTS)(after_ack(tests.handle))

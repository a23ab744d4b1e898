"""One slash command's subcommands: a table from verb to function (aliases are extra keys),
with `help` and the unknown-verb answer in one place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.acks import open_form
from bot.blocks.common import unescape
from bot.context import AppContext
from bot.routing import with_team
from jobs.errors import SprintError
from jobs.teams import team_named


@dataclass(frozen=True)
class Call:
    """A slash command as its subcommand gets it: `verb` (lower case) and `rest`, the text
    after it, split from `text`, the whole text."""

    ack: Ack
    command: dict[str, Any]
    app: AppContext
    client: WebClient
    text: str
    verb: str
    rest: str

    @property
    def user_id(self) -> str:
        return str(self.command["user_id"])

    def nothing_after(self, usage: str) -> None:
        """SprintError where words follow a subcommand that takes none (dropped without a
        word, `/blocker list mobile` answered this team's list; found by review: another
        team's is `/CMD TEAM ...`)."""
        if rest := self.rest.strip():
            raise SprintError(
                f"`{self.command.get('command', '')} {self.verb}` takes nothing after it, "
                f'not "{rest}". {usage}'
            )

    def without_team(self, text: str, what: str, *, how: bool = True) -> str:
        """`text` less a team's name before its first word, a blocker's or risk's code: a
        channel two teams use shows "mobile B-001" or "mobile R-001", and that is typed
        back (found by review: only `/blocker` took a blocker's so). Another team's is
        refused with how to act for it (`how`), or only refused (a second code: acting for
        that team would take the first for another's; found by review)."""
        word, _, rest = text.strip().partition(" ")
        app = self.app
        if app.teams is None or not rest or not app.teams.several:
            return text.strip()
        named = team_named(app.teams.all, word)
        if named is None:
            return text.strip()
        if app.team is not None and named.id != app.team.id and not how:
            raise SprintError(f"You are acting for {app.team.id} here: its {what}s only.")
        if app.team is not None and named.id != app.team.id:
            command = self.command.get("command", "")
            typed = self.rest.strip().replace(f"{word} ", "", 1)
            raise SprintError(
                f"You are acting for {app.team.id} here; for {named.id}'s {what}, type "
                f"`{command} {named.id} {self.verb} {typed}`."
            )
        return rest.strip()

    def answer(self, text: str) -> None:
        """Answer privately, in the acknowledgement."""
        self.ack(response_type="ephemeral", text=text)

    def open_view(self, view: dict[str, Any], *, of_sprint: bool = False) -> None:
        """Acknowledge and open `view`: within the trigger's 3 s, and straight to Slack (a
        modal answers the command; it is not a message for the outbox). Its submission acts
        for this team (`of_sprint`: and this sprint, sent after the next one began too)."""
        self.ack()
        view = with_team(view, self.app.team, self.app.sprint if of_sprint else None)
        open_form(self.client, self.command["trigger_id"], view)


Subcommand = Callable[[Call], None]
Listener = Callable[[Ack, dict[str, Any], BoltContext, WebClient], None]


def typed(command: dict[str, Any]) -> str:
    """A slash command's text as the user typed it: Slack sends it with `&`, `<` and `>`
    escaped (and nothing else), stripped. (What is shown of it is escaped again.)"""
    return unescape(str(command.get("text") or "")).strip()


def dispatcher(
    table: Mapping[str, Subcommand],
    *,
    usage: str,
    read: Callable[[str], str] = str.strip,
    otherwise: Subcommand | None = None,
) -> Listener:
    """The listener of a slash command made of `table`'s subcommands: the first word of the
    text (as typed, then as `read` gives it) picks one; `help` answers `usage`; any other
    word goes to `otherwise`, or is refused with `usage`."""

    def handle(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        text = read(typed(command))
        verb, _, rest = text.partition(" ")
        call = Call(ack, command, context["app"], client, text=text, verb=verb.lower(), rest=rest)
        if call.verb == "help":
            call.answer(usage)
            return
        subcommand = table.get(call.verb, otherwise)
        if subcommand is None:
            raise SprintError(f'Unknown option "{verb}". {usage}')  # (as typed; found by review)
        subcommand(call)

    return handle

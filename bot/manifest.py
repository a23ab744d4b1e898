"""The Slack app manifest for a deployment at a given public URL: its bot scopes are those of
the Web API methods the code calls, its usage hints the words each command's parser takes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.ids import Command
from bot.listeners.commands import blocker, readiness, risk, sprint, standup, tests
from jobs.config import SEVERITIES

# Every Web API method the code calls (`client.<method>()`, or queued in the outbox and sent
# by `bot.outbox`) and the bot scopes it needs as sprintbot calls it. Kept equal to the
# calls by tests/bot/test_manifest.py, which scans the sources: a method called without a
# row here, or a row nothing calls, fails it. The manifest asks for exactly these scopes.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    # Reports, alerts, DMs; `.public` posts to a public channel the bot was not invited to.
    "chat.postMessage": ("chat:write", "chat:write.public"),
    "chat.update": ("chat:write",),
    # The burn-down chart (files_upload_v2 calls these two).
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    # Socket Mode (doctor checks it): the app-level token's connections:write, no bot scope.
    "apps.connections.open": (),
    "views.open": (),  # modals answer a trigger: no scope
    "views.update": (),
    "views.publish": (),  # App Home
    "auth.test": (),  # who the bot is (mentions, doctor)
    # Channel names to IDs, and the team channel's members (`participants = "team"`), for
    # public and private channels (types=public_channel,private_channel): no DMs asked.
    "conversations.list": ("channels:read", "groups:read"),
    "conversations.members": ("channels:read", "groups:read"),
    "conversations.info": ("channels:read", "groups:read"),  # doctor: is the bot a member?
    # The outbox reads back a post it is unsure about (a timeout after sending) by the key
    # in its metadata, instead of posting it twice: in channels, private channels and DMs,
    # whose ID conversations.open gives for a user.
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
    "conversations.open": ("im:write",),
    # chat:write.public posts need no membership but reading history does: the look-up (and
    # `doctor --join`) joins a public channel first.
    "conversations.join": ("channels:join",),
    "users.info": ("users:read",),  # doctor: each person of the sprint file exists
    "usergroups.list": ("usergroups:read",),  # doctor: each user group exists
    "usergroups.users.list": ("usergroups:read",),  # roles and participants given as groups
}

# Scopes that come with a feature rather than a method: the slash commands.
FEATURE_SCOPES = ("commands",)


def bot_scopes(methods: Iterable[str] = METHOD_SCOPES) -> list[str]:
    """The bot scopes `methods` need (all the code calls by default), each once, in order."""
    scopes = [*FEATURE_SCOPES, *(s for m in methods for s in METHOD_SCOPES[m])]
    return list(dict.fromkeys(scopes))


BOT_SCOPES = bot_scopes()

DESCRIPTIONS = {
    Command.STANDUP: "Post today's standup, or mark days away",
    Command.BLOCKER: "Report a blocker; list, resolve, reopen or link them",
    Command.RISK: "Add a risk to the matrix; list or update them",
    Command.READINESS: "Production readiness breakdown; admins set manual scores",
    Command.SPRINT: "Sprint day, health and burn-down; report, review, sign-off, history",
    Command.TESTS: "A test's history, the slowest tests, quarantine of flaky ones",
}

# What follows a command's word, where anything does. The words themselves come from the
# parsers' tables (`SUBCOMMANDS`), so a new subcommand is in its hint even before it is here.
ARGUMENTS: dict[Command, dict[str, str]] = {
    Command.STANDUP: {"skip": "[REASON]", "away": "FROM TO [REASON]"},
    Command.BLOCKER: {"resolve": "ID [NOTE]", "reopen": "ID", "link": "B-ID R-ID"},
    Command.RISK: {"update": "R-ID"},
    Command.READINESS: {"set": "COMPONENT SCORE"},
    Command.SPRINT: {"signoff": "[DAY]"},
    Command.TESTS: {
        "show": "TEST",
        "quarantine": "TEST [for 7d] [because WHY]",
        "unquarantine": "TEST",
    },
}

# Besides its words, /blocker files one at once from any other text: `/blocker P0 …`.
QUICK_BLOCKER = f"{'|'.join(SEVERITIES)} COMPONENT: WHAT"


def command_words(command: Command) -> list[str]:
    """The words `command`'s parser takes after it, in its table's order: no `help` (every
    command has it), no alias (a word whose subcommand an earlier word already runs)."""
    if command is Command.READINESS:
        return [w for w in readiness.VERBS if w != "help"]
    table: Mapping[str, object] = {
        Command.STANDUP: standup.SUBCOMMANDS,
        Command.BLOCKER: blocker.SUBCOMMANDS,
        Command.RISK: risk.SUBCOMMANDS,
        Command.SPRINT: sprint.SUBCOMMANDS,
        Command.TESTS: tests.SUBCOMMANDS,
    }[command]
    seen: list[object] = []
    words = []
    for word, run in table.items():
        if run not in seen and word not in ("", "help"):
            words.append(word)
        seen.append(run)
    return words


def usage_hint(command: Command) -> str:
    """The hint Slack shows as one types `command`: each of its words with its arguments."""
    arguments = ARGUMENTS.get(command, {})
    forms = [f"{w} {arguments[w]}" if w in arguments else w for w in command_words(command)]
    if command is Command.BLOCKER:
        forms.insert(0, QUICK_BLOCKER)
    return f"[{' | '.join(forms)}]"


def events_url(url: str) -> str:
    """Where Slack sends requests, given the bot's public URL or that URL already (Slack's
    pages call it the Request URL: given so, the manifest sent everything to
    `…/slack/events/slack/events`; found by review)."""
    return url.rstrip("/").removesuffix("/slack/events") + "/slack/events"


def manifest(
    url: str | None, *, name: str = "sprintbot", socket_mode: bool = False
) -> dict[str, Any]:
    """The app manifest; with Socket Mode no request URLs are needed."""
    events = events_url(url) if url else None
    commands = []
    for command, description in DESCRIPTIONS.items():
        entry: dict[str, Any] = {
            "command": str(command),
            "description": description,
            "usage_hint": usage_hint(command),
            "should_escape": False,
        }
        if events and not socket_mode:
            entry["url"] = events
        commands.append(entry)
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": ["app_home_opened"]},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
    }
    if events and not socket_mode:
        settings["event_subscriptions"]["request_url"] = events
        settings["interactivity"]["request_url"] = events
    return {
        "display_information": {
            "name": name,
            "description": "Runs your sprint toward production readiness",
            "background_color": "#2c2d30",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                # Read only: the bot listens to no DM (a reply to its standup prompt typed
                # there went unanswered; found by review). Its DMs show there all the same.
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": settings,
    }

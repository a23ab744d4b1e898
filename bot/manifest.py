"""The Slack app manifest for a deployment at a given public URL."""

from __future__ import annotations

from typing import Any

from bot.ids import Command

COMMANDS = {
    Command.STANDUP: ("Post today's standup, or `skip` for a day away", "[skip]"),
    Command.BLOCKER: ("Report a blocker; `list`, `resolve ID`", "[list | resolve ID]"),
    Command.RISK: ("Add a risk to the matrix; `list`", "[list]"),
    Command.READINESS: (
        "Production readiness breakdown; `set COMPONENT SCORE` (admins)",
        "[set COMPONENT SCORE]",
    ),
    Command.SPRINT: (
        "Sprint day, health and burn-down; `report`, `review`, `signoff`",
        "[report | review | signoff]",
    ),
    Command.TESTS: (
        "A test's history (`show ID-or-name`); the slowest tests (`slow`)",
        "[show TEST | slow]",
    ),
}

BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "users:read",
    "usergroups:read",
    "channels:read",
    "groups:read",
    "files:write",
    # The outbox reads back a post it is unsure about (a timeout after sending) by the
    # key in its metadata, instead of posting it twice.
    "channels:history",
    "groups:history",
    "im:history",
    # chat:write.public posts to channels the bot is not in; to read such a channel's
    # history the look-up joins it first.
    "channels:join",
]


def manifest(
    url: str | None, *, name: str = "sprintbot", socket_mode: bool = False
) -> dict[str, Any]:
    """The app manifest; with Socket Mode no request URLs are needed."""
    events = f"{url.rstrip('/')}/slack/events" if url else None
    commands = []
    for command, (description, hint) in COMMANDS.items():
        entry: dict[str, Any] = {
            "command": str(command),
            "description": description,
            "usage_hint": hint,
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
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": settings,
    }

"""Who someone is in the sprint: role membership, including Slack user groups."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from jobs.config import Sprint

log = logging.getLogger(__name__)


def has_role(client: WebClient, sprint: Sprint, role: str, user_id: str) -> bool:
    """Whether `user_id` holds `role`, directly or through a user group (S…) named for it."""
    ids = sprint.role(role)
    if user_id in ids:
        return True
    for group in (i for i in ids if i.startswith("S")):
        try:
            members = client.usergroups_users_list(usergroup=group).get("users") or []
        except (SlackApiError, SlackClientError) as exc:
            log.warning("could not read user group %s: %s", group, exc)
            continue
        if user_id in members:
            return True
    return False


def mention(ids: list[str]) -> str:
    """<@U…> for users and <!subteam^S…> for user groups."""
    return ", ".join(f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in ids)


def participants(client: WebClient, sprint: Sprint) -> list[str]:
    """Standup participants: `people.participants`, or the human members of channels.team.

    User groups (S…) named there are expanded to their members.
    """
    configured = sprint.people.get("participants", [])
    if configured == "team":
        return _channel_members(client, sprint.channels.team)
    ids: list[str] = []
    for entry in configured if isinstance(configured, list) else []:
        if entry.startswith("S"):
            try:
                ids += client.usergroups_users_list(usergroup=entry).get("users") or []
            except (SlackApiError, SlackClientError) as exc:
                log.warning("could not read user group %s: %s", entry, exc)
        else:
            ids.append(entry)
    return list(dict.fromkeys(ids))


def _channel_members(client: WebClient, channel: str) -> list[str]:
    channel_id = channel if not channel.startswith("#") else _channel_id(client, channel[1:])
    if channel_id is None:
        log.warning("channel %s not found (is the bot invited?); no participants", channel)
        return []
    bot_user = client.auth_test().get("user_id")
    members: list[str] = []
    for page in client.conversations_members(channel=channel_id, limit=1000):
        members += page.get("members") or []
    return [m for m in members if m != bot_user]


def _channel_id(client: WebClient, name: str) -> str | None:
    for page in client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=1000
    ):
        for ch in page.get("channels") or []:
            if ch.get("name") == name:
                return str(ch["id"])
    return None

"""Who is in the sprint, as Slack knows it: the standup participants, and the members of
user groups and channels that the permission rules (`jobs.permissions`) look into."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Collection

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from jobs.config import Sprint
from jobs.permissions import Directory

log = logging.getLogger(__name__)


class _Read:
    """What a client read of its workspace's people: the members of each team channel as
    last read (what a daily job goes by while Slack cannot answer; its messages wait in the
    outbox meanwhile), and whether each member is an app or a deactivated account."""

    def __init__(self) -> None:
        self.members: dict[str, list[str]] = {}
        self.not_people: dict[str, bool] = {}


_read: weakref.WeakKeyDictionary[WebClient, _Read] = weakref.WeakKeyDictionary()


def _read_by(client: WebClient) -> _Read:
    found = _read.get(client)
    if found is None:
        found = _read[client] = _Read()
    return found


def directory(client: WebClient) -> Directory:
    """Members of user groups (S…) and channels (C…, #name) as Slack lists them, each read
    at most once: make one per request. One Slack cannot answer has no members (refused,
    not let through)."""
    seen: dict[str, frozenset[str]] = {}

    def members(entry: str) -> Collection[str]:
        if entry not in seen:
            seen[entry] = frozenset(_members(client, entry))
        return seen[entry]

    return members


def _members(client: WebClient, entry: str) -> list[str]:
    try:
        if entry.startswith("S"):
            return list(client.usergroups_users_list(usergroup=entry).get("users") or [])
        return _channel_members(client, entry)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not read the members of %s: %s", entry, exc)
        return []


def participants(client: WebClient, sprint: Sprint) -> list[str]:
    """Standup participants: `people.participants`, or the human members of channels.team.

    User groups (S…) named there are expanded to their members.
    """
    configured = sprint.people.get("participants", [])
    if configured == "team":
        channel, read = sprint.channels.team, _read_by(client)
        try:
            bot_user = client.auth_test().get("user_id")
            members = _people(
                client, [m for m in _channel_members(client, channel) if m != bot_user]
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            if channel not in read.members:
                raise  # never read yet: the clock tries the job again (`bot.clock`)
            log.warning("could not read %s's members (%s); as last read", channel, exc)
            return list(read.members[channel])
        read.members[channel] = members
        return members
    ids: list[str] = []
    for entry in configured if isinstance(configured, list) else []:
        if entry.startswith("S"):
            try:
                ids += client.usergroups_users_list(usergroup=entry).get("users") or []
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("could not read user group %s: %s", entry, exc)
        else:
            ids.append(entry)
    return list(dict.fromkeys(ids))


def _people(client: WebClient, members: list[str]) -> list[str]:
    """`members` less the apps (a GitHub or Jira app in the team channel is no standup
    participant) and deactivated accounts: asked of users.info once per client and user (a
    user it cannot read is kept)."""
    not_people = _read_by(client).not_people
    for user in members:
        if user in not_people:
            continue
        try:
            found = client.users_info(user=user).get("user") or {}
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not read user %s (%s); counted as a participant", user, exc)
            continue
        not_people[user] = bool(found.get("is_bot") or found.get("deleted"))
    return [m for m in members if not not_people.get(m)]


def _channel_members(client: WebClient, channel: str) -> list[str]:
    channel_id = channel if not channel.startswith("#") else _channel_id(client, channel[1:])
    if channel_id is None:
        log.warning("channel %s not found (is the bot invited?); no members", channel)
        return []
    members: list[str] = []
    for page in client.conversations_members(channel=channel_id, limit=1000):
        members += page.get("members") or []
    return members


def _channel_id(client: WebClient, name: str) -> str | None:
    for page in client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=1000
    ):
        for ch in page.get("channels") or []:
            if ch.get("name") == name:
                return str(ch["id"])
    return None

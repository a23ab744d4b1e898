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

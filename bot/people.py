"""Who is in the sprint, as Slack knows it: the standup participants, and the members of
user groups and channels that the permission rules (`jobs.permissions`) look into."""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.common import OWN_MENTION
from bot.outbox import answers_otherwise_later
from jobs import permissions
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.permissions import Action, Directory
from storage.models import Blocker

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.db import Database

log = logging.getLogger(__name__)


class _Read:
    """What sprintbot read of a workspace's people: the members of each team channel as
    last read (what a daily job goes by while Slack cannot answer; its messages wait in the
    outbox meanwhile), and whether each member is an app or a deactivated account, with
    when it was asked (asked again after PEOPLE_FOR: an account deactivated mid-sprint)."""

    def __init__(self) -> None:
        self.members: dict[str, list[str]] = {}
        self.not_people: dict[str, tuple[bool, datetime]] = {}
        # The members of each channel a permission rule last read (the bot among them):
        # what a rule goes by while Slack cannot answer (one 500 told a team member she
        # was not on the team; found by review).
        self.channels: dict[str, list[str]] = {}


# How long an answer of users.info is taken as still true: each morning's jobs ask again.
PEOPLE_FOR = timedelta(hours=20)
# By workspace (the client's token and the Slack it talks to), for the process: Bolt makes
# a client for each request, and a command must find what the 9:00 job read.
_read: dict[tuple[str | None, str], _Read] = {}
_lock = threading.Lock()


def _read_by(client: WebClient) -> _Read:
    key = (client.token, client.base_url)
    with _lock:
        found = _read.get(key)
        if found is None:
            found = _read[key] = _Read()
        return found


# Seconds a request's look-ups of who is in a group or channel may take in all: a form is
# opened after them, and Slack's trigger for it lives 3 s (a slow usergroups.users.list
# opened it after 4 s, too late; found by review).
MEMBERS_WITHIN = 1.0


class _Anyone(Collection[str]):
    """A group whose members Slack could not say in time, taken as holding anyone."""

    def __contains__(self, _user: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def directory(
    client: WebClient, *, within: float | None = None, unsure_allows: bool = False
) -> Directory:
    """Members of user groups (S…) and channels (C…, #name) as Slack lists them, each read
    at most once: make one per request. Slack is given `within` seconds for them all
    (default MEMBERS_WITHIN, read at the call); one it cannot answer by then has its
    members as last read by this process (a user group), else none (refused, not let
    through) — or, `unsure_allows`, anyone: where what is allowed is checked again later
    (a form's button: its submission checks)."""
    seen: dict[str, frozenset[str]] = {}
    deadline = time.monotonic() + (MEMBERS_WITHIN if within is None else within)
    read = _read_by(client)

    def members(entry: str) -> Collection[str]:
        if entry not in seen:
            left = deadline - time.monotonic()
            found = _members(client, entry, timeout=left) if left > 0 else None
            # (A user group's members as last read are shared with `participants`; a
            # channel's are kept apart, its bot among them: that list leaves the bot out.)
            group = entry.startswith("S")
            last = read.members.get(entry) if group else read.channels.get(entry)
            if not group and last is None:
                last = read.members.get(entry)  # (the team channel, as a job read it)
            if found is None and unsure_allows and last is None:
                return _Anyone()
            if found is None:
                found = last or []
            elif group:
                read.members[entry] = found
            else:
                read.channels[entry] = found
            seen[entry] = frozenset(found)
        return seen[entry]

    return members


def directory_for(
    client: WebClient,
    *,
    db: Database,
    sprint: Sprint,
    rule: Action,
    user_id: str,
    blockers: Callable[[Session], Iterable[Blocker | None]],
) -> Directory:
    """`directory`, holding already the members `rule` consults for `user_id` on the
    `blockers` found in a read session (None: not found): looked up before the write
    transaction, which checks again from what was read here. A look-up made under it held
    SQLite's one write lock for as long as Slack took, every other writer waiting (found
    by review). A blocker that cannot be found, or a refusal, is said under the lock."""
    members = directory(client)
    with contextlib.suppress(SprintError), db.read() as session:
        for blocker in blockers(session):
            if blocker is not None:
                with contextlib.suppress(SprintError):
                    permissions.require_role(sprint, rule, user_id, members, blocker=blocker)
    return members


def _members(client: WebClient, entry: str, *, timeout: float) -> list[str] | None:
    """Who Slack says is in `entry`, asked with `timeout` seconds; None if it cannot say."""
    quick = WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=max(math.ceil(timeout * 10) / 10, 0.1),  # type: ignore[arg-type]
        ssl=client.ssl,
        retry_handlers=[],
    )
    try:
        if entry.startswith("S"):
            return list(quick.usergroups_users_list(usergroup=entry).get("users") or [])
        return _channel_members(quick, entry)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.warning("could not read the members of %s: %s", entry, exc)
        return None


def participants(
    client: WebClient, sprint: Sprint, *, apps: bool = False, now: datetime | None = None
) -> list[str]:
    """Standup participants: `people.participants`, or the people in channels.team (its
    apps and deactivated accounts left out, unless `apps`: who is in the channel, which
    routing needs and can know sooner).

    User groups (S…) named there are expanded to their members.
    """
    configured = sprint.people.get("participants", [])
    if configured == "team":
        channel, read = sprint.channels.team, _read_by(client)
        try:
            bot_user = client.auth_test().get("user_id")
            members = [m for m in _channel_members(client, channel) if m != bot_user]
        except (SlackApiError, SlackClientError, OSError) as exc:
            if channel not in read.members:
                if _refused(exc, channel):
                    return []
                raise  # never read yet: the clock tries the job again (`bot.clock`)
            log.warning("could not read %s's members (%s); as last read", channel, exc)
            # Who of them is an app as last answered too: Slack is not asked again now.
            return (
                list(read.members[channel])
                if apps
                else _known_people(client, read.members[channel])
            )
        read.members[channel] = members
        return members if apps else _people(client, members, now or datetime.now(UTC))
    ids: list[str] = []
    read = _read_by(client)
    for entry in configured if isinstance(configured, list) else []:
        if entry.startswith("S"):
            try:
                found = client.usergroups_users_list(usergroup=entry).get("users") or []
            except (SlackApiError, SlackClientError, OSError) as exc:
                # As the team channel: never read yet, the job is tried again (the day's
                # prompts went to nobody and its slot was taken; found by review); else its
                # members as last read.
                if entry in read.members:
                    log.warning("could not read user group %s (%s); as last read", entry, exc)
                elif not _refused(exc, entry):
                    raise
                found = read.members.get(entry, [])
            else:
                read.members[entry] = list(found)
            ids += found
        else:
            ids.append(entry)
    return list(dict.fromkeys(ids))


def _refused(exc: Exception, what: str) -> bool:
    """Whether Slack refused reading `what` for good (a channel or user group gone, a scope
    missing): no retry cures that, so it is read as nobody, with a warning, rather than
    failing every job and every Home all day (found by review); Slack down or slow is
    tried again."""
    if not isinstance(exc, SlackApiError) or answers_otherwise_later(exc):
        return False
    log.warning(
        "Slack refuses to say who is in %s (%s): taken as nobody; `sprintbot doctor` says why",
        what,
        exc.response.get("error"),
    )
    return True


def _people(client: WebClient, members: list[str], now: datetime) -> list[str]:
    """`members` less the apps (a GitHub or Jira app in the team channel is no standup
    participant) and deactivated accounts: asked of users.info once a day per user (a user
    it cannot read is kept, or as last answered)."""
    not_people = _read_by(client).not_people
    for user in members:
        known = not_people.get(user)
        if known is not None and timedelta(0) <= now - known[1] < PEOPLE_FOR:
            continue
        try:
            found = client.users_info(user=user).get("user") or {}
        except (SlackApiError, SlackClientError, OSError) as exc:
            # The others as last answered: one failure is enough to know Slack is down.
            log.warning("could not read user %s (%s); the others as last read", user, exc)
            break
        not_people[user] = (bool(found.get("is_bot") or found.get("deleted")), now)
    return _known_people(client, members)


def _known_people(client: WebClient, members: list[str]) -> list[str]:
    """`members` less those users.info last said are apps or deactivated accounts (one it
    never answered for is kept)."""
    not_people = _read_by(client).not_people
    return [m for m in members if not (m in not_people and not_people[m][0])]


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


NAMES_WITHIN = 1  # seconds `named` waits for each answer of Slack's


def named(text: str, client: WebClient) -> str:
    """`text` for where Slack shows plain text (a modal's field error shows `<@U0DEV>` as
    typed): each mention the bot wrote is the name Slack shows, "@Dana" (users.info: the
    display name, else the full name; a group's handle from usergroups.list), or the ID
    where Slack cannot say."""
    if not OWN_MENTION.search(text):
        return text
    # Asked while Slack waits for the acknowledgement: a second for the answers, and once
    # one fails or the second is spent, the IDs.
    client = WebClient(
        token=client.token, base_url=client.base_url, timeout=NAMES_WITHIN, retry_handlers=[]
    )
    handles: dict[str, str] | None = None
    failed = False
    # The second is for all the answers: three slow ones took 2.7 s (found by review).
    deadline = time.monotonic() + NAMES_WITHIN

    def name(m: re.Match[str]) -> str:
        nonlocal handles, failed
        user, group = m.group("user"), m.group("group")
        if failed or time.monotonic() > deadline:
            return f"@{user or group}"
        try:
            if user is not None:
                found = client.users_info(user=user).get("user") or {}
                profile = found.get("profile") or {}
                shown = profile.get("display_name") or profile.get("real_name")
                return f"@{shown or found.get('real_name') or found.get('name') or user}"
            if handles is None:
                groups = client.usergroups_list().get("usergroups") or []
                handles = {g.get("id"): g.get("handle") for g in groups}
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not read the name of %s: %s", user or group, exc)
            failed = True
            return f"@{user or group}"
        return f"@{handles.get(group) or group}"

    return OWN_MENTION.sub(name, text)

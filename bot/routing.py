"""Which team a Slack request acts for (DESIGN.md, "Teams and sprints").

In order: a team named as the command's first word (`/standup platform`, the word is then
taken off the text), unless the word is one of the command's subcommands (`/sprint review`
is the review, whatever the teams are called); the team a button or form names (`team` in
its value or metadata, for messages sent to someone in several teams; with the sprint
whose message it is, see `stated_sprint`), or the team of the blocker or alert a
button carries the id of; the team whose channel the request comes from; the user's team,
when they are in one; the only team. Anything else is ambiguous:
a command is answered with a choice of the user's teams (a button each, see `which_team`).

Team files may write channels by name ("#platform") while Slack sends IDs: a request's
channel is matched by its ID and by its name, the name taken from the request (slash
commands and message buttons carry it) or from `ChannelNames`, learned from Slack in the
background so that no acknowledgement waits long for it. A blocker's or an alert's button
acts for the team of its row, wherever its message is.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.common import Message, code, esc, unescape
from bot.ids import Action
from bot.members import TeamMembers, WouldWait
from jobs.config import Sprint, Team
from jobs.messages import short
from jobs.numbers import row_id
from jobs.teams import Teams
from storage import queries
from storage.db import Database

log = logging.getLogger(__name__)

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]+$")
REFRESH_EVERY = 300.0  # seconds: an unknown channel ID asks Slack again at most this often
# How long a request from an unknown channel waits for the look-up it started: well within
# the 3 s Slack gives an acknowledgement; past it the request is routed without the name.
WAIT_FOR_NAMES = 1.0
MAX_VALUE = 2000  # Slack's limit on a button's value


@dataclass(frozen=True)
class Route:
    """A request's team, or the teams it could be for (`team` None)."""

    team: Team | None
    candidates: tuple[Team, ...] = ()
    named: bool = False  # the command's first word named it (and was taken off the text)
    member: bool = True  # the candidates are the user's teams (else every team: in none)
    # The button or form is of a team the files no longer have (its id, or "" where its
    # row's team is gone): refused, not acted on for another team (found by review).
    gone: str | None = None


class ChannelNames:
    """Channel IDs' names, as `conversations.list` gives them, kept in memory. An ID not
    known yet starts a look-up in the background (at most one per `refresh_every`), which
    the request waits for up to `wait` seconds; Slack is not asked on every request."""

    def __init__(
        self,
        client: WebClient | None,
        *,
        refresh_every: float = REFRESH_EVERY,
        wait: float = WAIT_FOR_NAMES,
    ) -> None:
        self.client = client
        self.refresh_every = refresh_every
        self.wait = wait
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._last = float("-inf")

    def name_of(self, channel_id: str, *, wait: bool = True) -> str | None:
        """The channel's name without "#", if known; an unknown ID starts a look-up.
        `wait=False`: WouldWait rather than wait for it (a caller on the event loop)."""
        name = self._names.get(channel_id)
        if name is None and _CHANNEL_ID.fullmatch(channel_id):
            self._refresh_in_background()
            if not self._done.is_set():
                if not wait:
                    raise WouldWait
                self._done.wait(self.wait)
            name = self._names.get(channel_id)
        return name

    def learn(self) -> None:
        """Read every channel's name now (the background look-up's work)."""
        if self.client is None:
            return
        names: dict[str, str] = {}
        try:
            for page in self.client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=1000
            ):
                for ch in page.get("channels") or []:
                    if ch.get("id") and ch.get("name"):
                        names[str(ch["id"])] = str(ch["name"])
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not list channels to route requests by name: %s", exc)
            return
        with self._lock:
            self._names.update(names)

    def _refresh_in_background(self) -> None:
        with self._lock:
            now = time.monotonic()
            reading = not self._done.is_set()
            if self.client is None or reading or now - self._last < self.refresh_every:
                return
            self._last = now
            self._done.clear()

        def run() -> None:
            try:
                self.learn()
            finally:
                self._done.set()

        threading.Thread(target=run, name="channel-names", daemon=True).start()


def _channel(body: dict[str, Any]) -> str | None:
    for found in (
        body.get("channel_id"),
        (body.get("channel") or {}).get("id") if isinstance(body.get("channel"), dict) else None,
        (body.get("container") or {}).get("channel_id"),
        (body.get("event") or {}).get("channel"),
    ):
        if isinstance(found, str) and found:
            return found
    return None


def _channel_name(body: dict[str, Any]) -> str | None:
    """The channel's name as the request gives it (commands and message buttons do)."""
    for found in (
        body.get("channel_name"),
        (body.get("channel") or {}).get("name") if isinstance(body.get("channel"), dict) else None,
    ):
        if isinstance(found, str) and found and found not in ("directmessage", "privategroup"):
            return found
    return None


def _user(body: dict[str, Any]) -> str | None:
    for found in (
        body.get("user_id"),
        (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None,
        (body.get("event") or {}).get("user"),
    ):
        if isinstance(found, str) and found:
            return found
    return None


def button_value(body: dict[str, Any]) -> str:
    """The value of the button clicked, without the team a value may carry
    (`bot.blocks.common.team_value`)."""
    actions = body.get("actions") or [{}]
    raw = actions[0].get("value") if isinstance(actions[0], dict) else None
    text = str(raw or "")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, dict) and isinstance(data.get("value"), str):
            return str(data["value"])
    return text


def _stated(body: dict[str, Any], key: str) -> str | None:
    """`key` of the JSON a button's value or a form's private metadata holds, if a string
    (a plain value, as older messages' buttons have, states nothing)."""
    candidates: list[Any] = [(body.get("view") or {}).get("private_metadata")]
    candidates += [a.get("value") for a in body.get("actions") or [] if isinstance(a, dict)]
    for raw in candidates:
        if not isinstance(raw, str) or not raw.startswith("{"):
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get(key), str):
            return str(data[key])
    return None


def stated_team(body: dict[str, Any]) -> str | None:
    """The team a button's value or a form's private metadata names (`{"team": …}`)."""
    return _stated(body, "team")


def stated_sprint(body: dict[str, Any]) -> date | None:
    """The sprint (its start date) a button's value or a form's private metadata names
    (`{"sprint": "2025-10-29"}`): the buttons of a sprint's messages act for that sprint,
    clicked after the next one started too (`bot.blocks.common.team_value`, `with_team`)."""
    raw = _stated(body, "sprint")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


# Buttons whose value is a row's id: the row (a blocker, an alert) says whose it is, where
# the message is in a channel two teams use.
_ROW_BUTTONS: dict[str, str] = {
    Action.BLOCKER_ACK: "blocker",
    Action.BLOCKER_ESCALATE: "blocker",
    Action.BLOCKER_RESOLVE: "blocker",
    Action.ALERT_ACK: "alert",
    Action.ALERT_MUTE: "alert",
    Action.EMERGENCY_STANDUP: "alert",
}


GONE = object()  # `of_row`: the row is of a team the files no longer have


def of_row(body: dict[str, Any], teams: Teams, db: Database) -> Team | object | None:
    """The team of the blocker or alert a button carries the id of (one primary-key read);
    GONE where that is a team the files no longer have."""
    actions = body.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    kind = _ROW_BUTTONS.get(str(action.get("action_id")))
    row_key = row_id(str(action.get("value") or "").partition("@")[0])  # ("7@1": its step)
    if kind is None or row_key is None:
        return None
    with db.read() as session:  # every team's rows: `db` is not scoped
        row = (
            queries.blocker_by_id(session=session, blocker_id=row_key)
            if kind == "blocker"
            else queries.alert_by_id(session=session, alert_id=row_key)
        )
        team_id = row.team_id if row is not None else None
    if team_id is None:
        return None
    return next((t for t in teams.all if teams.rows[t.id].team_id == team_id), GONE)


def of_channel(
    body: dict[str, Any],
    teams: Teams,
    *,
    now: datetime,
    names: ChannelNames | None = None,
    wait: bool = True,
) -> Team | None:
    """The team whose channel the request comes from: matched by the channel's ID, then by
    its name (from the request, else from `names`), as team files may write either."""
    channel = _channel(body)
    if not channel:
        return None
    said = _channel_name(body)
    if said:  # (both: a channel two files write two ways is both teams')
        return teams.of_channel(channel, now=now, name=f"#{said}")
    found = teams.of_channel(channel, now=now)
    if found is not None:
        return found
    name = names.name_of(channel, wait=wait) if names is not None else None
    return teams.of_channel(f"#{name}", now=now) if name else None


def route(
    body: dict[str, Any],
    teams: Teams,
    *,
    now: datetime,
    names: ChannelNames | None = None,
    db: Database | None = None,
    members: TeamMembers | None = None,
    words: Mapping[str, Collection[str]] | None = None,
    wait: bool = True,
) -> Route:
    """The team `body` acts for (see the module's docstring). A command whose first word
    names a team has that word taken off `body["text"]`, unless the word is one of the
    command's own (`words`, by command, in lower case: `/sprint review` is the review even
    where a team is called "review"). `wait=False`: WouldWait where it would wait for Slack."""
    stated = stated_team(body)
    gone: str | None = None
    if stated is not None:
        if (team := teams.get(stated)) is not None:
            return Route(team)
        # (A team this database served whose file is gone; not one whose file was renamed:
        # its row took the new id, and its messages act for it as before.)
        if db is not None and _served_before(db, stated):
            gone = stated
    if gone is None and db is not None:
        owner = of_row(body, teams, db)
        if isinstance(owner, Team):
            return Route(owner)
        gone = "" if owner is GONE else None
    if gone is not None:
        user = _user(body)
        mine = teams.of_user(user, now=now) if user else []
        return Route(None, candidates=tuple(mine or teams.all), member=bool(mine), gone=gone)
    if not teams.several:
        return Route(teams.first)
    text = body.get("text")
    command = body.get("command")
    if isinstance(command, str) and isinstance(text, str) and text.strip():
        first, _, rest = text.strip().partition(" ")
        own = (words or {}).get(command, ())
        named = None if first.lower() in own else teams.named(first)
        if named is not None:
            body["text"] = rest.strip()
            return Route(named, named=True)
        if first.lower() == "help":
            # The same usage for every team: not "which team is this for?" (found by review).
            return Route(teams.first)
    by_channel = of_channel(body, teams, now=now, names=names, wait=wait)
    if by_channel is not None:
        return Route(by_channel)
    user = _user(body)
    mine = teams.of_user(user, now=now) if user else []
    if user and members is not None:  # people the files name only as "team" or a group
        mine += [t for t in members.teams_of(user, now=now, wait=wait) if t not in mine]
    if len(mine) == 1:
        return Route(mine[0])
    return Route(None, candidates=tuple(mine or teams.all), member=bool(mine))


def pick_value(team: Team, command: str, text: str) -> str:
    """A choice button's value: the command to run again for `team`."""
    return json.dumps({"team": team.id, "command": command, "text": text})


def _served_before(db: Database, slug: str) -> bool:
    with db.read() as session:  # every team's rows: `db` is not scoped
        return queries.team_slug_known(session=session, slug=slug)


def gone_team(team_id: str) -> str:
    """The answer to a button or form of a team the files no longer have: it acted for
    another team (a prompt of one opened another's standup; a blocker's button answered "no
    blocker B-002"; found by review)."""
    whose = f"the team `{team_id}`" if team_id else "a team"
    return (
        f"That message is of {whose}, which this deployment no longer serves: nothing was "
        "done. Use a message or command of your team's."
    )


def gone_sprint(team: Team, start: date | None) -> str:
    """The answer to a button or form of a sprint the team's file no longer has (dropped
    after it ended, or its start moved): it acted for the sprint running now, and signed
    that sprint's milestone from the old one's request (found by review)."""
    return (
        f"That message is of {esc(team.name)}'s sprint that began {start}, which its sprint file "
        "no longer has: nothing was done. Use the current sprint's messages or commands."
    )


def which_team(
    body: dict[str, Any], candidates: tuple[Team, ...], *, member: bool = True
) -> Message:
    """The answer to a request no team could be found for: for a command, a button per team
    that runs it for that team, and how to name the team when typing it. `member`: the
    candidates are the user's own teams (someone in none was told they were in several,
    found by review)."""
    command = body.get("command")
    names = ", ".join(f"`{t.id}`" for t in candidates)
    if not isinstance(command, str):
        text = f"This isn't one team's channel: use a command with a team's name first ({names})."
        return {"text": text, "blocks": []}
    typed = str(body.get("text") or "").strip()
    # As typed (Slack sent it escaped), in one code span, cut whole: a typed backtick ended
    # the span early, and the cut could split an `&amp;` (found by review).
    shown = short(unescape(typed), 100)
    example = code(f"{command} {candidates[0].id} {shown}".rstrip())
    whose = (
        f"You are in several teams ({names})"
        if member
        else f"This serves several teams ({names}) and you are in none of them"
    )
    text = f"{whose}: which is this for? Or type the team first, e.g. {example}."
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": t.name[:75]},
            "action_id": f"{Action.TEAM_PICK}:{t.id}",
            "value": pick_value(t, command, typed),
        }
        for t in candidates[:25]
    ]
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    # A button's value holds at most 2000 characters: a longer command is typed again.
    if all(len(b["value"]) <= MAX_VALUE for b in buttons):
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": text, "blocks": blocks}


def with_team(
    view: dict[str, Any], team: Team | None, sprint: Sprint | None = None
) -> dict[str, Any]:
    """`view` with `team` (and `sprint`'s start) in its private metadata, so that its
    submission acts for the team (and sprint) it was opened for: a person in several teams
    may answer each, and a form of a sprint's message sent after the next sprint started
    still goes to its sprint."""
    stated: dict[str, str] = {}
    if team is not None:
        stated["team"] = team.id
    if sprint is not None:
        stated["sprint"] = sprint.sprint.start.isoformat()
    if not stated:
        return view
    raw = view.get("private_metadata") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        return view
    if not isinstance(data, dict):
        return view
    return {**view, "private_metadata": json.dumps({**data, **stated})}

"""Which team a Slack request acts for (DESIGN.md, "Teams and sprints").

In order: a team named as the command's first word (`/standup platform`, the word is then
taken off the text); the team a button or form names (`team` in its value or metadata,
for messages sent to someone in several teams); the team whose channel the request comes
from; the user's team, when they are in one; the only team. Anything else is ambiguous:
a command is answered with a choice of the user's teams.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobs.config import Team
from jobs.teams import Teams


@dataclass(frozen=True)
class Route:
    """A request's team, or the teams it could be for (`team` None)."""

    team: Team | None
    candidates: tuple[Team, ...] = ()
    named: bool = False  # the command's first word named it (and was taken off the text)


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


def _user(body: dict[str, Any]) -> str | None:
    for found in (
        body.get("user_id"),
        (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None,
        (body.get("event") or {}).get("user"),
    ):
        if isinstance(found, str) and found:
            return found
    return None


def stated_team(body: dict[str, Any]) -> str | None:
    """The team a button's value or a form's private metadata names (`{"team": …}`)."""
    candidates: list[Any] = [(body.get("view") or {}).get("private_metadata")]
    candidates += [a.get("value") for a in body.get("actions") or [] if isinstance(a, dict)]
    for raw in candidates:
        if not isinstance(raw, str) or not raw.startswith("{"):
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("team"), str):
            return str(data["team"])
    return None


def route(body: dict[str, Any], teams: Teams, *, now: datetime) -> Route:
    """The team `body` acts for (see the module's docstring). A command whose first word
    names a team has that word taken off `body["text"]`."""
    if not teams.several:
        return Route(teams.first)
    text = body.get("text")
    if isinstance(body.get("command"), str) and isinstance(text, str) and text.strip():
        first, _, rest = text.strip().partition(" ")
        named = teams.named(first)
        if named is not None:
            body["text"] = rest.strip()
            return Route(named, named=True)
    stated = stated_team(body)
    if stated is not None and (team := teams.get(stated)) is not None:
        return Route(team)
    by_channel = teams.of_channel(_channel(body), now=now)
    if by_channel is not None:
        return Route(by_channel)
    user = _user(body)
    mine = teams.of_user(user, now=now) if user else []
    if len(mine) == 1:
        return Route(mine[0])
    return Route(None, candidates=tuple(mine or teams.all))


def which_team(body: dict[str, Any], candidates: tuple[Team, ...]) -> str:
    """The answer to a request no team could be found for: the command again, with a team."""
    command = body.get("command")
    names = ", ".join(f"`{t.id}`" for t in candidates)
    if isinstance(command, str):
        example = f"`{command} {candidates[0].id} {body.get('text') or ''}`".replace(" `", "`")
        return f"You are in several teams ({names}): say which as the first word, e.g. {example}."
    return f"This isn't one team's channel: use a command with a team's name first ({names})."

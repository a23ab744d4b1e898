"""Who may do what: one rule per action, applied the same from every button, command, modal
and standup. README.md's "Who may do what" table is `WHO_MAY`; a refusal says who may."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from jobs.config import CHANNEL_KEYS, STANDARD_ROLES, Sprint
from jobs.errors import SprintError
from jobs.messages import mention, mentions
from jobs.milestones import role_title
from storage.models import Blocker

# The members of a user group (S…) or a channel (C…, #name). The Slack surface reads them
# from Slack; without Slack (the demo, domain tests) only IDs named directly count.
Directory = Callable[[str], Collection[str]]


def no_directory(_entry: str) -> Collection[str]:
    """No user group or channel has members we can see."""
    return ()


class Action(StrEnum):
    RESOLVE = "resolve"
    REOPEN = "reopen"
    REASSIGN = "reassign"
    ESCALATE = "escalate"
    MUTE = "mute"
    SIGN_OFF = "sign_off"
    SET_SCORE = "set_score"
    POST_REPORT = "post_report"


# What README.md documents, action by action (a test keeps the two the same).
WHO_MAY: dict[Action, tuple[str, str]] = {
    Action.RESOLVE: (
        "Resolve a blocker (button, `/blocker resolve`, the standup's *Blockers resolved*)",
        "its owner, its reporter, the tech lead, an admin, or whom its escalation path has "
        "reached by role or ID (e.g. the executives at *Executive decision*)",
    ),
    Action.REOPEN: ("Reopen a blocker (`/blocker reopen`)", "the same people as resolve"),
    Action.REASSIGN: (
        "Take over a blocker someone else owns (*Take ownership*)",
        "the same people as resolve; an unowned blocker anyone may take",
    ),
    Action.ESCALATE: (
        "Escalate a blocker now (*Escalate now*)",
        "anyone on the team: a standup participant (or a member of `channels.team` when "
        'participants = "team"), anyone holding a role in `[people]`, its reporter or owner',
    ),
    Action.MUTE: (
        "Quarantine flaky tests or let them out (*Quarantine as flaky*, the flaky notice's "
        "*Quarantine*, `/tests quarantine`, `/tests unquarantine`)",
        "the tech lead, the QA lead or an admin",
    ),
    Action.SIGN_OFF: (
        "Sign off a milestone as a role (*Sign off as …*)",
        "whoever holds that role, directly or through a user group",
    ),
    Action.SET_SCORE: ("Set a manual component's score (`/readiness set`)", "an admin"),
    Action.POST_REPORT: ("Post the daily report now (`/sprint report`)", "an admin"),
}


class NotAllowed(SprintError):
    """The user may not do this; the message says who may."""


def holds(sprint: Sprint, role: str, user_id: str, directory: Directory = no_directory) -> bool:
    """Whether `user_id` holds `role`, directly or through a user group (S…) named for it."""
    if role == "participants" and sprint.people.get("participants") == "team":
        # (Whoever is in the team channel: read as a list, it was nobody, and a sign-off
        # or a step "by participants" could never be given; found by review.)
        return user_id in directory(sprint.channels.team)
    ids = sprint.role(role)
    return user_id in ids or any(user_id in directory(i) for i in ids if i.startswith("S"))


def _any_role(sprint: Sprint, roles: Iterable[str], user_id: str, directory: Directory) -> bool:
    return any(holds(sprint, r, user_id, directory) for r in roles)


def _either(parties: list[str]) -> str:
    return parties[0] if len(parties) == 1 else f"{', '.join(parties[:-1])} or {parties[-1]}"


# -- blockers --------------------------------------------------------------------------------


def _escalated_to(sprint: Sprint, blocker: Blocker) -> tuple[list[str], list[str]]:
    """(roles, IDs) the steps the blocker has reached call on by name; a step that notifies
    a channel adds no one (everyone there would be)."""
    roles: list[str] = []
    ids: list[str] = []
    for step in sprint.escalation[: blocker.escalation_level]:
        for name in [step.notify] if isinstance(step.notify, str) else step.notify:
            if name in CHANNEL_KEYS:
                continue
            if name in sprint.people or name in STANDARD_ROLES:  # (nobody's: a role all the same)
                roles.append(name)
            elif not name.startswith(("#", "C", "G", "D")):  # a channel ID or name adds no one
                ids.append(name)
    return list(dict.fromkeys(roles)), list(dict.fromkeys(ids))


def may_manage(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory = no_directory
) -> bool:
    """Resolve, reopen or take over: its owner, its reporter, the tech lead, an admin, or
    whom its escalation path has reached."""
    if user_id in (blocker.owner, blocker.reported_by):
        return True
    roles, ids = _escalated_to(sprint, blocker)
    if user_id in ids or any(user_id in directory(i) for i in ids if i.startswith("S")):
        return True
    return _any_role(sprint, ["tech_lead", "admins", *roles], user_id, directory)


def _managers(sprint: Sprint, blocker: Blocker, first: str) -> str:
    roles, ids = _escalated_to(sprint, blocker)
    extra = [f"the {r.replace('_', ' ')}" for r in roles if r not in ("tech_lead", "admins")]
    extra += [mention(i) for i in ids]
    parties = [first, "its reporter", "the tech lead", "an admin"]
    if extra:
        return _either([*parties, *extra]) + " (its escalation has reached them)"
    return _either(parties)


def may_resolve(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory = no_directory
) -> bool:
    """Whether `user_id` may resolve `blocker` (what the standup offers)."""
    return may_manage(sprint, blocker, user_id, directory)


def on_team(sprint: Sprint, user_id: str, directory: Directory = no_directory) -> bool:
    """A standup participant (or a member of channels.team when participants = "team":
    `holds`), or anyone holding a role in [people]."""
    return _any_role(sprint, sprint.people, user_id, directory)


# -- the rules: each answers None (allowed) or the refusal, saying who may -------------------


@dataclass(frozen=True)
class _Asked:
    """Who asks to do what, on which blocker or as which role."""

    sprint: Sprint
    user_id: str
    directory: Directory
    blocker: Blocker | None
    role: str | None

    @property
    def the_blocker(self) -> Blocker:
        if self.blocker is None:
            raise TypeError("this rule is about a blocker: pass blocker=")
        return self.blocker


def _manage(verb: str) -> Callable[[_Asked], str | None]:
    def rule(a: _Asked) -> str | None:
        b = a.the_blocker
        if may_manage(a.sprint, b, a.user_id, a.directory):
            return None
        who = _managers(a.sprint, b, f"{b.code}'s owner")
        return f"Only {who} can {verb} it."

    return rule


def _reassign(a: _Asked) -> str | None:
    """Taking a blocker someone else owns; an unowned one anyone may take."""
    b = a.the_blocker
    if b.owner is None or may_manage(a.sprint, b, a.user_id, a.directory):
        return None
    return (
        f"{b.code} belongs to <@{b.owner}>; only {_managers(a.sprint, b, 'they')} can reassign it."
    )


def _escalate(a: _Asked) -> str | None:
    b = a.the_blocker
    if a.user_id in (b.owner, b.reported_by) or on_team(a.sprint, a.user_id, a.directory):
        return None
    participants = (
        f"members of {a.sprint.channels.team}"
        if a.sprint.people.get("participants") == "team"
        else "the standup participants"
    )
    return (
        f"Only someone on the team can escalate {b.code}: {participants}, anyone with a "
        "role in the sprint file, or its reporter or owner."
    )


def _mute(a: _Asked) -> str | None:
    roles = ["tech_lead", "qa_lead", "admins"]
    if _any_role(a.sprint, roles, a.user_id, a.directory):
        return None
    ids = list(dict.fromkeys(i for r in roles for i in a.sprint.role(r)))
    return "Only the tech lead, the QA lead or an admin can quarantine tests" + (
        f"; ask {mentions(ids)}." if ids else "."
    )


def _sign_off(a: _Asked) -> str | None:
    if a.role is None:
        raise TypeError("signing off is as a role: pass role=")
    if holds(a.sprint, a.role, a.user_id, a.directory):
        return None
    title, ids = role_title(a.role), a.sprint.role(a.role)
    return f"Only the {title} can sign off as {title}" + (f" ({mentions(ids)})." if ids else ".")


def _admins(what: str, after: str = "") -> Callable[[_Asked], str | None]:
    def rule(a: _Asked) -> str | None:
        if holds(a.sprint, "admins", a.user_id, a.directory):
            return None
        admins = a.sprint.role("admins")
        ask = f"; ask {mentions(admins)}." if admins else " (none are named in the sprint file)."
        return f"Only sprint admins can {what}{ask}{after}"

    return rule


_RULES: dict[Action, Callable[[_Asked], str | None]] = {
    Action.RESOLVE: _manage("resolve"),
    Action.REOPEN: _manage("reopen"),
    Action.REASSIGN: _reassign,
    Action.ESCALATE: _escalate,
    Action.MUTE: _mute,
    Action.SIGN_OFF: _sign_off,
    Action.SET_SCORE: _admins("set scores"),
    Action.POST_REPORT: _admins("post the report on demand", " It posts by itself every morning."),
}


def require_role(
    sprint: Sprint,
    rule: Action,
    user_id: str,
    directory: Directory = no_directory,
    *,
    blocker: Blocker | None = None,
    role: str | None = None,
) -> None:
    """The one permission check: NotAllowed, saying who may, unless `user_id` may do `rule`
    (on `blocker` for the blocker rules; as `role` for a sign-off)."""
    refusal = _RULES[rule](_Asked(sprint, user_id, directory, blocker, role))
    if refusal is not None:
        raise NotAllowed(refusal)

"""Who may do what: one rule per action, applied the same from every button, command, modal
and standup. README.md's "Who may do what" table is `WHO_MAY`; a refusal says who may."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from enum import StrEnum

from jobs.config import CHANNEL_KEYS, Sprint
from jobs.errors import SprintError
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
        "Mute a regression's tests as flaky (*Mute as flaky*)",
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
    ids = sprint.role(role)
    return user_id in ids or any(user_id in directory(i) for i in ids if i.startswith("S"))


def _any_role(sprint: Sprint, roles: Iterable[str], user_id: str, directory: Directory) -> bool:
    return any(holds(sprint, r, user_id, directory) for r in roles)


def mention(ids: Iterable[str]) -> str:
    """<@U…> for users and <!subteam^S…> for user groups."""
    return ", ".join(f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in ids)


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
            if name in sprint.people:
                roles.append(name)
            elif not name.startswith(("#", "C", "G")):  # a channel ID or name adds no one
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
    extra += [mention([i]) for i in ids]
    parties = [first, "its reporter", "the tech lead", "an admin"]
    if extra:
        return _either([*parties, *extra]) + " (its escalation has reached them)"
    return _either(parties)


def may_resolve(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory = no_directory
) -> bool:
    """Whether `user_id` may resolve `blocker` (what the standup offers)."""
    return may_manage(sprint, blocker, user_id, directory)


def _check_manage(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory, verb: str
) -> None:
    if not may_manage(sprint, blocker, user_id, directory):
        who = _managers(sprint, blocker, f"{blocker.code}'s owner")
        raise NotAllowed(f"Only {who} can {verb} it.")


def check_resolve(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory = no_directory
) -> None:
    _check_manage(sprint, blocker, user_id, directory, "resolve")


def check_reopen(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory = no_directory
) -> None:
    _check_manage(sprint, blocker, user_id, directory, "reopen")


def check_reassign(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory = no_directory
) -> None:
    """Taking a blocker someone else owns; an unowned one anyone may take."""
    if blocker.owner is None or may_manage(sprint, blocker, user_id, directory):
        return
    who = _managers(sprint, blocker, "they")
    raise NotAllowed(f"{blocker.code} belongs to <@{blocker.owner}>; only {who} can reassign it.")


def on_team(sprint: Sprint, user_id: str, directory: Directory = no_directory) -> bool:
    """A standup participant (or a member of channels.team when participants = "team"), or
    anyone holding a role in [people]."""
    if sprint.people.get("participants") == "team" and user_id in directory(sprint.channels.team):
        return True
    return _any_role(sprint, sprint.people, user_id, directory)


def check_escalate(
    sprint: Sprint, blocker: Blocker, user_id: str, directory: Directory = no_directory
) -> None:
    if user_id in (blocker.owner, blocker.reported_by) or on_team(sprint, user_id, directory):
        return
    participants = (
        f"members of {sprint.channels.team}"
        if sprint.people.get("participants") == "team"
        else "the standup participants"
    )
    raise NotAllowed(
        f"Only someone on the team can escalate {blocker.code}: {participants}, anyone with a "
        "role in the sprint file, or its reporter or owner."
    )


# -- alerts, milestones, scores, reports -------------------------------------------------------


def check_mute(sprint: Sprint, user_id: str, directory: Directory = no_directory) -> None:
    roles = ["tech_lead", "qa_lead", "admins"]
    if _any_role(sprint, roles, user_id, directory):
        return
    ids = list(dict.fromkeys(i for r in roles for i in sprint.role(r)))
    raise NotAllowed(
        "Only the tech lead, the QA lead or an admin can mute tests as flaky"
        + (f"; ask {mention(ids)}." if ids else ".")
    )


def role_title(role: str) -> str:
    """`qa_lead` → "QA Lead"."""
    words = role.replace("_", " ").split()
    return " ".join(w.upper() if w in ("qa", "po", "cto") else w.capitalize() for w in words)


def check_sign_off(
    sprint: Sprint, role: str, user_id: str, directory: Directory = no_directory
) -> None:
    if holds(sprint, role, user_id, directory):
        return
    title = role_title(role)
    ids = sprint.role(role)
    raise NotAllowed(
        f"Only the {title} can sign off as {title}" + (f" ({mention(ids)})." if ids else ".")
    )


def _admins_only(
    sprint: Sprint, user_id: str, directory: Directory, what: str, after: str = ""
) -> None:
    if holds(sprint, "admins", user_id, directory):
        return
    admins = sprint.role("admins")
    raise NotAllowed(
        f"Only sprint admins can {what}"
        + (f"; ask {mention(admins)}." if admins else " (none are named in the sprint file).")
        + after
    )


def check_set_score(sprint: Sprint, user_id: str, directory: Directory = no_directory) -> None:
    _admins_only(sprint, user_id, directory, "set scores")


def check_post_report(sprint: Sprint, user_id: str, directory: Directory = no_directory) -> None:
    _admins_only(
        sprint,
        user_id,
        directory,
        "post the report on demand",
        " It posts by itself every morning.",
    )

"""The permission rules (issue 12, deliverable 7): one per action, and README's table is
the rules' own text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs import permissions
from jobs.config import Sprint
from jobs.permissions import WHO_MAY, Action, NotAllowed
from storage.models import Blocker

ROOT = Path(__file__).resolve().parents[2]
# The example's people: tech_lead U0TECHLEAD; admins U0TECHLEAD, U0QALEAD; qa_lead U0QALEAD;
# product_owner U0PRODOWNER; executives the user group S0EXECUTIVES; participants "team".
GROUPS = {"S0EXECUTIVES": {"U0CEO"}, "#phase4-production-readiness": {"U0ANA"}}


def directory(entry: str) -> set[str]:
    return GROUPS.get(entry, set())


def blocker(level: int = 0, owner: str | None = "U0OWN") -> Blocker:
    return Blocker(
        id=7,
        component="Swarm Coordination",
        description="deadlock",
        severity="P0",
        owner=owner,
        reported_by="U0REP",
        reported_at=datetime(2025, 10, 31, tzinfo=UTC),
        escalation_level=level,
    )


@pytest.mark.parametrize(
    ("user", "level", "allowed"),
    [
        ("U0OWN", 0, True),
        ("U0REP", 0, True),
        ("U0TECHLEAD", 0, True),
        ("U0QALEAD", 0, True),  # an admin
        ("U0ANA", 0, False),  # on the team, but neither owner, reporter, lead nor admin
        ("U0CEO", 3, False),  # an executive before the path reaches them
        ("U0CEO", 4, True),  # …and once it has (step 4 notifies "executives")
        ("U0PRODOWNER", 4, False),
    ],
)
def test_resolve_reopen_reassign_share_one_rule(
    example: Sprint, user: str, level: int, allowed: bool
) -> None:
    b = blocker(level)
    assert permissions.may_resolve(example, b, user, directory) is allowed
    for rule in (Action.RESOLVE, Action.REOPEN, Action.REASSIGN):
        if allowed:
            permissions.require_role(example, rule, user, directory, blocker=b)
        else:
            with pytest.raises(NotAllowed):
                permissions.require_role(example, rule, user, directory, blocker=b)


def test_refusals_say_who_may(example: Sprint) -> None:
    with pytest.raises(NotAllowed) as early:
        permissions.require_role(example, Action.RESOLVE, "U0ANA", directory, blocker=blocker(1))
    assert str(early.value) == (
        "Only B-007's owner, its reporter, the tech lead or an admin can resolve it."
    )
    with pytest.raises(NotAllowed) as late:
        permissions.require_role(example, Action.REASSIGN, "U0ANA", directory, blocker=blocker(4))
    assert str(late.value) == (
        "B-007 belongs to <@U0OWN>; only they, its reporter, the tech lead, an admin or the "
        "executives (its escalation has reached them) can reassign it."
    )
    with pytest.raises(NotAllowed) as mute:
        permissions.require_role(example, Action.MUTE, "U0ANA", directory)
    assert str(mute.value) == (
        "Only the tech lead, the QA lead or an admin can quarantine tests; ask "
        "<@U0TECHLEAD>, <@U0QALEAD>."
    )
    with pytest.raises(NotAllowed) as sign:
        permissions.require_role(
            example, Action.SIGN_OFF, "U0TECHLEAD", directory, role="product_owner"
        )
    assert (
        str(sign.value) == "Only the Product Owner can sign off as Product Owner (<@U0PRODOWNER>)."
    )


def test_an_unowned_blocker_anyone_may_take(example: Sprint) -> None:
    permissions.require_role(
        example, Action.REASSIGN, "U0STRANGER", directory, blocker=blocker(owner=None)
    )


def test_escalate_now_is_for_anyone_on_the_team(example: Sprint) -> None:
    b = blocker()
    for user in ("U0ANA", "U0REP", "U0OWN", "U0PRODOWNER", "U0CEO"):
        permissions.require_role(example, Action.ESCALATE, user, directory, blocker=b)
    with pytest.raises(NotAllowed) as refused:
        permissions.require_role(example, Action.ESCALATE, "U0STRANGER", directory, blocker=b)
    assert str(refused.value) == (
        "Only someone on the team can escalate B-007: members of #phase4-production-readiness, "
        "anyone with a role in the sprint file, or its reporter or owner."
    )


def test_mute_sign_off_set_score_and_report(example: Sprint) -> None:
    require = permissions.require_role
    require(example, Action.MUTE, "U0QALEAD", directory)
    require(example, Action.MUTE, "U0TECHLEAD", directory)
    require(example, Action.SIGN_OFF, "U0CEO", directory, role="executives")  # via the group
    require(example, Action.SET_SCORE, "U0QALEAD", directory)
    require(example, Action.POST_REPORT, "U0TECHLEAD", directory)
    for rule in (Action.SET_SCORE, Action.POST_REPORT):
        with pytest.raises(NotAllowed, match=r"^Only sprint admins can"):
            require(example, rule, "U0PRODOWNER", directory)


@pytest.mark.parametrize("rule", list(Action))
def test_every_action_is_checked_by_require_role(example: Sprint, rule: Action) -> None:
    # A stranger holds no role, owns nothing and is on no team: every rule refuses them.
    with pytest.raises(NotAllowed, match=r"^(Only|B-007 belongs)"):
        permissions.require_role(
            example, rule, "U0STRANGER", directory, blocker=blocker(), role="qa_lead"
        )


def test_readme_documents_every_rule() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    rows = [
        tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        for line in section.splitlines()
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line)
    ]
    assert rows[1:] == [WHO_MAY[a] for a in Action]

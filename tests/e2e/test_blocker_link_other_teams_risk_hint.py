"""Linking to another team's risk is refused without a command that acts on another
blocker (found by review)."""

from __future__ import annotations

from tests.e2e.test_teams_routing import in_channel, org, teams_dir  # noqa: F401  (fixtures)
from tests.support.e2e import risk_values, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server


def test_linking_to_another_teams_risk_does_not_point_at_another_teams_blocker(
    org: Server,  # noqa: F811
) -> None:
    """Both teams have a B-001 and an R-001. Dave, in #mobile, links mobile's B-001 to the
    risk he read in the shared status channel as "platform R-001":
    `/blocker link B-001 platform R-001`. The refusal added by f2097b7 (`Call.without_team`,
    written for a code that leads the text) says "for platform's risk, type
    `/blocker platform link B-001 R-001`" — a command that links *platform's* B-001, another
    team's blocker, to platform's R-001. Should: refuse saying a blocker links to its own
    team's risks, never suggest a command that acts on a different blocker."""
    in_channel(org, "platform", "/blocker", "P2 Build: slow cache", user="U0ALICE")
    in_channel(org, "mobile", "/blocker", "P2 Sync: drops", user="U0DAVE")
    view_submit(org, "risk", "U0ALICE", risk_values(), {"risk": None, "team": "platform"})
    listeners_done()
    said = in_channel(org, "mobile", "/blocker", "link B-001 platform R-001", user="U0DAVE").json()[
        "text"
    ]
    assert "/blocker platform link B-001" not in said, said

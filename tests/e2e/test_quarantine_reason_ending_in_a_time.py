"""`/tests quarantine NAME because REASON`: a reason ending in a time no quarantine can have
keeps its words (found by review)."""

from __future__ import annotations

from tests.e2e.test_quarantine import SWARM, api, ask
from tests.support.e2e import post_report
from tests.support.server import Server


def test_a_reason_ending_in_a_short_time_is_a_reason_not_a_refused_period(
    server: Server,
) -> None:
    """The QA lead types `/tests quarantine test_leader_election because it hangs for
    30s`. The bot answers "A quarantine lasts between 1h and 365d: e.g. `for 7d`." and
    quarantines nothing: the reason's tail "for 30s" was taken for the quarantine's length
    (bot/listeners/commands/tests.py `_TRAILING_PERIOD`). README: `/tests quarantine
    ID-or-name [for 7d] [because …]` — the reason is free text. A name ending in
    "for admins" falls back to being a name; a reason ending in a time no quarantine can
    have should fall back to being the reason: quarantined for the default 14d with the
    reason "it hangs for 30s"."""
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1", commit="aaa111")
    said = ask(server, "quarantine test_leader_election because it hangs for 30s")
    assert said.startswith(f"Quarantined `{SWARM}::test_leader_election` until"), said
    [held] = api(server, "/api/v1/quarantine").json()["tests"]
    assert held["reason"] == "it hangs for 30s"

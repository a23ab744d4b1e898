"""A standup line with no severity leaves an open blocker's, though Slack sends the form's
severity select as chosen (found by review: a P0 was lowered to P1)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.blocks.blockers import severity_select
from tests.e2e.test_standup_typed import _answer, _blockers, team  # noqa: F401
from tests.support.server import Server
from tests.support.slack import slash


def test_standup_line_without_severity_lowers_p0_with_select_as_it_opens(team: Server) -> None:  # noqa: F811
    """Ana files `/blocker P0 Swarm Coordination: prod deploys fail` (B-001, P0). In her
    standup she lists it under *Current blockers* as "prod deploys fail" and leaves
    *Severity of lines without one* as the modal opens it. That select opens with P1
    chosen (initial_option), so Slack submits P1 for it: B-001 is silently lowered from
    P0 to P1 (the very fault commit 09ec3c6 meant to fix; its test sends no value for the
    select, which Slack never does when an initial option is set). A line naming no
    severity should leave the P0 as it is."""
    opened = severity_select().to_dict()
    assert opened["initial_option"]["value"] == "P1"  # what Slack submits untouched
    resp = slash(team.url, "/blocker", "P0 Swarm Coordination: prod deploys fail", user_id="U0ANA")
    assert resp.status_code == 200, resp.text
    assert _blockers(team) == [("P0", "prod deploys fail", True)]
    from tests.support.e2e import submit

    typed = _answer(current_blockers="prod deploys fail", blocker_severity="P1")
    assert submit(team, "U0ANA", **typed).text == ""
    assert _blockers(team) == [("P0", "prod deploys fail", True)]


def test_next_day_repeat_without_severity_keeps_p0_with_select_as_it_opens(team: Server) -> None:  # noqa: F811
    """Thursday Ana types "P0: prod deploys fail"; Friday the same line without the
    prefix, the severity select untouched (it opens on P1). B-001 drops to P1 in its
    message, /blocker list and the reports. It should stay P0."""
    from tests.support.e2e import submit

    team.clock.at = datetime(2025, 10, 30, 13, 5, tzinfo=UTC)
    thursday = _answer(current_blockers="P0: prod deploys fail", blocker_severity="P1")
    assert submit(team, "U0ANA", metadata={"day": "2025-10-30"}, **thursday).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)
    friday = _answer(current_blockers="prod deploys fail", blocker_severity="P1")
    assert submit(team, "U0ANA", **friday).text == ""
    assert _blockers(team) == [("P0", "prod deploys fail", True)]

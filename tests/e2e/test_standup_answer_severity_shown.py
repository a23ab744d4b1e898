"""A standup answer shows an open blocker's own severity for a line typed without one (it
showed the form's default beside the P0 card; found by review)."""

from __future__ import annotations

from tests.e2e.test_standup_typed import _answer, _blockers, team  # noqa: F401
from tests.support.e2e import posts, submit, text_of
from tests.support.server import Server
from tests.support.slack import slash


def test_posted_standup_answer_shows_the_blockers_own_severity(team: Server) -> None:  # noqa: F811
    """Ana files `/blocker P0 Swarm Coordination: prod deploys fail` (B-001, P0), then lists
    it in her standup as "prod deploys fail" with no prefix. Since 09ec3c6 the blocker
    rightly stays P0, but the answer is still stored and posted with the form's default,
    so her standup in the team channel reads "Current blockers: P1 prod deploys fail"
    beside the P0 card in #critical-blockers (and her edit form pre-fills "P1: prod
    deploys fail"). The answer should show the severity the blocker has (P0), not P1."""
    resp = slash(team.url, "/blocker", "P0 Swarm Coordination: prod deploys fail", user_id="U0ANA")
    assert resp.status_code == 200, resp.text
    typed = _answer(current_blockers="prod deploys fail", blocker_severity=None)
    assert submit(team, "U0ANA", **typed).text == ""
    assert _blockers(team) == [("P0", "prod deploys fail", True)]
    team.runtime.sender.drain()
    shown = [text_of(p) for p in posts(team)]
    shown += [text_of(c) for c in team.slack.calls_to("chat.update")]
    answer = [t for t in shown if "Current blockers" in t or "P1 prod deploys fail" in t]
    assert answer, shown
    assert not any("P1 prod deploys fail" in t for t in answer), answer


def test_the_same_answer_again_is_no_edit_when_a_line_took_its_blockers_severity(
    team: Server,  # noqa: F811
) -> None:
    """Submit pressed again after Slack's timeout, with a line that took its open blocker's
    severity (P0) when stored: the form's default (P1) made it differ from what was stored,
    and the repeat counted as an edit, its post re-sent "edited" (found re-reading the
    change)."""
    slash(team.url, "/blocker", "P0 Swarm Coordination: prod deploys fail", user_id="U0ANA")
    typed = _answer(current_blockers="prod deploys fail", blocker_severity=None)
    assert submit(team, "U0ANA", **typed).text == ""
    team.runtime.sender.drain()
    updates = len(team.slack.calls_to("chat.update"))
    assert submit(team, "U0ANA", **typed).text == ""
    team.runtime.sender.drain()
    edited = [text_of(c) for c in team.slack.calls_to("chat.update")[updates:]]
    assert not [t for t in edited if "edited" in t.lower()], edited

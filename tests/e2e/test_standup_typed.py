"""Review 67: what people type into standups (blockers, risks, help needed). Found by review."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot import clock as bot_clock
from storage.models import Blocker, OutboxMessage, Risk
from tests.support.e2e import ANSWER, posts, submit, text_of
from tests.support.server import EXAMPLE, Server
from tests.support.slack import slash

PEOPLE = ["U0ANA", "U0BEN", "U0CAT"]
QUIET = {"current_blockers": "", "new_risks": "", "help_needed": ""}


@pytest.fixture
def team(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text()
        .replace('participants = "team"', f"participants = {json.dumps(PEOPLE)}")
        .replace(
            'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
            'workdays = ["mon", "tue", "wed", "thu", "fri"]',
        )
    )
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    # Friday 2025-10-31, 09:05 in New York: day 3.
    server.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)
    return server


def _answer(**over: Any) -> dict[str, Any]:
    out = {**ANSWER, **QUIET, **over}
    if out.get("blocker_severity") is None:
        out.pop("blocker_severity", None)  # the select left as it opens: nothing chosen
    return out


def _blockers(team: Server) -> list[tuple[str, str, bool]]:
    with team.runtime.db.session() as s:
        return [
            (b.severity, b.description, b.resolved_at is None)
            for b in s.exec(select(Blocker).order_by(Blocker.id))
        ]


def _day_message_now(server: Server, day: str) -> str:
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.key == f"standup-day:{day}")).one()
    ts = str(row.result["ts"])
    updates = [c for c in server.slack.calls_to("chat.update") if c.args.get("ts") == ts]
    if updates:
        return text_of(updates[-1])
    [first] = [p for p in posts(server) if p.args.get("channel") == row.channel]
    return text_of(first)


@pytest.mark.parametrize("typed", ["None", "n/a", "- none", "Nothing"])
def test_none_typed_in_current_blockers_files_no_blocker(team: Server, typed: str) -> None:
    """Ana has no blockers and types "None" (or "n/a") in *Current blockers*, as people do
    in every standup template. sprintbot files and announces a P1 blocker B-001 described
    "None" in #critical-blockers, owned by Ana, and it starts climbing the escalation path;
    /blocker list, the daily report and App Home count one more open blocker. "None" should
    file nothing."""
    resp = submit(team, "U0ANA", **_answer(current_blockers=typed, blocker_severity=None))
    assert (resp.status_code, resp.text) == (200, "")
    assert _blockers(team) == []


@pytest.mark.parametrize("typed", ["None", "n/a"])
def test_none_typed_in_new_risks_raises_no_risk(team: Server, typed: str) -> None:
    """Ana types "None" in *New risks identified*: a risk R-001 "None" (Active, Medium
    impact) is raised in the register and announced. It should raise nothing."""
    resp = submit(team, "U0ANA", **_answer(new_risks=typed))
    assert (resp.status_code, resp.text) == (200, "")
    with team.runtime.db.session() as s:
        risks = [r.description for r in s.exec(select(Risk))]
    assert risks == []


@pytest.mark.parametrize("typed", ["None", "n/a"])
def test_none_in_help_needed_is_not_a_call_for_help_in_the_digest(team: Server, typed: str) -> None:
    """Ana types "None" in *Help needed*. At 09:30 the day's message says
    ":raising_hand: <@U0ANA> needs help: None" under *Blockers and help needed* and counts
    it among the day's calls for help. A "None" should not be shown as a call for help."""
    assert submit(team, "U0ANA", **_answer(help_needed=typed)).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    bot_clock.run_job(team.runtime, "standup-digest")
    shown = _day_message_now(team, "2025-10-31")
    assert "needs help" not in shown, shown


def test_a_blocker_repeated_without_severity_the_next_day_keeps_its_p0(team: Server) -> None:
    """Thursday Ana types "P0: prod deploys fail" (B-001, P0, escalating). Friday she is
    still blocked and types the same line without the prefix, "prod deploys fail",
    leaving *Severity of lines without one* as it opens. B-001 is silently lowered to P1:
    its message, /blocker list, the reports and its escalation now treat the production
    outage as P1, though she never said it was less severe. A line that names no severity
    should leave an existing blocker's severity alone (the form's hint: "start a line
    with P0, P1 or P2 to set its severity")."""
    team.clock.at = datetime(2025, 10, 30, 13, 5, tzinfo=UTC)  # Thursday, day 2
    thursday = _answer(current_blockers="P0: prod deploys fail", blocker_severity=None)
    assert submit(team, "U0ANA", metadata={"day": "2025-10-30"}, **thursday).text == ""
    team.clock.at = datetime(2025, 10, 31, 13, 5, tzinfo=UTC)  # Friday, day 3
    friday = _answer(current_blockers="prod deploys fail", blocker_severity=None)
    assert submit(team, "U0ANA", **friday).text == ""
    assert _blockers(team) == [("P0", "prod deploys fail", True)]


def test_a_standup_line_without_severity_does_not_lower_a_p0_filed_with_blocker(
    team: Server,
) -> None:
    """Ana files `/blocker P0 Swarm Coordination: prod deploys fail` (B-001, P0). In her
    standup she lists it under *Current blockers* as "prod deploys fail", with no prefix:
    B-001 was lowered to P1 without a word (the line got the form's default severity and
    was taken as a change of it)."""
    resp = slash(team.url, "/blocker", "P0 Swarm Coordination: prod deploys fail", user_id="U0ANA")
    assert resp.status_code == 200, resp.text
    assert _blockers(team) == [("P0", "prod deploys fail", True)], resp.text
    typed = _answer(current_blockers="prod deploys fail", blocker_severity=None)
    assert submit(team, "U0ANA", **typed).text == ""
    assert _blockers(team) == [("P0", "prod deploys fail", True)]


@pytest.mark.parametrize("line", ["P0 — prod deploys fail", "(P0) prod deploys fail"])
def test_a_severity_written_with_an_em_dash_or_in_parentheses_is_read(
    team: Server, line: str
) -> None:
    """The form reads "P0: …", "P0 - …", "P0 \u2013 …" (en dash) and "[P0] …". Ana writes
    "P0 — prod deploys fail" (em dash, what many keyboards make of "--") or
    "(P0) prod deploys fail": the first is filed as P0 described "— prod deploys fail"
    (its message reads "General — — prod deploys fail"), the second at the default
    severity P2, described "(P0) prod deploys fail" — a P0 announced, escalated and
    reported as a P2. Both should be a P0 blocker "prod deploys fail"."""
    resp = submit(team, "U0ANA", **_answer(current_blockers=line, blocker_severity="P2"))
    assert (resp.status_code, resp.text) == (200, "")
    assert _blockers(team) == [("P0", "prod deploys fail", True)]

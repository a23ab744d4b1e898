"""A sign-off button of a sprint the team's file no longer lists (an ended sprint dropped
from the file: README, "A sprint dropped from a file keeps its data") acts for whichever
sprint the team runs now: it signs that sprint's milestone of the same day and rewrites the
old request message into the new sprint's milestone (found by review). It is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from storage.models import Signoff
from tests.e2e.test_next_sprint import TEAMS, platform
from tests.e2e.test_sprint_rollover_buttons import button, sent, updates
from tests.support.e2e import at, click, responses
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

S1_LAST = datetime(2025, 11, 11, 15, tzinfo=UTC)  # 10:00 New York, Phase 4's day 14
S2_DAY3 = datetime(2025, 11, 14, 15, tzinfo=UTC)  # Phase 5's day 3

PHASE4_START = '[[sprints]]\nname = "Phase 4 Production Readiness"'
PHASE5_START = "[[sprints]]                              # starts the day after the first ends"


def _file(tmp_path: Path) -> tuple[Path, str]:
    """platform alone; Phase 5 made 14 days long with a day-14 go/no-go the QA lead signs."""
    text = (TEAMS / "platform.toml").read_text()
    text = text.replace("days = 10\n", "days = 14\n").replace(
        'day = 10\nname = "Hardening review"\n'
        'criteria = [{ benchmark = "api_throughput", op = ">=", value = 1000 }]',
        'day = 14\nname = "Hardening review"\n'
        'criteria = [{ benchmark = "api_throughput", op = ">=", value = 1000 }]\n'
        'signoffs = ["qa_lead"]',
    )
    assert 'signoffs = ["qa_lead"]' in text and PHASE4_START in text and PHASE5_START in text
    path = tmp_path / "platform.toml"
    path.write_text(text)
    return path, text


def test_a_signoff_button_of_a_dropped_sprint_does_not_sign_the_running_sprint(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Bob (QA lead) clicks *Sign off as QA Lead* on Phase 4's go/no-go request after Phase 4
    was dropped from the team's file. He sees the message turn into "Sign-off: Hardening
    review" with himself signed, and Phase 5's go/no-go is signed although he never asked
    for it. The click should be refused (the sprint is no longer in the file) and Phase 5's
    milestone left unsigned."""
    path, text = _file(tmp_path)
    org = make_server(SPRINTBOT_CONFIG=str(path))
    at(org, S1_LAST)
    answer = slash(org.url, "/sprint", "signoff 14", user_id="U0ALICE").json()
    assert answer["text"].startswith("Posting the sign-off request for Production go/no-go")
    request, ts = sent(org, "Sign-off: Production go/no-go")
    signoff = button(request, "signoff:qa_lead")

    # Phase 4 is over; the team trims it from its file, and the bot is redeployed.
    head, _, rest = text.partition(PHASE4_START)
    _, _, phase5 = rest.partition(PHASE5_START)
    path.write_text(head + PHASE5_START + phase5)
    at(org, S2_DAY3)
    org = make_server(SPRINTBOT_CONFIG=str(path))
    assert [s.sprint.name for s in platform(org).sprints] == ["Phase 5 Hardening"]

    click(org, "signoff:qa_lead", signoff["value"], user="U0BOB", channel="C0STATUS", ts=ts)
    listeners_done()
    org.runtime.sender.drain()
    [phase5] = platform(org).sprints
    teams = org.runtime.teams
    with org.runtime.contexts.db.scoped(teams.scope(platform(org), phase5)).read() as s:
        signed = [(x.milestone_day, x.role, x.user_id) for x in s.exec(select(Signoff)).all()]
    rewritten = [u for u in updates(org, ts) if "Hardening review" in u]
    [said] = [r.args["text"] for r in responses(org, 1)]
    assert "sprint that began 2025-10-29, which its sprint file no longer has" in said
    assert signed == [] and rewritten == [], (
        f"Phase 4's old button signed Phase 5's milestone {signed}; its message now reads "
        f"{rewritten[:1]}"
    )

"""An absence given for a past day re-counts that day's message (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock as bot_clock
from tests.support.e2e import ANSWER, posts, submit, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def _day_message(server: Server) -> str:
    server.runtime.sender.drain()
    ups = [text_of(c) for c in server.slack.calls_to("chat.update") if "2025-10-31" in text_of(c)]
    return ups[-1]


def test_an_absence_given_for_a_past_day_leaves_that_days_digest_and_the_report_disagreeing(
    server: Server,
) -> None:
    """Friday's 09:30 digest says "Answered 1 of 2 · Missing: Ben". On Saturday at 08:00
    Ben runs `/standup away 2025-10-31 2025-10-31 sick` (accepted: "not counted missing").
    Saturday's 09:00 daily report now says "Standups yesterday: 1 of 1", while Friday's day
    message in the team channel still says "Answered 1 of 2 · Missing: <@U0BEN>": two
    figures for Friday's standup. The absence should update that day's message too (as an
    absence covering today does), or both should keep counting as the digest did."""
    slack = server.slack
    slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Fri 09:00 NY, day 3
    assert bot_clock.scheduled(server.runtime, "standup-prompt").endswith("2 prompts sent")
    submit(server, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": ""})
    server.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)
    assert bot_clock.scheduled(server.runtime, "standup-digest").endswith("1 digest posted")
    assert "Missing: <@U0BEN>" in _day_message(server)

    server.clock.at = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)  # Sat 08:00 NY
    resp = slash(server.url, "/standup", "away 2025-10-31 2025-10-31 sick", user_id="U0BEN")
    listeners_done()
    assert "Away" in str(resp.json() if resp.text else slack.calls_to("response/cmd")), resp.text
    server.clock.at = datetime(2025, 11, 1, 13, 0, tzinfo=UTC)  # Sat 09:00 NY
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    [report] = [
        text_of(c)
        for c in posts(server)
        if c.args.get("channel") == "#sprint-status" and "Daily report" in text_of(c)
    ]
    line = next(x for x in report.splitlines() if "Standups" in x)
    day_message = _day_message(server)
    counted = "1 of 2" if "Answered 1 of 2" in day_message else "1 of 1"
    assert counted in line, (
        f"the report says {line!r}; Friday's day message still says {day_message!r}"
    )

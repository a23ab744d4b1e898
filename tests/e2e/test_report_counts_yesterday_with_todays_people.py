"""participants = "team". Friday (day 3): the team channel holds Ana and Ben; Ana answers,
the 9:30 digest says "Answered 1 of 2 · Missing: Ben". Cat joins the channel on Saturday
morning. Saturday's 9:00 daily report, whose Standups line is Friday's participation, reads
"1 of 3; missing Ben, Cat": Cat is counted as having missed a standup of a day she was not
in the team, and the report contradicts Friday's digest. The report counts the last
standup day with the people read from Slack this morning, not those that day counted."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock as bot_clock
from tests.support.e2e import ANSWER, posts, submit, text_of
from tests.support.server import Server


def test_the_daily_report_counts_fridays_standup_among_fridays_people(server: Server) -> None:
    slack = server.slack
    slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Fri 09:00 NY, day 3
    assert bot_clock.scheduled(server.runtime, "standup-prompt").endswith("2 prompts sent")
    submit(server, "U0ANA", **{**ANSWER, "current_blockers": "", "new_risks": ""})
    server.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)  # 09:30: the digest
    assert bot_clock.scheduled(server.runtime, "standup-digest").endswith("1 digest posted")
    server.runtime.sender.drain()
    [digest] = slack.calls_to("chat.update")
    assert "*Answered 1 of 2*" in text_of(digest) and "Missing: <@U0BEN>" in text_of(digest)

    slack.team_members = ["UBOT", "U0ANA", "U0BEN", "U0CAT"]  # Cat joins on Saturday
    server.clock.at = datetime(2025, 11, 1, 13, 0, tzinfo=UTC)  # Sat 09:00 NY, day 4
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    [report] = [
        text_of(c)
        for c in posts(server)
        if c.args.get("channel") == "#sprint-status" and "Daily report" in text_of(c)
    ]
    line = next(x for x in report.splitlines() if "Standups" in x)
    assert "U0CAT" not in line, line  # Cat was not in the team on Friday
    assert "1 of 2" in line, line  # as Friday's digest counted it

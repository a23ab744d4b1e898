"""App Home counts today's standups among the people the digest counted (found by review)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot import clock as bot_clock
from tests.support.e2e import ANSWER, blocks_text, home_opened, submit, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server

QUIET = {"current_blockers": "", "new_risks": ""}


def _home_line(server: Server) -> str:
    listeners_done()
    server.runtime.sender.drain()
    [call] = server.slack.calls_to("views.publish")[-1:]
    v = call.args["view"]
    view: dict[str, Any] = json.loads(v) if isinstance(v, str) else v
    return next(x for x in blocks_text(view["blocks"]).splitlines() if "Today's standups" in x)


def test_home_counts_todays_standups_among_the_people_the_digest_counted(server: Server) -> None:
    """participants = "team". Friday 09:30: the digest says "Answered 1 of 2 · Missing: Ben"
    (and tomorrow's daily report will say the same, as it counts among the people the digest
    counted). At 10:00 Cat joins the channel. Ana opens App Home: "Today's standups: 1 of 3"
    — a third figure for the same day's standup, counting Cat missing a standup of a day
    whose digest did not ask her. App Home should count today's standup as the digest did
    (1 of 2) once the digest ran, as the daily report does (`standups.counted_on`)."""
    slack = server.slack
    slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    server.clock.at = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # Fri 09:00 NY, day 3
    assert bot_clock.scheduled(server.runtime, "standup-prompt").endswith("2 prompts sent")
    submit(server, "U0ANA", **{**ANSWER, **QUIET})
    server.clock.at = datetime(2025, 10, 31, 13, 30, tzinfo=UTC)  # 09:30: the digest
    assert bot_clock.scheduled(server.runtime, "standup-digest").endswith("1 digest posted")
    server.runtime.sender.drain()
    [digest] = slack.calls_to("chat.update")
    assert "*Answered 1 of 2*" in text_of(digest)

    slack.team_members = ["UBOT", "U0ANA", "U0BEN", "U0CAT"]  # Cat joins at 10:00
    server.clock.at = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)
    home_opened(server, "U0ANA")
    line = _home_line(server)
    assert "1 of 2" in line, f"App Home says {line!r}; the day's digest says 'Answered 1 of 2'"

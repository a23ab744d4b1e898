"""A standup prompt that went out late (the clock started mid-morning, or Slack was down
at its time) is not followed at once by its reminder (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock as bot_clock
from tests.support.e2e import posts, text_of
from tests.support.server import Server


def _dms(server: Server) -> list[tuple[str, str]]:
    server.runtime.sender.drain()
    shown = [(p.args["channel"], text_of(p)) for p in posts(server)]
    return [
        (who, "reminder" if "still open" in t else "prompt") for who, t in shown if who[0] == "U"
    ]


def test_a_prompt_sent_late_gets_its_reminder_as_long_after_it_as_on_time(server: Server) -> None:
    """The clock starts at 11:00 (prompt 09:00, reminder 09:25): each participant got the
    prompt and, the same second, "Your standup is still open" — before they could open it.
    The reminder comes 25 minutes after the prompt, as it does on time."""
    server.slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    server.clock.at = datetime(2025, 10, 31, 15, 0, tzinfo=UTC)  # Friday 11:00 New York
    done = bot_clock.catch_up(server.runtime, started=True)
    assert _dms(server) == [("U0ANA", "prompt"), ("U0BEN", "prompt")], done
    assert (
        "standup-reminder: due at 11:25, 25 minutes after today's prompt, which went out late"
        in done
    )
    server.clock.at = datetime(2025, 10, 31, 15, 20, tzinfo=UTC)  # the clock's next looks
    bot_clock.catch_up(server.runtime, started=False)
    assert len(_dms(server)) == 2
    server.clock.at = datetime(2025, 10, 31, 15, 25, tzinfo=UTC)
    bot_clock.catch_up(server.runtime, started=False)
    assert _dms(server)[2:] == [("U0ANA", "reminder"), ("U0BEN", "reminder")]
    server.clock.at = datetime(2025, 10, 31, 15, 30, tzinfo=UTC)
    bot_clock.catch_up(server.runtime, started=False)
    assert len(_dms(server)) == 4  # once


def test_a_reminder_waits_for_a_prompt_that_has_not_gone_yet(server: Server) -> None:
    """Slack refused the 09:00 prompt run until 09:40: at 09:25 the reminder does not go
    (to people never prompted), and comes 25 minutes after the prompt did."""
    server.slack.team_members = ["UBOT", "U0ANA"]
    server.clock.at = datetime(2025, 10, 31, 13, 25, tzinfo=UTC)  # 09:25 New York
    said = bot_clock.scheduled(server.runtime, "standup-reminder")
    assert said == "standup-reminder: waits for today's standup prompt"
    server.clock.at = datetime(2025, 10, 31, 13, 40, tzinfo=UTC)
    bot_clock.catch_up(server.runtime, started=False)
    assert _dms(server) == [("U0ANA", "prompt")]
    server.clock.at = datetime(2025, 10, 31, 14, 5, tzinfo=UTC)
    bot_clock.catch_up(server.runtime, started=False)
    assert _dms(server) == [("U0ANA", "prompt"), ("U0ANA", "reminder")]


def test_a_prompt_a_little_late_leaves_the_reminder_at_its_time(server: Server) -> None:
    server.slack.team_members = ["UBOT", "U0ANA"]
    server.clock.at = datetime(2025, 10, 31, 13, 3, tzinfo=UTC)  # the prompt at 09:03
    bot_clock.scheduled(server.runtime, "standup-prompt")
    server.clock.at = datetime(2025, 10, 31, 13, 25, tzinfo=UTC)
    assert bot_clock.scheduled(server.runtime, "standup-reminder") == (
        "standup-reminder: 1 reminders sent"
    )

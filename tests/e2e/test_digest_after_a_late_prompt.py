"""Found by review: the standup reminder and digest follow a late prompt."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock as bot_clock
from tests.support.e2e import text_of
from tests.support.server import Server


def test_a_late_prompt_is_not_followed_in_the_same_second_by_the_digest_calling_everyone_missing(
    server: Server,
) -> None:
    """The clock starts at 11:00 (prompt 09:00, reminder 09:25, digest 09:30). Since 7233b98
    the reminder waits 25 minutes after the late prompt, but the digest does not wait at
    all: in the same second as each person's "Time for today's standup" DM, the team
    channel's day message is updated to "Answered 0 of 2 · Missing: @Ana, @Ben" (mentions
    that notify them) — before anyone could open the prompt, and before the reminder. On
    time the digest comes 30 minutes after the prompt (and after the reminder)."""
    server.slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    server.clock.at = datetime(2025, 10, 31, 15, 0, tzinfo=UTC)  # Friday 11:00 New York
    done = bot_clock.catch_up(server.runtime, started=True)
    server.runtime.sender.drain()
    prompts = [m for m in server.slack.messages if m["channel"].startswith("D")]
    assert len(prompts) == 2, done
    digests = [text_of(c) for c in server.slack.calls_to("chat.update") if "Missing:" in text_of(c)]
    assert digests == [], (
        f"at 11:00, with the prompts just sent, the day's message already says {digests}; "
        f"clock: {done}"
    )

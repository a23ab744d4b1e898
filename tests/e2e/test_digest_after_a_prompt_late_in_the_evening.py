"""A prompt sent late in the evening keeps its day's reminder and digest (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import clock as bot_clock
from storage.models import JobRun
from tests.support.e2e import text_of
from tests.support.server import Server


def test_a_prompt_gone_late_in_the_evening_still_gets_its_days_digest(server: Server) -> None:
    """The clock starts (or Slack comes back) at 23:50 New York on Thursday Oct 30 (prompt
    09:00, reminder 09:25, digest 09:30): the catch-up sends the day's prompts at 23:50.
    Since 80279a6 the reminder and digest wait 25/30 minutes after the late prompt — past
    midnight, into Friday — and the catch-up only ever runs *today's* slots, so Thursday's
    reminder and digest never run at all: the day's message never says who answered or is
    missing (README: each "runs once per day"). Before the change the digest ran at once.
    Should: the day's digest runs (at worst at the day's end), never lost. (Its reminder
    too, at the day's last look.)"""
    server.slack.team_members = ["UBOT", "U0ANA", "U0BEN"]
    start = datetime(2025, 10, 31, 3, 50, tzinfo=UTC)  # Thursday 23:50 New York (EDT)
    done: list[str] = []
    for minutes in range(0, 100, 5):  # the clock's catch-up every 5 minutes, to 01:30
        server.clock.at = start + timedelta(minutes=minutes)
        done += bot_clock.catch_up(server.runtime, started=minutes == 0)
        server.runtime.sender.drain()
    dms = [str(m.get("text")) for m in server.slack.messages if m["channel"].startswith("D")]
    assert len([t for t in dms if "Time for today's standup" in t]) == 2, done
    with server.runtime.db.read() as s:
        slots = {(r.job, r.slot) for r in s.exec(select(JobRun))}
    digests = [text_of(c) for c in server.slack.calls_to("chat.update") if "Missing" in text_of(c)]
    assert ("standup-digest", "2025-10-30") in slots, (
        f"Thursday's digest never ran; slots {sorted(slots)}; catch-up said {done}"
    )
    assert digests, "Thursday's day message never showed who answered or is missing"

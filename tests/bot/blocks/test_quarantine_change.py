"""The team's quarantine notice says its end on the team's clock it was queued in; one queued
in UTC, before times were the team's, says UTC (it was shown bare, read as the team's)."""

from __future__ import annotations

from bot.blocks.tests import quarantine_change
from jobs.quarantine import QuarantineChange


def _change(until: str) -> QuarantineChange:
    return {
        "action": "quarantined",
        "by": "U0QALEAD",
        "reason": "races",
        "until": until,
        "tests": [],
        "count": 1,
        "owners": [],
    }


def test_the_end_is_shown_on_the_clock_it_was_queued_in() -> None:
    kolkata = quarantine_change(_change("2025-11-06T00:30:00+05:30"))["text"]
    assert "until Thu 06 Nov 00:30 (races)" in kolkata
    before = quarantine_change(_change("2025-11-05T19:00:00+00:00"))["text"]
    assert "until Wed 05 Nov 19:00 UTC (races)" in before

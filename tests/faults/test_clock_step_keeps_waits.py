"""The machine's clock steps back: a wait Slack asked for (Retry-After) was dropped, the
row posted again at once (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox import Sender, make_client
from storage.db import Database
from tests.support.fakeslack import FakeSlack
from tests.support.outbox import queue_post
from tests.support.server import BOT_TOKEN

pytestmark = pytest.mark.faults


def test_a_retry_after_slack_asked_for_is_kept_when_the_clock_steps_back(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    sender = Sender(
        db,
        make_client(BOT_TOKEN, fake_slack.url, timeout=2),
        now=lambda: clock["t"],
        wall=lambda: clock["t"],
    )
    # Slack rate-limits the channel and asks for two minutes.
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "120"})
    queue_post(db, "regression:7", "C0TEAM", clock["t"])
    assert sender.drain().retrying == 1

    # Ten seconds later NTP steps the host's clock back five minutes.
    clock["t"] = clock["t"] + timedelta(seconds=10) - timedelta(minutes=5)
    sender.drain()
    calls = fake_slack.calls_to("chat.postMessage")
    # DESIGN.md "Outgoing messages": retries honour Retry-After. 110 s of the 120 s Slack
    # asked for remain, yet the row was re-dated "due now" and sent again at once.
    assert len(calls) == 1, "posted again at once, 10 s into the 120 s Slack asked to wait"
    # The wait runs again from the step (what was left of it cannot be told across it):
    # two minutes on, the message goes, once.
    clock["t"] += timedelta(seconds=121)
    assert sender.drain().sent == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 2

"""The machine's clock steps back an hour (NTP correcting a host that ran fast, a VM
restored from a snapshot): every channel that posted in the hour before is silenced for
an hour, because each sent row's lane pace ("next post not before") was stored as a wall
instant `sent + 1 s`, and the pace check compares it with the (now earlier) wall clock.
A regression alert to the team channel, queued just after the step, waits an hour."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.outbox import Sender, make_client
from storage import queries
from storage.db import Database
from tests.support.fakeslack import FakeSlack
from tests.support.outbox import queue_post
from tests.support.server import BOT_TOKEN


def _stepped(db: Database, fake_slack: FakeSlack, clock: dict[str, datetime], **kw: Any) -> Sender:
    """A sender whose scheduling clock and real time are both `clock["t"]`: the machine's
    clock, which the test steps."""
    return Sender(
        db,
        make_client(BOT_TOKEN, fake_slack.url, timeout=2),
        now=lambda: clock["t"],
        wall=lambda: clock["t"],
        **kw,
    )


def test_a_channel_that_posted_before_the_clock_stepped_back_is_not_silenced_for_an_hour(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    sender = _stepped(db, fake_slack, clock)
    queue_post(db, "daily-report:day3", "C0TEAM", clock["t"])
    assert sender.drain().sent == 1

    # Ten minutes later the host's clock is stepped back an hour.
    clock["t"] = clock["t"] + timedelta(minutes=10) - timedelta(hours=1)
    queue_post(db, "regression:42", "C0TEAM", clock["t"])
    done = sender.drain()
    assert done.sent == 1, f"the alert was held by the lane's pace: {done}"
    assert [k for _, k in fake_slack.posted_keys()] == ["daily-report:day3", "regression:42"]


def test_a_message_backing_off_a_second_is_not_held_an_hour_by_the_clock_stepping_back(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    sender = _stepped(db, fake_slack, clock)
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "2"})
    queue_post(db, "regression:7", "C0TEAM", clock["t"])
    assert sender.drain().retrying == 1  # Slack asked it to wait 2 s

    # Across the step what is left of a wait cannot be told: it is waited again from the
    # step, its own 2 s (a Retry-After of minutes is kept so too: test_clock_step_keeps_waits).
    clock["t"] = clock["t"] + timedelta(seconds=5) - timedelta(hours=1)
    sender.drain()
    clock["t"] += timedelta(seconds=2)
    done = sender.drain()
    assert [k for _, k in fake_slack.posted_keys()] == ["regression:7"], (
        f"a 2 s wait became an hour: {done}"
    )


# Rows queued before the step and not claimed yet (a lane's backlog), and a live sender's
# claim from before it (found by reviewing the change).


def test_a_lanes_backlog_queued_before_the_clock_stepped_back_is_not_held_an_hour(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    # (linger 0: return rather than wait out the lane's 1 s pace)
    sender = _stepped(db, fake_slack, clock, linger=0.0)
    # Two messages to one channel queued together: the second waits for the lane's pace.
    queue_post(db, "daily-report:day3", "C0TEAM", clock["t"])
    queue_post(db, "standup-day:day3", "C0TEAM", clock["t"])
    first = sender.drain()
    assert first.sent == 1, first

    # Ten seconds later the host's clock is stepped back an hour.
    clock["t"] = clock["t"] + timedelta(seconds=10) - timedelta(hours=1)
    done = sender.drain()
    assert [k for _, k in fake_slack.posted_keys()] == ["daily-report:day3", "standup-day:day3"], (
        f"the second message of the lane, queued before the step, waits an hour: {done}"
    )


def test_a_message_queued_just_before_the_step_is_not_held_an_hour(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    sender = _stepped(db, fake_slack, clock)
    queue_post(db, "regression:42", "C0TEAM", clock["t"])  # queued; the sender not yet at it
    clock["t"] = clock["t"] + timedelta(seconds=2) - timedelta(hours=1)  # the step back
    done = sender.drain()
    assert [k for _, k in fake_slack.posted_keys()] == ["regression:42"], (
        f"a message queued two seconds before the step waits an hour: {done}"
    )


def test_a_row_held_by_a_live_sender_is_not_posted_twice_after_the_clock_steps_back(
    db: Database, fake_slack: FakeSlack
) -> None:
    host = {"offset": timedelta(0)}  # the machine's clock, which NTP may step

    def clock() -> datetime:
        return datetime.now(UTC) + host["offset"]

    now = clock()
    with db.session() as s:
        for key, channel in (("daily-report:day3", "C0STATUS"), ("regression:42", "C0TEAM")):
            queries.enqueue(
                session=s,
                key=key,
                method="chat.postMessage",
                payload={"channel": channel, "text": key},
                now=now,
            )
        s.commit()
    # Slack answers the first post slowly: the other sender's drain below, a few
    # hundredths of a second, is done long before it.
    fake_slack.slow("chat.postMessage", 1.5)

    first = Sender(db, make_client(BOT_TOKEN, fake_slack.url, timeout=10), now=clock, wall=clock)
    thread = threading.Thread(target=first.drain, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not fake_slack.calls_to("chat.postMessage"):  # the report is being posted
        assert time.monotonic() < deadline
        time.sleep(0.02)

    host["offset"] = -timedelta(hours=1)  # the host's clock is stepped back an hour
    # Another process's sender on the machine (or another thread of this one) drains.
    other = Sender(db, make_client(BOT_TOKEN, fake_slack.url, timeout=10), now=clock, wall=clock)
    other.drain()
    thread.join(30)
    assert not thread.is_alive()

    keys = [k for _, k in fake_slack.posted_keys()]
    assert keys.count("regression:42") == 1, (
        f"the alert claimed by a live sender was posted {keys.count('regression:42')} times "
        f"after the clock stepped back: {keys}"
    )

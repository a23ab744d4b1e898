"""CLOCK_STEP (storage/queries/outbox.py) takes a *claim* or a lane's *pace* more than a
minute ahead of the real time as written before the machine's clock stepped back, but not a
row queued before the step and not yet claimed: its `next_attempt_at` (its enqueue time) is
an hour ahead after an hour's step back, so it and every row behind it in its lane wait an
hour. A lane's backlog at the moment of the step (the daily report's thread replies queued
with it, a busy channel paced at one post a second) is exactly that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.outbox import Sender, make_client
from storage import queries
from storage.db import Database
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN


def _enqueue(db: Database, key: str, channel: str, now: datetime) -> None:
    with db.session() as s:
        queries.enqueue(
            session=s,
            key=key,
            method="chat.postMessage",
            payload={"channel": channel, "text": key},
            now=now,
        )
        s.commit()


def test_a_lanes_backlog_queued_before_the_clock_stepped_back_is_not_held_an_hour(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    sender = Sender(
        db,
        make_client(BOT_TOKEN, fake_slack.url, timeout=2),
        now=lambda: clock["t"],
        wall=lambda: clock["t"],
        linger=0.0,  # (return rather than wait out the lane's 1 s pace)
    )
    # Two messages to one channel queued together: the second waits for the lane's pace.
    _enqueue(db, "daily-report:day3", "C0TEAM", clock["t"])
    _enqueue(db, "standup-day:day3", "C0TEAM", clock["t"])
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
    sender = Sender(
        db,
        make_client(BOT_TOKEN, fake_slack.url, timeout=2),
        now=lambda: clock["t"],
        wall=lambda: clock["t"],
    )
    _enqueue(db, "regression:42", "C0TEAM", clock["t"])  # queued; the sender not yet at it
    clock["t"] = clock["t"] + timedelta(seconds=2) - timedelta(hours=1)  # the step back
    done = sender.drain()
    assert [k for _, k in fake_slack.posted_keys()] == ["regression:42"], (
        f"a message queued two seconds before the step waits an hour: {done}"
    )

"""The machine's clock steps back an hour (NTP correcting a host that ran fast, a VM
restored from a snapshot): every channel that posted in the hour before is silenced for
an hour, because each sent row's lane pace ("next post not before") was stored as a wall
instant `sent + 1 s`, and the pace check compares it with the (now earlier) wall clock.
A regression alert to the team channel, queued just after the step, waits an hour."""

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


def test_a_channel_that_posted_before_the_clock_stepped_back_is_not_silenced_for_an_hour(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    sender = Sender(
        db,
        make_client(BOT_TOKEN, fake_slack.url, timeout=2),
        now=lambda: clock["t"],
        wall=lambda: clock["t"],
    )
    _enqueue(db, "daily-report:day3", "C0TEAM", clock["t"])
    assert sender.drain().sent == 1

    # Ten minutes later the host's clock is stepped back an hour.
    clock["t"] = clock["t"] + timedelta(minutes=10) - timedelta(hours=1)
    _enqueue(db, "regression:42", "C0TEAM", clock["t"])
    done = sender.drain()
    assert done.sent == 1, f"the alert was held by the lane's pace: {done}"
    assert [k for _, k in fake_slack.posted_keys()] == ["daily-report:day3", "regression:42"]


def test_a_message_backing_off_a_second_is_not_held_an_hour_by_the_clock_stepping_back(
    db: Database, fake_slack: FakeSlack
) -> None:
    clock = {"t": datetime.now(UTC)}
    sender = Sender(
        db,
        make_client(BOT_TOKEN, fake_slack.url, timeout=2),
        now=lambda: clock["t"],
        wall=lambda: clock["t"],
    )
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "2"})
    _enqueue(db, "regression:7", "C0TEAM", clock["t"])
    assert sender.drain().retrying == 1  # Slack asked it to wait 2 s

    clock["t"] = clock["t"] + timedelta(seconds=5) - timedelta(hours=1)
    done = sender.drain()
    assert [k for _, k in fake_slack.posted_keys()] == ["regression:7"], (
        f"a 2 s wait became an hour: {done}"
    )

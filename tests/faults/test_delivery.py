"""Fault injection for outbox delivery: the fake Slack on loopback goes down, storms 429s,
answers too late, rate-limits channels; senders restart and run side by side.

Every test asserts what a user would notice: every message arrives, none twice (by the
outbox key in the message's metadata), each channel's messages in the order they were
queued, and an alert after a short blip is late by seconds. Real time throughout, scaled
to a quarter where Slack allows it: the pace of one post a second per channel (Slack's),
the back-off from a second and the quick retries run at SCALE of the product's, and so do
the outages and the delays the tests allow. Retry-After is whole seconds, so the 429 storm
keeps Slack's second. Messages are spread over channels.
Run apart with `pytest -m faults`; on PostgreSQL with SPRINTBOT_TEST_DATABASE_URL.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot import outbox
from bot.outbox import OutboxWorker, Sender, backoff, make_client
from storage import queries
from storage.db import Database
from storage.models import OutboxStatus
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN

pytestmark = pytest.mark.faults

SCALE = 0.25  # of the product's pace, back-off and quick retries


@dataclass(frozen=True)
class Message:
    key: str
    channel: str  # the channel ID the fake files it under
    parent: str | None = None


def _plan(channels: int, per_channel: int, *, prefix: str = "m") -> list[Message]:
    """Messages interleaved over `channels` channels, as a day's reports and alerts are."""
    return [
        Message(f"{prefix}:{c}:{i}", f"C0FAULT{c}")
        for i in range(per_channel)
        for c in range(channels)
    ]


def _enqueue(db: Database, messages: list[Message]) -> None:
    with db.session() as s:
        for m in messages:
            payload: dict[str, object] = {"text": m.key}
            if m.parent is None:
                payload["channel"] = m.channel
            queries.enqueue(
                session=s,
                key=m.key,
                method="chat.postMessage",
                payload=payload,
                now=datetime.now(UTC),
                parent_key=m.parent,
            )
        s.commit()


def _scaled_backoff(attempts: int) -> timedelta:
    return backoff(attempts) * SCALE


def _sender(db: Database, fake: FakeSlack, *, timeout: float = 2, **kw: object) -> Sender:
    """A sender at SCALE: pace, back-off and the waits between quick retries."""
    options: dict[str, object] = {
        "pace": outbox.PACE * SCALE,
        "retry_delay": _scaled_backoff,
        "safe_retry_backoff": outbox.SAFE_RETRY_BACKOFF * SCALE,
        **kw,
    }
    # (a timeout of a fraction of a second: urllib takes one, though slack-sdk's hint says int)
    client = make_client(BOT_TOKEN, fake.url, timeout=timeout, backoff_scale=SCALE)  # type: ignore[arg-type]
    return Sender(db, client, **options)  # type: ignore[arg-type]


def _wait_until(done: Callable[[], bool], *, within: float) -> float:
    """Poll until `done()`; the seconds it took. Fails the test after `within`."""
    start = time.monotonic()
    while not done():
        assert time.monotonic() - start < within, f"not delivered within {within} s"
        time.sleep(0.05)
    return time.monotonic() - start


def _delivered(fake: FakeSlack, messages: list[Message]) -> Callable[[], bool]:
    """Whether every message is in Slack (what users see)."""
    keys = {m.key for m in messages}
    return lambda: keys <= {k for _, k in fake.posted_keys()}


def _settled(db: Database, fake: FakeSlack, messages: list[Message]) -> Callable[[], bool]:
    """Whether every message is in Slack and recorded as sent (nothing left to retry)."""
    in_slack = _delivered(fake, messages)

    def done() -> bool:
        with db.session() as s:
            counts = queries.outbox_counts(session=s)
        return in_slack() and counts.get("sent", 0) >= len(messages) and len(counts) == 1

    return done


def _assert_once_and_in_order(db: Database, fake: FakeSlack, messages: list[Message]) -> None:
    """Every message arrived once, in its channel in the order it was queued, and the
    outbox says sent with the ts Slack holds."""
    posted = fake.posted_keys()
    keys = [k for _, k in posted]
    assert sorted(keys) == sorted(m.key for m in messages), "lost or doubled"
    for channel in {m.channel for m in messages}:
        queued = [m.key for m in messages if m.channel == channel]
        assert [k for c, k in posted if c == channel] == queued, f"out of order in {channel}"
    ts = {m["metadata"]["event_payload"]["key"]: m["ts"] for m in fake.messages if "metadata" in m}
    with db.session() as s:
        for m in messages:
            row = queries.outbox_message(session=s, key=m.key)
            assert row is not None and row.status == OutboxStatus.SENT
            assert row.result["ts"] == ts[m.key]


@contextmanager
def _process(database_url: str, fake: FakeSlack, **kw: object) -> Iterator[OutboxWorker]:
    """A sprintbot process's outbox: its own engine, sender and worker thread."""
    db = Database.from_url(database_url)
    worker = OutboxWorker(_sender(db, fake, **kw), interval=5)
    worker.start()
    worker.poke()
    try:
        yield worker
    finally:
        worker.stop()
        db.dispose()
    # Stopped: nothing of this process posts any more, so what Slack holds now is final
    # (no need to wait and see whether a late retry posts again).
    assert not worker._thread.is_alive(), "the worker is still draining after stop()"


def test_outage_catch_up_takes_seconds_and_keeps_order(
    db: Database, fake_slack: FakeSlack, database_url: str
) -> None:
    """Fault: after an outage each row had backed off on its own from 30 s doubling;
    delivery took about as long as the outage, out of order. (A 3 s outage caught up
    within 8 s, at SCALE.)"""
    messages = _plan(4, 3)
    fake_slack.outage("refuse")
    _enqueue(db, messages)
    with _process(database_url, fake_slack):
        time.sleep(3 * SCALE)  # the outage: every attempt is refused
        fake_slack.recover()
        catch_up = _wait_until(_delivered(fake_slack, messages), within=20)
        _wait_until(_settled(db, fake_slack, messages), within=10)
    assert catch_up < 8 * SCALE, f"catch-up took {catch_up:.2f} s"
    _assert_once_and_in_order(db, fake_slack, messages)


def test_an_alert_after_a_four_call_blip_is_late_by_seconds(
    db: Database, fake_slack: FakeSlack, database_url: str
) -> None:
    """Fault: a 4-call blip delayed an "immediate" regression alert by 30 s or more.
    (Late by under 6 s, at SCALE.)"""
    fake_slack.fail("chat.postMessage", status=503, times=4)
    alert = [Message("regression:42", "C0TEAM")]
    with _process(database_url, fake_slack) as worker:
        _enqueue(db, alert)
        worker.poke()
        delay = _wait_until(_delivered(fake_slack, alert), within=20)
        _wait_until(_settled(db, fake_slack, alert), within=10)
    assert delay < 6 * SCALE, f"the alert was {delay:.2f} s late"
    _assert_once_and_in_order(db, fake_slack, alert)


def test_a_429_storm_is_waited_out_not_fed(
    db: Database, fake_slack: FakeSlack, database_url: str
) -> None:
    """Fault: rows retried on their own schedules whatever Slack said, feeding the storm."""
    messages = _plan(3, 2)
    fake_slack.storm(2.5, retry_after=1)
    _enqueue(db, messages)
    # Slack's own second: Retry-After cannot be scaled, and the pace is held to it here.
    with _process(database_url, fake_slack, pace=outbox.PACE):
        _wait_until(_settled(db, fake_slack, messages), within=25)
    _assert_once_and_in_order(db, fake_slack, messages)
    # Retry-After and the channel's pace held: no channel was called twice within ~1 s.
    for channel in {m.channel for m in messages}:
        times = [
            c.at for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == channel
        ]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.9, f"{channel} called again after {min(gaps):.2f} s"


def test_slack_answering_after_the_client_timeout_doubles_nothing(
    db: Database, fake_slack: FakeSlack, database_url: str
) -> None:
    """Fault: with Slack answering after the client's timeout, a reply was posted twice
    (12 s against 10 s; here 0.75 s against 0.5 s)."""
    messages = [
        Message("blocker:1", "C0FAULT0"),
        Message("blocker:1:escalation", "C0FAULT0", parent="blocker:1"),
        Message("daily:1", "C0FAULT1"),
        Message("blocker:2", "C0FAULT0"),
    ]
    # The parent goes through; the next three posts take effect but answer too late.
    with _process(database_url, fake_slack, timeout=0.5) as worker:
        _enqueue(db, messages[:1])
        worker.poke()
        _wait_until(_delivered(fake_slack, messages[:1]), within=10)
        fake_slack.slow("chat.postMessage", 0.75, times=3)
        _enqueue(db, messages[1:])
        worker.poke()
        _wait_until(_settled(db, fake_slack, messages), within=20)
    _assert_once_and_in_order(db, fake_slack, messages)
    assert fake_slack.calls_to("conversations.replies")  # the reply was looked for
    assert fake_slack.calls_to("conversations.history")  # so were the top-level posts


def test_a_restart_during_an_outage_loses_and_doubles_nothing(
    db: Database, fake_slack: FakeSlack, database_url: str
) -> None:
    messages = _plan(3, 2, prefix="r")
    first_db = Database.from_url(database_url)
    _enqueue(db, messages)
    # Before dying, the first process got one post through without an answer (the
    # connection dropped), ...
    fake_slack.drop("chat.postMessage")
    _sender(first_db, fake_slack).drain(limit=1)
    fake_slack.outage("refuse")
    # ... tried the others during the outage, and died holding a claim mid-send.
    _sender(first_db, fake_slack).drain()
    with first_db.session() as s:  # its next attempt (a moment on) never finishes
        # (once every row is due, and half a second on at least: on a loaded machine the
        # drain may have retried a message again already, putting its next attempt further
        # on; the claim's lease then runs out after Slack is back, as it did 2 s on)
        due = max(m.next_attempt_at for m in queries.all_messages(session=s))
        soon = max(due, datetime.now(UTC) + timedelta(seconds=0.5))
        assert queries.claim_due(session=s, now=soon, lease=timedelta(minutes=5), limit=1)
        s.commit()
    first_db.dispose()
    # A new process starts while Slack is still down, then Slack comes back.
    with _process(database_url, fake_slack, lease=timedelta(seconds=1)):
        time.sleep(0.75)
        fake_slack.recover()
        _wait_until(_settled(db, fake_slack, messages), within=25)
    _assert_once_and_in_order(db, fake_slack, messages)


def test_a_stalled_sender_cannot_overwrite_the_sender_that_took_over(
    db: Database, fake_slack: FakeSlack
) -> None:
    """Fault: finishing did not check ownership; a sender whose lease ran out overwrote
    the row another sender had taken over, and both posted."""
    message = [Message("review:1", "C0FAULT0")]
    _enqueue(db, message)
    lease = timedelta(seconds=0.25)
    # The first sender's post hangs (0.8 s past the moment the other takes over)...
    fake_slack.slow("chat.postMessage", lease.total_seconds() + 0.1 + 0.8)
    stalled = _sender(db, fake_slack, timeout=5, lease=lease)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(stalled.drain()))
    thread.start()
    _wait_until(lambda: bool(fake_slack.calls_to("chat.postMessage")), within=5)
    time.sleep(lease.total_seconds() + 0.1)  # ... past its lease: another sender takes over
    taker = _sender(db, fake_slack, lease=lease)
    assert taker.drain().sent == 1  # found in the history, not posted again
    thread.join(10)
    assert str(outcome[0]) == "sent 0, retrying 0, failed 0, waiting 0"
    _assert_once_and_in_order(db, fake_slack, message)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_concurrent_senders_deliver_once_in_order_within_slacks_pace(
    db: Database, fake_slack: FakeSlack, database_url: str
) -> None:
    # More than a post a second to a channel is answered 429: at SCALE, four a second.
    fake_slack.channel_rate = 1 / (outbox.PACE * SCALE).total_seconds()
    messages = _plan(5, 3, prefix="c")
    _enqueue(db, messages)
    done = _settled(db, fake_slack, messages)
    engines = [Database.from_url(database_url) for _ in range(3)]

    def run(engine: Database) -> None:
        sender = _sender(engine, fake_slack)
        deadline = time.monotonic() + 20
        while not done() and time.monotonic() < deadline:
            sender.drain()
            time.sleep(sender.next_wait(most=0.5))

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for e in engines:
        e.dispose()
    _assert_once_and_in_order(db, fake_slack, messages)
    assert fake_slack.rate_limited == 0, "the senders provoked 429s"


def test_a_row_claimed_in_a_batch_is_not_posted_after_its_lease_was_taken_over(
    db: Database, fake_slack: FakeSlack
) -> None:
    """Fault: rows claimed together aged from their turn, not their claim, so a sender
    slow on the first row posted the second after another sender had taken it over."""
    messages = [Message("lane-a:1", "C0LANEA"), Message("lane-b:1", "C0LANEB")]
    _enqueue(db, messages)
    lease = timedelta(seconds=0.5)
    # A's first post takes effect, answers late (0.8 s past the moment B takes over)
    fake_slack.slow("chat.postMessage", lease.total_seconds() + 0.1 + 0.8)
    stalled = _sender(db, fake_slack, timeout=6, lease=lease)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(stalled.drain()))
    thread.start()  # A claims both rows in one batch
    _wait_until(lambda: bool(fake_slack.calls_to("chat.postMessage")), within=5)
    # Both leases have run out: B takes both over and delivers them.
    time.sleep(lease.total_seconds() + 0.1)
    taker = _sender(db, fake_slack, timeout=6, lease=lease)
    assert taker.drain().sent == 2
    thread.join(15)
    assert str(outcome[0]) == "sent 0, retrying 0, failed 0, waiting 0"
    _assert_once_and_in_order(db, fake_slack, messages)


def test_stopping_the_worker_ends_its_drain_and_gives_back_its_claims(
    db: Database, fake_slack: FakeSlack
) -> None:
    """Fault: OutboxWorker.stop() did not stop a drain: it went on posting the backlog
    after stop() returned."""
    messages = _plan(3, 3, prefix="s")
    _enqueue(db, messages)
    fake_slack.slow("chat.postMessage", 1.0)  # stop() comes while the first post is out
    worker = OutboxWorker(_sender(db, fake_slack), interval=5)
    worker.start()
    _wait_until(lambda: bool(fake_slack.calls_to("chat.postMessage")), within=5)
    worker.stop(timeout=5)
    # Its thread is gone, so nothing more can come from it: Slack's record is final (the
    # fake records a post when it arrives, before its slow answer).
    assert not worker._thread.is_alive(), "the worker is still draining after stop()"
    assert [k for _, k in fake_slack.posted_keys()] == ["s:0:0"], "posts went on after stop()"
    with db.session() as s:
        for m in messages[1:]:  # the rows claimed with s:0:0 are given back untouched
            row = queries.outbox_message(session=s, key=m.key)
            assert row is not None and row.status == OutboxStatus.PENDING, m.key
            assert (row.attempts, row.claim_token, row.last_error) == (0, None, None), m.key

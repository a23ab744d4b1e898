"""The outbox sender against the fake Slack over real HTTP: retries, back-off, exactly once."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

from sqlmodel import select

from bot.outbox import Sender, backoff, make_client
from storage import queries
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import BOT_TOKEN, Clock
from tests.fakeslack import FakeSlack


def _enqueue(db: Database, clock: Clock, key: str, **payload: object) -> None:
    with db.session() as s:
        queries.enqueue(
            session=s,
            key=key,
            method="chat.postMessage",
            payload={"channel": "#sprint-status", "text": key, **payload},
            now=clock(),
        )
        s.commit()


def _row(db: Database, key: str) -> OutboxMessage:
    with db.session() as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def _sender(db: Database, fake: FakeSlack, clock: Clock) -> Sender:
    return Sender(db, make_client(BOT_TOKEN, fake.url, timeout=5), now=clock)


def test_delivers_once_per_key(db: Database, fake_slack: FakeSlack, clock: Clock) -> None:
    _enqueue(db, clock, "daily-report:2025-10-31")
    _enqueue(db, clock, "daily-report:2025-10-31")  # a second enqueue of the same key
    sender = _sender(db, fake_slack, clock)
    assert str(sender.drain()) == "sent 1, retrying 0, failed 0, waiting 0"
    assert sender.drain().sent == 0
    posts = fake_slack.calls_to("chat.postMessage")
    assert [(c.args["channel"], c.args["text"]) for c in posts] == [
        ("#sprint-status", "daily-report:2025-10-31")
    ]
    assert posts[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    row = _row(db, "daily-report:2025-10-31")
    assert row.status == OutboxStatus.SENT
    assert row.result["ts"]


def test_rate_limit_honours_retry_after(db: Database, fake_slack: FakeSlack, clock: Clock) -> None:
    # A long Retry-After: the outbox reschedules rather than blocking in the client.
    fake_slack.fail(
        "chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "120"}
    )
    _enqueue(db, clock, "regression:1")
    sender = _sender(db, fake_slack, clock)
    sender.client.retry_handlers[2].max_retry_count = 0  # don't sleep 120 s in the client
    result = sender.drain()
    assert (result.sent, result.retrying) == (0, 1)
    row = _row(db, "regression:1")
    assert row.status == OutboxStatus.PENDING and row.last_error == "ratelimited"
    assert row.next_attempt_at == clock() + timedelta(seconds=120)
    # Not due yet: nothing is sent early.
    clock.at += timedelta(seconds=60)
    assert sender.drain().sent == 0
    clock.at += timedelta(seconds=61)
    fake_slack.fail(
        "chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "1"}
    )
    sender.client.retry_handlers[2].max_retry_count = 1  # a short wait the client absorbs
    assert sender.drain().sent == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 3  # 429, 429, 200
    assert _row(db, "regression:1").status == OutboxStatus.SENT


def test_server_errors_back_off_until_slack_recovers(
    db: Database, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_slack.fail("chat.postMessage", status=503, times=6)
    _enqueue(db, clock, "decline:1")
    sender = _sender(db, fake_slack, clock)
    assert sender.drain().retrying == 1  # 1 try + 2 client retries, all 503
    first = _row(db, "decline:1")
    assert first.next_attempt_at == clock() + backoff(1)
    clock.at = first.next_attempt_at
    assert sender.drain().retrying == 1
    assert _row(db, "decline:1").next_attempt_at == clock() + backoff(2)
    clock.at += backoff(2)
    assert sender.drain().sent == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 7
    assert backoff(1) == timedelta(seconds=30) and backoff(20) == timedelta(hours=1)


def test_network_down_keeps_the_message(db: Database, clock: Clock) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    _enqueue(db, clock, "standup:U1:2025-10-31")
    sender = Sender(db, make_client(BOT_TOKEN, dead, timeout=2), now=clock)
    for handler in sender.client.retry_handlers:
        handler.max_retry_count = 0
    result = sender.drain()
    assert result.retrying == 1
    row = _row(db, "standup:U1:2025-10-31")
    assert row.status == OutboxStatus.PENDING
    assert row.last_error is not None and row.last_error.startswith("network:")


def test_permanent_errors_fail_without_retry(
    db: Database, fake_slack: FakeSlack, clock: Clock
) -> None:
    with db.session() as s:
        queries.enqueue(
            session=s,
            key="bad",
            method="chat.postMessage",
            payload={"channel": "#does-not-exist", "text": "x"},
            now=clock(),
        )
        s.commit()
    sender = _sender(db, fake_slack, clock)
    assert sender.drain().failed == 1
    clock.at += timedelta(hours=2)
    assert sender.drain().failed == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    row = _row(db, "bad")
    assert (row.status, row.last_error) == (OutboxStatus.FAILED, "channel_not_found")


def test_replies_wait_for_their_parent(db: Database, fake_slack: FakeSlack, clock: Clock) -> None:
    fake_slack.fail("chat.postMessage", status=503, times=3)  # the parent's first attempt
    with db.session() as s:
        queries.enqueue(
            session=s,
            key="regression:7",
            method="chat.postMessage",
            payload={"channel": "C0TEAM", "text": "3 tests regressed"},
            now=clock(),
        )
        queries.enqueue(
            session=s,
            key="regression:7:list",
            method="chat.postMessage",
            payload={"text": "the full list"},
            now=clock(),
            parent_key="regression:7",
        )
        s.commit()
    sender = _sender(db, fake_slack, clock)
    first = sender.drain()
    assert (first.retrying, first.waiting, first.sent) == (1, 1, 0)
    assert _row(db, "regression:7:list").attempts == 0
    clock.at += timedelta(minutes=1)
    assert sender.drain().sent == 2
    _, reply = fake_slack.calls_to("chat.postMessage")[-2:]
    assert reply.args["thread_ts"] == _row(db, "regression:7").result["ts"]
    assert reply.args["channel"] == "C0TEAM"


def test_concurrent_senders_deliver_each_key_once(
    db: Database, fake_slack: FakeSlack, clock: Clock
) -> None:
    keys = [f"k{i}" for i in range(30)]
    for key in keys:
        _enqueue(db, clock, key)
    senders = [_sender(db, fake_slack, clock) for _ in range(3)]
    threads = [threading.Thread(target=s.drain) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    texts = [c.args["text"] for c in fake_slack.calls_to("chat.postMessage")]
    assert sorted(texts) == sorted(keys)

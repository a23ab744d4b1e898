"""Delivery under faults: catch-up after a Slack outage, and an alert's delay after a blip.

Both sides run the real outbox worker against the fake Slack on loopback, which enforces
Slack's ~1 post a second per channel (429 with Retry-After beyond it). The baseline is
the old behaviour, emulated in the same run: back-off from 30 s doubling to an hour, no
pacing, a fixed 5 s tick, no quick retry of a post after a 5xx, and the old client retry
handlers (any Retry-After slept in the client; connection resets and 5xx retried). It
keeps the new per-lane order, so its out-of-order column is not the old one (which
interleaved lanes freely).
Run: .venv/bin/python -m bench.faults [--postgres]
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bench.common import fresh_database, table
from bot.outbox import OutboxWorker, Sender, make_client
from storage import queries
from storage.db import Database
from tests.support.fakeslack import FakeSlack

TOKEN = "xoxb-bench"  # noqa: S105  (the fake Slack's, not a secret)
CHANNELS = 4
PER_CHANNEL = 6
OUTAGE = 10.0  # seconds Slack refuses connections
GIVE_UP = 150.0  # seconds to wait for a catch-up before calling it


def old_backoff(attempts: int) -> timedelta:
    """The old schedule: 30 s, 1 min, 2 min, … capped at an hour, no jitter."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), timedelta(hours=1))


class FixedTickSender(Sender):
    """The old worker's rhythm: whatever is due, sleep the whole interval."""

    def next_wait(self, *, most: float) -> float:
        return most


def new_sender(db: Database, url: str) -> Sender:
    return Sender(db, make_client(TOKEN, url))


def old_sender(db: Database, url: str) -> Sender:
    client = WebClient(
        token=TOKEN,
        base_url=url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=1),
        ],
    )
    # No quick look-and-retry of a post after a 5xx either: the old sender had none.
    return FixedTickSender(db, client, pace=timedelta(0), retry_delay=old_backoff, safe_retries=0)


@dataclass
class Outcome:
    catch_up: float | None  # seconds from recovery to the last message; None: gave up
    delivered: int
    rate_limited: int
    doubles: int
    out_of_order: int


def _enqueue(db: Database, keys: list[tuple[str, str]]) -> None:
    with db.session() as s:
        for key, channel in keys:
            queries.enqueue(
                session=s,
                key=key,
                method="chat.postMessage",
                payload={"channel": channel, "text": key},
                now=datetime.now(UTC),
            )
        s.commit()


def _wait(done: Callable[[], bool], limit: float) -> float | None:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > limit:
            return None
        time.sleep(0.05)
    return time.monotonic() - start


def outage(kind: str, make: Callable[[Database, str], Sender]) -> Outcome:
    """Messages queued while Slack is down; how the sender catches up once it is back."""
    keys = [(f"m:{c}:{i}", f"C0BENCH{c}") for i in range(PER_CHANNEL) for c in range(CHANNELS)]
    fake = FakeSlack().start()
    fake.channel_rate = 1.0
    try:
        with fresh_database(kind) as db:
            fake.outage("refuse")
            _enqueue(db, keys)
            worker = OutboxWorker(make(db, fake.url), interval=5)
            worker.start()
            worker.poke()
            time.sleep(OUTAGE)
            fake.recover()
            wanted = {k for k, _ in keys}
            took = _wait(lambda: wanted <= {k for _, k in fake.posted_keys()}, GIVE_UP)
            worker.stop(timeout=30)
    finally:
        fake.stop()
    posted = fake.posted_keys()
    out_of_order = 0
    for c in range(CHANNELS):
        order = [int(k.rsplit(":", 1)[1]) for ch, k in posted if ch == f"C0BENCH{c}"]
        out_of_order += sum(1 for a, b in itertools.pairwise(order) if b < a)
    return Outcome(
        catch_up=took,
        delivered=len({k for _, k in posted}),
        rate_limited=fake.rate_limited,
        doubles=len(posted) - len({k for _, k in posted}),
        out_of_order=out_of_order,
    )


def blip(kind: str, make: Callable[[Database, str], Sender]) -> float | None:
    """Seconds an alert is late when Slack answers its first four calls 503."""
    fake = FakeSlack().start()
    try:
        with fresh_database(kind) as db:
            fake.fail("chat.postMessage", status=503, times=4)
            worker = OutboxWorker(make(db, fake.url), interval=5)
            worker.start()
            _enqueue(db, [("regression:1", "C0TEAM")])
            worker.poke()
            took = _wait(lambda: bool(fake.posted_keys()), GIVE_UP)
            worker.stop(timeout=30)
    finally:
        fake.stop()
    return took


def _seconds(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else f"> {GIVE_UP:.0f}"


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    variants = [("baseline (old back-off, no pacing)", old_sender), ("outbox sender", new_sender)]
    rows = []
    total = CHANNELS * PER_CHANNEL
    for kind in kinds:
        for name, make in variants:
            out = outage(kind, make)
            rate = f"{out.delivered / out.catch_up:.2f}" if out.catch_up else "-"
            rows.append(
                [
                    kind,
                    name,
                    _seconds(out.catch_up),
                    rate,
                    f"{out.delivered}/{total}",
                    out.rate_limited,
                    out.doubles,
                    out.out_of_order,
                    _seconds(blip(kind, make)),
                ]
            )
    print(
        f"{total} messages over {CHANNELS} channels queued during a {OUTAGE:.0f} s outage; "
        "the fake Slack allows 1 post/s per channel:"
    )
    print(
        table(
            [
                "database",
                "sender",
                "catch-up after recovery (s)",
                "messages/s",
                "delivered",
                "429s",
                "doubles",
                "out of order",
                "alert delay after a 4-call blip (s)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()

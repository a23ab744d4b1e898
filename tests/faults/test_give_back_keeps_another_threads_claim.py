"""Sender._unattempted (the give_back bookkeeping of 8e83b64) is keyed by row id alone and
shared by every thread of one Sender (OutboxWorker runs SENDER_THREADS drains on one
Sender). When a row in thread A's batch goes past its lease while A is still posting the
rows before it (Slack slow), thread B re-claims it and registers it under the same id.
A then reaches the row, pops *B's* entry and loses the claim (LostClaim: B holds it);
B then finds its entry gone, takes the row for "given back by a stopping worker" and
skips it. Nobody posts it and nobody gives it back: the row stays `sending` under B's
token until the lease runs out again (5 minutes in production), then goes as
"uncertain". Before give_back, B attempted the row it had claimed."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from bot.outbox import Sender, make_client
from storage import queries
from storage.db import Database
from storage.models import OutboxStatus
from tests.support.fakeslack import FakeSlack
from tests.support.outbox import queue_post
from tests.support.server import BOT_TOKEN

# The scenario's real time, at half the seconds first written down (a lease of 8 s, Slack
# answering 3 s, 3 s and 5 s): every wait below is a multiple of it, so events keep their
# order and their margins against one another scale with it.
S = 0.5


def test_a_row_reclaimed_by_another_thread_of_the_same_sender_is_posted(
    db: Database, fake_slack: FakeSlack
) -> None:
    offset = {"d": timedelta(0)}  # the scheduling clock: the real time, moved on below

    def now() -> datetime:
        return datetime.now(UTC) + offset["d"]

    t0 = now()
    queue_post(db, "w", "C0W", t0 + timedelta(seconds=2 * S))  # due only once the clock moves
    queue_post(db, "x0", "C0X0", t0)
    queue_post(db, "x", "C0X", t0)
    queue_post(db, "m", "C0M", t0)
    # Slack answers slowly: A's x0 and x 1.5 s each, then B's w 2.5 s.
    for seconds in (3 * S, 3 * S, 5 * S):
        fake_slack.slow("chat.postMessage", seconds)

    # One Sender, two of its threads (as OutboxWorker(threads=SENDER_THREADS) runs it).
    sender = Sender(
        db,
        make_client(BOT_TOKEN, fake_slack.url, timeout=20),
        now=now,
        lease=timedelta(seconds=8 * S),
    )
    a = threading.Thread(target=sender.drain, daemon=True)
    a.start()  # claims x0, x, m; posts x0 (1.5 s), then renews x and posts it (1.5 s)
    deadline = time.monotonic() + 10
    while len(fake_slack.calls_to("chat.postMessage")) < 2:  # x is being posted
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.3 * S)

    # m has waited in A's batch past its lease: another thread of the sender takes it over.
    offset["d"] = timedelta(seconds=6 * S)
    b = threading.Thread(target=sender.drain, daemon=True)
    b.start()  # claims w and m; posts w (2.5 s), then m
    a.join(30)
    b.join(30)
    assert not a.is_alive() and not b.is_alive()

    with db.read() as s:
        row = queries.outbox_message(session=s, key="m")
        assert row is not None
        status = row.status
    keys = [k for _, k in fake_slack.posted_keys()]
    assert keys.count("m") == 1 and status == OutboxStatus.SENT, (
        f"m, re-claimed by thread B, was never posted (status {status}, posted {keys}): "
        "thread A popped B's entry of the same id from Sender._unattempted and B skipped it"
    )

"""SIGTERM (a deploy, `systemctl restart`) while Slack is slow: `sprintbot web`/`clock`/`run`
stop their outbox worker with `OutboxWorker.stop()` (bot/cli.py), which waits 10 s and then
the process exits, its daemon sender threads with it. One delivery may take far longer than
10 s (bot/outbox.py LEASE: "about 100 s"): the rows the sender had claimed with the one in
hand (up to one per channel) are then never given back, stay `sending` under the dead
process's claim, and every channel of the batch is silent for the 5-minute lease after the
restart (README: "Stopping a worker ... gives the rows it had claimed back")."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.outbox import OutboxWorker, Sender, make_client
from storage import queries
from storage.db import Database
from storage.models import OutboxMessage
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN

# Real time scaled down from the production 10 s wait of OutboxWorker.stop() (a slow Slack
# answering the look-up 6 s and the post 6 s after it): Slack answers the look-up within
# the wait and the post after it, so the wait runs out with the post in hand.
STOP_WAIT = 0.5
SLOW_LOOKUP = 0.25
SLOW_POST = 1.0


def test_rows_claimed_with_a_slow_delivery_are_given_back_when_the_process_stops(
    db: Database, fake_slack: FakeSlack
) -> None:
    now = datetime.now(UTC)
    with db.session() as s:
        for key, channel in (("report", "C0STATUS"), ("alert", "C0TEAM")):
            queries.enqueue(
                session=s,
                key=key,
                method="chat.postMessage",
                payload={"channel": channel, "text": key},
                now=now,
            )
        # The report's earlier attempt is uncertain (the last process died mid-send): its
        # delivery looks in the channel's history, then posts; Slack answers each slowly.
        row = s.get(OutboxMessage, queries.outbox_message(session=s, key="report").id)
        row.last_error = (
            f"uncertain: the previous claim expired mid-send [attempted at {now.timestamp():.3f}]"
        )
        s.add(row)
        s.commit()
    fake_slack.slow("conversations.history", SLOW_LOOKUP)
    fake_slack.slow("chat.postMessage", SLOW_POST)

    worker = OutboxWorker(Sender(db, make_client(BOT_TOKEN, fake_slack.url)), interval=5)
    worker.start()
    deadline = time.monotonic() + 5
    while not fake_slack.calls_to("conversations.history"):
        assert time.monotonic() < deadline
        time.sleep(0.02)

    worker.stop(timeout=STOP_WAIT)  # what bot/cli.py does on SIGTERM; then the process exits
    try:
        # (the scenario: the wait ran out with the report's post still in hand)
        assert worker._thread.is_alive(), "the delivery ended within the stop's wait"
        # The restarted process's sender: the alert should go now.
        restarted = Sender(db, make_client(BOT_TOKEN, fake_slack.url))
        done = restarted.drain()
        with db.read() as s:
            alert = queries.outbox_message(session=s, key="alert")
        assert alert is not None
        assert "alert" in [k for _, k in fake_slack.posted_keys()], (
            f"after the restart the alert is not delivered ({done}): the exiting process left "
            f"it {alert.status} under its claim, held until the 5-minute lease runs out"
        )
    finally:
        worker._thread.join(30)  # (let the in-process thread finish before teardown)

"""CLOCK_STEP (storage/queries/outbox.py `_claim`): after the machine's clock steps back,
every row claimed before the step is due at once to every sender — also the rows a live
sender holds right now (the rest of its batch behind a slow delivery, or the one it is
posting). Another process's sender (or another thread) claims them over and posts them
while the first sender, whose claim is not 75 s old (it renews only then), posts them too:
each such message is posted twice. Before the change such a claim waited out its lease."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from bot.outbox import Sender, make_client
from storage import queries
from storage.db import Database
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN


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
    fake_slack.slow("chat.postMessage", 6.0)  # Slack answers the first post slowly

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

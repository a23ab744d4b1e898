"""What the outbox costs per message over calling Slack directly.

Both sides post the same messages to the fake Slack on loopback through the same
WebClient; the baseline calls chat.postMessage in a loop, the outbox path enqueues each
message in its own transaction and then drains them (claim, call, record).
Run: .venv/bin/python -m bench.outbox [--postgres]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import fresh_database, table
from bot.outbox import Sender, make_client
from storage import queries
from tests.fakeslack import FakeSlack

COUNT = 500
NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    fake = FakeSlack().start()
    client = make_client("xoxb-bench", fake.url)
    rows = []
    try:
        start = time.perf_counter()
        for i in range(COUNT):
            client.chat_postMessage(channel="#sprint-status", text=f"direct {i}")
        direct = (time.perf_counter() - start) * 1000 / COUNT
        for kind in kinds:
            with fresh_database(kind) as db:
                start = time.perf_counter()
                for i in range(COUNT):
                    with db.session() as s:
                        queries.enqueue(
                            session=s,
                            key=f"bench:{i}",
                            method="chat.postMessage",
                            payload={"channel": "#sprint-status", "text": str(i)},
                            now=NOW,
                        )
                        s.commit()
                enqueue = (time.perf_counter() - start) * 1000 / COUNT
                start = time.perf_counter()
                # Unpaced: this measures the outbox's own cost per message, not Slack's
                # one post a second per channel (bench.faults measures delivery pace).
                sender = Sender(db, client, now=lambda: NOW, pace=timedelta(0))
                result = sender.drain(limit=COUNT)
                drain = (time.perf_counter() - start) * 1000 / COUNT
                assert result.sent == COUNT
                rows.append(
                    [
                        kind,
                        f"{direct:.2f}",
                        f"{enqueue:.2f}",
                        f"{drain:.2f}",
                        f"{(enqueue + drain) / direct:.2f}x",
                    ]
                )
    finally:
        fake.stop()
    print(f"{COUNT} messages, per message:")
    print(
        table(
            [
                "database",
                "direct chat.postMessage (ms)",
                "enqueue (ms)",
                "drain (ms)",
                "outbox / direct",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()

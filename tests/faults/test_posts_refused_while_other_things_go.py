"""A post waits out an outage of posting alone (found by review)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot import outbox
from bot.outbox import Sender, make_client
from storage import queries
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN, TEST_PACE, Clock

QUICK = 0.1

pytestmark = pytest.mark.faults


def _sender(db: Database, fake: FakeSlack, clock: Clock, **kw: Any) -> Sender:
    client = make_client(BOT_TOKEN, fake.url, timeout=5, backoff_scale=QUICK)
    return Sender(
        db,
        client,
        now=clock,
        pace=TEST_PACE,
        safe_retry_backoff=outbox.SAFE_RETRY_BACKOFF * QUICK,
        **kw,
    )


def _enqueue(db: Database, clock: Clock, key: str, method: str, payload: dict[str, Any]) -> None:
    with db.session() as s:
        queries.enqueue(session=s, key=key, method=method, payload=payload, now=clock())
        s.commit()


def _row(db: Database, key: str) -> OutboxMessage:
    with db.session() as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def _posting_down(fake: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack answers every chat.postMessage 503 (posting is down), the rest as usual."""
    answer = fake._answer

    def down(method: str, args: dict[str, Any], headers: dict[str, str]) -> Any:
        if method == "chat.postMessage":
            return 503, {"ok": False, "error": "service_unavailable"}, {}
        return answer(method, args, headers)

    monkeypatch.setattr(fake, "_answer", down)


def _run_for_two_hours(db: Database, clock: Clock, sender: Sender, other: Any) -> OutboxMessage:
    start, n = clock(), 0
    while clock() - start < timedelta(hours=2):
        if clock() - start >= timedelta(minutes=4) * n:
            n += 1
            other(n)
        sender.drain()
        clock.at = max(_row(db, "report").next_attempt_at, clock() + timedelta(seconds=1))
    return _row(db, "report")


def test_a_post_waits_out_a_posting_outage_while_homes_are_published(
    db: Database, fake_slack: FakeSlack, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack's posting is down for two hours (every chat.postMessage answered 503) while
    App Home views still publish (people open their Home tab now and then). The daily
    report queued at the start of the outage is marked failed for good after about an hour
    ("HTTP 503 ... while Slack took other messages") and never reaches the channel once
    posting is back. The README says: "in an outage, or while Slack refuses every post,
    nothing gets through and nothing fails so" — it should wait and be posted. The fault is
    in bot/outbox.py Sender._choked: `last_sent` counts any delivery (a Home, an update, an
    e-mail), not a post Slack took."""
    _posting_down(fake_slack, monkeypatch)
    _enqueue(db, clock, "report", "chat.postMessage", {"channel": "C0STATUS", "text": "report"})
    sender = _sender(db, fake_slack, clock)

    def home(n: int) -> None:
        _enqueue(
            db,
            clock,
            f"home:U0DEV:{n}",
            "views.publish",
            {"user_id": "U0DEV", "view": {"type": "home", "blocks": []}},
        )

    report = _run_for_two_hours(db, clock, sender, home)
    assert report.status == OutboxStatus.PENDING, (
        f"the daily report was given up during a posting outage: {report.status}, "
        f"{report.attempts} attempts, {report.last_error}"
    )

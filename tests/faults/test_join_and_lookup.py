"""Slack cannot answer for now while the sender joins a channel or looks for an uncertain
post (found by review): a join's 429 or 5xx, or a refused token, is "ask again later", not
"can never": an uncertain post was posted again without looking (doubled), a report's
chart failed for good, and an uncertain post met by a refused token posted blind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot import clock as bot_clock
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.faults.test_slack_refusals import _enqueue, _sender
from tests.support.e2e import at, post_report
from tests.support.fakeslack import FakeSlack
from tests.support.server import Clock, Server

pytestmark = pytest.mark.faults


@pytest.mark.parametrize(
    ("status", "error", "headers"),
    [(429, "ratelimited", {"Retry-After": "30"}), (503, "service_unavailable", {})],
    ids=["join-429", "join-503"],
)
def test_an_uncertain_post_is_not_doubled_when_joining_to_look_is_rate_limited(
    db: Database,
    fake_slack: FakeSlack,
    clock: Clock,
    status: int,
    error: str,
    headers: dict[str, str],
) -> None:
    """The daily report to a public #sprint-status the bot is not in (chat:write.public)
    went through but its answer was lost. To look for it the sender must join the
    channel; Slack answers that join 429 (or 503). That is "ask again later", not "can
    never look": the report must not be posted a second time."""
    fake_slack.member_of = set()
    fake_slack.drop("chat.postMessage")  # took effect, no answer: uncertain
    _enqueue(db, clock, "daily-report:2025-10-31", "C0STATUS")
    sender = _sender(db, fake_slack, clock)
    assert sender.drain().retrying == 1
    # 503 is retried twice inside the client (join is idempotent): fail every try.
    fake_slack.fail("conversations.join", status=status, error=error, headers=headers, times=3)
    clock.at += timedelta(seconds=5)
    sender.drain()
    for _ in range(3):
        clock.at += timedelta(minutes=2)
        sender.drain()
    posted = fake_slack.posted_keys()
    assert posted == [("C0STATUS", "daily-report:2025-10-31")], posted


@pytest.mark.parametrize(
    ("status", "error", "headers"),
    [
        (429, "ratelimited", {"Retry-After": "30"}),
        (503, "service_unavailable", {}),
        (200, "invalid_auth", {}),
    ],
    ids=["join-429", "join-503", "join-invalid_auth"],
)
def test_the_chart_is_not_failed_for_good_when_joining_is_rate_limited(
    server: Server, status: int, error: str, headers: dict[str, str]
) -> None:
    """The burn-down chart for a public #sprint-status the bot is not in: sharing it
    answers not_in_channel, the sender joins, and Slack answers the join 429 (or 503).
    A later try would join and share it; instead the chart is failed for good, and the
    day's report goes without its chart."""
    fake = server.slack
    fake.member_of = set()
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    fake.fail("conversations.join", status=status, error=error, headers=headers, times=3)
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    for minutes in (1, 5, 30):
        at(server, datetime(2025, 10, 31, 13, minutes, tzinfo=UTC))
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        chart = s.exec(select(OutboxMessage).where(col(OutboxMessage.key).endswith(":chart"))).one()
    assert (chart.status, chart.last_error) == (OutboxStatus.SENT, None)


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_an_uncertain_post_is_not_doubled_after_the_token_was_refused_meanwhile(
    db: Database, fake_slack: FakeSlack, clock: Clock, error: str
) -> None:
    """A regression alert to #team went through, but the answer was lost (uncertain). Before
    the next attempt the bot token stops working (rotated, app reinstalled): the look-up
    and the post are refused with `error`. README: a refused token "is not a refused
    message", the row "goes as soon as a working token is installed" — it must still be
    looked for then, not posted again."""
    fake_slack.drop("chat.postMessage")  # took effect; no answer
    _enqueue(db, clock, "regression:42", "C0TEAM")
    sender = _sender(db, fake_slack, clock)
    assert sender.drain().retrying == 1
    # The token is refused for a while: every call answers `error`.
    for method in ("conversations.history", "chat.postMessage"):
        fake_slack.fail(method, error=error, times=1)
    clock.at += timedelta(seconds=5)
    sender.drain()
    # A working token again.
    for _ in range(3):
        clock.at += timedelta(minutes=10)
        sender.drain()
    posted = fake_slack.posted_keys()
    assert posted == [("C0TEAM", "regression:42")], posted

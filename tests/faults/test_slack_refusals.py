"""Slack answering with errors other than outages: the bot token refused while messages
are queued, odd Retry-After values, a chart for a public channel the bot is not in, a
rate-limited look-up, and backfilling a report Slack refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot import clock as bot_clock
from bot import outbox
from bot.outbox import Sender, make_client
from storage import queries
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.support.e2e import at, post_report
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN, TEST_PACE, Clock, Server

pytestmark = pytest.mark.faults

QUICK = 0.1


def _sender(db: Database, fake: FakeSlack, clock: Clock) -> Sender:
    return Sender(
        db,
        make_client(BOT_TOKEN, fake.url, timeout=5, backoff_scale=QUICK),
        now=clock,
        pace=TEST_PACE,
        safe_retry_backoff=outbox.SAFE_RETRY_BACKOFF * QUICK,
    )


def _enqueue(db: Database, clock: Clock, key: str, channel: str) -> None:
    with db.session() as s:
        queries.enqueue(
            session=s,
            key=key,
            method="chat.postMessage",
            payload={"channel": channel, "text": key},
            now=clock(),
        )
        s.commit()


def _row(db: Database, key: str) -> OutboxMessage:
    with db.session() as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()


# -- 1. a token revoked while running ----------------------------------------------------


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth", "account_inactive"])
def test_a_revoked_token_does_not_throw_away_the_queued_messages(
    db: Database, fake_slack: FakeSlack, clock: Clock, error: str
) -> None:
    """The bot token is revoked (rotated, app reinstalled, bot user deactivated) while the
    day's report, an alert and a blocker are queued. Once the token works again, they must
    still go out: the rows are fine, the token is not ("nothing is lost")."""
    keys = {
        "daily-report:2025-10-31": "C0STATUS",
        "regression:9": "C0TEAM",
        "blocker:B-9": "C0BLOCK",
    }
    for key, channel in keys.items():
        _enqueue(db, clock, key, channel)
    fake_slack.fail("chat.postMessage", error=error, times=len(keys))
    sender = _sender(db, fake_slack, clock)
    sender.drain()
    # The token works again (a new one is installed): the next drains deliver the backlog.
    for _ in range(3):
        clock.at += timedelta(minutes=10)
        sender.drain()
    statuses = {key: _row(db, key).status for key in keys}
    assert sorted(k for _, k in fake_slack.posted_keys()) == sorted(keys), statuses


# -- 2. odd Retry-After values -----------------------------------------------------------


def test_a_negative_retry_after_is_a_rate_limit_not_a_lost_message(
    db: Database, fake_slack: FakeSlack, clock: Clock
) -> None:
    """A 429 whose Retry-After is negative (a proxy's or a clock-skewed answer): the row is
    rate-limited, so it is retried; it must not be failed for good as "unexpected"."""
    fake_slack.fail(
        "chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "-1"}
    )
    _enqueue(db, clock, "regression:10", "C0TEAM")
    sender = _sender(db, fake_slack, clock)
    sender.drain()
    row = _row(db, "regression:10")
    assert row.status == OutboxStatus.PENDING, (row.status, row.last_error)
    clock.at += timedelta(minutes=1)
    sender.drain()
    assert fake_slack.posted_keys() == [("C0TEAM", "regression:10")]


def test_a_fractional_retry_after_is_never_undercut(
    db: Database, fake_slack: FakeSlack, clock: Clock
) -> None:
    """README: a 429 reschedules the row "never sooner than Retry-After". Retry-After: 2.5
    must not be retried after about a second."""
    fake_slack.fail(
        "chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "2.5"}
    )
    _enqueue(db, clock, "regression:11", "C0TEAM")
    _sender(db, fake_slack, clock).drain()
    row = _row(db, "regression:11")
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at >= clock() + timedelta(seconds=2.5), row.next_attempt_at - clock()


def test_a_rate_limited_look_up_honours_retry_after(
    db: Database, fake_slack: FakeSlack, clock: Clock
) -> None:
    """An uncertain post (its connection dropped) is looked for with conversations.history;
    Slack answers that look-up 429 with Retry-After: 30. The row must not come back before
    30 s (README: "never sooner than Retry-After") — it came back after ~2 s, feeding the
    rate limit."""
    fake_slack.drop("chat.postMessage")  # took effect, no answer: uncertain
    _enqueue(db, clock, "regression:12", "C0TEAM")
    sender = _sender(db, fake_slack, clock)
    assert sender.drain().retrying == 1
    clock.at += timedelta(minutes=1)
    fake_slack.fail(
        "conversations.history", status=429, error="ratelimited", headers={"Retry-After": "30"}
    )
    sender.drain()
    row = _row(db, "regression:12")
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at >= clock() + timedelta(seconds=30), (
        row.next_attempt_at - clock(),
        row.last_error,
    )


# -- 3. the chart of a report in a public channel the bot was never invited to -----------


def test_the_burndown_chart_reaches_a_public_status_channel_the_bot_is_not_in(
    server: Server,
) -> None:
    """docs/slack.md: the bot "posts to public ones without joining (chat:write.public)".
    That holds for chat.postMessage, but files.completeUploadExternal needs membership and
    answers not_in_channel. The report arrives; its chart is failed for good, every day."""
    fake = server.slack
    fake.member_of = set()  # invited nowhere: public channels, as the docs allow
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    for minutes in (1, 5, 30):
        at(server, datetime(2025, 10, 31, 13, minutes, tzinfo=UTC))
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        chart = s.exec(select(OutboxMessage).where(col(OutboxMessage.key).endswith(":chart"))).one()
    tries = len(fake.calls_to("files.completeUploadExternal"))
    assert (chart.status, chart.last_error) == (OutboxStatus.SENT, None), tries


# -- 4. backfilling a report that Slack refused ------------------------------------------


def test_job_run_after_a_refused_daily_report_does_not_claim_it_was_posted(
    server: Server,
) -> None:
    """9:00: Slack refuses the day's report (its channel archived): the row is failed for
    good. The admin unarchives the channel and backfills with `sprintbot job run
    daily-report`, as docs/cli.md says. It answered "already posted today", untrue, and
    posted nothing."""
    fake = server.slack
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    server.runtime.sender.drain()
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    fake.fail("chat.postMessage", error="is_archived")
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        report = s.exec(
            select(OutboxMessage).where(col(OutboxMessage.key).endswith("daily-report:2025-10-31"))
        ).one()
    assert report.status == OutboxStatus.FAILED  # Slack refused it
    # The channel is unarchived; the admin backfills the missed report.
    at(server, datetime(2025, 10, 31, 13, 30, tzinfo=UTC))
    said = bot_clock.run_job(server.runtime, "daily-report")
    server.runtime.sender.drain()
    reports_in_slack = [k for _, k in fake.posted_keys() if "daily-report:2025-10-31" in k]
    assert (said, len(reports_in_slack)) == ("daily-report: posted", 1)
    assert fake.calls_to("files.completeUploadExternal"), "its chart in its thread"
    # Once it is in the channel, a further run posts nothing more.
    again = bot_clock.run_job(server.runtime, "daily-report")
    assert again == "daily-report: already posted today"


def test_a_503_with_retry_after_is_not_retried_sooner(
    db: Database, fake_slack: FakeSlack, clock: Clock
) -> None:
    """README: "A 429, 5xx or network error reschedules the row ... never sooner than
    Retry-After". Slack (or the proxy in SLACK_API_URL) answers a post 503 with
    Retry-After: 60; the row comes back after about a second."""
    fake_slack.fail(
        "chat.postMessage",
        status=503,
        error="service_unavailable",
        headers={"Retry-After": "60"},
        times=3,
    )
    _enqueue(db, clock, "regression:13", "C0TEAM")
    _sender(db, fake_slack, clock).drain()
    row = _row(db, "regression:13")
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at >= clock() + timedelta(seconds=60), (
        row.next_attempt_at - clock(),
        row.last_error,
    )


# -- what no wait, or one method refused, must not hold up -------------------------------


def test_a_chart_refused_for_a_missing_scope_does_not_hold_the_status_channel(
    server: Server,
) -> None:
    """The workspace has not granted files:write (an upgrade added it; no reinstall yet):
    Slack answers the chart's upload missing_scope. Posting still works. Before today the
    chart failed and the next day's report went out; now the chart waits "for a working
    token" (the token works) and holds the status channel's lane: the next morning's report
    never reaches #status."""
    fake = server.slack
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    server.runtime.sender.drain()
    fake.fail("files.getUploadURLExternal", error="missing_scope", times=10_000)
    at(server, datetime(2025, 10, 30, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    for minute in (1, 6, 12, 20, 40):
        at(server, datetime(2025, 10, 31, 13, minute, tzinfo=UTC))
        server.runtime.sender.drain()
    with server.runtime.db.read() as s:
        rows = s.exec(
            select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.last_error).where(
                col(OutboxMessage.key).contains("daily-report:")
            )
        ).all()
    posted = [k for _, k in fake.posted_keys()]
    assert any(k.endswith("daily-report:2025-10-31") for k in posted), (posted, rows)


@pytest.mark.parametrize(
    "retry_after", [None, "0", "Wed, 21 Oct 2015 07:28:00 GMT"], ids=["none", "zero", "past-date"]
)
def test_a_503_asking_to_wait_nothing_is_retried_as_a_plain_503(
    db: Database, fake_slack: FakeSlack, clock: Clock, retry_after: str | None
) -> None:
    """README: "a post that got a 5xx is looked for and tried again twice within a second,
    then backs off", and the row waits "never sooner than Retry-After". A Retry-After of 0,
    or an HTTP date already past, asks for no wait at all: the post should go as after a
    plain 503. Instead any Retry-After at all stops the inline retry, and the row is marked
    "[Slack asked to wait 0 s]", which also keeps it from going when Slack is back."""
    fake_slack.fail(
        "chat.postMessage",
        status=503,
        error="service_unavailable",
        headers={"Retry-After": retry_after} if retry_after else None,
    )
    _enqueue(db, clock, "regression:21", "C0TEAM")
    _sender(db, fake_slack, clock).drain()
    row = _row(db, "regression:21")
    assert fake_slack.posted_keys() == [("C0TEAM", "regression:21")], (row.status, row.last_error)

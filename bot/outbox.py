"""The outbox sender: delivers queued Web API calls to Slack, each key at most once.

Messages are written to the outbox (storage) in the same transaction as whatever caused
them, so nothing is lost while Slack or the network is down. The sender claims the oldest
undelivered row of each lane (a channel, a user's Home, e-mail), so a lane keeps its
order while other lanes go on; paces each lane to about one message a second, as Slack
asks of posts to a channel; calls Slack through slack-sdk's WebClient (whose retry
handlers absorb brief 5xx except to posts, short 429s and connections that never reached
Slack); and on a failure that persists reschedules the row with a jittered back-off that
starts at about a second, doubles, is capped at minutes and is never shorter than
Retry-After.

A row Slack can never accept (a payload that does not render, data of a template version
this code does not render, or a payload Slack refuses) is marked failed with the reason,
logged and counted; so are the replies of a failed parent.
A send whose outcome is unknown (a timeout or a connection dropped after the request went
out, a 5xx, internal_error or fatal_error answer to a post, or a sender that died holding
the row) is not repeated blindly: every post carries the outbox key in Slack's message
metadata, and before posting again the sender looks for it in the channel's history or
the thread's replies.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import math
import random
import re
import smtplib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient, WebhookResponse
from sqlalchemy.exc import SQLAlchemyError

from bot import metrics
from bot.blocks import VersionMismatch, file_data, render, render_email
from bot.email import PermanentEmailError, send_email
from bot.tls import tls_context
from jobs.numbers import utcnow
from storage import queries
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a claim holds a row before another sender may take it over. One delivery
# makes at most three Web API calls (a history look-up and a post, or the three calls of
# a file upload), each at most 10 s (the client timeout) times three tries plus the
# client's retry sleeps: about 100 s. Five minutes leaves room for a slow database too;
# and before each call, once a quarter of the lease has passed, the sender renews its
# claim, which also tells it whether another sender took the row over meanwhile.
LEASE = timedelta(minutes=5)
# How often a sender looks for rows written before a step back of the clock it did not see
# itself (seconds; `Sender._look_for_a_step`).
REDATE_EVERY = 10.0
FIRST_BACKOFF = timedelta(seconds=1)
MAX_BACKOFF = timedelta(minutes=5)
JITTER = 0.2  # ± a fifth, so rows that failed together do not retry together
# Slack allows about one message a second per channel (short bursts aside). Posting is
# what is limited so; updates, Home views and files are not held to it.
PACE = timedelta(seconds=1)
PACED_METHODS = ("chat.postMessage",)
# How long drain() waits for a lane's pace rather than return with the lane unsent.
LINGER = 2.0
# A Retry-After the client may sleep through itself; a longer one goes back to the
# outbox, which reschedules that lane alone instead of stalling every lane.
INLINE_RETRY_AFTER = 1
# Threads a process's outbox worker drains with. Lanes are independent: at a busy minute
# (every team's 9:00) several senders' Slack round trips overlap; each lane stays in order
# and paced (bench/org_morning.py: 50 teams' wave).
SENDER_THREADS = 4
# How many rows one claim takes (one per lane): each is held from the claim on, so a big
# batch would hold its last rows long before their turn.
BATCH = 10
# How far before an uncertain attempt a history look-up starts (clock skew with Slack);
# it ends a lease after the attempt, by when the attempt had taken effect or failed.
LOOKBACK = timedelta(minutes=1)
LOOKUP_PAGES = 5  # of 200 messages each
# A row whose sender died mid-send has no recorded attempt time, so its look-up searches
# from the row's creation on; in a busy channel that may never reach it. After this many
# attempts it is posted (with a warning that it may double) rather than hold its channel.
LOOKUP_GIVE_UP = 12
# A message Slack answers 5xx every time while it takes others (a payload it chokes on)
# fails after this many attempts and this long, with the reason, rather than hold its
# channel's later messages for ever (found by review). In an outage nothing gets through,
# so nothing fails so.
CHOKED_ATTEMPTS = 12
CHOKED_AGE = timedelta(hours=1)
# Posts are not idempotent: a 5xx or one of these errors may come after Slack posted. Nor
# is opening a form: a trigger opens one, and Slack refuses it a second time
# (`exchanged_trigger_id`) beside the form the first opened (`bot.acks.open_form`).
UNSAFE_METHODS = ("chat.postMessage", "views.open")
MAYBE_DONE_ERRORS = frozenset({"internal_error", "fatal_error"})
# Such a post is tried again at once (after looking for it) this many times, a quarter
# second apart and doubling, as the client retries other calls' 5xx: a blip costs less
# than a second.
SAFE_RETRIES = 2
SAFE_RETRY_BACKOFF = 0.25  # seconds before the first of them (jittered up to double)
# The client's own quick retries: a connection that never reached Slack, tried again after
# about 0.2 s; an idempotent call answered 5xx, after about 0.25 s and 0.5 s.
CONNECT_RETRY_BACKOFF = 0.2
SERVER_RETRY_BACKOFF = 0.25
# Where an uncertain row's last_error records when the attempt went out (Unix seconds).
ATTEMPT_AT = re.compile(r"\[attempted at (\d+(?:\.\d+)?)\]")
# Where a row's last_error records since when Slack has answered its every attempt 5xx
# (Unix seconds): any other outcome in between (the network down) ends the run.
REFUSED_SINCE = re.compile(r"\[refused since (\d+(?:\.\d+)?)\]")
EVENT_TYPE = "sprintbot_outbox"  # the message metadata type that carries the outbox key

# last_error prefixes; the ones in OUTAGE are failures of the way to Slack, not of the
# message, and are retried at once when another message gets through again.
NETWORK = "network: "  # the request never reached Slack
UNCERTAIN = "uncertain: "  # the request may have reached Slack: look before posting again
SERVER = "HTTP 5"  # Slack answered 5xx
REFUSED_TOKEN = "token: "  # noqa: S105  (a last_error prefix: Slack refused the bot token)
OUTAGE = (NETWORK, UNCERTAIN, SERVER, REFUSED_TOKEN)
# In last_error where Slack (or a proxy) named its wait in Retry-After: such a row keeps
# it, even when other messages get through again meanwhile.
ASKED_TO_WAIT = "[Slack asked to wait "
# A Retry-After beyond this is taken as this (a day; past it a timedelta could overflow).
LONGEST_ASKED_WAIT = timedelta(days=1)
WAITING = "waiting for "
SINCE = "[since "  # in a waiting row's last_error: when it began to wait (Unix seconds)
# How long a Home waits for the chart it was queued with (bot.outbox._chart_or_wait): a
# chart held up longer (Slack refusing uploads a while) is not worth a Home a day old.
CHART_WAIT = timedelta(minutes=10)

# Slack's error codes that a later attempt can cure.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "service_unavailable",
        "fatal_error",
        "internal_error",
        "request_timeout",
    }
)
# Slack's answers that refuse the bot token, not the message: a token rotated or revoked,
# the app reinstalled, its bot user deactivated. The message waits for a working token
# (backing off to MAX_BACKOFF, and at once when another message gets through) instead of
# failing for good; /healthz turns 503 once it has waited SPRINTBOT_HEALTH_MAX_AGE. Not
# missing_scope: it refuses one method while the token does the rest (a chart's upload
# without files:write), and a row waiting on it would hold its channel's lane for ever.
TOKEN_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
    }
)
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
# Raised by urllib after the request was written: Slack may have acted on it.
AFTER_SENDING = (OSError, http.client.HTTPException)
# What a Web API call may raise that the sender records (SlackApiError is a
# SlackClientError; URLError an OSError, though one that never reached Slack).
CALL_ERRORS = (SlackClientError, URLError, *AFTER_SENDING)


class ProportionalJitter(Jitter):
    """Up to as much again as the interval (slack-sdk's default adds up to a whole
    second, which would dwarf the short in-client retries below)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())  # noqa: S311  (jitter, not cryptography)


def _short_backoff(factor: float) -> BackoffRetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(backoff_factor=factor, jitter=ProportionalJitter())


class ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries a 429 inside the client only when Slack asks for a short wait."""

    def __init__(self, max_retry_count: int = 1, *, max_wait: int = INLINE_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,  # noqa: ARG002  (signature fixed by slack-sdk)
        request: HttpRequest,  # noqa: ARG002
        response: HttpResponse | None = None,
        error: Exception | None = None,  # noqa: ARG002
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        for name, values in response.headers.items():
            if name.lower() == "retry-after":
                value = values[0] if isinstance(values, list) else values
                try:
                    # (slack-sdk sleeps int(value) plus a fraction: a whole number of
                    # seconds, not negative; anything else goes back to the outbox.)
                    return 0 <= int(value) <= self.max_wait
                except (TypeError, ValueError):
                    return False
        return True


class SafeServerErrorRetryHandler(ServerErrorRetryHandler):
    """Retries a 5xx inside the client, except for a post: Slack may have posted before
    answering 5xx, so the outbox looks for the post before posting it again."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if method in UNSAFE_METHODS or _asks_to_wait(response):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def retry_after(headers: Mapping[str, Any], *, now: datetime) -> timedelta | None:
    """The wait a Retry-After header names: seconds (a fraction too) or an HTTP date; None
    when absent, unreadable or no wait at all (0, a date past: the back-off decides then).
    At most LONGEST_ASKED_WAIT."""
    for name, values in headers.items():
        if str(name).lower() != "retry-after":
            continue
        text = str(values[0] if isinstance(values, list) and values else values).strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
            when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
            seconds = (when - now).total_seconds()
        if math.isnan(seconds) or seconds <= 0:
            return None
        return min(timedelta(seconds=min(seconds, 1e9)), LONGEST_ASKED_WAIT)
    return None


def _posted_as(update: OutboxMessage, post: OutboxMessage) -> dict[str, Any]:
    """An update's payload to post where `post` went (its channel, or its thread: its
    parent's, which the new row takes)."""
    channel = post.payload.get("channel")
    return {**update.payload, **({"channel": channel} if channel is not None else {})}


def _refused(since: datetime | None) -> str:
    """The mark in a row's last_error of since when Slack answers it 5xx (REFUSED_SINCE)."""
    return f" [refused since {since.timestamp():.0f}]" if since is not None else ""


def _asks_to_wait(response: HttpResponse | None) -> bool:
    """Whether a 5xx answer names a wait longer than the client may sleep through."""
    if response is None:
        return False
    wait = retry_after(response.headers, now=datetime.now(UTC))
    return wait is not None and wait.total_seconds() > INLINE_RETRY_AFTER


def _hours(span: timedelta) -> str:
    """A span as whole hours and minutes ("2 h 05 min")."""
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _waiting_since(error: str | None, key: str) -> datetime | None:
    """When a row waiting for `key` began to wait, as its last_error keeps it."""
    prefix = f"{WAITING}{key} {SINCE}"
    if not error or not error.startswith(prefix):
        return None
    try:
        return datetime.fromtimestamp(float(error[len(prefix) :].rstrip("]")), UTC)
    except ValueError:
        return None


def _asked(wait: timedelta | None) -> str:
    """What last_error adds where Slack named its wait."""
    return f" {ASKED_TO_WAIT}{wait.total_seconds():g} s]" if wait is not None else ""


def make_client(
    token: str | None, base_url: str, *, timeout: int = 10, backoff_scale: float = 1.0
) -> WebClient:
    """A WebClient for `base_url` that retries brief 5xx (not of posts), short 429s and
    connections that failed before the request reached Slack. A connection reset, a
    timeout after the request went out or a 5xx to a post is not retried here: Slack may
    have acted on it (the outbox looks before posting again). `backoff_scale` scales the
    waits between those retries (tests shorten them)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        ssl=tls_context(),
        retry_handlers=_retries(SafeServerErrorRetryHandler, backoff_scale),
    )


def _retries(server: type[ServerErrorRetryHandler], scale: float) -> list[RetryHandler]:
    """A client's retries: a connection that failed before the request went out, once; a
    5xx as `server` takes one, twice; a short 429, once. `scale` scales the waits."""
    return [
        ConnectionErrorRetryHandler(
            max_retry_count=1,
            interval_calculator=_short_backoff(CONNECT_RETRY_BACKOFF * scale),
            error_types=[URLError],
        ),
        server(
            max_retry_count=2,
            interval_calculator=_short_backoff(SERVER_RETRY_BACKOFF * scale),
        ),
        ShortRateLimitRetryHandler(max_retry_count=1),
    ]


def _claimed(message: OutboxMessage) -> tuple[int, str]:
    """A claimed row as a sender holds it: its id and its claim."""
    return message.id or 0, message.claim_token or ""


class UnavailableRetryHandler(ServerErrorRetryHandler):
    """Retries a 503 alone: Slack says it did not take the request (a 500 may follow a
    post Slack made)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 503
            and super()._can_retry(state=state, request=request, response=response, error=error)
        )


class Respond:
    """Bolt's `respond()` (a listener's answer by the request's response_url), its POST
    retried where Slack did not take it: a connection that failed before it went out, a
    503, a short 429 (one 503 lost a late answer — "B-001 filed" — for good; found by
    review). Not another 5xx: Slack may have shown the answer before it failed, and no
    outbox looks first (a 500 posted it three times). Slack takes up to five posts to a
    response_url in 30 minutes; an answer that still fails is logged."""

    def __init__(self, response_url: str | None, *, backoff_scale: float = 1.0) -> None:
        self.response_url = response_url
        self.backoff_scale = backoff_scale

    def __call__(self, text: str | dict[str, Any] = "", **kwargs: Any) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if isinstance(text, dict):  # (a whole message, as Bolt's respond takes one)
            kwargs, text = {**text, **kwargs}, str(text.get("text", ""))
            kwargs.pop("text", None)
        client = WebhookClient(
            url=self.response_url,
            timeout=10,
            ssl=tls_context(),
            retry_handlers=_retries(UnavailableRetryHandler, self.backoff_scale),
        )
        try:
            response = client.send(text=text, **kwargs)
        except OSError as e:  # (a timeout too)
            # Slack may well have shown it: a slow reply is no failure of the listener's
            # work, whose user was told "something went wrong" after the answer (found by
            # review).
            log.warning("an answer by response_url got no reply: %s", e.__class__.__name__)
            return WebhookResponse(url=self.response_url, status_code=0, body=str(e), headers={})
        if response.status_code != 200:
            log.warning(
                "an answer by response_url was refused: %s %s", response.status_code, response.body
            )
        return response


def backoff(attempts: int, *, rand: Callable[[], float] = random.random) -> timedelta:
    """About 1 s, 2 s, 4 s, … (± a fifth) up to five minutes: a blip costs seconds, an
    outage a few probes a minute."""
    doublings = min(max(attempts - 1, 0), 20)  # 2**20 s is past any cap
    base: timedelta = min(FIRST_BACKOFF * 2**doublings, MAX_BACKOFF)
    jittered: timedelta = base * (1 + JITTER * (2 * rand() - 1))
    return min(jittered, MAX_BACKOFF)


def outbox_metadata(key: str) -> dict[str, Any]:
    """The Slack message metadata that lets the sender find a post it is unsure about."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


@dataclass
class DrainResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0  # replies whose parent message has not been delivered yet

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, "
            f"waiting {self.waiting}"
        )


@dataclass
class Claim:
    """A row this sender holds, with the token that proves it."""

    message: OutboxMessage
    token: str
    # When the claim was last taken or renewed (time.monotonic(); the time taken just
    # before claiming, so every row of a batch ages from its claim on).
    renewed: float = field(default_factory=time.monotonic)
    attempted_at: datetime | None = None  # on the wall clock, when a post went out

    @property
    def id(self) -> int:
        if self.message.id is None:  # only rows read back from the database reach here
            raise ValueError(f"outbox message {self.message.key} has no id")
        return self.message.id


class LostClaim(Exception):
    """Another sender took the row over (this one's lease ran out); leave it to them."""


class LookupUnavailable(Exception):
    """Slack could not be asked whether an uncertain post arrived; ask again later (not
    before `wait`, where Slack named one)."""

    def __init__(self, reason: str, *, wait: timedelta | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


def _slack_error(exc: SlackApiError) -> tuple[int, str]:
    status = int(exc.response.status_code)
    return status, str(exc.response.get("error") or f"HTTP {status}")


def _transient(status: int, error: str) -> bool:
    return status == 429 or status >= 500 or error in TRANSIENT_ERRORS


def _later(status: int, error: str) -> bool:
    """Whether Slack may answer otherwise later: a transient error, or a refused token
    (the message waits for a working one)."""
    return _transient(status, error) or error in TOKEN_ERRORS


def answers_otherwise_later(exc: SlackApiError) -> bool:
    """Whether Slack, having answered a call with `exc`, may answer it otherwise later (as
    the outbox judges its own calls): down, slow or asking to wait, or refusing the token;
    not a refusal of the call itself (a channel or user group that is gone)."""
    return _later(*_slack_error(exc))


class Sender:
    """Drains the outbox through one WebClient.

    `now` is the scheduling clock (back-off, leases; tests and backfills move it); lane
    pacing runs on `wall`, the real time, because Slack's rate limits do.
    """

    def __init__(
        self,
        db: Database,
        client: WebClient,
        *,
        now: Callable[[], datetime] = utcnow,
        smtp_url: str | None = None,
        wall: Callable[[], datetime] = utcnow,
        lease: timedelta = LEASE,
        pace: timedelta = PACE,
        linger: float = LINGER,
        retry_delay: Callable[[int], timedelta] = backoff,
        sleep: Callable[[float], None] = time.sleep,
        safe_retries: int = SAFE_RETRIES,
        safe_retry_backoff: float | None = None,  # (None: SAFE_RETRY_BACKOFF, read now)
    ) -> None:
        self.db = db
        self.client = client
        self.now = now
        self.smtp_url = smtp_url
        self.wall = wall
        self.lease = lease
        self.pace = pace
        self.linger = linger
        self.retry_delay = retry_delay
        self.sleep = sleep
        self.safe_retries = safe_retries
        self.safe_retry_backoff = (
            SAFE_RETRY_BACKOFF if safe_retry_backoff is None else safe_retry_backoff
        )
        # When this sender last delivered a row, by method: while Slack refused every post
        # it took Homes, and a report was failed for good as refused "while Slack took
        # other messages" (found by review).
        self.last_sent: dict[str, datetime] = {}
        # Rows claimed and not yet attempted, by id and claim (a row whose lease ran out may
        # be another thread's claim now), across this sender's threads: what a stopping
        # worker gives back itself when a delivery in hand outlasts its wait.
        self._unattempted: dict[tuple[int, str], OutboxMessage] = {}
        self._unattempted_lock = threading.Lock()
        # (wall, monotonic) at the last claim, and the monotonic time rows were last looked
        # at for a step back of the clock (`_look_for_a_step`).
        self._clocks: tuple[datetime, float] | None = None
        self._looked_at = -math.inf

    def _look_for_a_step(self, wall: datetime) -> bool:
        """Whether this claim looks for rows written before the machine's clock stepped
        back (`queries.claim_due`'s `redate`): when this process sees its clock step back,
        and every REDATE_EVERY otherwise (rows another machine wrote ahead of this one's
        clock). Looked for on every claim, it was a few per cent of a drain's work."""
        mono = time.monotonic()
        last, self._clocks = self._clocks, (wall, mono)
        stepped = last is not None and wall < last[0] + timedelta(seconds=mono - last[1]) - (
            queries.CLOCK_STEP
        )
        if stepped or mono - self._looked_at >= REDATE_EVERY:
            self._looked_at = mono
            return True
        return False

    # -- the loop ----------------------------------------------------------------------
    def drain(self, *, limit: int = 500, stop: threading.Event | None = None) -> DrainResult:
        """Deliver everything due now (up to `limit` messages), each in its own
        transaction; wait out a lane's pace when that is all that holds a row back.
        Once `stop` is set, return after the row in hand, giving back the rows claimed
        but not yet attempted."""
        result = DrainResult()
        if not self._undelivered():  # (a read: an idle sender never takes the write lock)
            return result
        handled = 0
        looked_again = False
        while handled < limit and not (stop is not None and stop.is_set()):
            claimed = time.monotonic()  # before the claim: the lease runs from it
            with self.db.session() as session:
                batch = queries.claim_due(
                    session=session,
                    now=self.now(),
                    lease=self.lease,
                    limit=min(BATCH, limit - handled),
                    wall=(wall := self.wall()),
                    redate=self._look_for_a_step(wall),
                    reclaimed_error=f"{UNCERTAIN}the previous claim expired mid-send",
                    paced_methods=PACED_METHODS,
                )
                session.commit()
            if not batch:
                paced = self._paced_wait()
                if paced is None and not looked_again:
                    # A lane's pace may have ended between the claim and this look: then
                    # nothing is paced any more, yet its head is due. Claim once more.
                    looked_again = True
                    continue
                if paced is None or paced > self.linger:
                    break
                if stop is None:
                    self.sleep(paced)
                elif stop.wait(paced):
                    break
                continue
            looked_again = False
            with self._unattempted_lock:
                self._unattempted.update((_claimed(m), m) for m in batch)
            for number, message in enumerate(batch):
                if stop is not None and stop.is_set():
                    self._release(batch[number:])
                    return result
                with self._unattempted_lock:
                    if self._unattempted.pop(_claimed(message), None) is None:
                        continue  # given back meanwhile by a stopping worker (`give_back`)
                handled += 1
                self._attempt(Claim(message, message.claim_token or "", renewed=claimed), result)
        return result

    def give_back(self) -> None:
        """Give back every row claimed and not yet attempted (by any of this sender's
        threads): a process stopping while a delivery is still in hand — Slack slow, the
        worker's wait spent — left the rest of its batch claimed until the lease ran out,
        five minutes of silence in those channels after the restart (found by review)."""
        with self._unattempted_lock:
            claimed = list(self._unattempted.values())
        self._release(claimed)

    def _release(self, messages: list[OutboxMessage]) -> None:
        """Give back rows claimed but not attempted: pending again, the attempt undone."""
        with self._unattempted_lock:
            taken = [m for m in messages if self._unattempted.pop(_claimed(m), None) is not None]
        if not taken:
            return
        with self.db.session() as session:
            for message in taken:
                queries.release_claim(
                    session=session,
                    message_id=message.id or 0,
                    claim_token=message.claim_token or "",
                )
            session.commit()
        log.info("outbox: stopping; gave back %d claimed messages", len(taken))

    def _undelivered(self) -> bool:
        with self.db.read() as session:
            return queries.any_undelivered(session=session)

    def _heads(self) -> list[queries.LaneHead]:
        """Each lane's oldest undelivered row, read without SQLite's write lock."""
        with self.db.read() as session:
            if not queries.any_undelivered(session=session):
                return []
            return queries.lane_heads(
                session=session,
                lease=self.lease,
                wall=self.wall(),
                paced_methods=PACED_METHODS,
            )

    def next_wait(self, *, most: float) -> float:
        """Seconds until a lane's head may be claimed (its back-off, lease or pace), at
        most `most`: how long a worker may sleep."""
        heads = self._heads()
        now, wall = self.now(), self.wall()
        wait = most
        for head in heads:
            due = (head.due_at - now).total_seconds()
            paced = (head.paced_until - wall).total_seconds() if head.paced_until else 0.0
            wait = min(wait, max(due, paced))
        return max(wait, 0.05)

    def _paced_wait(self) -> float | None:
        """Seconds until the first lane held back only by its pace may send, if any."""
        heads = self._heads()
        now, wall = self.now(), self.wall()
        waits = [
            (h.paced_until - wall).total_seconds()
            for h in heads
            if h.due_at <= now and h.paced_until is not None and h.paced_until > wall
        ]
        return max(min(waits), 0.01) if waits else None

    def _attempt(self, claim: Claim, result: DrainResult) -> None:
        message = claim.message
        try:
            if message.withdrawn:  # (while an earlier attempt was under way)
                self._finish(claim, OutboxStatus.WITHDRAWN, error="withdrawn while being sent")
            elif message.method == "email.send":
                self._deliver_email(claim, result)
            elif message.method == "files.upload_v2":
                self._deliver_file(claim, result)
            else:
                self._deliver(claim, result)
        except LostClaim:
            log.warning("outbox: %s was taken over by another sender; leaving it", message.key)
        except SQLAlchemyError:
            # The database, not the message: the row stays claimed and is taken up again
            # (as uncertain, so Slack is asked first) when its lease runs out.
            log.exception("outbox: recording %s failed", message.key)
        except Exception as exc:
            # A bug, not an outage: retrying would fail the same way for ever and hold
            # up its lane. Failing is visible (counted, logged, `outbox` lists it) and
            # never posts twice.
            log.exception("outbox: delivering %s failed unexpectedly", message.key)
            try:
                self._fail(claim, f"unexpected: {type(exc).__name__}: {exc}", result)
            except (LostClaim, SQLAlchemyError):
                log.exception("outbox: could not mark %s failed", message.key)

    # -- deliveries --------------------------------------------------------------------
    def _deliver(self, claim: Claim, result: DrainResult) -> None:
        message = claim.message
        parent = self._parent_or_wait(claim, result) if message.parent_key else {}
        if parent is None:
            return
        shown = self._chart_or_wait(claim, result)
        if shown is None:
            return
        args = self._rendered(
            claim, result, lambda: self._arguments(message, parent, payload=shown)
        )
        if args is None:
            return
        try:
            try:
                response = self._post(claim, args, result)
            except SlackApiError as exc:
                bare = self._home_without_chart(message, shown, parent, exc)
                if bare is None:
                    raise
                response = self._post(claim, bare, result)
        except LookupUnavailable as exc:
            # (The post was not tried: since when Slack refuses it stands; a look-up
            # asked to wait kept a post Slack always refused for ever; found by review.)
            kept = REFUSED_SINCE.search(claim.message.last_error or "")
            error = (
                self._uncertain_error(claim, str(exc))
                + (f" {kept.group(0)}" if kept else "")
                + _asked(exc.wait)
            )
            self._retry(claim, error, result, wait=exc.wait)
            return
        except CALL_ERRORS as exc:
            self._call_failed(claim, exc, result, timed=True)
            return
        if response is None:
            return
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        ts = data.get("ts") or (data.get("message") or {}).get("ts")
        self._sent(claim, {"channel": data.get("channel", args.get("channel")), "ts": ts}, result)
        # Each message at DEBUG; the worker logs one line per drain that did something.
        log.debug(
            "outbox: sent %s (%s)", message.key, message.method, extra={"outbox_key": message.key}
        )

    def _rendered(self, claim: Claim, result: DrainResult, make: Callable[[], T]) -> T | None:
        """What `make()` renders of `claim`'s payload; None after failing the row when it
        raises, for the same data fails the same way every time: never retried."""
        try:
            return make()
        except VersionMismatch as exc:
            # Not this code's to render, ever: failed with the reason.
            self._fail(claim, str(exc), result)
        except Exception as exc:
            # e.g. SlackObjectFormationError, or a template's KeyError on its data.
            self._fail(claim, f"{type(exc).__name__}: {exc}", result)
        return None

    def _call_failed(
        self, claim: Claim, exc: Exception, result: DrainResult, *, timed: bool
    ) -> None:
        """Record a Web API call that raised `exc` (one of CALL_ERRORS): Slack's answer
        decides; a request that never reached Slack is retried; one that may have is
        retried as uncertain, with the attempt's time when `timed` (a post, looked for
        in that window before it goes again)."""
        if isinstance(exc, SlackApiError):
            self._on_api_error(claim, exc, result)
        elif isinstance(exc, URLError | SlackClientError):
            self._retry(claim, f"{NETWORK}{exc}", result)
        else:
            reason = f"{type(exc).__name__}: {exc}"
            error = self._uncertain_error(claim, reason) if timed else f"{UNCERTAIN}{reason}"
            self._retry(claim, error, result)

    def _post(
        self, claim: Claim, args: dict[str, Any], result: DrainResult
    ) -> SlackResponse | None:
        """Call Slack for `claim`; a post that may have gone through is looked for first,
        and after an error that may have posted it is looked for and tried again (at most
        `safe_retries` times). None when it was found posted (and recorded sent)."""
        message = claim.message
        for retry in range(self.safe_retries + 1):
            if message.method in UNSAFE_METHODS and self._uncertain(message):
                found = self._find_posted(claim, args)
                if found is not None:
                    log.info("outbox: %s had reached Slack already; not posting again", message.key)
                    self._sent(claim, found, result)
                    return None
            self._hold(claim)
            claim.attempted_at = self.wall()
            try:
                return self.client.api_call(message.method, json=args)
            except SlackApiError as exc:
                if (
                    retry == self.safe_retries
                    or not self._maybe_done(claim, exc)
                    or self._slack_wait(exc) is not None
                ):
                    raise
                status, error = _slack_error(exc)
                # Look before the next try, in the window of this one (since when Slack
                # refuses it kept: `_refused_since`).
                refused = self._refused_since(claim) if status >= 500 else None
                message.last_error = self._uncertain_error(claim, f"HTTP {status}: {error}") + (
                    _refused(refused)
                )
                claim.attempted_at = None
                jitter = 1 + random.random()  # noqa: S311 (jitter)
                self.sleep(self.safe_retry_backoff * 2**retry * jitter)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _maybe_done(claim: Claim, exc: SlackApiError) -> bool:
        """Whether Slack may have acted on a post it answered with this error."""
        status, error = _slack_error(exc)
        return claim.message.method in UNSAFE_METHODS and (
            status >= 500 or error in MAYBE_DONE_ERRORS
        )

    def _home_without_chart(
        self,
        message: OutboxMessage,
        shown: dict[str, Any],
        parent: dict[str, Any],
        exc: SlackApiError,
    ) -> dict[str, Any] | None:
        """A Home view's arguments without its burn-down chart, where Slack refused the view
        for its blocks and it shows one: a chart file deleted since (by hand, or by the
        workspace's file retention) is refused as an invalid block, and every Home was
        failed until the next chart (found by review). None otherwise."""
        data = shown.get("data")
        if (
            message.method != "views.publish"
            or _slack_error(exc)[1] != "invalid_blocks"
            or not isinstance(data, dict)
            or not data.get("chart_file")
        ):
            return None
        log.warning(
            "outbox: Slack refused %s with its chart (file %s, deleted?); publishing it without",
            message.key,
            data["chart_file"],
        )
        payload = {**shown, "data": {**data, "chart_file": None}}
        return self._arguments(message, parent, payload=payload)

    def _chart_or_wait(self, claim: Claim, result: DrainResult) -> dict[str, Any] | None:
        """The payload to deliver: a Home queued while its chart was still being uploaded
        (the morning's report's, `chart_key`) shows that chart once Slack has it; it waits
        for it meanwhile (not an attempt), but not past CHART_WAIT, nor for a chart that
        failed: then it shows the chart before (`chart_file`). None: put back to wait."""
        message = claim.message
        data = message.payload.get("data")
        if message.method != "views.publish" or not isinstance(data, dict):
            return message.payload
        key = data.get("chart_key")
        if not isinstance(key, str):
            return message.payload
        with self.db.read() as session:
            chart = queries.outbox_message(session=session, key=key)  # (unscoped: whole key)
            status = chart.status if chart is not None else None
            file = (chart.result or {}).get("file") if chart is not None else None
            if status == OutboxStatus.SENT and file:
                return {**message.payload, "data": {**data, "chart_file": file}}
            # A newer Home of the user waits behind this one (their lane, all their
            # teams'): it goes now, not held for a chart (found by review).
            newer = queries.newer_in_lane(session=session, message=message)
        # Waited since its first wait, on this sender's clock (a backfill's rows are
        # queued at the job's `--at`: counted from then, one had waited a day at once).
        since = _waiting_since(message.last_error, key) or self.now()
        if (
            status not in (OutboxStatus.PENDING, OutboxStatus.SENDING)
            or self.now() - since > CHART_WAIT
            or newer
        ):
            return message.payload
        self._wait_for(key, claim, result, since=since)
        return None

    def _wait_for(
        self, key: str, claim: Claim, result: DrainResult, *, since: datetime | None = None
    ) -> None:
        """Put `claim` back to wait for the row `key` (a parent, a chart): not an attempt;
        looked at again in 5 s (a chart's waiters as soon as it is done: `_release_waiting`).
        `since`: when it began to wait, kept in its last_error (`_waiting_since`)."""
        self._finish(
            claim,
            OutboxStatus.PENDING,
            retry_in=timedelta(seconds=5),
            error=f"{WAITING}{key}" + (f" {SINCE}{since.timestamp()}]" if since else ""),
            undo_attempt=True,
        )
        result.waiting += 1

    def _arguments(
        self,
        message: OutboxMessage,
        parent: dict[str, Any],
        *,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The Web API arguments of `message` (or of `payload` in its place), its template
        rendered now (data in, blocks out: bot.blocks) and its parent's channel and ts
        filled in."""
        payload = message.payload if payload is None else payload
        args = {k: v for k, v in payload.items() if k not in ("template", "v", "data")}
        if "template" in payload:
            rendered = render(payload)
            if message.method == "views.publish":
                args["view"] = {"type": "home", "blocks": rendered["blocks"]}
            else:
                args.update(rendered)
        if message.parent_key is not None:
            args.setdefault("channel", parent.get("channel"))
            if message.method in ("chat.update", "chat.delete"):
                args.setdefault("ts", parent.get("ts"))
            else:
                args.setdefault("thread_ts", parent.get("ts"))
        if message.method == "chat.postMessage":
            args.setdefault("metadata", outbox_metadata(message.key))
        return args

    def _deliver_file(self, claim: Claim, result: DrainResult) -> None:
        """A chart for the thread of its parent message (files.upload_v2 needs the
        channel's ID, which the parent's delivery recorded)."""
        parent = self._parent_or_wait(claim, result)
        if parent is None:
            return
        from bot.charts import burndown_png  # matplotlib only where a chart is drawn

        def chart() -> tuple[bytes, str, str]:
            data = file_data(claim.message.payload)
            day, days = data["day"], data["days"]
            return burndown_png(data), f"burndown-day-{day}.png", f"Burn-down, day {day} of {days}"

        rendered = self._rendered(claim, result, chart)
        if rendered is None:
            return
        content, filename, title = rendered
        channel = parent.get("channel")

        def upload() -> SlackResponse:
            self._hold(claim)
            return self.client.files_upload_v2(
                channel=channel,
                thread_ts=parent.get("ts"),
                content=content,
                filename=filename,
                title=title,
            )

        try:
            try:
                response = upload()
            except SlackApiError as exc:
                if _slack_error(exc)[1] != "not_in_channel" or not self._joined(claim, channel):
                    raise
                response = upload()
        except CALL_ERRORS as exc:
            # An upload that may have gone through is uploaded again (files carry no
            # metadata to look for): at worst a second chart, never a lost one.
            self._call_failed(claim, exc, result, timed=False)
            return
        files = response.get("files") or [response.get("file") or {}]
        self._sent(
            claim,
            {"channel": parent.get("channel"), "file": (files[0] or {}).get("id")},
            result,
        )

    def _joined(self, claim: Claim, channel: str | None) -> bool:
        """Join a public channel the bot posted to without being in it (chat:write.public)
        where Slack wants membership: to share a file, to read the history. False where
        it cannot (a private channel: only an invitation lets the bot in). Where Slack
        cannot say now (a 429, a 5xx, a refused token) the join's error is raised: the row
        waits, as for any call that cannot be made now (taken as "cannot join", a chart
        failed for good and an uncertain post went out twice; found by review)."""
        if not channel:
            return False
        self._hold(claim)
        try:
            self.client.conversations_join(channel=channel)
        except SlackApiError as exc:
            status, error = _slack_error(exc)
            if _later(status, error):
                raise
            log.warning("outbox: could not join %s (%s)", channel, error)
            return False
        log.info("outbox: joined %s to deliver %s", channel, claim.message.key)
        return True

    def _deliver_email(self, claim: Claim, result: DrainResult) -> None:
        if self.smtp_url is None:
            self._fail(claim, "SPRINTBOT_SMTP_URL is not set", result)
            return
        payload = claim.message.payload
        rendered = self._rendered(claim, result, lambda: render_email(payload))
        if rendered is None:
            return
        subject, body = rendered
        try:
            self._hold(claim)
            send_email(self.smtp_url, to=list(payload["to"]), subject=subject, body=body)
        except PermanentEmailError as exc:
            self._fail(claim, str(exc), result)
            return
        except (smtplib.SMTPException, OSError) as exc:
            self._retry(claim, f"smtp: {exc}", result)
            return
        self._sent(claim, {"to": payload["to"]}, result)

    # -- uncertain sends ---------------------------------------------------------------
    @staticmethod
    def _uncertain(message: OutboxMessage) -> bool:
        return (message.last_error or "").startswith(UNCERTAIN)

    @staticmethod
    def _uncertain_error(claim: Claim, reason: str) -> str:
        """An uncertain row's last_error, recording when the post went out (this attempt,
        or the earlier one a failed look-up was about) for the look-up's window."""
        at = claim.attempted_at.timestamp() if claim.attempted_at is not None else None
        if at is None:
            earlier = ATTEMPT_AT.search(claim.message.last_error or "")
            at = float(earlier.group(1)) if earlier else None
        return f"{UNCERTAIN}{reason}" + (f" [attempted at {at:.3f}]" if at is not None else "")

    def _window(self, message: OutboxMessage) -> tuple[float, float | None]:
        """Where to look for an uncertain post (Unix seconds, oldest and latest): around
        its recorded attempt; else (its sender died) from the row's creation on."""
        attempted = ATTEMPT_AT.search(message.last_error or "")
        if attempted:
            at = float(attempted.group(1))
            return at - LOOKBACK.total_seconds(), at + self.lease.total_seconds()
        return (message.created_at - LOOKBACK).timestamp(), None

    def _find_posted(self, claim: Claim, args: dict[str, Any]) -> dict[str, Any] | None:
        """The channel and ts of the message Slack already holds for this row's key, if
        an earlier attempt got through; None when it did not (or cannot ever be told:
        then a warning says the post may be doubled). Raises LookupUnavailable when
        Slack cannot be asked now, or did not answer for sure."""
        message = claim.message
        try:
            self._hold(claim)
            channel = self._history_channel(message, args)
            if channel is None:
                log.warning(
                    "outbox: cannot tell whether %s reached %s; posting it, which may double it",
                    message.key,
                    args.get("channel"),
                )
                return None
            try:
                return self._search(claim, channel, args)
            except SlackApiError as exc:
                # Posted with chat:write.public, which needs no membership; reading the
                # history does: join the channel (channels:join) and look again.
                if _slack_error(exc)[1] != "not_in_channel" or not self._joined(claim, channel):
                    raise
            return self._search(claim, channel, args)
        except SlackApiError as exc:
            status, error = _slack_error(exc)
            if _later(status, error):  # (a refused token: looked for once one works)
                raise LookupUnavailable(f"look-up: {error}", wait=self._slack_wait(exc)) from exc
            # A refusal (e.g. the app lacks a history scope, a private channel it is
            # not in) would refuse for ever: post rather than hold the lane.
            log.warning(
                "outbox: cannot look for %s (%s); posting it, which may double it",
                message.key,
                error,
            )
            return None
        except (SlackClientError, *AFTER_SENDING) as exc:
            raise LookupUnavailable(f"look-up: {type(exc).__name__}: {exc}") from exc

    def _search(self, claim: Claim, channel: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Look for the row's key in `channel` (or the thread) around its attempt."""
        message = claim.message
        oldest, latest = self._window(message)
        window: dict[str, Any] = {"oldest": f"{oldest:.6f}"}
        if latest is not None:
            window["latest"] = f"{latest:.6f}"
        self._hold(claim)
        if args.get("thread_ts"):
            pages = self.client.conversations_replies(
                channel=channel,
                ts=str(args["thread_ts"]),
                include_all_metadata=True,
                limit=200,
                **window,
            )
        else:
            pages = self.client.conversations_history(
                channel=channel, include_all_metadata=True, limit=200, **window
            )
        for number, page in enumerate(pages):
            for posted in page.get("messages") or []:
                meta = posted.get("metadata") or {}
                key = (meta.get("event_payload") or {}).get("key")
                if meta.get("event_type") == EVENT_TYPE and key == message.key:
                    return {"channel": channel, "ts": posted.get("ts")}
            if number + 1 >= LOOKUP_PAGES:
                more = page.get("has_more") or (page.get("response_metadata") or {}).get(
                    "next_cursor"
                )
                if more and latest is None and message.attempts >= LOOKUP_GIVE_UP:
                    log.warning(
                        "outbox: %s not found among the newest %d messages of %s after %d "
                        "attempts; posting it, which may double it",
                        message.key,
                        LOOKUP_PAGES * 200,
                        channel,
                        message.attempts,
                    )
                    return None
                if more:
                    # Not found among the newest: not an answer. Ask again later.
                    raise LookupUnavailable(
                        f"look-up: over {LOOKUP_PAGES * 200} messages in {channel} to search"
                    )
                break
        return None

    def _history_channel(self, message: OutboxMessage, args: dict[str, Any]) -> str | None:
        """The ID of the conversation `message` was posted to (history needs IDs)."""
        channel = str(args.get("channel") or "")
        if CHANNEL_ID.fullmatch(channel):
            return channel
        with self.db.read() as session:
            known = queries.lane_channel(session=session, lane=message.lane)
        if known:
            return known
        if channel.startswith(("U", "W")):
            opened = self.client.conversations_open(users=channel)
            return str((opened.get("channel") or {}).get("id") or "") or None
        name = channel.removeprefix("#")
        for page in self.client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000
        ):
            for ch in page.get("channels") or []:
                if ch.get("name") == name:
                    return str(ch["id"])
        return None

    # -- outcomes ----------------------------------------------------------------------
    def _slack_wait(self, exc: SlackApiError) -> timedelta | None:
        """The wait Slack named in its answer (Retry-After), if any."""
        return retry_after(exc.response.headers or {}, now=self.wall())

    def _on_api_error(self, claim: Claim, exc: SlackApiError, result: DrainResult) -> None:
        status, error = _slack_error(exc)
        wait = self._slack_wait(exc)
        since = self._refused_since(claim) if status >= 500 else None
        if since is not None and self._choked(claim, since):
            self._fail(
                claim,
                f"HTTP {status}: {error} (refused over {_hours(self.now() - since)}, "
                f"{claim.message.attempts} attempts in all, while Slack took other messages)",
                result,
            )
            return
        refused = _refused(since)
        if self._maybe_done(claim, exc):
            # Slack may have posted before failing: look before posting again.
            reason = self._uncertain_error(claim, f"HTTP {status}: {error}")
            self._retry(claim, reason + refused + _asked(wait), result, wait=wait)
            return
        if _transient(status, error):
            reason = f"HTTP {status}: {error}" if status >= 500 else error
            self._retry(claim, reason + refused + _asked(wait), result, wait=wait)
            return
        if error in TOKEN_ERRORS:
            # The token, not the message: it waits for a working one.
            self._retry(claim, f"{REFUSED_TOKEN}{error} (Slack refuses the bot token)", result)
            return
        message = claim.message
        if error == "message_not_found" and message.method == "chat.update" and message.parent_key:
            moved = self._post_anew(message)
            if moved is not None and moved[0] == "newer":
                # The change goes to the copy posted in its place (the newest), at once.
                reason = f"{error} (deleted in Slack: updating {moved[1]} instead)"
                if not self._finish(
                    claim, OutboxStatus.PENDING, error=reason, retry_in=timedelta(0)
                ):
                    raise LostClaim(message.key)
                return
            if moved is not None and moved[0] == "with":
                # The copy is yet to go: it goes with this change, the newer one.
                reason = f"{error} (deleted in Slack: this change goes with {moved[1]})"
                self._finish(claim, OutboxStatus.WITHDRAWN, error=reason)
                self._release_waiting(message)
                return
            if moved is not None:
                self._fail(
                    claim, error, result, detail=f" (deleted in Slack: posted anew as {moved[1]})"
                )
                return
        self._fail(claim, error, result)

    def _post_anew(self, update: OutboxMessage) -> tuple[str, str] | None:
        """The message `update` changes was deleted in Slack: post the change in its place
        (where it was: its channel, or the thread it was in), as the next of its keys, so
        that what changes it next (`jobs.notices.live_key`) changes the new one: ("anew",
        its key). A digest, a standup answer's edit, a blocker card's change were refused
        for good, every one (found by review). Where a copy was posted in its place
        already, `update` changes that one instead: ("newer", its key) (an alert changed
        twice, or an answer edited twice, was posted anew each time; found by review).
        ("with", its key) where that copy has not gone out yet: it goes out as this newer
        change. None: the message is not in the outbox."""
        with self.db.session() as session:
            gone = queries.outbox_message(session=session, key=update.parent_key or "")
            if gone is None:
                return None
            base = gone.key.split(":again-", 1)[0]
            n = 1
            while queries.outbox_message(session=session, key=f"{base}:again-{n}") is not None:
                n += 1
            newest = f"{base}:again-{n - 1}" if n > 1 else base
            if newest != gone.key:
                copy = queries.outbox_message(session=session, key=newest)
                if copy is not None and copy.status == OutboxStatus.PENDING and not copy.attempts:
                    # Not yet gone out: it goes out as this newer change.
                    queries.repayload(session=session, key=newest, payload=_posted_as(update, copy))
                    session.commit()
                    return "with", newest
                queries.reparent(session=session, key=update.key, parent_key=newest)
                session.commit()
                return "newer", newest
            queries.mark_gone(session=session, key=gone.key, why="message_not_found")
            key = f"{base}:again-{n}"
            queries.enqueue(
                session=session,
                key=key,
                method="chat.postMessage",
                payload=_posted_as(update, gone),
                now=self.now(),
                parent_key=gone.parent_key,
            )
            session.commit()
        log.warning("outbox: %s was deleted in Slack; its change goes anew as %s", gone.key, key)
        return "anew", key

    def _refused_since(self, claim: Claim) -> datetime:
        """Since when Slack has answered this row's every attempt 5xx: as its last error
        says, or now (its last attempt had another outcome, or none)."""
        found = REFUSED_SINCE.search(claim.message.last_error or "")
        if found is None:
            return self.now()
        return datetime.fromtimestamp(float(found.group(1)), UTC)

    def _choked(self, claim: Claim, since: datetime) -> bool:
        """Whether Slack keeps refusing this message with a 5xx while it takes others:
        CHOKED_ATTEMPTS attempts, every one over CHOKED_AGE (`since`) refused so (attempts
        that never reached Slack in an outage do not count: an hour without network, then
        one 503, failed the morning's report for good; found by review), and this sender
        delivered another row
        within the longest back-off (in an outage, or while Slack refuses every post,
        nothing does: every message waits). A post, while Slack took other posts: Slack
        may refuse every post while it takes other calls (Homes went, and the morning's
        report was failed for good; found by review). Another call (a chart, an update,
        none of its kind going meanwhile: the next waits behind it in its lane), while Slack
        took anything (found by review)."""
        message, now = claim.message, self.now()
        if message.method == "chat.postMessage":
            last = self.last_sent.get(message.method)
        else:
            last = max(self.last_sent.values(), default=None)
        return (
            message.attempts >= CHOKED_ATTEMPTS
            and now - since >= CHOKED_AGE
            and last is not None
            and now - last <= MAX_BACKOFF
        )

    def _sent(self, claim: Claim, outcome: dict[str, Any], result: DrainResult) -> None:
        message = claim.message
        paced = message.method in PACED_METHODS
        if not self._finish(
            claim,
            OutboxStatus.SENT,
            result=outcome,
            # Unpaced sends free their lane at once (and never on the scheduling clock,
            # which may run ahead of the wall clock).
            lane_free_at=self.wall() + (self.pace if paced else timedelta(0)),
        ):
            raise LostClaim(message.key)
        result.sent += 1
        self.last_sent[message.method] = self.now()
        metrics.delivered(message.method)
        if message.attempts > 1 and (message.last_error or "").startswith(OUTAGE):
            self._after_recovery()
        self._release_waiting(message)

    def _release_waiting(self, message: OutboxMessage) -> None:
        """The Homes waiting for this chart (`_chart_or_wait`), now sent or failed, go now,
        in this drain rather than at their next look."""
        if message.method != "files.upload_v2":
            return
        with self.db.session() as session:
            queries.retry_now(
                session=session, now=self.now(), error_prefixes=[f"{WAITING}{message.key}"]
            )
            session.commit()

    def _after_recovery(self) -> None:
        """A row that failed on the way to Slack went through: Slack is back, so the rows
        backing off after such failures go now rather than at their next back-off."""
        with self.db.session() as session:
            moved = queries.retry_now(
                session=session, now=self.now(), error_prefixes=OUTAGE, unless=ASKED_TO_WAIT
            )
            session.commit()
        if moved:
            log.info("outbox: Slack is reachable again; retrying %d messages now", moved)

    def _fail(self, claim: Claim, error: str, result: DrainResult, *, detail: str = "") -> None:
        """Fail the row for good with `error` (Slack's code: what /metrics counts it by)
        and `detail` after it."""
        if not self._finish(claim, OutboxStatus.FAILED, error=error + detail):
            raise LostClaim(claim.message.key)
        self._release_waiting(claim.message)
        result.failed += 1
        metrics.delivery_failed(claim.message.method, error, final=True)
        log.error(
            "outbox: %s (%s) failed for good: %s",
            claim.message.key,
            claim.message.method,
            error + detail,
            extra={"outbox_key": claim.message.key},
        )

    def _retry(
        self, claim: Claim, error: str, result: DrainResult, *, wait: timedelta | None = None
    ) -> None:
        delay = max(wait or timedelta(0), self.retry_delay(claim.message.attempts))
        if not self._finish(claim, OutboxStatus.PENDING, error=error, retry_in=delay):
            raise LostClaim(claim.message.key)
        result.retrying += 1
        metrics.delivery_failed(claim.message.method, error, final=False)
        log.warning(
            "outbox: %s not delivered (%s); retrying in %.1f s",
            claim.message.key,
            error,
            delay.total_seconds(),
            extra={"outbox_key": claim.message.key},
        )

    def _finish(
        self,
        claim: Claim,
        status: OutboxStatus,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        retry_in: timedelta | None = None,
        undo_attempt: bool = False,
        lane_free_at: datetime | None = None,
    ) -> bool:
        now = self.now()
        with self.db.session() as session:
            done = queries.finish_message(
                session=session,
                message_id=claim.id,
                status=status,
                now=now,
                result=result,
                error=error,
                retry_at=now + retry_in if retry_in is not None else None,
                attempts=claim.message.attempts - 1 if undo_attempt else None,
                claim_token=claim.token,
                lane_free_at=lane_free_at,
            )
            session.commit()
        return done

    def _hold(self, claim: Claim) -> None:
        """Before calling out: renew the claim once a quarter of the lease has passed, so
        a slow delivery keeps its row, and give up if another sender took it meanwhile."""
        if time.monotonic() - claim.renewed < self.lease.total_seconds() / 4:
            return
        with self.db.session() as session:
            held = queries.renew_claim(
                session=session, message_id=claim.id, claim_token=claim.token, now=self.now()
            )
            session.commit()
        if not held:
            raise LostClaim(claim.message.key)
        claim.renewed = time.monotonic()

    def _parent_or_wait(self, claim: Claim, result: DrainResult) -> dict[str, Any] | None:
        """The parent's delivery result; or None after failing `claim` (its parent failed
        or does not exist) or putting it back to wait for the parent (not an attempt)."""
        key = claim.message.parent_key or ""
        with self.db.read() as session:
            parent = queries.outbox_message(session=session, key=key)
            status = parent.status if parent is not None else None
            outcome = dict(parent.result) if parent is not None else {}
        if status == OutboxStatus.SENT:
            return outcome
        if status == OutboxStatus.WITHDRAWN:  # (queued under it after it was taken back)
            self._finish(claim, OutboxStatus.WITHDRAWN, error=f"parent withdrawn: {key}")
            return None
        if status is None or status == OutboxStatus.FAILED:
            what = "failed" if status is not None else "is not in the outbox"
            self._fail(claim, f"parent {what}: {key}", result)
            return None
        self._wait_for(key, claim, result)
        return None


class OutboxWorker:
    """Background threads that drain the outbox when poked, and otherwise sleep until the
    earliest row is due (a back-off, a lane's pace) or `interval` seconds at most (rows
    queued by other processes).

    With `threads` above one, as many drain side by side: each claim takes other lanes'
    heads (SKIP LOCKED on PostgreSQL, leases everywhere), so lanes are still delivered in
    order and paced, while one sender's Slack round trip no longer waits for another's —
    a busy minute's thousand DMs and reports (bench/org_morning.py) go out that much sooner."""

    def __init__(self, sender: Sender, *, interval: float = 5.0, threads: int = 1) -> None:
        self.sender = sender
        self.interval = interval
        self._stop = threading.Event()
        self._wakes = [threading.Event() for _ in range(max(threads, 1))]
        self._threads = [
            threading.Thread(
                target=self._loop,
                args=(wake,),
                name="outbox" if i == 0 else f"outbox-{i + 1}",
                daemon=True,
            )
            for i, wake in enumerate(self._wakes)
        ]
        self._thread, self._wake = self._threads[0], self._wakes[0]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    @property
    def running(self) -> bool:
        """Whether the threads deliver (started and not stopped): then poke them rather
        than drain in the caller's thread."""
        return self._thread.is_alive() and not self._stop.is_set()

    def poke(self) -> None:
        """Something was enqueued: deliver it now rather than at the next tick."""
        self._wake.set()
        for wake in self._wakes[1:]:
            wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.poke()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        # A delivery still in hand (the process exits with it): the rest of its batch back.
        self.sender.give_back()

    def _loop(self, wake: threading.Event) -> None:
        while not self._stop.is_set():
            wait = self.interval
            try:
                done = self.sender.drain(stop=self._stop)
                if done.sent or done.retrying or done.failed:
                    log.info("outbox: %s", done)
                wait = self.sender.next_wait(most=self.interval)
            except Exception:
                log.exception("outbox: drain failed; trying again in %ss", self.interval)
            wake.wait(wait)
            wake.clear()

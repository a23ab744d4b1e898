"""The outbox sender: delivers queued Web API calls to Slack, each key at most once.

Messages are written to the outbox (storage) in the same transaction as whatever caused
them, so nothing is lost while Slack or the network is down. The sender claims due rows,
calls Slack through slack-sdk's WebClient (whose retry handlers absorb brief 429s, 5xx and
connection resets), and on a failure that persists reschedules the row with back-off,
honouring Retry-After. Permanent errors (a channel that does not exist, invalid blocks)
mark the row failed and are logged; they are not retried.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.charts import burndown_png
from bot.email import PermanentEmailError, send_email
from bot.templates import render, render_email
from storage import queries
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)
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


def make_client(token: str | None, base_url: str, *, timeout: int = 10) -> WebClient:
    """A WebClient for `base_url` that retries brief rate limits, 5xx and network errors."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=1),
        ],
    )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at an hour."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


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


def _id(message: OutboxMessage) -> int:
    if message.id is None:  # only rows read back from the database reach the sender
        raise ValueError(f"outbox message {message.key} has no id")
    return message.id


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Sender:
    """Drains the outbox through one WebClient."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        *,
        now: Callable[[], datetime] = _utcnow,
        smtp_url: str | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.now = now
        self.smtp_url = smtp_url

    def drain(self, *, limit: int = 500) -> DrainResult:
        """Deliver everything due now (up to `limit` messages); each in its own transaction."""
        result = DrainResult()
        handled = 0
        while handled < limit:
            with self.db.session() as session:
                batch = queries.claim_due(
                    session=session, now=self.now(), lease=LEASE, limit=min(50, limit - handled)
                )
                session.commit()
            if not batch:
                break
            for message in batch:
                handled += 1
                try:
                    self._deliver(message, result)
                except Exception:
                    # One bad row must not stop the rest; it stays claimed and is retried
                    # once its lease expires.
                    log.exception("outbox: delivering %s failed unexpectedly", message.key)
        return result

    def _deliver(self, message: OutboxMessage, result: DrainResult) -> None:
        if message.method == "email.send":
            self._deliver_email(message, result)
            return
        if message.method == "files.upload_v2":
            self._deliver_file(message, result)
            return
        args = {k: v for k, v in message.payload.items() if k not in ("template", "data")}
        if "template" in message.payload:
            # Rendered now, not when queued: data in, blocks out (bot.templates).
            rendered = render(message.payload["template"], message.payload["data"])
            if message.method == "views.publish":
                args["view"] = {"type": "home", "blocks": rendered["blocks"]}
            else:
                args.update(rendered)
        if message.parent_key is not None:
            parent = self._parent_or_wait(message, result)
            if parent is None:
                return
            if message.method in ("chat.update", "chat.delete"):
                args.setdefault("channel", parent.get("channel"))
                args.setdefault("ts", parent.get("ts"))
            else:
                args.setdefault("channel", parent.get("channel"))
                args.setdefault("thread_ts", parent.get("ts"))
        try:
            response = self.client.api_call(message.method, json=args)
        except SlackApiError as exc:
            self._on_api_error(message, exc, result)
            return
        except (SlackClientError, OSError) as exc:
            self._retry(message, f"network: {exc}", result)
            return
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        ts = data.get("ts") or (data.get("message") or {}).get("ts")
        self._finish(
            message,
            OutboxStatus.SENT,
            result={"channel": data.get("channel", args.get("channel")), "ts": ts},
        )
        result.sent += 1
        log.info("outbox: sent %s (%s)", message.key, message.method)

    def _deliver_file(self, message: OutboxMessage, result: DrainResult) -> None:
        """A chart for the thread of its parent message (files.upload_v2 needs the
        channel's ID, which the parent's delivery recorded)."""
        parent = self._parent_or_wait(message, result)
        if parent is None:
            return
        data = message.payload["data"]
        try:
            response = self.client.files_upload_v2(
                channel=parent.get("channel"),
                thread_ts=parent.get("ts"),
                content=burndown_png(data),
                filename=f"burndown-day-{data['day']}.png",
                title=f"Burn-down, day {data['day']} of {data['days']}",
            )
        except SlackApiError as exc:
            self._on_api_error(message, exc, result)
            return
        except (SlackClientError, OSError) as exc:
            self._retry(message, f"network: {exc}", result)
            return
        files = response.get("files") or [response.get("file") or {}]
        self._finish(
            message,
            OutboxStatus.SENT,
            result={"channel": parent.get("channel"), "file": (files[0] or {}).get("id")},
        )
        result.sent += 1

    def _deliver_email(self, message: OutboxMessage, result: DrainResult) -> None:
        if self.smtp_url is None:
            self._finish(message, OutboxStatus.FAILED, error="SPRINTBOT_SMTP_URL is not set")
            result.failed += 1
            return
        payload = message.payload
        subject, body = render_email(payload["template"], payload["data"])
        try:
            send_email(self.smtp_url, to=list(payload["to"]), subject=subject, body=body)
        except PermanentEmailError as exc:
            self._finish(message, OutboxStatus.FAILED, error=str(exc))
            result.failed += 1
            log.error("outbox: e-mail %s refused: %s", message.key, exc)
            return
        except (smtplib.SMTPException, OSError) as exc:
            self._retry(message, f"smtp: {exc}", result)
            return
        self._finish(message, OutboxStatus.SENT, result={"to": payload["to"]})
        result.sent += 1

    def _on_api_error(
        self, message: OutboxMessage, exc: SlackApiError, result: DrainResult
    ) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"HTTP {status}")
        if status == 429 or status >= 500 or error in TRANSIENT_ERRORS:
            retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get(
                "retry-after"
            )
            wait = None
            if retry_after is not None:
                try:
                    wait = timedelta(seconds=int(retry_after))
                except (TypeError, ValueError):
                    wait = None
            self._retry(message, error, result, wait=wait)
            return
        self._finish(message, OutboxStatus.FAILED, error=error)
        result.failed += 1
        log.error("outbox: Slack refused %s (%s): %s", message.key, message.method, error)

    def _retry(
        self,
        message: OutboxMessage,
        error: str,
        result: DrainResult,
        *,
        wait: timedelta | None = None,
    ) -> None:
        delay = max(wait or timedelta(0), backoff(message.attempts))
        self._finish(message, OutboxStatus.PENDING, error=error, retry_in=delay)
        result.retrying += 1
        log.warning("outbox: %s not delivered (%s); retrying in %s", message.key, error, delay)

    def _finish(
        self,
        message: OutboxMessage,
        status: OutboxStatus,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        retry_in: timedelta | None = None,
        undo_attempt: bool = False,
    ) -> None:
        now = self.now()
        with self.db.session() as session:
            queries.finish_message(
                session=session,
                message_id=_id(message),
                status=status,
                now=now,
                result=result,
                error=error,
                retry_at=now + retry_in if retry_in is not None else None,
                attempts=message.attempts - 1 if undo_attempt else None,
            )
            session.commit()

    def _parent_or_wait(self, message: OutboxMessage, result: DrainResult) -> dict[str, Any] | None:
        """The parent's delivery result, or None after putting `message` back to wait for it
        (waiting is not an attempt)."""
        parent = self._parent_result(message.parent_key or "")
        if parent is None:
            self._finish(
                message,
                OutboxStatus.PENDING,
                retry_in=timedelta(seconds=5),
                error=f"waiting for {message.parent_key}",
                undo_attempt=True,
            )
            result.waiting += 1
        return parent

    def _parent_result(self, key: str) -> dict[str, Any] | None:
        with self.db.session() as session:
            parent = queries.outbox_message(session=session, key=key)
            if parent is None or parent.status != OutboxStatus.SENT:
                return None
            return dict(parent.result)


class OutboxWorker:
    """A background thread that drains the outbox when poked and every `interval` seconds."""

    def __init__(self, sender: Sender, *, interval: float = 5.0) -> None:
        self.sender = sender
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Something was enqueued: deliver it now rather than at the next tick."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sender.drain()
            except Exception:
                log.exception("outbox: drain failed; trying again in %ss", self.interval)
            self._wake.wait(self.interval)
            self._wake.clear()

"""E-mail copies against an SMTP server's ordinary answers: a temporary refusal
(4xx, e.g. greylisting) and a permanent one (5xx)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from storage.models import OutboxMessage
from tests.e2e.test_metrics_and_email import post_metrics
from tests.support.e2e import T0, at
from tests.support.server import EXAMPLE, Server

pytestmark = pytest.mark.faults


def _controller(handler: Any) -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class Greylisting:
    """Answers the first RCPT TO with 451 (greylisted: "try again later"), then accepts,
    as postgrey and most greylisting servers do."""

    def __init__(self) -> None:
        self.tries = 0
        self.received: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        self.tries += 1
        if self.tries == 1:
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append(envelope)
        return "250 OK"


class RejectsFirstMessage:
    """Rejects one message's content for good (554 at DATA, every time, as a content
    filter does), accepts the rest."""

    def __init__(self) -> None:
        self.datas = 0
        self.received: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.datas += 1
        if b"API Throughput" in envelope.content:
            return "554 5.7.1 Message rejected by content policy"
        self.received.append(envelope)
        return "250 OK"


def _server(make_server: Callable[..., Server], tmp_path: Path, port: int) -> Server:
    path = tmp_path / "sprint.toml"
    path.write_text(
        EXAMPLE.read_text("utf-8").replace("email_to = []", 'email_to = ["leads@example.com"]'),
        encoding="utf-8",
    )
    return make_server(
        SPRINTBOT_CONFIG=str(path),
        SPRINTBOT_SMTP_URL=f"smtp://127.0.0.1:{port}?from=bot@example.com",
    )


def _rows(server: Server) -> list[tuple[str, str, str | None]]:
    with server.runtime.db.session() as s:
        return [
            (m.key, str(m.status), m.last_error)
            for m in s.exec(select(OutboxMessage).where(OutboxMessage.method == "email.send"))
        ]


def _drain_for(server: Server, start: Any, hours: int) -> None:
    """Deliver what is due every minute for `hours`."""
    for minute in range(0, hours * 60, 1):
        at(server, start + timedelta(minutes=minute))
        server.runtime.sender.drain()


def test_a_greylisted_email_copy_is_tried_again_not_dropped(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The leads' mail server greylists (answers RCPT TO with "451 4.7.1 try again later"
    the first time, as postgrey does). A performance alert goes to Slack and its e-mail
    copy is queued. The user sees: the copy never arrives — the outbox fails it for good
    as "recipients refused" on the first attempt. Expected: a 4xx is temporary (RFC 5321);
    the copy is tried again and arrives (README: "never lost")."""
    handler = Greylisting()
    for port in _controller(handler):
        server = _server(make_server, tmp_path, port)
        at(server, T0)
        assert post_metrics(server, {"metrics": {"api_throughput": 500}}).status_code == 201
        server.runtime.sender.drain()
        _drain_for(server, T0, 1)
        rows = _rows(server)
        assert len(handler.received) == 1, (handler.tries, rows)


def test_an_email_the_server_rejects_for_good_does_not_hold_back_later_copies(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The SMTP server rejects the first alert's e-mail for good ("554 5.7.1 rejected by
    content policy" after DATA, every time). A second alert comes half an hour later. The
    user sees: the second alert's copy never arrives either — the first is retried for
    ever (79 attempts in 6 hours, still pending) and every e-mail waits behind it in the one
    `email` lane. Expected: a 5xx answer fails that copy with its reason (as recipients
    refused already do), and the later copies go."""
    handler = RejectsFirstMessage()
    for port in _controller(handler):
        server = _server(make_server, tmp_path, port)
        at(server, T0)
        assert post_metrics(server, {"metrics": {"api_throughput": 500}}).status_code == 201
        server.runtime.sender.drain()
        at(server, T0 + timedelta(minutes=30))
        # back within target, then degraded again: a second performance alert
        assert post_metrics(server, {"metrics": {"api_throughput": 1200}}).status_code == 201
        assert post_metrics(server, {"metrics": {"memory_usage": 400}}).status_code == 201
        _drain_for(server, T0 + timedelta(minutes=30), 6)
        rows = _rows(server)
        assert len(rows) == 2, rows
        got = [e.content for e in handler.received]
        assert len(got) == 1 and b"Memory Usage" in got[0], (handler.datas, rows)

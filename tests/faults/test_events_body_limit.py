"""/slack/events refuses a huge body before reading it (found by review)."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.support.server import Server

pytestmark = pytest.mark.faults


def test_an_unsigned_gigabyte_to_slack_events_is_refused_before_it_is_read(server: Server) -> None:
    """Anyone on the internet can POST to /slack/events (it is the app's public Request
    URL). A request declaring a 1 GB body, unsigned, is read whole into memory before the
    signature is looked at (`bot/web.py` Routes.slack_events: `await request.body()`): the
    server sits holding whatever arrives, and a few such requests exhaust the process's
    memory, taking the bot down for everyone. Slack's own payloads are a few hundred KB at
    most; the API routes refuse a declared size over their limit at once (413) and count
    while streaming. It should answer at once (413, or 401 for the missing signature)
    without waiting for the body."""
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    sock = socket.create_connection((host, port), timeout=10)
    try:
        head = (
            "POST /slack/events HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {1024**3}\r\n"
            "\r\n"
        )
        sock.sendall(head.encode())
        chunk = b"a" * (1024 * 1024)
        for _ in range(8):  # 8 MB of the declared gigabyte
            sock.sendall(chunk)
        sock.settimeout(5)
        started = time.monotonic()
        try:
            answer = sock.recv(4096)
        except TimeoutError:
            answer = b""
        waited = time.monotonic() - started
    finally:
        sock.close()
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    assert answer.startswith(b"HTTP/1.1 4"), (
        f"no answer after {waited:.1f} s: the server is still reading the 1 GB body ({status!r})"
    )

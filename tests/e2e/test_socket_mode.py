"""Socket Mode: with SLACK_APP_TOKEN set the bot connects out and answers over the socket."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk.socket_mode.builtin import client as socket_mode_client
from websockets.sync.server import ServerConnection, serve

from tests.support.server import Server

APP_TOKEN = "xapp-1-A1-test"
# Closing slack_sdk's Socket Mode client waits out two of its waits under way: the read of
# its socket (a 3 s timeout, a literal of its own off port 443) and its wait for the next
# message it read (1 s): 3 s of this test. Here both wait at most this at a time: the
# socket's once connected (the envelope, sent after, ends the read begun before), the
# messages' from the start (`PromptQueue`).
READ_TIMEOUT = 0.05


class PromptQueue(queue.Queue[Any]):
    """slack_sdk's queue of the messages read, waited on at most READ_TIMEOUT at a time."""

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        return super().get(block, None if timeout is None else min(timeout, READ_TIMEOUT))


class FakeSocket:
    """A Socket Mode endpoint: says hello, sends queued envelopes, collects the acks."""

    def __init__(self) -> None:
        self.outgoing: queue.Queue[dict[str, Any]] = queue.Queue()
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.server = serve(self._session, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"

    def _session(self, conn: ServerConnection) -> None:
        conn.send(
            json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}})
        )
        while True:
            with contextlib.suppress(queue.Empty):
                conn.send(json.dumps(self.outgoing.get(timeout=0.05)))
            try:
                message = conn.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:
                return
            self.acks.put(json.loads(message))


@pytest.fixture
def fake_socket() -> Iterator[FakeSocket]:
    fake = FakeSocket()
    fake.thread.start()
    yield fake
    fake.server.shutdown()


def test_slash_command_over_socket_mode(
    make_server: Callable[..., Server], fake_socket: FakeSocket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket_mode_client, "Queue", PromptQueue)
    server = make_server(SLACK_APP_TOKEN=APP_TOKEN)
    server.slack.socket_url = fake_socket.url
    handler = server.runtime.connect_socket_mode()
    assert handler is not None
    try:
        handler.client.current_session.sock.settimeout(READ_TIMEOUT)
        opened = server.slack.calls_to("apps.connections.open")
        assert [c.headers["Authorization"] for c in opened] == [f"Bearer {APP_TOKEN}"]
        fake_socket.outgoing.put(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "command": "/readiness",
                    "text": "",
                    "user_id": "U0TECHLEAD",
                    "channel_id": "C0TEAM",
                    "team_id": "T1",
                    "api_app_id": "A1",
                    "response_url": "http://127.0.0.1:9/response",
                    "trigger_id": "1.2",
                },
            }
        )
        ack = fake_socket.acks.get(timeout=10)
    finally:
        handler.close()  # type: ignore[no-untyped-call]
    assert ack["envelope_id"] == "env-1"
    assert ack["payload"]["response_type"] == "ephemeral"
    assert ack["payload"]["blocks"][0]["text"]["text"] == "Readiness 71.55 % — target 85 %"


def test_no_app_token_no_socket(server: Server) -> None:
    assert server.runtime.connect_socket_mode() is None
    assert server.slack.calls_to("apps.connections.open") == []

"""Requests as Slack sends them: signed with the signing secret (v0 scheme)."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

import httpx

from tests.support import httpc
from tests.support.server import SIGNING_SECRET


def sign(
    body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def post_signed(
    base_url: str,
    body: str,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
    return httpc.post(f"{base_url}/slack/events", content=body, headers=all_headers, timeout=10)


def command_body(
    command: str, text: str = "", *, user_id: str = "U0TECHLEAD", response_url: str = ""
) -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": "T1",
            "team_domain": "test",
            "channel_id": "C0TEAM",
            "channel_name": "phase4-production-readiness",
            "user_id": user_id,
            "user_name": "someone",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url or "http://127.0.0.1:9/response/none",
            "trigger_id": "1.2.3",
        }
    )


def slash(
    base_url: str,
    command: str,
    text: str = "",
    *,
    user_id: str = "U0TECHLEAD",
    response_url: str = "",
) -> httpx.Response:
    """Send a slash command as Slack would and return the HTTP response (the ack)."""
    return post_signed(
        base_url, command_body(command, text, user_id=user_id, response_url=response_url)
    )

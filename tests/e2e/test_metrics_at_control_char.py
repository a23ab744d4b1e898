"""Benchmarks at their edges (found by review)."""

from __future__ import annotations

import pytest

from tests.support import httpc
from tests.support.server import INGEST_TOKEN, Server

JSON = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}


@pytest.mark.parametrize("at", ["2025-10-31T12:00:00\u0000Z", "2025-10-31T12:00:00\u0007Z"])
def test_an_at_holding_a_control_character_is_refused(server: Server, at: str) -> None:
    """A CI script posts {"at": "2025-10-31T12:00:00<NUL>Z", "metrics": {...}} (a NUL or BEL
    in the middle of the time). That is no ISO-8601 time, yet the bot answers 201 and stores
    the figure with that time. It should refuse it with a JSON 400 naming `at`, storing
    nothing, as it refuses "2025-10-31T14:00:00+25:00"."""
    body = {"at": at, "metrics": {"memory_usage": 120}}
    resp = httpc.post(f"{server.url}/api/v1/metrics", json=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    assert "at" in resp.json()["error"]

"""An `at` that is a well-formed ISO-8601 time but outside parse_instant's 1900..9000 years
is refused as "not an ISO-8601 time": the user is told the format is wrong when it is the
time that is implausible (a year-3000 `at` gets "not a plausible time for a CI run")."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_ingest_bad_input import AUTH, GOOD, XML, nothing_stored
from tests.support import httpc
from tests.support.server import Server

JSON = {**AUTH, "Content-Type": "application/json"}
WELL_FORMED = ["9999-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00", "1800-01-01T00:00:00Z"]


@pytest.mark.parametrize("at", WELL_FORMED)
def test_metrics_at_out_of_range_is_not_called_malformed(server: Server, at: str) -> None:
    body = json.dumps({"at": at, "metrics": {"memory_usage": 120}}).encode()
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, (resp.status_code, resp.text)
    error = resp.json()["error"]
    assert "not an ISO-8601 time" not in error, error
    nothing_stored(server)


@pytest.mark.parametrize("at", WELL_FORMED)
def test_test_run_at_out_of_range_is_not_called_malformed(server: Server, at: str) -> None:
    """The same rule for POST /api/v1/test-runs?at= (bot.web._parse_at)."""
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs",
        params={"run": "r1", "at": at},
        content=GOOD,
        headers=XML,
        timeout=30,
    )
    assert resp.status_code == 400, (resp.status_code, resp.text)
    error = resp.json()["error"]
    assert "not an ISO-8601 time" not in error, error
    nothing_stored(server)

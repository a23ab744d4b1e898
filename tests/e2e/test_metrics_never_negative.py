"""A benchmark figure below zero for a metric measured in seconds, MB or req/s is no
measurement (a CI script subtracting the wrong way round, a parse of "-" ...). The API
refused NaN, Infinity and figures past 1e15 as "past any measurement", but took
memory_usage = -5 MB and cli_response_time = -1 s as measured, called them "met", and they
raised the metrics components' scores and readiness (found by review)."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import MetricSample
from tests.support import httpc
from tests.support.server import INGEST_TOKEN, Server

JSON = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [b'{"metrics": {"memory_usage": -5}}', b'{"metrics": {"cli_response_time": -1.5}}'],
)
def test_a_negative_duration_or_size_is_400_and_stores_nothing(server: Server, body: bytes) -> None:
    before = httpc.get(f"{server.url}/api/v1/readiness", headers=JSON, timeout=30).json()
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 400, resp.text
    assert "negative" in resp.json()["error"] or "below zero" in resp.json()["error"]
    with server.runtime.db.session() as s:
        assert s.exec(select(func.count()).select_from(MetricSample)).one() == 0
    after = httpc.get(f"{server.url}/api/v1/readiness", headers=JSON, timeout=30).json()
    assert after["score"] == before["score"]


def test_a_negative_figure_of_a_metric_whose_unit_allows_it_is_taken(server: Server) -> None:
    """An untracked metric (no unit known) below zero is taken as sent."""
    body = b'{"metrics": {"balance_delta": -3}}'
    resp = httpc.post(f"{server.url}/api/v1/metrics", content=body, headers=JSON, timeout=30)
    assert resp.status_code == 201, resp.text
    assert resp.json()["metrics"]["balance_delta"]["value"] == -3

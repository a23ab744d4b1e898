"""Benchmarks at their edges (found by review)."""

from __future__ import annotations

from typing import Any

from tests.support import httpc
from tests.support.e2e import posts, text_of
from tests.support.server import INGEST_TOKEN, Server

JSON = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}


def post_metrics(server: Server, body: dict[str, Any]):
    return httpc.post(f"{server.url}/api/v1/metrics", json=body, headers=JSON, timeout=30)


def test_a_figure_at_the_target_up_to_float_noise_is_met(server: Server) -> None:
    """CI averages three CLI timings (0.1 + 0.2 s ...) and posts cli_response_time =
    0.30000000000000004 against the file's target of 0.3 s (lower is better). The reply says
    "missed", and /api/v1/sprint's benchmark table says Current "0.3 s", Target "≤ 0.3 s",
    state missed (the Response Times readiness component loses half its score). A figure
    every surface shows as exactly the target should be met: the bot itself forgives the
    same float noise at the degraded edge (numbers.metric_state's 1e-9), not at the met one."""
    value = 0.1 + 0.2
    resp = post_metrics(server, {"metrics": {"cli_response_time": value}})
    assert resp.status_code == 201, resp.text
    sprint = httpc.get(f"{server.url}/api/v1/sprint", headers=JSON, timeout=30).json()
    [bench] = [b for b in sprint["benchmarks"]["items"] if b["name"] == "cli_response_time"]
    assert resp.json()["metrics"]["cli_response_time"]["status"] == "met", resp.json()
    assert bench["state"] == "met", bench


def test_a_degraded_alert_does_not_say_exactly_the_tolerance(server: Server) -> None:
    """CI posts api_throughput = 899.96 req/s against a target of ≥ 1,000 with
    perf_tolerance 10: 10.004 % beyond, so degraded. The alert in #team reads
    "API Throughput degraded: 899.96 req/s (target ≥ 1,000 req/s, 10 % beyond)" right above
    "More than 10 % beyond target": it says the figure is exactly at the tolerance while
    raising an alert for being past it. It should show a percent that is past 10 (10.004 %,
    or at least "10.0x"), not "10 %"."""
    resp = post_metrics(server, {"metrics": {"api_throughput": 899.96}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["metrics"]["api_throughput"]["status"] == "degraded"
    server.runtime.sender.drain()
    [alert] = [text_of(p) for p in posts(server) if "API Throughput degraded" in text_of(p)]
    assert "More than 10 % beyond target" in alert
    assert ", 10 % beyond)" not in alert, alert

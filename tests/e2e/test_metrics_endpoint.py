"""GET /metrics and /healthz's clock and outbox checks, through the real server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import post_report
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import slash

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}


def scrape(
    server: Server, headers: dict[str, str] = AUTH
) -> dict[tuple[str, frozenset[str]], float]:
    resp = httpc.get(f"{server.url}/metrics", headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[str]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_refuse_a_scraper_without_the_token(make_server: Callable[..., Server]) -> None:
    server = make_server(SPRINTBOT_METRICS_TOKEN="scraper-token")
    assert httpc.get(f"{server.url}/metrics").status_code == 401
    wrong = httpc.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert "sprintbot_outbox_messages" not in wrong.text
    own = scrape(server, {"Authorization": "Bearer scraper-token"})
    assert value(own, "sprintbot_database_up") == 1


def test_metrics_are_off_while_no_token_is_set(make_server: Callable[..., Server]) -> None:
    server = make_server(SPRINTBOT_INGEST_TOKEN=None)
    resp = httpc.get(f"{server.url}/metrics")
    assert resp.status_code == 503
    assert "SPRINTBOT_METRICS_TOKEN" in resp.json()["error"]


def test_an_ingest_and_its_delivered_alert_show_in_the_counters(server: Server) -> None:
    before = scrape(server)
    assert post_report(server, "pytest-xunit1-run1.xml", run="ci-1").status_code == 201
    second = post_report(server, "pytest-xunit1-run2.xml", run="ci-2")
    assert second.status_code == 201 and second.json()["regressions"]
    queued = scrape(server)
    assert value(queued, "sprintbot_outbox_messages", state="pending") >= 1
    server.runtime.sender.drain()
    after = scrape(server)
    created = value(after, "sprintbot_junit_ingests_total", result="created")
    assert created - value(before, "sprintbot_junit_ingests_total", result="created") == 2
    testcases = value(after, "sprintbot_junit_testcases_total")
    assert (
        testcases - value(before, "sprintbot_junit_testcases_total") == 13 + second.json()["tests"]
    )
    seconds = value(after, "sprintbot_junit_ingest_seconds_count")
    assert seconds - value(before, "sprintbot_junit_ingest_seconds_count") == 2
    sent = "sprintbot_outbox_deliveries_total"
    assert value(after, sent, method="chat.postMessage") > value(
        before, sent, method="chat.postMessage"
    )
    assert value(after, "sprintbot_outbox_messages", state="pending") == 0
    assert value(after, "sprintbot_outbox_messages", state="sent") >= 1


def test_a_failed_delivery_is_counted_with_slacks_error(server: Server) -> None:
    before = scrape(server)
    server.slack.fail("chat.postMessage", error="channel_not_found", times=5)
    assert post_report(server, "pytest-xunit1-run1.xml", run="ci-1").status_code == 201
    assert post_report(server, "pytest-xunit1-run2.xml", run="ci-2").status_code == 201
    server.runtime.sender.drain()
    after = scrape(server)
    labels = {"method": "chat.postMessage", "error": "channel_not_found", "outcome": "failed"}
    name = "sprintbot_outbox_failures_total"
    assert value(after, name, **labels) > value(before, name, **labels)
    assert value(after, "sprintbot_outbox_messages", state="failed") >= 1


def test_an_acknowledged_command_is_timed(server: Server) -> None:
    before = scrape(server)
    assert slash(server.url, "/readiness").status_code == 200
    after = scrape(server)
    name = "sprintbot_ack_seconds_count"
    assert value(after, name, kind="command") - value(before, name, kind="command") == 1


def test_outbox_age_job_runs_and_heartbeat_read_from_the_database(server: Server) -> None:
    start = server.clock.at
    # The job delivers what it queued (no worker runs here); the alert then waits.
    assert bot_clock.scheduled(server.runtime, "daily-report") == "daily-report: posted"
    assert post_report(server, "pytest-xunit1-run1.xml", run="ci-1").status_code == 201
    assert post_report(server, "pytest-xunit1-run2.xml", run="ci-2").status_code == 201
    bot_clock.heartbeat(server.runtime)
    server.clock.at = start + timedelta(minutes=10)
    found = scrape(server)
    assert value(found, "sprintbot_outbox_oldest_pending_seconds") == 600
    job = {"team": server.runtime.teams.first.id, "job": "daily-report"}
    assert value(found, "sprintbot_job_last_success_timestamp_seconds", **job) == start.timestamp()
    assert value(found, "sprintbot_clock_heartbeat_timestamp_seconds") == start.timestamp()


def test_healthz_reports_clock_and_outbox_and_fails_past_the_max_age(server: Server) -> None:
    start = server.clock.at
    fresh = httpc.get(f"{server.url}/healthz").json()
    # A clock that never ticked (a fresh install, `web` before its clock) is not a failure.
    assert (fresh["status"], fresh["database"], fresh["clock"]) == ("ok", "ok", "not started")
    bot_clock.heartbeat(server.runtime)
    server.clock.at = start + timedelta(minutes=14)
    ok = httpc.get(f"{server.url}/healthz")
    assert ok.status_code == 200 and ok.json()["clock"] == "ok"
    assert ok.json()["clock_last_tick"] == start.isoformat()
    server.clock.at = start + timedelta(minutes=16)
    late = httpc.get(f"{server.url}/healthz")
    assert late.status_code == 503
    assert (late.json()["status"], late.json()["clock"]) == ("error", "late")


def test_healthz_fails_while_the_outbox_is_stuck(make_server: Callable[..., Server]) -> None:
    server = make_server(SPRINTBOT_HEALTH_MAX_AGE="300")
    start = server.clock.at
    assert post_report(server, "pytest-xunit1-run1.xml", run="ci-1").status_code == 201
    assert post_report(server, "pytest-xunit1-run2.xml", run="ci-2").status_code == 201
    server.clock.at = start + timedelta(minutes=6)
    stuck = httpc.get(f"{server.url}/healthz")
    assert stuck.status_code == 503
    body = stuck.json()
    assert (body["outbox"], body["outbox_oldest_pending_seconds"]) == ("stuck", 360)
    server.runtime.sender.drain()
    assert httpc.get(f"{server.url}/healthz").status_code == 200


def test_an_empty_token_is_no_token(make_server: Callable[..., Server]) -> None:
    """`SPRINTBOT_METRICS_TOKEN=` (as .env.example writes it) must not let an empty
    `Authorization: Bearer` in, to /metrics or to the API."""
    server = make_server(SPRINTBOT_METRICS_TOKEN="", SPRINTBOT_INGEST_TOKEN=" ")
    empty = {"Authorization": "Bearer"}  # (a trailing space is no header value HTTP allows)
    assert httpc.get(f"{server.url}/metrics", headers=empty, timeout=30).status_code == 503
    api = httpc.get(f"{server.url}/api/v1/quarantine", headers=empty, timeout=30)
    assert api.status_code == 503  # the API is off, not open
    served = make_server(SPRINTBOT_METRICS_TOKEN="")  # the ingest token stands
    for path in ("/metrics", "/api/v1/quarantine"):
        assert httpc.get(f"{served.url}{path}", headers=empty, timeout=30).status_code == 401

"""Maven Surefire with `rerunFailingTestsCount`: a test that fails in every rerun is written
`<failure/>` followed by `<rerunFailure/>` elements, and Surefire counts it a failure ("If
it fails all those k times then it will still be marked as a failed test"); only
`<flakyFailure>`/`<flakyError>` mean it passed on a rerun. Every `<rerunFailure>` was made
flaky, so a commit breaking a test in a Maven build with reruns raised no regression (found
by review)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import posts, text_of
from tests.support.server import INGEST_TOKEN, Server

XML = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"}


def send(server: Server, body: bytes, **query: str) -> dict[str, Any]:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=body, headers=XML, timeout=30
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


def figures(server: Server) -> dict[str, Any]:
    resp = httpc.get(f"{server.url}/api/v1/sprint", headers=XML, timeout=30)
    assert resp.status_code == 200, resp.text
    tests: dict[str, Any] = resp.json()["tests"]
    return tests


def surefire(rerun_failed: bool) -> bytes:
    """Surefire 3 output of one class; `createWebhook` failed its first run and both reruns."""
    outcome = (
        '<failure message="expected 201 but was 500" type="java.lang.AssertionError">'
        "java.lang.AssertionError: expected 201 but was 500</failure>"
        '<rerunFailure message="expected 201 but was 500" type="java.lang.AssertionError">'
        "<stackTrace>java.lang.AssertionError</stackTrace></rerunFailure>"
        '<rerunFailure message="expected 201 but was 500" type="java.lang.AssertionError">'
        "<stackTrace>java.lang.AssertionError</stackTrace></rerunFailure>"
        if rerun_failed
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuite name="swarm.WebhookCrudTest" tests="2" errors="0" skipped="0" '
        f'failures="{int(rerun_failed)}" version="3.0">\n'
        f'<testcase name="createWebhook" classname="swarm.WebhookCrudTest" time="0.6">{outcome}'
        "</testcase>\n"
        '<testcase name="listWebhooks" classname="swarm.WebhookCrudTest" time="0.1"/>\n'
        "</testsuite>"
    ).encode()


def test_a_test_failing_every_surefire_rerun_is_a_regression_not_flaky(server: Server) -> None:
    send(server, surefire(False), run="mvn-1", at="2025-10-31T12:00:00Z")
    reply = send(server, surefire(True), run="mvn-2", at="2025-10-31T13:00:00Z")
    # Surefire's own summary for this run: Tests run: 2, Failures: 1, Flakes: 0.
    assert (reply["failed"], reply["flaky_count"]) == (1, 0), reply
    assert [t["name"] for t in reply["regressions"]] == ["createWebhook"], reply
    tests = figures(server)
    assert (tests["failing"], tests["flaky"], tests["regressions_open"]) == (1, 0, 1), tests
    server.runtime.sender.drain()
    assert any("regressed" in text_of(p) for p in posts(server))

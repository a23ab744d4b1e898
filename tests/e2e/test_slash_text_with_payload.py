"""A slash command whose form body holds the word "payload" anywhere — the typed text
(`/tests show test_payload_roundtrip`), or the channel's name (#api-payloads) — is
dropped: Bolt's `parse_body` takes any form body holding "payload" for an interaction
(`payload=<json>`), finds no such field, and gives an empty request, which no listener
matches (404 `{"error": "unhandled request"}`; Slack tells the user the command failed).
`bot.web.Routes.slack_events` hands the raw body to Bolt (`to_bolt_request`) after its
own checks. Found by review."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text
from tests.support.server import Server
from tests.support.slack import command_body, post_signed, slash


def _ingest(server: Server) -> None:
    doc = (
        b'<testsuite name="s">'
        b'<testcase classname="tests.api.test_payload" name="test_payload_roundtrip">'
        b"<failure>boom</failure></testcase>"
        b'<testcase classname="tests.api.test_payload" name="test_small"/>'
        b"</testsuite>"
    )
    query = urlencode({"run": "ci-1", "at": "2025-10-31T13:00:00Z"})
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{query}", content=doc, headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text


def test_tests_show_of_a_test_named_payload_is_answered(server: Server) -> None:
    """What the user sees: `/tests show test_payload_roundtrip` (a test the last CI run
    reported failing) gets no answer — Slack says the command failed (the app answered
    404 "unhandled request") — and so does `/tests quarantine test_payload_roundtrip`.
    What they should see: the test's history, as for `/tests show test_small`."""
    _ingest(server)
    small = slash(server.url, "/tests", "show test_small")
    assert small.status_code == 200, small.text

    resp = slash(server.url, "/tests", "show test_payload_roundtrip")
    assert resp.status_code == 200, f"{resp.status_code} {resp.text}"
    body = resp.json()
    text = blocks_text(body.get("blocks") or []) or body["text"]
    assert ":x: *failed* now on `main`" in text, text


def test_a_command_in_a_channel_named_payloads_is_answered(server: Server) -> None:
    """What the user sees: in a channel named #api-payloads, every slash command fails
    (here `/tests slow`), whatever is typed. What they should see: the answer they get in
    any other channel."""
    body = command_body("/tests", "slow").replace(
        "channel_name=phase4-production-readiness", "channel_name=api-payloads"
    )
    assert "channel_name=api-payloads" in body
    resp = post_signed(server.url, body)
    assert resp.status_code == 200, f"{resp.status_code} {resp.text}"
    assert "No report on `main` timed its tests yet" in resp.text, resp.text

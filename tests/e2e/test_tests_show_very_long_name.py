"""/tests show NAME for a test whose name is longer than the 2,000 characters stored
(a pytest id parametrized by a large record). The stored name is the first characters
and a digest of the whole (docs/api.md), but the name typed or pasted is looked up as it
is: the full name, as CI printed it, names no test. Found by review."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text
from tests.support.server import Server
from tests.support.slack import slash

LONG = "test_roundtrip[" + "-".join(f"field{i:04d}" for i in range(200)) + "]"  # 2,014 chars


def test_the_full_name_of_a_very_long_test_finds_it(server: Server) -> None:
    """What the user sees: pasting the failing test's full name from the CI log into
    `/tests show tests.api.test_codec::test_roundtrip[field0000-…-field0199]` answers
    'No test on `main` has "…" in its name.' (and so does its name alone), although the
    reply to that very report counted the test and it fails on `main`. What they should
    see: that test's history, as for any name typed whole."""
    doc = (
        '<testsuite name="s">'
        f'<testcase classname="tests.api.test_codec" name="{LONG}">'
        "<failure>boom</failure></testcase>"
        '<testcase classname="tests.api.test_codec" name="test_small"/>'
        "</testsuite>"
    ).encode()
    query = urlencode({"run": "ci-1", "at": "2025-10-31T13:00:00Z"})
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{query}", content=doc, headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["failed"] == 1
    assert len(LONG) > 2000

    for typed in (f"tests.api.test_codec::{LONG}", LONG):
        got = slash(server.url, "/tests", f"show {typed}")
        assert got.status_code == 200, got.text[:300]
        body = got.json()
        text = blocks_text(body.get("blocks") or []) or body["text"]
        assert "No test on `main`" not in text, f"{typed[:40]}…: {text[:160]}"
        assert ":x: *failed* now on `main`" in text, text[:300]

"""pytest writes a character it cannot show in a test's id as its escape: a parametrized
test of zero-width handling is named `test_strip[\\u200b-lead]`, backslash and all. Part of
such a name typed in `/tests show` lists the tests holding it (found by review: the
matches were thrown away for the typed-back text, a real zero-width space)."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text
from tests.support.server import Server
from tests.support.slack import slash

LEAD = "test_strip[\\u200b-lead]"  # as pytest names it: a backslash, then u200b
TRAIL = "test_strip[\\u200b-trail]"


def junit(names: list[str]) -> bytes:
    cases = "".join(
        f'<testcase classname="tests.text.test_clean" name="{n}" '
        'file="tests/text/test_clean.py"></testcase>'
        for n in names
    )
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


def send(server: Server, doc: bytes) -> None:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode({'run': 'ci-1', 'at': '2025-10-31T12:00:00Z'})}",
        content=doc,
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text


def _said(body: dict) -> str:
    return blocks_text(body.get("blocks") or []) or body.get("text", "")


def test_part_of_a_name_pytest_escaped_lists_the_tests_holding_it(server: Server) -> None:
    send(server, junit([LEAD, TRAIL, "test_other"]))
    # (Each found whole, as typed: the name as pytest wrote it.)
    whole = _said(slash(server.url, "/tests", f"show {LEAD}").json())
    assert "-lead]" in whole, whole
    # Part of the name, as typed from the CI log: both tests holding it.
    said = _said(slash(server.url, "/tests", "show test_strip[\\u200b").json())
    assert "No test" not in said, said
    assert "-lead]" in said and "-trail]" in said, said

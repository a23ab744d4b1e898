"""Two alerts left holding only quarantined tests by one CI run: each says who quarantined
its own tests."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.e2e.test_quarantine import ask
from tests.support import httpc
from tests.support.e2e import AUTH, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server

CLS = "tests.memory.test_store"


def _doc(failing: set[str]) -> bytes:
    cases = ""
    for name in ("test_a1", "test_a2", "test_b1", "test_b2"):
        body = "<failure message='boom'>x</failure>" if name in failing else ""
        file = "tests/memory/test_store.py"
        cases += f'<testcase classname="{CLS}" name="{name}" file="{file}">{body}</testcase>'
    return f'<testsuites><testsuite name="s">{cases}</testsuite></testsuites>'.encode()


def _post(server: Server, failing: set[str], run: str, at: str) -> dict:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode({'run': run, 'at': at})}",
        content=_doc(failing),
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def test_second_alert_says_the_first_alerts_quarantiner(server: Server) -> None:
    """Run 1: four tests pass. Run 2: test_a1 and test_a2 fail (alert A). Run 3: test_b1
    and test_b2 fail too (alert B). The QA lead quarantines test_a1, the tech lead
    test_b1 (`/tests quarantine`). Run 4: test_a2 and test_b2 pass again, so each alert is
    left holding only its quarantined test, and both messages are updated to say their
    tests are quarantined. Alert B's message says ":mute: @QA lead quarantined its tests
    as flaky" — the QA lead never touched B's test; the tech lead did. jobs/quarantine.py
    `alerts_say` reassigns its `by` argument inside the loop over alerts (by is None →
    the first alert's quarantiner), so every later alert reuses the first one's. B should
    name the tech lead."""
    _post(server, set(), "ci-1", "2025-10-31T12:00:00Z")
    a = _post(server, {"test_a1", "test_a2"}, "ci-2", "2025-10-31T12:10:00Z")
    b = _post(server, {"test_a1", "test_a2", "test_b1", "test_b2"}, "ci-3", "2025-10-31T12:20:00Z")
    assert a["alert"] and b["alert"] and a["alert"] != b["alert"], (a, b)
    server.runtime.sender.drain()
    said = ask(server, f"quarantine {CLS}::test_a1 for 7d", user="U0QALEAD")
    assert said.startswith("Quarantined"), said
    said = ask(server, f"quarantine {CLS}::test_b1 for 7d", user="U0TECHLEAD")
    assert said.startswith("Quarantined"), said
    server.runtime.sender.drain()
    _post(server, {"test_a1", "test_b1"}, "ci-4", "2025-10-31T12:30:00Z")
    server.runtime.sender.drain()
    listeners_done()
    said_by = [
        text_of(c)
        for c in server.slack.calls_to("chat.update")
        if "quarantined its tests as flaky" in text_of(c)
    ]
    assert len(said_by) == 2, said_by
    card_a = next(t for t in said_by if "test_a1" in t)
    card_b = next(t for t in said_by if "test_b1" in t)
    assert "<@U0QALEAD> quarantined its tests" in card_a, card_a
    assert "<@U0TECHLEAD> quarantined its tests" in card_b, card_b

"""Failures grouped by cause, end to end: CI reports in over HTTP, the regression alert and
the daily report out to the fake Slack, with the sprint file's `[[causes]]` naming some."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import AUTH, at, post_report, posts, text_of
from tests.support.server import EXAMPLE, Server

CAUSES = """
[[causes]]
name = "Swarm consensus"
pattern = "partition healer|leader election"
"""


def with_causes(tmp_path: Path, extra: str = CAUSES) -> str:
    path = tmp_path / "sprint.toml"
    path.write_text(EXAMPLE.read_text() + extra)
    return str(path)


PASS = ""


def report(tests: dict[str, str | None]) -> bytes:
    """A JUnit report: each test passing (PASS) or failing with its message (None: none)."""
    cases = []
    for name, message in tests.items():
        if message == PASS:
            body = ""
        elif message is None:
            body = "<failure/>"
        else:
            body = f"<failure message={quoteattr(message)}/>"
        cases.append(
            f'<testcase classname="tests.db.test_pool" name="{name}" '
            f'file="tests/db/test_pool.py">{body}</testcase>'
        )
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def send(server: Server, body: bytes, run: str) -> dict[str, object]:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?run={run}&at=2025-10-31T13:00:00Z",
        content=body,
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    out: dict[str, object] = resp.json()
    return out


REFUSED = [
    "ConnectionRefusedError: [Errno 111] Connection refused to 10.0.0.4:5432",
    "ConnectionRefusedError: [Errno 111] Connection refused to 10.0.0.7:6432",
    "E   ConnectionRefusedError: [Errno 111] Connection refused to 10.0.0.9:5432\nmore",
    "ConnectionRefusedError: [Errno 61] Connection refused to 127.0.0.1:5432",
]


def test_alert_groups_tests_failing_for_one_cause(make_server: Callable[..., Server]) -> None:
    server = make_server()
    names = [f"test_{i}" for i in range(6)]
    send(server, report(dict.fromkeys(names, PASS)), "ci-1")
    failures: dict[str, str | None] = dict(zip(names, REFUSED, strict=False))
    failures["test_4"] = "KeyError: 'tenant-42'"
    failures["test_5"] = "<!channel> `boom` *bold* <https://evil.example|click>"
    reply = send(server, report(failures), "ci-2")
    assert len(reply["regressions"]) == 6  # type: ignore[arg-type]
    server.runtime.sender.drain()
    [alert] = [p for p in posts(server) if "regressed on" in p.args.get("text", "")]
    text = text_of(alert)
    # The four refused connections are one cause, whatever their hosts, ports and errno.
    cause = "`ConnectionRefusedError: [Errno N] Connection refused to N:N`"
    assert f"*4 tests* fail with {cause}" in text
    for i in range(4):
        assert f"• `tests.db.test_pool::test_{i}` — " in text
    # One excerpt for the group (its first test's message); the single ones keep theirs.
    assert "```ConnectionRefusedError: [Errno 111] Connection refused to 10.0.0.4:5432```" in text
    assert "```KeyError: 'tenant-42'```" in text
    # A hostile message shows as typed: no broadcast, no link.
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text


def test_alert_names_a_category_from_the_sprint_file(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=with_causes(tmp_path))
    assert post_report(server, "pytest-xunit1-run1.xml", run="ci-1").status_code == 201
    assert post_report(server, "pytest-xunit1-run2.xml", run="ci-2").status_code == 201
    server.runtime.sender.drain()
    [alert] = [p for p in posts(server) if "regressed on" in p.args.get("text", "")]
    text = text_of(alert)
    # The recorded run's leader election timeout and partition healer crash: one category.
    assert "*2 tests* fail with *Swarm consensus*" in text
    assert "• `tests.swarm.test_coordination::test_leader_election`" in text
    # The other regressions keep their own excerpts.
    assert "```AssertionError: expected JSON array, got 'null'" in text


def test_daily_report_shows_top_causes_of_failing_tests(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=with_causes(tmp_path))
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 10, 30, 15, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run2.xml", run="d2", at="2025-10-30T15:00:00Z")
    server.runtime.sender.drain()
    sent_before = len(posts(server))
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [daily] = posts(server)[sent_before:]
    text = text_of(daily)
    assert "*Top causes of failing tests*" in text
    assert "• 2 tests: *Swarm consensus*" in text
    assert "• 1 test: `AssertionError: expected JSON array, got '…'`" in text

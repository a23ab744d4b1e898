"""A retried upload of an older run (a slow pipeline, a re-sent artifact) arrives after a
newer run. The figures ignore it for the tests the newer run reported (definitions:
"a report of a run more than 10 minutes older than a run already received … changes
none of the tests that run reported"), but the daily report's "last: …" and App Home's
"Last CI run" pick the report received last, so they show the old run's failures as the
latest run beside figures that say nothing fails (found by review). The last run is the one
the figures took in last: an untimed newer run protects nothing (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import AUTH, at, posts, text_of
from tests.support.reports import report
from tests.support.server import Server

TESTS = ("swarm/t1", "swarm/t2", "memory/t3")


def send(server: Server, body: bytes, **query: str) -> dict[str, Any]:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=body, headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


def test_daily_report_last_run_is_the_newest_run_not_a_late_upload(server: Server) -> None:
    """Day 2: run ci-2 (14:00 UTC) passes all 3 tests; at 15:30 a retried upload of the
    older run ci-1 (13:00, 2 failures) arrives. The figures keep ci-2's statuses (0 failing).
    The next morning's report says "last: 1 passed, 2 failed" (ci-1's) beside "0 failing
    now"; the last run is ci-2: "last: 3 passed, 0 failed"."""
    at(server, datetime(2025, 10, 30, 14, 5, tzinfo=UTC))
    send(server, report(dict.fromkeys(TESTS, "passed")), run="ci-2", at="2025-10-30T14:00:00Z")
    at(server, datetime(2025, 10, 30, 15, 30, tzinfo=UTC))
    late = report({"swarm/t1": "failed", "swarm/t2": "failed", "memory/t3": "passed"})
    reply = send(server, late, run="ci-1", at="2025-10-30T13:00:00Z")
    assert reply["regressions"] == [], reply  # a late run: it changed nothing
    server.runtime.sender.drain()
    sent = len(posts(server))

    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [daily] = [p for p in posts(server)[sent:] if p.args.get("channel") == "#sprint-status"]
    text = text_of(daily)
    assert "*Tests*: 0 failing now" in text, text
    assert "last: 3 passed, 0 failed, 0 skipped" in text, (
        "the daily report's last run is the late upload of the older run ci-1 (2 failed), "
        "beside '0 failing now': " + text.split("*Yesterday", 1)[1].split("\n", 1)[0]
    )


def test_last_run_beside_failing_now_when_the_newer_run_gave_no_time(server: Server) -> None:
    """Day 2: run ci-2 is uploaded at 14:05 without `at=` (its time is when it came: 14:05),
    all 3 tests passing. At 15:30 a retried upload of an older run ci-1 arrives, with
    `at=13:00Z` and 2 failures. The figures take ci-1's failures (a later run holds its
    tests only if its time was *given*: `later_runs` needs `timed`), so the next morning's
    report says "2 failing now"; but its "last:" line now picks the newest run by `at`,
    ci-2, "3 passed, 0 failed" beside "2 failing now". The two must agree (before
    8480109 the last run was ci-1, matching the figures)."""
    at(server, datetime(2025, 10, 30, 14, 5, tzinfo=UTC))
    send(server, report(dict.fromkeys(TESTS, "passed")), run="ci-2")
    at(server, datetime(2025, 10, 30, 15, 30, tzinfo=UTC))
    late = report({"swarm/t1": "failed", "swarm/t2": "failed", "memory/t3": "passed"})
    send(server, late, run="ci-1", at="2025-10-30T13:00:00Z")
    server.runtime.sender.drain()
    sent = len(posts(server))

    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [daily] = [p for p in posts(server)[sent:] if p.args.get("channel") == "#sprint-status"]
    text = text_of(daily)
    line = text.split("*Yesterday", 1)[1].split("\n", 1)[0]
    failing_now = "*Tests*: 0 failing now" in text
    last_clean = "last: 3 passed, 0 failed, 0 skipped" in text
    assert failing_now == last_clean, (
        "the figures and the 'last:' line disagree: "
        + ("0 failing now" if failing_now else "failures now")
        + " beside "
        + line
        + "\n"
        + text
    )

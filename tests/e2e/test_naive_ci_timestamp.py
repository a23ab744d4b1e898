"""A self-hosted CI runner in Kolkata writes JUnit's `timestamp` as its local time without
an offset (Surefire, jest-junit and older pytest do). The report arrives at 23:05 IST on
Monday 2025-11-03 stamped "2025-11-03T23:00:00". sprintbot takes the naive time as UTC
(jobs/junit.py `_timestamp`), i.e. 04:30 IST on Tuesday: `/tests show` then lists the run
at "Tue 04 Nov 04:30" — five and a half hours in the future — while the next morning's
report counts its regression under "Yesterday (2025-11-03)". DESIGN: "All dates are the
sprint's local dates"; a run never happens after it was received (found by review). A
naive time is read as UTC or as the team's time, whichever is the latest not after the
report came."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from tests.e2e.test_times_on_the_teams_clock import org, say
from tests.support import httpc
from tests.support.e2e import AUTH
from tests.support.reports import report
from tests.support.server import Clock, Server


def test_a_naive_ci_timestamp_is_not_shown_in_the_future(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    clock.at = datetime(2025, 11, 3, 3, 30, tzinfo=UTC)  # Mon 09:00 IST
    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path)))

    def upload(doc: bytes, run: str) -> None:
        q = urlencode({"team": "india", "run": run})
        url = f"{server.url}/api/v1/test-runs?{q}"
        r = httpc.post(url, content=doc, headers=AUTH, timeout=30)
        assert r.status_code == 201, r.text

    upload(report({"a/x": "passed", "a/y": "passed"}), "r1")
    clock.at = datetime(2025, 11, 3, 17, 35, tzinfo=UTC)  # Mon 23:05 IST
    doc = report({"a/x": "failed", "a/y": "passed"}).replace(
        b'<testsuite name="s">', b'<testsuite name="s" timestamp="2025-11-03T23:00:00">'
    )
    upload(doc, "r2")
    shown = say(server, "/tests show x")
    assert "Tue 04 Nov 04:30" not in shown, shown  # later than it was received
    assert ":x: failed · Mon 03 Nov 23:00" in shown, shown


def test_a_naive_timestamp_of_a_hosted_runner_is_read_as_utc() -> None:
    """A runner on UTC (a hosted one) for a team in Kolkata: 17:30 as written is 17:30 UTC,
    not 17:30 in Kolkata (12:00 UTC), which is hours before it came."""
    from zoneinfo import ZoneInfo

    from jobs.ingest import naive_run_time

    kolkata, came = ZoneInfo("Asia/Kolkata"), datetime(2025, 11, 3, 17, 35, tzinfo=UTC)
    stamped = datetime(2025, 11, 3, 17, 30, tzinfo=UTC)  # "2025-11-03T17:30:00"
    assert naive_run_time(stamped, tz=kolkata, now=came) == stamped
    # Its own runner in Kolkata: "23:00" is 17:30 UTC (23:00 UTC is after it came).
    local = datetime(2025, 11, 3, 23, 0, tzinfo=UTC)
    assert naive_run_time(local, tz=kolkata, now=came) == stamped
    # A New York team's own runner: "12:30" is 17:30 UTC, the latest before it came.
    new_york = ZoneInfo("America/New_York")
    assert naive_run_time(datetime(2025, 11, 3, 12, 30, tzinfo=UTC), tz=new_york, now=came) == (
        stamped
    )
    # Both after it came (a clock far ahead): when it came.
    assert naive_run_time(datetime(2025, 11, 4, 9, 0, tzinfo=UTC), tz=kolkata, now=came) == came

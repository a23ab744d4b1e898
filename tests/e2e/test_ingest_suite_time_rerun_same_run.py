"""A CI job re-run under the same run id (a retried shard: same `run`, a new document)
doubles the suite's "Test time" in the daily report.

Reports with the same `run` are one run's shards; a test's duration in a run is taken
from the newest report holding it (`jobs.durations.TimedRun.seconds`), but the run's
total adds up every report (`TimedRun.total`), so a shard retried once counts twice: the
daily report says the suite took twice as long as it did (+100 %) though every test took
exactly as long as in the runs before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import AUTH, at, posts, text_of
from tests.support.server import Server


def doc(stamp: str, failing: bool = False) -> bytes:
    """Three 10-second tests (one failing, optionally), as one CI job reports them."""
    cases = "".join(
        f'<testcase classname="tests.swarm.test_it" name="t{i}" file="tests/swarm/test_it.py" '
        f'time="10.0">{"<failure>boom</failure>" if failing and i == 0 else ""}</testcase>'
        for i in range(3)
    )
    return f'<testsuite name="s" timestamp="{stamp}">{cases}</testsuite>'.encode()


def upload(server: Server, body: bytes, **query: str) -> None:
    got = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=body, headers=AUTH, timeout=30
    )
    assert got.status_code == 201, got.text


def test_a_retried_job_does_not_double_the_runs_test_time(server: Server) -> None:
    for i in range(1, 4):
        when = f"2025-10-30T{9 + i:02d}:00:00Z"
        at(server, datetime.fromisoformat(when))
        upload(server, doc(when), run=f"ci-{i}", at=when)
    # ci-4's job fails once and is retried (GitLab's "Retry", or a re-run keeping the run
    # id): the same three tests, each 10 s again, in a second document of run ci-4.
    at(server, datetime(2025, 10, 30, 14, 0, tzinfo=UTC))
    upload(server, doc("2025-10-30T14:00:00Z", failing=True), run="ci-4", at="2025-10-30T14:00:00Z")
    upload(server, doc("2025-10-30T14:20:00Z"), run="ci-4", at="2025-10-30T14:20:00Z")
    server.runtime.sender.drain()
    sent_before = len(posts(server))

    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    text = text_of(posts(server)[sent_before])
    line = next(ln for ln in text.splitlines() if ln.startswith("*Test time*"))
    # Every test took 10 s, in every run: 30 s, as in the three runs before.
    assert line.startswith("*Test time*: 30.0 s in the latest run `ci-4`"), line
    assert "+0.0 %" in line or "+0 %" in line, line

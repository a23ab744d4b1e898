"""/tests show, GET /api/v1/tests/{id} and /tests slow count a skipped run's JUnit `time`
(pytest writes `time="0.000"` for a skipped test) as the test's duration. The daily
report's slower-tests check leaves such runs out on both sides (`jobs.durations.TimedRun.
seconds`: "a skipped test's time says nothing of how long the test takes"); the per-test
surfaces do not, so a 30-second test reads as taking 0 ms. Found by review."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text
from tests.support.server import Server
from tests.support.slack import slash

SKIP = '<skipped message="no GPU on this runner"/>'


def _doc(cases: list[tuple[str, str, float]]) -> bytes:
    body = "".join(
        f'<testcase classname="tests.perf.test_io" name="{name}" time="{seconds}">'
        f"{SKIP if status == 'skipped' else ''}"
        "</testcase>"
        for name, status, seconds in cases
    )
    return f'<testsuite name="perf">{body}</testsuite>'.encode()


def _post(server: Server, doc: bytes, run: str, hour: int) -> None:
    query = urlencode({"run": run, "at": f"2025-10-31T{hour:02d}:00:00Z"})
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{query}", content=doc, headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text


def _tests(server: Server, text: str) -> str:
    resp = slash(server.url, "/tests", text)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return blocks_text(body.get("blocks") or []) or str(body["text"])


def test_show_leaves_skipped_runs_out_of_the_durations_and_median(server: Server) -> None:
    """What the user sees: a test that took 30 s each time it ran, then was skipped three
    times, reads "*Duration* (last 5 runs): 30.0 s → 30.0 s → 0 ms → 0 ms → 0 ms · median
    0 ms" and the API's `median_duration` is 0.0. What they should see: the durations of
    the runs that ran it (30 s, 30 s) and a median of 30 s."""
    for n, status in enumerate(["passed", "passed", "skipped", "skipped", "skipped"], 1):
        seconds = 30.0 if status == "passed" else 0.0
        _post(server, _doc([("test_train", status, seconds)]), run=f"ci-{n}", hour=8 + n)

    text = _tests(server, "show test_train")
    test_id = re.search(r"test id (\d+)", text).group(1)  # type: ignore[union-attr]
    data = httpc.get(f"{server.url}/api/v1/tests/{test_id}", headers=AUTH, timeout=30).json()
    assert data["median_duration"] == 30.0, (
        f"median of a 30 s test given as {data['median_duration']} s "
        f"(durations {data['durations']}, runs {[r['status'] for r in data['runs']]})"
    )
    assert "median 30.0 s" in text, text


def test_slow_takes_a_tests_latest_duration_from_a_run_that_ran_it(server: Server) -> None:
    """What the user sees: `/tests slow` lists the 90 s test last, as "0 ms", because the
    newest run skipped it; a 2 s test comes first. What they should see: the 90 s test
    first, with 1 min 30 s, its latest duration when it ran (or not listed at all), never a
    skip's 0 ms."""
    _post(server, _doc([("test_soak", "passed", 90.0), ("test_ping", "passed", 2.0)]), "p-1", 9)
    _post(server, _doc([("test_soak", "skipped", 0.0), ("test_ping", "passed", 2.0)]), "p-2", 10)

    text = _tests(server, "slow")
    lines = text.splitlines()
    assert "0 ms · `tests.perf.test_io::test_soak`" not in text, text
    assert lines[1].startswith("1. 1 min 30 s · `tests.perf.test_io::test_soak`"), text

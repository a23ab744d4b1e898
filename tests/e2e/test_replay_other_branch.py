"""The same JUnit document posted for the tracked branch after a release branch (an
artifact promoted from the merge queue, a pipeline that tests once and reports to both) is
stored for the tracked branch (found by review: it was taken as a replay of the release
branch's report: 200, nothing stored for main, and the reply gave no sign of it)."""

from __future__ import annotations

from tests.support import httpc
from tests.support.server import INGEST_TOKEN, Server

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}
XML = {**AUTH, "Content-Type": "application/xml"}
DOC = b"""<?xml version="1.0"?>
<testsuite name="s" timestamp="2025-10-31T13:00:00Z">
  <testcase classname="tests.swarm.test_a" name="t1" time="0.1"/>
  <testcase classname="tests.swarm.test_a" name="t2" time="0.1"><failure message="boom"/></testcase>
</testsuite>"""


def test_the_same_report_for_another_branch_is_stored_for_that_branch(server: Server) -> None:
    release = httpc.post(
        f"{server.url}/api/v1/test-runs?branch=release-1", content=DOC, headers=XML, timeout=30
    )
    assert release.status_code == 201, release.text
    main = httpc.post(
        f"{server.url}/api/v1/test-runs?branch=main", content=DOC, headers=XML, timeout=30
    )
    tests = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30).json()["tests"]
    assert (main.status_code, tests["known"], tests["failing"]) == (201, 2, 1), (
        main.status_code,
        tests,
    )
    # Each posted again is a replay of its own branch's report: stored once each.
    for branch in ("release-1", "main"):
        again = httpc.post(
            f"{server.url}/api/v1/test-runs?branch={branch}", content=DOC, headers=XML, timeout=30
        )
        assert again.status_code == 200, (branch, again.text)

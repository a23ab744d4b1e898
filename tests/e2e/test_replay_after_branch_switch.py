"""A team's sprint file moves its tracked branch to the release branch (a new sprint, or the
release cut): CI then posts again a JUnit document it had posted for that branch before
(a retried upload step). docs/api.md: "Without a `run`, the same document for the same
`branch` is [a replay]": so it is, whichever branch is tracked, and for a report stored
before runs were named after their branch too (found by review: stored twice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import httpc
from tests.support.server import EXAMPLE, INGEST_TOKEN

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}"}
XML = {**AUTH, "Content-Type": "application/xml"}
DOC = b"""<?xml version="1.0"?>
<testsuite name="s" timestamp="2025-10-31T13:00:00Z">
  <testcase classname="tests.swarm.test_a" name="t1" time="0.1"/>
  <testcase classname="tests.swarm.test_a" name="t2" time="0.1"><failure message="boom"/></testcase>
</testsuite>"""


def _file(tmp_path: Path, branch: str) -> Path:
    text = EXAMPLE.read_text()
    assert "\nbranch" not in text.split("[targets]")[0]
    text = text.replace(
        'timezone = "America/New_York"\n',
        f'timezone = "America/New_York"\nbranch = "{branch}"\n',
        1,
    )
    path = tmp_path / "sprint.toml"
    path.write_text(text)
    return path


def _post(url: str) -> Any:
    return httpc.post(
        f"{url}/api/v1/test-runs?branch=release-1", content=DOC, headers=XML, timeout=30
    )


def test_a_replay_on_the_same_branch_after_the_tracked_branch_changed(
    make_server: Any, tmp_path: Path
) -> None:
    before = make_server(SPRINTBOT_CONFIG=str(_file(tmp_path, "main")))
    first = _post(before.url)
    assert first.status_code == 201, first.text
    # The sprint file now tracks release-1; the same document for release-1 again.
    after = make_server(SPRINTBOT_CONFIG=str(_file(tmp_path, "release-1")))
    again = _post(after.url)
    assert (again.status_code, again.json()["report"]) == (200, first.json()["report"]), (
        again.status_code,
        again.text[:300],
    )


def test_a_replay_of_a_report_stored_before_the_upgrade_for_another_branch(server: Any) -> None:
    # Before 21acfe1 a document posted without a run for release-1 (not the tracked main)
    # was stored as run "doc-<its digest's 16 first hex digits>": the same row as this one.
    import hashlib

    old_name = "doc-" + hashlib.sha256(DOC).hexdigest()[:16]
    stored = httpc.post(
        f"{server.url}/api/v1/test-runs?branch=release-1&run={old_name}",
        content=DOC,
        headers=XML,
        timeout=30,
    )
    assert stored.status_code == 201, stored.text
    # After the upgrade CI's retried upload posts the same document again, without a run.
    again = _post(server.url)
    assert (again.status_code, again.json()["report"]) == (200, stored.json()["report"]), (
        again.status_code,
        again.text[:200],
    )

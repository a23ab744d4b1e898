"""/tests show and GET /api/v1/tests/{id} after a report whose XML timestamp carries an
offset but is ahead of the time it arrived (a runner writing its local Berlin time with a
`Z`). Ingestion already treats such a run as "a clock ahead, not a later run"
(`storage.ingest.later_runs`): the next, correctly stamped run counts as the latest and
its regression is alerted. The test's history still orders its timeline by the stamped
time, so the run from "the future" was shown as the newest and contradicted the headline
(found by review). A run is stamped no later than it arrived."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.support import httpc
from tests.support.e2e import AUTH, at, blocks_text
from tests.support.reports import report
from tests.support.server import Server
from tests.support.slack import slash


def _upload(server: Server, doc: bytes, **query: str) -> dict[str, Any]:
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=doc, headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _stamped(doc: bytes, timestamp: str) -> bytes:
    return doc.replace(
        b'<testsuite name="s">', f'<testsuite name="s" timestamp="{timestamp}">'.encode()
    )


def test_a_run_stamped_after_it_arrived_is_not_the_newest_in_the_timeline(
    server: Server,
) -> None:
    """What the user sees: the reply to ci-2 lists `a` as regressed and `/tests show a`
    says ":x: *failed* now", "First failure of this streak: Fri 31 Oct 10:30", yet the
    timeline ("newest last") ends with ":white_check_mark: passed · Fri 31 Oct 11:00 ·
    ci-1" — a run that arrived at 10:00 shown an hour after it arrived and after the
    failure, as if the test passed since. What they should see: ci-2's failure as the
    newest report (ci-1 shown no later than it arrived), the timeline agreeing with the
    status and the streak."""
    green, red = report({"swarm/a": "passed"}), report({"swarm/a": "failed"})
    at(server, datetime(2025, 10, 31, 14, 0, tzinfo=UTC))
    # A Berlin runner (UTC+1) writes its local 15:00 with a "Z": an hour ahead.
    _upload(server, _stamped(green, "2025-10-31T15:00:00Z"), run="ci-1", commit="aaa111")
    at(server, datetime(2025, 10, 31, 14, 30, tzinfo=UTC))
    broke = _upload(server, _stamped(red, "2025-10-31T14:30:00Z"), run="ci-2", commit="bbb222")
    assert [t["name"] for t in broke["regressions"]] == ["a"]  # ingestion: ci-2 is the latest

    body = slash(server.url, "/tests", "show tests.swarm.test_it::a").json()
    text = blocks_text(body.get("blocks") or []) or body["text"]
    assert ":x: *failed* now" in text, text
    test_id = re.search(r"test id (\d+)", text).group(1)  # type: ignore[union-attr]
    runs = httpc.get(f"{server.url}/api/v1/tests/{test_id}", headers=AUTH, timeout=30).json()[
        "runs"
    ]
    newest = runs[-1]
    assert (newest["run"], newest["status"]) == ("ci-2", "failed"), (
        f"the timeline's newest report contradicts the status 'failed': {runs}"
    )
    timeline = text[text.index("*Timeline*") :].splitlines()
    assert timeline[-1].startswith(":x: failed"), "\n".join(timeline)

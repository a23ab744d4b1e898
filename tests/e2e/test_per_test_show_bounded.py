"""`/tests show NAME` and `GET /api/v1/tests/{id}` read every report the team ever received.

The timeline shows the newest 20 runs (it reads at most the newest 60: `tests_history.SCAN`),
but `storage.queries.tests_history._newest_runs` finds those runs with a GROUP BY over all
of the team's reports (SEARCH ... sqlite_autoindex_test_report_1 (team_id=?) then a temp
B-tree), and `packed_reports` then walks every report of the branch (SEARCH
ix_test_report_commit (team_id=? AND branch=?), `run IN (...)` checked row by row, then
sorted). So the command's work grows with the season's CI history, not with what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.support import httpc
from tests.support.e2e import AUTH
from tests.support.server import Server
from tests.support.slack import slash
from tests.support.work import Work, flat, ingest, suite


def test_tests_show_work_does_not_grow_with_ci_history(make_server: Callable[..., Server]) -> None:
    server = make_server()
    work = Work(server.runtime.db.engine)
    doc = suite(40)
    start = datetime(2025, 9, 1, 12, tzinfo=UTC)

    def show() -> None:
        resp = slash(server.url, "/tests", "show test_5")
        assert resp.status_code == 200, resp.text
        assert "(newest last, 20 reports)" in resp.text, resp.text

    def api() -> None:
        resp = httpc.get(f"{server.url}/api/v1/tests/6", headers=AUTH)
        assert resp.status_code == 200, resp.text
        assert len(resp.json()["runs"]) == 20

    seen: dict[int, tuple[int, int]] = {}
    done = 0
    for runs in (60, 240):  # both past the 60 runs the timeline reads at most
        for r in range(done, runs):  # the same passing suite, one CI run every 4 hours
            ingest(server, doc, f"ci-{r}", start + timedelta(hours=4 * r))
        done = runs
        show()
        api()
        work.measure(show)
        slash_work = work.reading("test_report")
        work.measure(api)
        api_work = work.reading("test_report")
        seen[runs] = (slash_work, api_work)

    # The same 20 runs shown, from the same newest 60 runs, at 60 runs of history and at 240.
    assert flat(seen[60][0], seen[240][0]) and flat(seen[60][1], seen[240][1]), (
        f"reads of test_report (x100 SQLite VM steps) grew from {seen[60]} to {seen[240]} "
        f"(/tests show, GET /api/v1/tests/ID) as history grew from 60 to 240 runs: "
        + "; ".join(f"{n}: {k}" for k, n in work.steps.most_common(3))
    )

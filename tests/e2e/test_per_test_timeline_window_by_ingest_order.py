"""/tests show (jobs.tests_history._timeline → packed_reports): the timeline is "the newest
reports that include the test" ordered by run time (`at`). Since b4ab9c9 the SCAN-run window
is chosen by ingest order (run_window_start: report ids), not by run time as before
(_newest_runs: max(at)). When a branch's older runs are ingested after its newest one
(a backfill with `ingest junit --at`, a late-delivered report), the newest run by time falls
outside the window: the timeline leaves out the test's latest result altogether and shows
only backfilled history."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from jobs import tests_history
from jobs.config import Sprint
from tests.support.reports import NOW, ingest, report


def test_timeline_keeps_the_newest_run_when_older_runs_are_ingested_after_it(
    session: Session, example: Sprint
) -> None:
    newest = NOW + timedelta(days=30)
    # The current CI run arrives first ...
    ingest(
        session, example, report({"core/a": "failed", "core/z0": "passed"}), run="ci-new", at=newest
    )
    # ... then the branch's history is backfilled, each run with its own (earlier) time.
    for r in range(tests_history.SCAN):
        ingest(
            session,
            example,
            report({"core/a": "passed", f"core/z{r + 1}": "passed"}),
            run=f"ci-old-{r}",
            at=NOW + timedelta(hours=r),
        )
    test = tests_history.find(session=session, sprint=example, text="tests.core.test_it::a")
    assert not isinstance(test, list)
    h = tests_history.history(session=session, sprint=example, test=test, now=newest)
    shown = [(run["run"], run["at"][:16], run["status"]) for run in h["runs"]]
    assert shown, "empty timeline"
    assert shown[-1][0] == "ci-new", f"the newest run (by time) is missing: last shown {shown[-3:]}"

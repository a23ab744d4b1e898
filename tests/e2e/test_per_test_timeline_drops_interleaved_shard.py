"""/tests show (packed_reports, b4ab9c9): SCAN runs are read "each with all its reports: a
shard holds part of them". The window now starts after the newest report of the run before
them (run_window_start), so a shard of the oldest window run that was ingested before that
other run's last report is left out (runs interleave when CI runs in parallel): a test
held only by that shard loses its result from the timeline. Before, the window's runs were
read with every report of each."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from jobs import tests_history
from jobs.config import Sprint
from tests.support.reports import NOW, ingest, report


def test_timeline_reads_every_shard_of_a_run_in_the_window(
    session: Session, example: Sprint
) -> None:
    # Two runs in parallel: ci-0's first shard, ci-pre's report, ci-0's second shard.
    ingest(
        session, example, report({"shard/x": "failed"}), run="ci-0", at=NOW + timedelta(minutes=1)
    )
    ingest(session, example, report({"core/a": "passed", "core/p": "passed"}), run="ci-pre", at=NOW)
    ingest(
        session, example, report({"core/a": "passed"}), run="ci-0", at=NOW + timedelta(minutes=2)
    )
    for r in range(1, tests_history.SCAN):  # ci-0 is the oldest of the newest SCAN runs
        ingest(
            session,
            example,
            report({"core/a": "passed", f"core/z{r}": "passed"}),
            run=f"ci-{r}",
            at=NOW + timedelta(hours=r),
        )
    test = tests_history.find(session=session, sprint=example, text="tests.shard.test_it::x")
    assert not isinstance(test, list)
    h = tests_history.history(
        session=session, sprint=example, test=test, now=NOW + timedelta(days=5)
    )
    shown = [(run["run"], run["status"]) for run in h["runs"]]
    assert shown == [("ci-0", "failed")], f"ci-0's first shard is left out: {shown}"

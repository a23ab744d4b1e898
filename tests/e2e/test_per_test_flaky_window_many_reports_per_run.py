"""`[flaky] window = 20` runs: a CI that posts one JUnit file per test class sends ~100
reports per run. The flip window is found by reading the branch's newest
`(window-1) x 20` reports (storage.queries.quarantine.run_window_start, _SHARDS = 20), so it
covers only ~4 runs: a test that changed 5 times in its last 9 runs is not found flaky and
its failure raises a regression alert, while the very same history sent as one report per
run is flaky and does not alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from jobs.config import Sprint
from tests.support.reports import NOW, ingest, report

HISTORY = "PFPPFPPPF"  # the test's status in 9 runs: 5 changes (flip_rate 0.2 x 20 = 4)


@pytest.mark.parametrize("files", [1, 100], ids=["one-report-a-run", "100-reports-a-run"])
def test_a_test_flipping_5_times_in_9_runs_is_flaky_however_the_run_is_split(
    session: Session, example: Sprint, files: int
) -> None:
    replies = []
    for r, s in enumerate(HISTORY):
        at = NOW + timedelta(minutes=10 * r)
        status = "passed" if s == "P" else "failed"
        replies.append(ingest(session, example, report({"core0/a": status}), run=f"ci-{r}", at=at))
        for k in range(1, files):  # the run's other files, each its own report
            ingest(session, example, report({f"core{k}/a": "passed"}), run=f"ci-{r}", at=at)
    last = replies[-1]
    # Observed with 100 reports a run: one regression and an alert, no flaky verdict.
    assert [t["id"] for t in last["flaky"]] == ["tests.core0.test_it::a"]
    assert (last["regressions"], last["alert"]) == ([], None)

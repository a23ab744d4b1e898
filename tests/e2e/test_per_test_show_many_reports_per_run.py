"""`/tests show` / GET /api/v1/tests/{id}: a CI that posts one JUnit file per test class
(the README's own `for f in reports/junit/*.xml` loop; Surefire writes TEST-<class>.xml)
sends dozens of reports per run. The timeline reads only the branch's newest 60 reports
(tests_history.SCAN) whatever they hold, so a test from a file posted early in each run has
no timeline at all: "No stored report holds it any more ([retention] keeps them)", no
durations, no CI link — though every report is stored and holds it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from jobs import tests_history
from jobs.config import Sprint
from tests.support.reports import NOW, ingest, report

FILES = 61  # JUnit files each CI run posts (one per test class)
RUNS = 3


def test_timeline_holds_the_test_in_every_run_that_reported_it(
    session: Session, example: Sprint
) -> None:
    for r in range(RUNS):
        at = NOW + timedelta(hours=r)
        for k in range(FILES):
            ingest(session, example, report({f"core{k}/a": "passed"}), run=f"ci-{r}", at=at)
    test = tests_history.find(session=session, sprint=example, text="tests.core0.test_it::a")
    assert not isinstance(test, list)
    h = tests_history.history(
        session=session, sprint=example, test=test, now=NOW + timedelta(hours=RUNS)
    )
    # Observed: [] — every run's first report is beyond the newest 60 of the branch.
    assert [run["run"] for run in h["runs"]] == [f"ci-{r}" for r in range(RUNS)]

"""`/tests show` / GET /api/v1/tests/{id} (packed_reports by runs, fae8594): the runs are
ranked by their newest report, then read 10 runs at a time, each batch ordered by time.
A run id seen again much later (a CI re-run of an old run, run numbers that restart) puts
that run's *old* reports in the newest batch: the test's timeline shows a result from
12 hours before between the newest runs, out of order, and drops a recent run for it.
Before the change (the newest reports by time) the timeline was in order."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta

from sqlmodel import Session

from jobs import tests_history
from jobs.config import Sprint
from tests.support.reports import NOW, ingest, report


def test_timeline_is_in_time_order_when_a_run_id_comes_back(
    session: Session, example: Sprint
) -> None:
    ingest(session, example, report({"core/a": "failed"}), run="ci-0", at=NOW)
    for r in range(1, 12):
        ingest(
            session,
            example,
            report({"core/a": "passed"}),
            run=f"ci-{r}",
            at=NOW + timedelta(hours=r),
        )
    # Run "ci-0" is re-run (its id kept) after ci-11.
    ingest(
        session,
        example,
        report({"core/a": "passed", "core/b": "passed"}),
        run="ci-0",
        at=NOW + timedelta(hours=12),
    )
    test = tests_history.find(session=session, sprint=example, text="tests.core.test_it::a")
    assert not isinstance(test, list)
    # (`now` is new in f0164ba; the code before it takes none)
    when = {"now": NOW + timedelta(hours=13)}
    if "now" not in inspect.signature(tests_history.history).parameters:
        when = {}
    h = tests_history.history(session=session, sprint=example, test=test, **when)
    ats = [datetime.fromisoformat(run["at"]) for run in h["runs"]]
    shown = [(run["run"], run["at"][11:16], run["status"]) for run in h["runs"]]
    assert ats == sorted(ats), f"the timeline is out of order: {shown}"

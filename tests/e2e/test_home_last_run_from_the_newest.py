"""Opening App Home reads every report the tracked branch ever received (with their packed
statuses) to find the last CI run: `storage.queries.reports.latest_run` orders the branch's
reports by `received_at`, which no index holds, so SQLite sorts all of them (USE TEMP
B-TREE FOR ORDER BY), carrying every column of every report, blobs included, into its
sorter. The Home's work grows with the season's CI history though it shows one run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.support.e2e import home_opened
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.work import Work, flat, ingest, suite


def test_app_home_work_does_not_grow_with_ci_history(make_server: Callable[..., Server]) -> None:
    server = make_server()
    work = Work(server.runtime.db.engine)
    doc = suite(40)
    start = datetime(2025, 10, 20, 12, tzinfo=UTC)

    def open_home() -> None:
        home_opened(server, "U0ALICE")
        listeners_done()

    seen: dict[int, int] = {}
    done = 0
    for runs in (10, 60):
        for r in range(done, runs):  # the same passing suite, one CI run an hour
            ingest(server, doc, f"ci-{r}", start + timedelta(hours=r))
        done = runs
        open_home()  # (the figures kept ready are built for this history)
        work.measure(open_home)
        seen[runs] = work.reading("test_report")

    # The Home shows the last run: one report, the same at 10 runs as at 60.
    assert flat(seen[10], seen[60]), (
        f"App Home's reads of test_report grew from {seen[10]} to {seen[60]} (x100 SQLite VM "
        f"steps) as the branch's history grew from 10 to 60 runs: "
        + "; ".join(f"{n}: {k}" for k, n in work.steps.most_common(4))
    )


def test_app_home_last_run_uses_an_index(make_server: Callable[..., Server]) -> None:
    server = make_server()
    work = Work(server.runtime.db.engine)
    doc = suite(40)
    start = datetime(2025, 10, 20, 12, tzinfo=UTC)
    for r in range(5):
        ingest(server, doc, f"ci-{r}", start + timedelta(hours=r))
    home_opened(server, "U0ALICE")
    listeners_done()
    work.measure(lambda: (home_opened(server, "U0ALICE"), listeners_done()))
    captured = [(q, p) for q, p in work.ran if "FROM test_report" in q]
    assert captured, "App Home read no report"
    path = server.runtime.settings.DATABASE_URL.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    try:
        # The newest report's look-up walks no report but the newest (a run's own few
        # reports may be sorted: they are one run's).
        newest = [(s, p) for s, p in captured if "LIMIT" in s]
        assert newest, captured
        for statement, params in newest:
            plan = [row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + statement, params)]
            assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), (
                f"{' '.join(statement.split())[:300]} ... sorts every report of the branch: {plan}"
            )
    finally:
        con.close()

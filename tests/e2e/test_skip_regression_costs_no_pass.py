"""A test that passed, was skipped and now fails is a regression (commit 70781e3), but the
report that moves it skipped -> failed takes no pass away: readiness does not move. The
reply's (and the regression alert's) impact still charges the regression a lost pass."""

from __future__ import annotations

from datetime import timedelta

from jobs.config import Sprint
from tests.support.reports import NOW, ingest, report


def test_passed_skipped_failed_regression_costs_no_points(session, example: Sprint) -> None:
    t0 = NOW - timedelta(hours=3)
    ingest(session, example, report({"swarm/a": "passed", "swarm/b": "passed"}), run="r1", at=t0)
    ingest(
        session,
        example,
        report({"swarm/a": "skipped", "swarm/b": "passed"}),
        run="r2",
        at=t0 + timedelta(hours=1),
    )
    reply = ingest(
        session,
        example,
        report({"swarm/a": "failed", "swarm/b": "passed"}),
        run="r3",
        at=t0 + timedelta(hours=2),
    )
    assert [r["name"] for r in reply["regressions"]] == ["a"], reply
    impact = reply["impact"]
    # Swarm's passing tests stay 1 of 2: readiness did not move, nor did the regression cost any.
    assert impact["net"] == 0, impact
    assert impact["regressed"]["count"] == 1, impact
    assert impact["regressed"]["points"] == 0, impact

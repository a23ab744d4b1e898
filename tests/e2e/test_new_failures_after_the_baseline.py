"""Day 2's daily report covers day 1, the baseline day: the tests first seen failing then
are the baseline's failing (the Definitions), not new failures. The report called them
"New failing tests: 3" above "new failures open 0" (found by review)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import clock as bot_clock
from tests.e2e.test_figures import RUNS, hand_server, local, send_run, sprint_json
from tests.support.e2e import at, posts, text_of


@pytest.mark.usefixtures("quick_pace")
def test_day2_report_new_failing_tests_vs_new_failures_open(
    make_server: Any, tmp_path: Path
) -> None:
    server, _ = hand_server(make_server, tmp_path)
    when, run, statuses = RUNS[0]  # day 1: c3, c4, x2 fail, all first seen
    send_run(server, when, run, statuses)
    at(server, local(2, 9))
    body = sprint_json(server)
    assert body["tests"]["baseline_failing"] == 3
    assert body["tests"]["new_failures_open"] == 0
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    text = text_of(report)
    assert "new failures open 0" in text
    # Same report, same sprint-definition: the baseline's failures are not new failures.
    assert "• New failing tests: 0" in text, [
        line for line in text.splitlines() if "New failing" in line or "new failures" in line
    ]


@pytest.mark.usefixtures("quick_pace")
def test_first_ci_on_day2_its_failures_are_baseline_not_new_in_day3_report(
    make_server: Any, tmp_path: Path
) -> None:
    """No CI on day 1; the sprint's first report arrives on day 2, so its tests are the
    baseline (DESIGN: first seen during the sprint's first report day). Day 3's report still
    calls its three failures "New failing tests" beside "new failures open 0"."""
    server, _ = hand_server(make_server, tmp_path)
    _, run, statuses = RUNS[0]
    send_run(server, local(2, 10), run, statuses)
    at(server, local(3, 9))
    body = sprint_json(server)
    assert (body["tests"]["baseline_failing"], body["tests"]["new_failures_open"]) == (3, 0)
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    text = text_of(report)
    assert "new failures open 0" in text
    assert "• New failing tests: 0" in text, [
        line for line in text.splitlines() if "New failing" in line or "new failures" in line
    ]

"""Day 2's daily report covers day 1, the baseline day: the tests first seen failing then
are the baseline's failing (the Definitions), not new failures. The report called them
"New failing tests: 3" above "new failures open 0" (found by review)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import clock as bot_clock
from tests.e2e.test_figures import FILES, RUNS, hand_server, local, send_run, sprint_json
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


@pytest.mark.usefixtures("quick_pace")
def test_a_test_first_seen_failing_on_the_baseline_day_is_no_new_failure_anywhere(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run on day 1 brings x3, first seen failing, and breaks c1: the reply listed
    x3 under new failures and the alert said "1 new failure", where the next morning's
    report said "New failing tests: 0" for the same day (found by review). It is the
    baseline's, as the figures count it, on every surface."""
    server, _ = hand_server(make_server, tmp_path)
    when, run, statuses = RUNS[0]
    send_run(server, when, run, statuses)
    reply = send_run(server, local(1, 12), "r1b", {**statuses, "c1": "F", "x3": "F"})
    assert reply["new_failures"] == []
    assert [t["id"] for t in reply["regressions"]] == ["core.test_a::c1"]
    assert reply["impact"]["new_failures"]["count"] == 0
    server.runtime.sender.drain()
    [alert] = [text_of(p) for p in posts(server) if "regressed" in text_of(p)]
    assert "new failure" not in alert, alert
    at(server, local(2, 9))
    assert sprint_json(server)["tests"]["new_failures_open"] == 0
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    assert "• New failing tests: 0" in text_of(report)

    # The day after, a test first seen failing is a new failure: in the reply, the
    # figures, and the next morning's report.
    monkeypatch.setitem(FILES, "x4", "cli/test_new.py")
    reply = send_run(server, local(2, 10), "r2", {**statuses, "c1": "F", "x3": "F", "x4": "F"})
    assert [t["id"] for t in reply["new_failures"]] == ["cli.test_new::x4"]
    assert reply["impact"]["new_failures"]["count"] == 1
    assert sprint_json(server)["tests"]["new_failures_open"] == 1
    at(server, local(3, 9))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    report = [p for p in posts(server) if p.args.get("channel") == "#status"][-1]
    assert "• New failing tests: 1" in text_of(report)

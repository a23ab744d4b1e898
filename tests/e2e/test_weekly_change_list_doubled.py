"""The weekly report shows no "yesterday" section, yet `_queue_report` posted the whole
list of yesterday's changed tests in its thread too: on a weekly-report day that is a
workday the same list went out twice, under the daily report (which names the first ten
and points to its thread) and under the weekly report (which never mentions it). Found by
review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx as httpc
import pytest

from tests.e2e.test_figures import AUTH
from tests.support.e2e import at, posts, text_of
from tests.support.history import SPRINT_HEAD
from tests.support.server import Server

SPRINT = (
    SPRINT_HEAD.format(name="Change sprint")
    + """
[schedule]
weekly_report_days = [4]

[[components]]
name = "Core"
weight = 1
target = 90
source = "tests"
tests = ["core/**"]
"""
)


def junit(failing: int, total: int = 20) -> bytes:
    cases = "".join(
        f'<testcase classname="core.test_a" name="t{i}" file="core/test_a.py">'
        + ('<failure message="boom">boom</failure>' if i < failing else "")
        + "</testcase>"
        for i in range(total)
    )
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


@pytest.mark.usefixtures("quick_pace")
def test_yesterdays_change_list_is_posted_once_on_a_weekly_report_day(
    make_server: Any, tmp_path: Path
) -> None:
    """Days 1-3 are Wed-Fri (2025-10-29..31); on day 3 15 of 20 tests that passed break.
    Day 4 is a Saturday with a weekly report (no daily report: not a workday). The user
    sees the weekly report, which has no section on yesterday's changes, and in its
    thread a message "Every test that changed on 2025-10-31" listing the 15 tests — a
    list the report never mentions, which Monday's daily report (since Friday) lists
    again in its own thread. (On a workday weekly-report day, the daily and weekly
    threads both get it.) Expected: the weekly report's thread holds its chart only."""
    from bot import clock as bot_clock

    path = tmp_path / "s.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    for d, failing in ((1, 0), (2, 0), (3, 15)):
        at(server, datetime(2025, 10, 28, 14, 0, tzinfo=UTC) + timedelta(days=d))
        resp = httpc.post(
            f"{server.url}/api/v1/test-runs",
            params={"run": f"r{d}"},
            content=junit(failing),
            headers=AUTH,
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
    server.runtime.sender.drain()
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))  # day 4, Sat 09:00 EDT
    assert bot_clock.run_job(server.runtime, "weekly-report").endswith("posted")
    server.runtime.sender.drain()
    every = list(posts(server))
    [weekly] = [p for p in every if "Weekly report" in p.args.get("text", "")]
    assert "changed" not in text_of(weekly).lower()
    lists = [text_of(p) for p in every if text_of(p).startswith("Every test that changed")]
    assert lists == [], lists

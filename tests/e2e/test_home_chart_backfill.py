"""App Home (found by review)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from bot import clock as bot_clock
from tests.support.e2e import at, blocks_text, home_opened, post_report
from tests.support.listeners import listeners_done
from tests.support.server import Server


def _last_view(server: Server) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    n = len(server.slack.calls_to("views.publish"))
    home_opened(server, "U0DEV")
    listeners_done()
    while len(server.slack.calls_to("views.publish")) == n:
        assert time.monotonic() < deadline, "the opened Home was not published"
        time.sleep(0.05)
        server.runtime.sender.drain()
    view = server.slack.calls_to("views.publish")[-1].args["view"]
    return json.loads(view) if isinstance(view, str) else view


def _titles(server: Server) -> dict[str, str]:
    out = {}
    for c in server.slack.calls_to("files.completeUploadExternal"):
        files = c.args.get("files")
        files = json.loads(files) if isinstance(files, str) else files
        for f in files or []:
            out[f["id"]] = f.get("title")
    return out


def test_home_shows_todays_chart_not_a_backfilled_earlier_days(server: Server) -> None:
    """Day 2's 9:00 report was missed (the clock process was down). On day 3 the 9:00
    report runs as usual; afterwards ops backfills day 2 with `sprintbot job run
    daily-report --at <day 2 09:00>` as the README/DESIGN tell them to. The lead then opens
    App Home on day 3: its header says "Day 3 of 14" and its burn-down line is today's,
    but the chart under it is day 2's ("Burn-down, day 2 of 14"), because the Home picks
    the chart queued last (highest outbox id), not the newest day's. The Home should show
    day 3's chart."""
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    # Day 3, 9:00 New York: today's report and chart.
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    # The missed day 2 report, backfilled (job run --at).
    at(server, datetime(2025, 10, 30, 13, 0, tzinfo=UTC))
    said = bot_clock.run_job(server.runtime, "daily-report")
    assert said == "daily-report: posted", said
    server.runtime.sender.drain()
    titles = _titles(server)
    assert sorted(titles.values()) == ["Burn-down, day 2 of 14", "Burn-down, day 3 of 14"], titles
    # Back to day 3, the lead opens the Home.
    at(server, datetime(2025, 10, 31, 15, 0, tzinfo=UTC))
    view = _last_view(server)
    assert blocks_text(view["blocks"]).startswith("Phase 4 Production Readiness — Day 3 of 14")
    [image] = [b for b in view["blocks"] if b["type"] == "image"]
    shown = image["slack_file"]["id"]
    assert titles[shown] == "Burn-down, day 3 of 14", (shown, titles)

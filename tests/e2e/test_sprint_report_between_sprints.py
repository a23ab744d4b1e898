"""Between two sprints `/sprint report` posts a "daily report" of the sprint that has not
begun to the status channel: "Daily report — No sprint running; the next starts on
2025-11-17", with health On Track, yesterday's figures, and a burn-down chart of a sprint
with no day yet. `/sprint review` and `/sprint signoff` between sprints act for the sprint
that just ended, the daily jobs post nothing, and README says the daily report belongs to
the sprint's days (found by review). It posts the ended sprint's, as the others do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.test_next_sprint import between_sprints
from tests.support.e2e import posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def test_sprint_report_between_sprints_posts_no_report_of_a_sprint_not_begun(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Alice (admin) types `/sprint report` on Friday 14 November, Phase 4 having ended on
    the 11th and Phase 5 starting on the 17th. #sprint-status gets "Daily report — No sprint
    running; the next starts on 2025-11-17" (readiness, "On Track", a chart in its thread).
    She should be told no sprint runs (or get Phase 4's final report), and nothing
    pretending to be a day's report of Phase 5 should be posted."""
    server = between_sprints(make_server, tmp_path)
    slash(server.url, "/sprint", "report", user_id="U0ALICE")
    listeners_done()
    server.runtime.sender.drain()
    reports = [text_of(p).splitlines()[0] for p in posts(server) if "Daily report" in text_of(p)]
    assert not [r for r in reports if "No sprint running" in r], reports
    assert [r.split(",")[0] for r in reports] == ["Daily report — Sprint ended on 2025-11-11"]


def test_sprint_report_before_the_first_sprint_says_there_is_none_yet(server: Server) -> None:
    server.clock.at = datetime(2025, 10, 27, 14, tzinfo=UTC)  # two days before day 1
    said = slash(server.url, "/sprint", "report", user_id="U0TECHLEAD").json()["text"]
    assert said == (
        "No sprint running yet: Phase 4 Production Readiness starts on 2025-10-29, and its "
        "first daily report is on its day 1."
    )
    listeners_done()
    server.runtime.sender.drain()
    assert posts(server) == []

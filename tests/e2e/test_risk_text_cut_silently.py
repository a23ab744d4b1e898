"""A risk's description in the daily report, App Home and the weekly report's risk
assessment is cut at 120 (200) characters with nothing to say so (`jobs.reports.risk_row`:
`r.description[:chars]`, then rendered by `line(..., 600)` which never needs to clip),
while `/risk list` marks its cut with "…"."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import clock as bot_clock
from tests.support.e2e import T0, at, posts, risk_values, text_of, view_submit
from tests.support.server import Server

HEAD = "Memory eviction rewrite may slip past day 9 and take the LRU cache work with it, "
LONG = HEAD + "which only matters if the team does not pair on the hooks system before Friday"


def test_the_daily_report_shows_where_a_long_risk_is_cut(server: Server) -> None:
    """The QA lead adds R-001 with a 160-character description ending "…which only matters
    if the team does not pair on the hooks system before Friday". The next morning's daily
    report lists it as "— Memory eviction rewrite … which only matters if the team does
    not": cut with no "…", so it reads as the whole risk (and here says the opposite).
    A cut description should end with "…" (as `/risk list` does) or be shown whole."""
    assert len(LONG) > 120
    at(server, T0)
    assert view_submit(server, "risk", "U0QA", risk_values(description=LONG)).text == ""
    at(server, datetime(2025, 11, 3, 14, tzinfo=UTC))  # day 6, 09:00 New York
    assert bot_clock.run_job(server.runtime, "daily-report").endswith("posted")
    server.runtime.sender.drain()
    [report] = [text_of(p) for p in posts(server) if text_of(p).startswith("Daily report")]
    [item] = [x for x in report.splitlines() if x.startswith("• *R-001*")]
    shown = item.split(" — ", 1)[1]
    assert shown == LONG or shown.endswith("…"), item

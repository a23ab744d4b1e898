"""The first hour: no CI report has arrived yet, and the go/no-go milestone is shown: its
criteria of the tests said "measured 0" and were met (found by review)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.e2e import posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def test_go_no_go_before_any_ci_report_does_not_say_the_regression_suite_passes(
    make_server, clock
) -> None:
    """Day 1 of the example sprint, 9:30, nothing ingested yet. A tech lead types
    `/sprint signoff 14` to show the team the go/no-go criteria. The request posted in
    #sprint-status shows ":white_check_mark: Full regression suite passing (100%) — measured 0"
    (regressions_open == 0 counted as met) although not one test result exists — beside
    ":x: pass_rate >= 87 — not measured yet". docs/definitions.md: "A criterion with nothing
    measured yet is not met". It should show the regression criterion as not met / not
    measured yet until a CI report arrives."""
    clock.at = datetime(2025, 10, 29, 13, 30, tzinfo=UTC)
    server: Server = make_server()
    resp = slash(server.url, "/sprint", "signoff 14", user_id="U0TECHLEAD")
    assert resp.status_code == 200
    listeners_done()
    server.runtime.sender.drain()
    [request] = [p for p in posts(server) if p.args.get("channel") == "#sprint-status"]
    text = text_of(request)
    assert "not measured yet" in text, text  # pass_rate: said as unmeasured
    line = next(ln for ln in text.splitlines() if "Full regression suite passing" in ln)
    assert not line.startswith(":white_check_mark:"), line

"""A new team's first /standup, before CI has sent anything: the form's metrics snapshot
says "no test results yet", as /sprint, /readiness, App Home and the daily report do
(found by review: it said "0 / 0")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.e2e import blocks_text, opened
from tests.support.server import Clock, Server
from tests.support.slack import slash


def test_first_standup_form_says_no_test_results_yet(make_server: Any, clock: Clock) -> None:
    clock.at = datetime(2025, 10, 29, 13, 30, tzinfo=UTC)  # day 1, 9:30 in New York
    server: Server = make_server()
    sprint = slash(server.url, "/sprint", user_id="U0TECHLEAD").json()
    assert "no test results yet" in blocks_text(sprint["blocks"])  # what /sprint says
    assert slash(server.url, "/standup", user_id="U0TECHLEAD").status_code == 200
    [view] = opened(server)
    shown = blocks_text(view["blocks"])
    tests_field = shown.split("*Tests passing*\n", 1)[1].splitlines()[0]
    assert tests_field == "no test results yet", tests_field

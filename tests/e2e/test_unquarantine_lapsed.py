"""`/tests unquarantine` of a test whose quarantine's time is up (the clock has yet to
write the release): every other surface already says it is out of quarantine, and it was
"released by hand", announced and recorded as the lead's (found by review)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot import clock as bot_clock
from tests.e2e.test_quarantine_more import PASSING, T3, api, ask, send, sprint_file
from tests.support.e2e import posts, text_of
from tests.support.server import Server


def test_unquarantine_of_a_lapsed_quarantine_says_it_is_not_in_quarantine(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=sprint_file(tmp_path))
    send(server, PASSING | {"core/t3": "failed"}, "ci-1", commit="c1", at="2025-10-31T08:00:00Z")
    assert ask(server, f"quarantine {T3} for 1h because infra").startswith("Quarantined ")
    server.clock.at += timedelta(hours=2)  # its time is up; the expiry job has not run yet
    assert api(server, "/api/v1/quarantine").json()["tests"] == []
    server.runtime.sender.drain()
    told = len(posts(server))
    answer = ask(server, f"unquarantine {T3}")
    server.runtime.sender.drain()
    new = [text_of(p) for p in posts(server)[told:]]
    # Expected: told it is not in quarantine (its time was up), as /tests quarantined and
    # the API say; nothing announced to the team as released "by hand".
    assert "is not in quarantine: its time was up at" in answer, (answer, new)
    assert not any("released by hand" in t for t in new), new
    assert bot_clock.run_job(server.runtime, "quarantine-expiry") == (
        "quarantine-expiry: 1 tests released"
    )

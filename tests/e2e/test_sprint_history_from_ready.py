"""`/sprint history` recomputes the running sprint's figures from history on every ack.

The same figures are kept ready (`jobs/ready.py`): `/sprint` answers from them and reads
nothing. `/sprint history` runs `figures.compute` for the running sprint on every request
(jobs.history.sprint_outcome -> outcome_of -> milestones.measure), so what it reads grows
with the tracked branch's suite: at 20k tests every `/sprint history` is a cold build.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from jobs import figures
from tests.support.server import Server
from tests.support.slack import slash
from tests.support.work import Work, flat, in_request, ingest, suite


def test_sprint_history_answers_without_recomputing_from_history(
    make_server: Callable[..., Server], monkeypatch: Any
) -> None:
    server = make_server()
    work = Work(server.runtime.db.engine)
    builds = Counter[str]()
    real = figures.compute

    def counted(**kw: Any) -> Any:
        if work.watching and in_request():
            builds["compute"] += 1
        return real(**kw)

    monkeypatch.setattr(figures, "compute", counted)

    def ask(text: str) -> None:
        resp = slash(server.url, "/sprint", text)
        assert resp.status_code == 200, resp.text
        assert resp.json()["response_type"] == "ephemeral"

    seen: dict[int, tuple[int, int, int, int]] = {}
    for run, tests in ((1, 20), (2, 2000)):
        ingest(server, suite(tests), f"ci-{run}", datetime(2025, 10, 31, 10 + run, tzinfo=UTC))
        ask("")  # the figures kept ready are built for this history
        ask("history")
        status = work.measure(lambda: ask(""))
        builds.clear()
        history = work.measure(lambda: ask("history"))
        seen[tests] = (*status, *history)

    small, big = seen[20], seen[2000]
    # `/sprint` reads next to nothing (the stored generation, when its copy is as old as
    # an answer allows): its figures are kept ready, whatever the suite's size.
    assert flat(small[0], big[0]), seen
    # `/sprint history` of the same sprint should cost the same, however big the suite,
    # and build nothing: the running sprint's figures are kept ready.
    assert flat(small[2], big[2]) and builds["compute"] == 0, (
        f"/sprint history's SQLite work grew from {small[2]} to {big[2]} (x100 VM steps, "
        f"{small[3]} -> {big[3]} statements) when the suite grew from 20 to 2000 tests, and "
        f"it ran figures.compute {builds['compute']} time(s) in its ack; /sprint's stayed "
        f"{small[0]} -> {big[0]}"
    )

"""A review draft of a sprint CI never reported on says regressions are not measured yet,
as its goal and its tests fixed do (found by review: "Regressions introduced: 0" beside
the goal's "achieved —")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.e2e import at, posts, text_of
from tests.support.history import SPRINT_HEAD
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

SPRINT = (
    SPRINT_HEAD.format(name="No CI sprint")
    + """
[[components]]
name = "Core"
weight = 1
target = 90
source = "tests"
tests = ["core/**"]

[[components]]
name = "Guides"
weight = 1
target = 100
source = "manual"
score = 50
"""
)


@pytest.mark.usefixtures("quick_pace")
def test_review_without_ci_does_not_count_zero_regressions_and_miss_the_goal(
    make_server: Any, tmp_path: Path
) -> None:
    """No CI report ever arrived. The review draft's metrics summary says "Regressions
    introduced: 0 (0 still open)" while its goal "Zero Regressions Introduced" is ❌ with
    "achieved —", and "Tests fixed: not measured yet": the draft contradicts itself."""
    path = tmp_path / "s.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, datetime(2025, 11, 2, 16, 0, tzinfo=UTC))  # day 5
    resp = slash(server.url, "/sprint", "review", user_id="U0DEV")
    assert resp.status_code == 200, resp.text
    listeners_done()
    server.runtime.sender.drain()
    draft = next(text_of(p) for p in posts(server) if "Sprint review draft" in text_of(p))
    goal = next(x for x in draft.splitlines() if "Zero Regressions" in x)
    summary = next(x for x in draft.splitlines() if x.startswith("• Regressions introduced"))
    fixed = next(x for x in draft.splitlines() if x.startswith("• Tests fixed"))
    # The goal unmet for want of a measure; the summary must not report a measured 0.
    assert not (goal.startswith(":x:") and summary.startswith("• Regressions introduced: 0")), (
        goal,
        summary,
        fixed,
    )

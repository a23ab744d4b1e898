"""A review compares with a sprint before that had no CI as with one that measured nothing
("not measured yet (was not measured yet)"), not as if it had measured 0 (found by review:
"Tests fixed: not measured yet (was 0)")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_review_vs_previous import TEAM
from tests.support.e2e import at, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def _review(server: Server) -> str:
    resp = slash(server.url, "/sprint", "review", user_id="U0DEV")
    assert resp.status_code == 200, resp.text
    listeners_done()
    server.runtime.sender.drain()
    return [text_of(p) for p in posts(server) if "Sprint review draft" in text_of(p)][-1]


@pytest.mark.usefixtures("quick_pace")
def test_previous_sprint_without_ci_is_not_compared_as_zero(
    make_server: Any, tmp_path: Path
) -> None:
    path = tmp_path / "docs.toml"
    path.write_text(TEAM)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, datetime(2025, 10, 31, 15, tzinfo=UTC))  # sprint one, day 5
    one = _review(server)
    one_fixed = next(x for x in one.splitlines() if x.startswith("• Tests fixed"))
    assert one_fixed == "• Tests fixed: not measured yet", one_fixed

    at(server, datetime(2025, 11, 7, 15, tzinfo=UTC))  # sprint two, day 5
    two = _review(server)
    vs = two[two.index("vs previous sprint") :].splitlines()
    fixed = next(x for x in vs if x.startswith("• Tests fixed"))
    regressions = next(x for x in vs if x.startswith("• Regressions introduced"))
    assert "was 0" not in fixed and "was 0" not in regressions, (one_fixed, fixed, regressions)

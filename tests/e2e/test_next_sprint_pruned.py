"""Sprint after sprint (examples/teams, platform with a `[retention]`), where a past
sprint's figures changed with history pruned, and the next sprint's first run (each
found by review)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot import clock as bot_clock
from tests.e2e.test_next_sprint import api, ci, platform
from tests.support import httpc
from tests.support.e2e import AUTH, at, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.reports import report
from tests.support.server import ROOT, Server

TEAMS = ROOT / "examples" / "teams"
P, F = "passed", "failed"
PHASE4 = "Phase 4 Production Readiness"


def day(month: int, d: int, hour: int = 15) -> datetime:
    return datetime(2025, month, d, hour, tzinfo=UTC)


@pytest.fixture
def org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    shutil.copytree(TEAMS, tmp_path / "teams")
    path = tmp_path / "teams" / "platform.toml"
    path.write_text(
        path.read_text()
        + "\n[retention]\nresults_days = 12\nmetrics_days = 12\nstatuses_days = 7\n"
        + "margin_days = 1\n"
    )
    return make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))


def test_an_instant_inside_a_past_sprint_is_answered_as_it_was_or_refused(org: Server) -> None:
    """Phase 4 (10-29 → 11-11): b failing at its start, fixed on 10-31. On Phase 5's day 3
    the retention job (results_days = 12) prunes the changes before 11-02. Asked as of
    11-08 (Phase 4's day 11), Phase 4's figures walk from its start (baseline, fixed): the
    answer was another (nothing failing at its start, nothing fixed). Figures [retention]
    does not keep are refused (410), as the README says."""
    ci(org, {"orchestration/a": P, "orchestration/b": F}, "1", day(10, 29))
    ci(org, {"orchestration/b": P}, "2", day(10, 31))
    ci(org, {"orchestration/a": P}, "3", day(11, 6))
    at(org, day(11, 14))  # Phase 5, day 3
    query = {"team": "platform", "sprint": PHASE4, "at": "2025-11-08T16:00:00Z"}
    # Asked on Phase 4's last day, while [retention] still keeps its start: as it was.
    at(org, day(11, 11))
    before = api(org, "/api/v1/sprint", **query)
    assert before.status_code == 200, before.text
    was = before.json()["tests"]
    assert (was["baseline_failing"], was["fixed"]) == (1, 1)
    at(org, day(11, 14))  # Phase 5, day 3
    said = bot_clock.run_job(org.runtime, "retention", team=platform(org))
    assert said.startswith("retention: pruned ") and "status changes" in said, said
    after = api(org, "/api/v1/sprint", **query)
    assert after.status_code == 410, (after.status_code, after.text)
    assert "read its history from its start, 2025-10-29" in after.json()["error"]
    # Phase 5's own instants are kept as before.
    now = api(org, "/api/v1/sprint", team="platform", at="2025-11-13T16:00:00Z")
    assert now.status_code == 200, now.text


def test_the_next_sprints_first_ci_run_compares_with_readiness_before_it(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Phase 4 ends with a, b, c passing. On Phase 5's day 1 its first CI run breaks a:
    readiness falls from what Phase 5 started at (its measured baseline, Phase 4's last
    score): the reply's readiness.previous was null and no decline notice went out (the
    sprint had no readiness snapshot yet; found by review). It compares with readiness
    before the run, as any other run does."""
    shutil.copytree(TEAMS, tmp_path / "teams")
    org = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    names = ["orchestration/a", "orchestration/b", "orchestration/c"]
    ci(org, dict.fromkeys(names, P), "p4", day(11, 10))
    at(org, day(11, 12))  # Phase 5, day 1
    start = api(org, "/api/v1/sprint", team="platform").json()["readiness"]
    assert start["score"] == start["baseline"]["measured"]
    query = {"team": "platform", "run": "p5-1", "at": "2025-11-12T15:00:00Z"}
    resp = httpc.post(
        f"{org.url}/api/v1/test-runs?{urlencode(query)}",
        content=report({"orchestration/a": F}),
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    reply = resp.json()["readiness"]
    assert reply["score"] < start["score"]
    listeners_done()
    org.runtime.sender.drain()
    declines = [t for t in map(text_of, posts(org)) if t.startswith("Readiness fell")]
    assert (reply["previous"], len(declines)) == (start["score"], 1), (reply, declines)

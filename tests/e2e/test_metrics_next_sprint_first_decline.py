"""The next sprint's first readiness-moving event is a benchmark post or a manual score:
readiness falls from what the sprint started at, yet the reply says there was no
`previous` and no decline notice goes out (the fix for the same fault only covered a
JUnit report: `jobs.readiness.snapshot_readiness` takes `before_tests` from test runs
only; found by review)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.e2e.test_next_sprint import api, ci
from tests.e2e.test_next_sprint_pruned import TEAMS, day
from tests.support import httpc
from tests.support.e2e import at, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import INGEST_TOKEN, Server
from tests.support.slack import slash

JSON = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
P = "passed"


def _org(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    shutil.copytree(TEAMS, tmp_path / "teams")
    org = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    names = ["orchestration/a", "orchestration/b", "orchestration/c"]
    ci(org, dict.fromkeys(names, P), "p4", day(11, 10))  # Phase 4, day 13
    resp = httpc.post(
        f"{org.url}/api/v1/metrics?team=platform",
        json={"metrics": {"api_throughput": 1200}},
        headers=JSON,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    at(org, day(11, 12))  # Phase 5 "Hardening", day 1, 10:00 New York
    listeners_done()
    org.runtime.sender.drain()
    return org


def _declines(org: Server) -> list[str]:
    listeners_done()
    org.runtime.sender.drain()
    return [t for t in map(text_of, posts(org)) if t.startswith("Readiness fell")]


def test_next_sprints_first_benchmark_post_that_drops_readiness_is_announced(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Phase 5 starts at Phase 4's last figures (tests 100 %, API Performance 100 %). On
    its day 1 CI posts api_throughput = 500 req/s (degraded): readiness falls by ~29 pts.
    The user sees a performance alert but no "Readiness fell …" notice, and the reply says
    readiness.previous = null. They should see the decline notice (with *Call emergency
    standup*), and previous = the score the sprint stood at, as a JUnit run gets."""
    org = _org(make_server, tmp_path)
    start = api(org, "/api/v1/sprint", team="platform").json()["readiness"]["score"]
    before = len(_declines(org))
    resp = httpc.post(
        f"{org.url}/api/v1/metrics?team=platform",
        json={"metrics": {"api_throughput": 500}},
        headers=JSON,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    reply = resp.json()["readiness"]
    assert reply["score"] < start - 10
    declines = _declines(org)[before:]
    assert (reply["previous"], len(declines)) == (start, 1), (reply, declines)


def test_next_sprints_first_manual_score_that_drops_readiness_is_announced(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Same start; on Phase 5's day 1 an admin runs `/readiness set Runbooks 0` (50 → 0):
    the confirmation says readiness fell, but no decline notice reaches #platform. Any
    later fall of the same size would announce one."""
    org = _org(make_server, tmp_path)
    start = api(org, "/api/v1/sprint", team="platform").json()["readiness"]["score"]
    before = len(_declines(org))
    resp = slash(org.url, "/readiness", "platform set Runbooks 0", user_id="U0ALICE")
    assert resp.status_code == 200, resp.text
    listeners_done()
    after = api(org, "/api/v1/sprint", team="platform").json()["readiness"]["score"]
    assert after < start - 5, (start, after)
    declines = _declines(org)[before:]
    assert len(declines) == 1, declines

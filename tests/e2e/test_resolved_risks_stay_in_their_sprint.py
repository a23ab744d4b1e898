"""DESIGN (Definitions, Blockers and causes): "Open blockers and risks carry over to the
team's next sprint". A risk resolved in Phase 4 is not open, yet every later sprint's
figures, reports and risk assessment counted it (`storage.queries.risks_at` reads every
risk the team ever recorded): Phase 5's first report said "1 resolved" of a risk it never
had, whereas a blocker resolved in Phase 4 is rightly nowhere in Phase 5 (found by
review)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot import clock as bot_clock
from tests.e2e.test_next_sprint import api
from tests.support.e2e import at, opened, risk_values, text_of, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import ROOT, Server
from tests.support.slack import slash

TEAMS = ROOT / "examples" / "teams"


def test_a_risk_resolved_in_the_last_sprint_is_not_the_next_sprints(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    shutil.copytree(TEAMS, tmp_path / "teams")
    server = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    at(server, datetime(2025, 11, 10, 15, tzinfo=UTC))  # Phase 4, day 13
    slash(server.url, "/risk", "platform", user_id="U0ALICE")
    opened(server)
    resp = view_submit(
        server, "risk", "U0ALICE", risk_values(status="Resolved"), {"team": "platform"}
    )
    assert resp.text == ""
    listeners_done()
    at(server, datetime(2025, 11, 12, 14, tzinfo=UTC))  # Phase 5 day 1, 09:00 New York
    now = api(server, "/api/v1/sprint", team="platform").json()
    assert now["sprint"]["name"] == "Phase 5 Hardening"
    team = server.runtime.teams.get("platform")
    assert team is not None
    assert bot_clock.run_job(server.runtime, "daily-report", team=team).endswith("posted")
    server.runtime.sender.drain()
    [report] = [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if "Daily report" in c.args.get("text", "") and "thread_ts" not in c.args
    ]
    risks_line = next(x for x in report.splitlines() if x.startswith("*Risks*"))
    assert "resolved" not in risks_line, risks_line
    assert now["risks"]["by_status"]["Resolved"] == 0, now["risks"]
    assert [r["id"] for r in now["risks"]["items"]] == [], now["risks"]

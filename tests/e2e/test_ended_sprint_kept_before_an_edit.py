"""An ended sprint's outcome and final figures changed when the team's file was edited after
the sprint ended but before anything first asked for them (they were "kept as first
computed", and nothing computed them when the sprint ended: only a first /sprint history,
GET /api/v1/sprints, App Home's past sprints, the review's "vs previous", or retention with
a [retention] table; found by review). The clock keeps them soon after the end: on start
and in its catch-up every few minutes.

examples/teams/platform.toml: Phase 4 ends on 2025-11-11; Phase 5 begins 2025-11-12. The
team's [[components]] belong to the team, so re-weighting them for Phase 5 is an ordinary
edit. Phase 4's final daily report said readiness X; its outcome said something else."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import clock as bot_clock
from jobs.numbers import pct
from tests.e2e.test_next_sprint import api, ci
from tests.support.e2e import at, text_of
from tests.support.listeners import listeners_done
from tests.support.server import ROOT, Server

TEAMS = ROOT / "examples" / "teams"
P, F = "passed", "failed"
LAST_DAY_0900 = datetime(2025, 11, 11, 14, tzinfo=UTC)  # 09:00 New York, Phase 4 day 14
NEXT_DAY1 = datetime(2025, 11, 12, 15, tzinfo=UTC)  # Phase 5 day 1, 10:00 New York


def _phase4_final_report(make_server: Callable[..., Server], teams: Path) -> tuple[Server, str]:
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    return server, _final_report(
        server, "p4", datetime(2025, 11, 10, 20, tzinfo=UTC), LAST_DAY_0900
    )


def _final_report(server: Server, run: str, run_at: datetime, last_day: datetime) -> str:
    """A CI run, then the sprint's last daily report: the readiness it says."""
    ci(server, {"orchestration/a": P, "orchestration/b": F}, run, run_at)
    at(server, last_day)
    platform = server.runtime.teams.get("platform")
    assert platform is not None
    said = bot_clock.run_job(server.runtime, "daily-report", team=platform)
    assert said.endswith("posted"), said
    server.runtime.sender.drain()
    [final] = [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if "Daily report" in c.args.get("text", "") and "thread_ts" not in c.args
    ]
    m = re.search(r"readiness ([\d.]+ %)", final)
    assert m, final
    return m.group(1)


def _reweight(teams: Path) -> None:
    f = teams / "platform.toml"
    text = f.read_text()
    # Runbooks (manual, 50) weighs 3 → 12 for Phase 5: a change of the team's components.
    edited = text.replace(
        'name = "Runbooks"\ngroup = "Documentation"\nweight = 3',
        'name = "Runbooks"\ngroup = "Documentation"\nweight = 12',
    )
    assert edited != text
    f.write_text(edited)


def _phase4_outcome(server: Server) -> dict[str, Any]:
    sprints = api(server, "/api/v1/sprints", team="platform").json()["sprints"]
    [phase4] = [s for s in sprints if s["name"] == "Phase 4 Production Readiness"]
    assert phase4["status"] == "ended"
    return phase4["outcome"]


def test_an_ended_sprints_outcome_changes_with_a_file_edit_made_before_anyone_asked(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    teams = tmp_path / "teams"
    shutil.copytree(TEAMS, teams)
    _server, reported = _phase4_final_report(make_server, teams)
    listeners_done()
    # Phase 5 has begun (the clock's catch-up runs every few minutes); the team re-weights
    # a component and redeploys (restart).
    at(_server, NEXT_DAY1)
    bot_clock.catch_up_teams(_server.runtime, started=False)
    _reweight(teams)
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    outcome = _phase4_outcome(server)
    final = api(
        server, "/api/v1/sprint", team="platform", sprint="Phase 4 Production Readiness"
    ).json()
    # The final report (no CI after it) and the sprint's kept outcome/final figures must agree.
    assert pct(outcome["readiness_end"]) == reported, (outcome["readiness_end"], reported)
    assert pct(final["readiness"]["score"]) == reported, (final["readiness"]["score"], reported)


def test_control_an_outcome_asked_for_before_the_edit_stays(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Control (passes): the same edit after the outcome was first asked for changes nothing."""
    teams = tmp_path / "teams"
    shutil.copytree(TEAMS, teams)
    first, reported = _phase4_final_report(make_server, teams)
    at(first, NEXT_DAY1)
    before = _phase4_outcome(first)
    listeners_done()
    _reweight(teams)
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    assert _phase4_outcome(server) == before
    assert pct(before["readiness_end"]) == reported


def test_the_teams_last_sprint_is_kept_before_an_edit_though_no_sprint_follows(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Phase 5, the team's last sprint, ends on 2025-11-21 and nothing follows it to ask for
    its outcome: the clock keeps it on its next look."""
    teams = tmp_path / "teams"
    shutil.copytree(TEAMS, teams)
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    last_day = datetime(2025, 11, 21, 14, tzinfo=UTC)  # 09:00 New York
    reported = _final_report(server, "p5", datetime(2025, 11, 20, 20, tzinfo=UTC), last_day)
    at(server, datetime(2025, 11, 22, 15, tzinfo=UTC))  # the day after: the clock looks
    bot_clock.catch_up_teams(server.runtime, started=False)
    listeners_done()
    _reweight(teams)
    again = make_server(SPRINTBOT_CONFIG=str(teams))
    sprints = api(again, "/api/v1/sprints", team="platform").json()["sprints"]
    [phase5] = [s for s in sprints if s["name"] != "Phase 4 Production Readiness"]
    assert pct(phase5["outcome"]["readiness_end"]) == reported, phase5["outcome"]

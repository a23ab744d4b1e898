"""The weekly report, milestones and the sprint review where they misled (each found by
review): the next milestone to sign off, the sprint just ended between two sprints, codes in
a shared status channel, lists that dropped their tail, a role named twice, a forecast
past the last day."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobs.config import ConfigError, load_org
from tests.e2e.test_figures import send_run
from tests.support.e2e import at, posts, text_of
from tests.support.history import SPRINT_HEAD
from tests.support.listeners import listeners_done
from tests.support.server import ROOT, Server
from tests.support.slack import slash

TEAMS = ROOT / "examples" / "teams"


def _status_posts(server: Server) -> list[Any]:
    listeners_done()
    server.runtime.sender.drain()
    return list(posts(server))


# -- 1. `/sprint signoff` skips the next milestone with sign-offs ------------------------

THREE_MILESTONES = (
    SPRINT_HEAD.format(name="Three milestones")
    + """
[[components]]
name = "Core"
weight = 1
target = 90
source = "tests"
tests = ["core/**"]

[[milestones]]
day = 3
name = "Demo day"
criteria = [{ metric = "readiness", op = ">=", value = 50 }]

[[milestones]]
day = 4
name = "Feature freeze"
criteria = [{ metric = "readiness", op = ">=", value = 60 }]
signoffs = ["tech_lead"]

[[milestones]]
day = 5
name = "Go/no-go"
criteria = [{ metric = "readiness", op = ">=", value = 90 }]
signoffs = ["tech_lead"]
"""
)


def test_sprint_signoff_asks_for_the_next_milestone_that_needs_signoffs(
    make_server: Any, tmp_path: Path
) -> None:
    """Day 1 of a 5-day sprint: milestones on day 3 (no sign-offs), day 4 and day 5 (both
    signed off by the tech lead). `/sprint signoff` posts "the current milestone's sign-off
    buttons": the next one that needs sign-offs is day 4's Feature freeze, not the last
    (day 5's Go/no-go)."""
    path = tmp_path / "three.toml"
    path.write_text(THREE_MILESTONES)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    send_run(server, datetime(2025, 10, 29, 14, 0, tzinfo=UTC), "r1", {"c1": "P"})
    at(server, datetime(2025, 10, 29, 15, 0, tzinfo=UTC))  # day 1, 11:00 EDT
    resp = slash(server.url, "/sprint", "signoff", user_id="U0DEV")
    assert resp.json()["text"] == "Posting the sign-off request for Feature freeze in #status.", (
        resp.json()["text"]
    )


# -- 2. Between two sprints: the ended sprint's review and go/no-go ----------------------


def _between_sprints(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    """Platform alone (examples/teams), its Phase 5 moved to Monday 2025-11-17: Phase 4
    ended on Tue 2025-11-11; Fri 2025-11-14 is between the two sprints."""
    path = tmp_path / "platform.toml"
    path.write_text(
        (TEAMS / "platform.toml").read_text().replace("start = 2025-11-12", "start = 2025-11-17")
    )
    server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, datetime(2025, 11, 14, 15, tzinfo=UTC))  # Friday, 10:00 in New York
    return server


def test_between_sprints_sprint_review_posts_the_ended_sprints_review(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Phase 4 ended on Tuesday; on Friday (Phase 5 starts Monday) the team holds its
    review: `/sprint review` should post Phase 4's draft (or say it cannot), not a review
    draft of Phase 5, a sprint that has not begun."""
    server = _between_sprints(make_server, tmp_path)
    resp = slash(server.url, "/sprint", "review", user_id="U0ALICE")
    assert resp.status_code == 200
    listeners_done()
    # (Delivered after the sign-off request the clock posted in the same channel, at
    # its pace: on a loaded machine one drain may end first. The wait is for the draft
    # itself, not any post saying "review": it failed once under CI's load.)
    deadline = time.monotonic() + 20
    while True:
        server.runtime.sender.drain()
        drafts = [text_of(p) for p in posts(server)]
        done = any("Phase 4 Production Readiness" in t for t in drafts)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not any("Phase 5 Hardening" in t for t in drafts), (resp.json(), drafts)
    assert any("Phase 4 Production Readiness" in t for t in drafts), drafts


def test_between_sprints_sprint_signoff_asks_for_the_ended_sprints_go_no_go(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Phase 4's day-14 "Production go/no-go" needs the tech lead's and the QA lead's
    sign-off, often given at the review after the last day. On Friday between the sprints
    `/sprint signoff` should post that request, not answer that the sprint file names no
    milestone with sign-offs (Phase 5's only milestone has none)."""
    server = _between_sprints(make_server, tmp_path)
    resp = slash(server.url, "/sprint", "signoff", user_id="U0ALICE")
    text = resp.json()["text"]
    assert "names no milestone with sign-offs" not in text, text
    assert "Production go/no-go" in text, text
    listeners_done()
    server.runtime.sender.drain()
    [request] = [p for p in posts(server) if text_of(p).startswith("Sign-off")]
    assert "Production go/no-go" in text_of(request)


# -- 3. The weekly report's risk assessment in a shared status channel -------------------


def test_the_weekly_reports_risk_assessment_names_the_team_in_a_shared_status_channel(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """examples/teams: platform and mobile share #sprint-status, so every code a report
    shows there carries its team ("platform R-001", README "Which team a request is for").
    Platform's day-7 weekly report lists its open risk twice — in the daily part ("platform
    R-001") and in the *Risk assessment* — and the assessment shows a bare "R-001", which
    mobile's R-001 would read the same."""
    from bot import clock as bot_clock
    from tests.support.e2e import opened, risk_values, view_submit

    teams = tmp_path / "teams"
    shutil.copytree(TEAMS, teams)
    platform_file = teams / "platform.toml"
    platform_file.write_text(
        platform_file.read_text().replace(
            "[schedule]                               # local times in the team's zone\n",
            "[schedule]\nweekly_report_days = [7]\n",
        )
    )
    assert "weekly_report_days = [7]" in platform_file.read_text()
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    send_run_team(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    at(server, datetime(2025, 10, 30, 15, tzinfo=UTC))
    slash(server.url, "/risk", "platform", user_id="U0ALICE")
    opened(server)
    assert view_submit(server, "risk", "U0ALICE", risk_values(), {"team": "platform"}).text == ""
    at(server, datetime(2025, 11, 4, 14, tzinfo=UTC))  # day 7, 09:00 in New York
    team = server.runtime.teams.get("platform")
    assert team is not None
    assert bot_clock.run_job(server.runtime, "weekly-report", team=team).endswith("posted")
    server.runtime.sender.drain()
    [weekly] = [text_of(p) for p in posts(server) if "Weekly report" in p.args.get("text", "")]
    assessment = weekly.split("*Risk assessment*", 1)[1].split("*Open blockers*", 1)[0]
    assert "platform R-001" in assessment, assessment


def send_run_team(server: Server, when: datetime) -> None:
    from tests.e2e.test_next_sprint import ci

    ci(server, {"orchestration/a": "passed", "orchestration/b": "failed"}, "p1", when)


# -- 4. The review draft's resolved blockers in a shared status channel ------------------


def test_the_review_drafts_resolved_blockers_name_the_team_in_a_shared_status_channel(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """examples/teams: platform and mobile share #sprint-status. Platform's B-001 is
    resolved; its daily report there lists codes as "platform B-…", but `/sprint review`'s
    draft, posted to the same channel, lists "*B-001*" bare under *Blockers resolved* —
    mobile has a B-001 too."""
    teams = tmp_path / "teams"
    shutil.copytree(TEAMS, teams)
    server = make_server(SPRINTBOT_CONFIG=str(teams))
    send_run_team(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    at(server, datetime(2025, 10, 30, 15, tzinfo=UTC))
    filed = slash(
        server.url,
        "/blocker",
        "platform P1 Task Orchestration: scheduler deadlock",
        user_id="U0ALICE",
    )
    assert "B-001" in filed.json()["text"], filed.text
    listeners_done()
    at(server, datetime(2025, 10, 31, 15, tzinfo=UTC))
    done = slash(
        server.url, "/blocker", "platform resolve B-001 lock order fixed", user_id="U0ALICE"
    )
    assert "resolved" in done.json()["text"], done.text
    listeners_done()
    at(server, datetime(2025, 11, 3, 15, tzinfo=UTC))
    resp = slash(server.url, "/sprint", "platform review", user_id="U0ALICE")
    assert resp.json()["text"].startswith("Posting the sprint review draft"), resp.text
    listeners_done()
    server.runtime.sender.drain()
    [draft] = [
        p
        for p in posts(server)
        if p.args.get("channel") == "#sprint-status" and "Sprint review draft" in text_of(p)
    ]
    resolved = text_of(draft).split("*Blockers resolved (1)*", 1)[1]
    assert "platform B-001" in resolved, resolved


# -- 5. The last weekly report's "Next phase" drops action items silently ----------------

WEEKLY_LAST_DAY = (
    SPRINT_HEAD.format(name="Five days")
    + """
[schedule]
weekly_report_days = [5]

[[components]]
name = "Core"
weight = 1
target = 90
source = "tests"
tests = ["core/**"]
"""
)


def _lesson(
    server: Server, user: str, text: str, kind: str = "action", view_id: str = "V2"
) -> None:
    from tests.support.e2e import view_submit

    values = {
        "values": {
            "kind": {"value": {"type": "static_select", "selected_option": {"value": kind}}},
            "text": {"value": {"type": "plain_text_input", "value": text}},
        }
    }
    assert view_submit(server, "lesson", user, values, view_id=view_id).text == ""


def test_the_last_weekly_reports_next_phase_lists_every_action_item_or_says_how_many_more(
    make_server: Any, tmp_path: Path
) -> None:
    """The team records 17 action items for the next phase. The last day's weekly report
    ("the review's action items for the next phase") shows 15 of them and nothing says
    that 2 more exist (every other list says "+N more — where")."""
    from bot import clock as bot_clock

    path = tmp_path / "five.toml"
    path.write_text(WEEKLY_LAST_DAY)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    send_run(server, datetime(2025, 10, 29, 14, 0, tzinfo=UTC), "r1", {"c1": "P"})
    at(server, datetime(2025, 11, 1, 15, 0, tzinfo=UTC))  # day 4
    for n in range(1, 18):
        _lesson(server, "U0DEV", f"Action item number {n:02d}", view_id=f"VL{n}")
    at(server, datetime(2025, 11, 2, 14, 0, tzinfo=UTC))  # day 5 (last), 09:00 EST
    assert bot_clock.run_job(server.runtime, "weekly-report").endswith("posted")
    server.runtime.sender.drain()
    [weekly] = [text_of(p) for p in posts(server) if "Weekly report" in p.args.get("text", "")]
    nxt = weekly.split("*Next phase*", 1)[1].split("*Risk assessment*", 1)[0]
    assert "Action item number 10" in nxt and "Action item number 11" not in nxt
    assert "_+7 more — the review draft lists them all_" in nxt, nxt


# -- 6. The review draft's "Blockers resolved" drops its tail silently -------------------


def test_the_review_drafts_resolved_blockers_never_drop_their_tail_silently(
    server: Server,
) -> None:
    """16 blockers resolved this sprint: the draft's heading says "Blockers resolved (16)"
    but lists 15 and says nothing of the 16th (the regressions and fixes lists of the same
    draft end with "+N more — where")."""
    at(server, datetime(2025, 10, 30, 14, tzinfo=UTC))
    for n in range(1, 17):
        filed = slash(
            server.url,
            "/blocker",
            f"P2 Task Orchestration: flaky lock number {n}",
            user_id="U0TECHLEAD",
        )
        assert f"B-{n:03d}" in filed.json()["text"], filed.text
    listeners_done()
    at(server, datetime(2025, 10, 31, 14, tzinfo=UTC))
    for n in range(1, 17):
        done = slash(server.url, "/blocker", f"resolve B-{n:03d} fixed it", user_id="U0TECHLEAD")
        assert "resolved" in done.json()["text"], done.text
    listeners_done()
    resp = slash(server.url, "/sprint", "review", user_id="U0DEV")
    assert resp.json()["text"].startswith("Posting the sprint review draft"), resp.text
    listeners_done()
    server.runtime.sender.drain()
    [draft] = [text_of(p) for p in posts(server) if "Sprint review draft" in text_of(p)]
    resolved = draft.split("*Blockers resolved (16)*", 1)[1].split("*Lessons learned*", 1)[0]
    assert "B-016" in resolved or "1 more" in resolved, resolved


# -- 7. A role named twice in `signoffs`: a request Slack refuses ------------------------

DUP_SIGNOFFS = (
    SPRINT_HEAD.format(name="Dup")
    + """
[[components]]
name = "Core"
weight = 1
target = 90
source = "tests"
tests = ["core/**"]

[[milestones]]
day = 5
name = "Go"
criteria = [{ metric = "readiness", op = ">=", value = 50 }]
signoffs = ["tech_lead", "tech_lead"]
"""
)


def test_a_role_named_twice_in_signoffs_is_refused(tmp_path: Path) -> None:
    """`signoffs = ["tech_lead", "tech_lead"]` (a typo) passed `config check`, and
    `/sprint signoff` then posted an actions block with two buttons of the same action_id
    "signoff:tech_lead" — which Slack refuses (invalid_blocks): the request the user was
    told is being posted never appeared. The file is refused, naming the role."""
    path = tmp_path / "dup.toml"
    path.write_text(DUP_SIGNOFFS)
    with pytest.raises(ConfigError) as refused:
        load_org(path)
    assert refused.value.problems == [
        'milestones[0].signoffs: "tech_lead" is named twice; name each role once'
    ]


# -- 8. The weekly forecast past the sprint's last day -----------------------------------

FORECAST_SPRINT = (
    SPRINT_HEAD.format(name="Slow climb")
    + """
[schedule]
weekly_report_days = [4]

[[components]]
name = "Core"
weight = 1
target = 90
source = "tests"
tests = ["core/**"]
"""
)


def test_a_forecast_past_the_last_day_reads_not_at_this_pace_with_the_pace_needed(
    make_server: Any, tmp_path: Path
) -> None:
    """A 5-day sprint whose pass rate climbs 42.9 → 42.9 → 57.1 % over days 1-3 (target
    80 %): at this pace (+7.14 pts/day) it reaches 80 % on day 7, after the sprint's last
    day (5). README: the
    forecast "gives the day each target will be reached, or "not at this pace" with the
    pace needed". The day-4 weekly report must not read as if the target is reached in
    time, and must give the pace needed."""
    from bot import clock as bot_clock

    path = tmp_path / "slow.toml"
    path.write_text(FORECAST_SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    names = ["c1", "c2", "c3", "c4", "x1", "x2", "x3"]  # tests.e2e.test_figures.FILES
    for day, passing in ((29, 3), (30, 3), (31, 4)):  # 42.9 %, 42.9 %, 57.1 %
        statuses = {n: ("P" if i < passing else "F") for i, n in enumerate(names)}
        send_run(server, datetime(2025, 10, day, 18, 0, tzinfo=UTC), f"r{day}", statuses)
    at(server, datetime(2025, 11, 1, 13, 0, tzinfo=UTC))  # day 4, 09:00 EDT
    assert bot_clock.run_job(server.runtime, "weekly-report").endswith("posted")
    server.runtime.sender.drain()
    [weekly] = [text_of(p) for p in posts(server) if "Weekly report" in p.args.get("text", "")]
    forecast = weekly.split("*Forecast*", 1)[1].split("\n*", 1)[0]
    [rate] = [line for line in forecast.splitlines() if line.startswith("• Pass rate")]
    assert rate.startswith("• Pass rate: not by day 5 at this pace (80 % on day 8, "), rate
    assert rate.endswith("pts/day); needs +22.86 pts/day (≈2 tests/day)"), rate

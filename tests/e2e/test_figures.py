"""One truth for every number: a small sprint computed by hand, day by day, and every surface
(the API, /sprint, the daily report, /readiness and the tracker) holding the same values.

The sprint: two components, Core (weight 3) and CLI (weight 1), a 5-day sprint from
2025-10-29 in New York, pass-rate target 80 %, readiness target 90 %, stated baseline 45 %.

    day 1  c1 P  c2 P  c3 F  c4 F  x1 P  x2 F          baseline: 3 failing of 6
    day 2  c1 F (regressed)  c3 P (fixed)  x3 F (a new test, failing)
    day 3  two shards: core c1 P (fixed again), c4 P (fixed); cli x2 P (fixed), x3 F
    day 4  c1 F (regressed again: fixed and broken again), c4 F (regressed)
    now    day 5, 09:30: c1 F  c2 P  c3 P  c4 F  x1 P  x2 P  x3 F
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from jobs.numbers import local_instant
from tests.support import httpc
from tests.support.e2e import at, blocks_text, posts, text_of
from tests.support.server import INGEST_TOKEN, Server, cli_env
from tests.support.slack import slash

SPRINT = """
[sprint]
name = "Hand sprint"
start = 2025-10-29
days = 5
timezone = "America/New_York"

[targets]
readiness = 90.0
pass_rate = 80.0
baseline_readiness = 45.0

[channels]
team = "#team"
status = "#status"
blockers = "#blockers"

[people]
participants = ["U0DEV"]
tech_lead = ["U0DEV"]
admins = ["U0DEV"]

[[components]]
name = "Core"
weight = 3
target = 90
source = "tests"
tests = ["core/**"]

[[components]]
name = "CLI"
weight = 1
target = 90
source = "tests"
tests = ["cli/**"]
"""

FILES = {
    "c1": "core/test_a.py",
    "c2": "core/test_a.py",
    "c3": "core/test_b.py",
    "c4": "core/test_b.py",
    "x1": "cli/test_x.py",
    "x2": "cli/test_x.py",
    "x3": "cli/test_new.py",
}
AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"}


OUTCOMES = {
    "P": "",
    "F": '<failure message="boom">boom</failure>',
    "E": '<error message="err">err</error>',
    "S": '<skipped message="skip"/>',
}


def junit(statuses: dict[str, str]) -> bytes:
    """P passed, F failed, E error, S skipped."""
    cases = []
    for name, status in statuses.items():
        file = FILES[name]
        body = OUTCOMES[status]
        classname = file.removesuffix(".py").replace("/", ".")
        cases.append(
            f'<testcase classname="{classname}" name="{name}" file="{file}">{body}</testcase>'
        )
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """Sprint day `day` at a wall time in New York (EDT on days 1-4, until Nov 2)."""
    return datetime(2025, 10, 28, hour + 4, minute, tzinfo=UTC) + timedelta(days=day)


RUNS: list[tuple[datetime, str, dict[str, str]]] = [
    (local(1, 10), "r1", {"c1": "P", "c2": "P", "c3": "F", "c4": "F", "x1": "P", "x2": "F"}),
    (
        local(2, 10),
        "r2",
        {"c1": "F", "c2": "P", "c3": "P", "c4": "F", "x1": "P", "x2": "F", "x3": "F"},
    ),
    (local(3, 10), "r3", {"c1": "P", "c2": "P", "c3": "P", "c4": "P"}),  # shard 1
    (local(3, 10, 5), "r3", {"x1": "P", "x2": "P", "x3": "F"}),  # shard 2
    (
        local(4, 10),
        "r4",
        {"c1": "F", "c2": "P", "c3": "P", "c4": "F", "x1": "P", "x2": "P", "x3": "F"},
    ),
]
NOW = datetime(2025, 11, 2, 14, 30, tzinfo=UTC)  # day 5, 09:30 EST (DST ended on Nov 2)

# By hand. Core now: c2, c3 pass of 4 = 50 %; CLI: x1, x2 of 3 = 66.67 %.
READINESS = (3 * 50 + 1 * 200 / 3) / 4  # 54.17
# Baseline: Core c1, c2 of 4 = 50 %; CLI x1 of 2 = 50 %.
MEASURED = 50.0
# When day 4 began (end of day 3): Core 4 of 4, CLI x1, x2 of 3.
PREVIOUS = (3 * 100 + 1 * 200 / 3) / 4  # 91.67
# No [plan]: a straight line from the measured 50 % on day 1 to 90 % on day 5.
PLAN_TODAY = 90.0
EXPECTED_TESTS = {
    "known": 7,
    "passing": 4,
    "failing": 3,  # c1, c4, x3
    "target_failing": 1,  # 7 - ceil(0.8 x 7 = 5.6)
    "baseline_known": 6,
    "baseline_failing": 3,  # c3, c4, x2
    "fixed": 2,  # c3, x2 (c4 was fixed, then broke again)
    "regressions_introduced": 2,  # c1 (twice), c4
    "regressions_open": 2,  # c1, c4
    "new_failures_open": 1,  # x3
    "test_files_passing": 1,  # cli/test_x.py
    "test_files": 4,
}
# End of each day: (failing, fixed this sprint, fixed that day, regressed that day)
DAYS = {1: (3, 0, 0, 0), 2: (4, 1, 1, 1), 3: (1, 3, 3, 0), 4: (3, 2, 0, 2)}


def hand_server(make_server: Any, tmp_path: Path) -> tuple[Server, Path]:
    """The server on the hand-computed sprint (SPRINT), no report sent yet."""
    path = tmp_path / "hand.toml"
    path.write_text(SPRINT)
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    return server, path


def send_run(server: Server, when: datetime, run: str, statuses: dict[str, str]) -> dict[str, Any]:
    """CI's report of `statuses` for run `run`, received at `when`; the API's reply."""
    at(server, when)
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs",
        params={"run": run},
        content=junit(statuses),
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


@pytest.fixture
def hand_sprint(
    make_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Server, Path]:
    server, path = hand_server(make_server, tmp_path)
    for when, run, statuses in RUNS:
        send_run(server, when, run, statuses)
    at(server, NOW)
    cli_env(monkeypatch, server, path)
    return server, path


def sprint_json(server: Server, **params: str) -> dict[str, Any]:
    resp = httpc.get(
        f"{server.url}/api/v1/sprint",
        params=params,
        headers={"Authorization": AUTH["Authorization"]},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.mark.usefixtures("quick_pace")
def test_every_surface_shows_the_hand_computed_figures(
    hand_sprint: tuple[Server, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server, _ = hand_sprint
    body = sprint_json(server)
    assert body["sprint"]["day"] == 5 and body["sprint"]["status"] == "running"
    r = body["readiness"]
    assert r["score"] == round(READINESS, 2) == 54.17
    assert r["baseline"] == {"stated": 45.0, "measured": MEASURED}
    assert r["plan"] == PLAN_TODAY
    assert r["change_since_yesterday"] == round(READINESS - PREVIOUS, 2) == -37.5
    assert (r["health"], r["health_reason"]) == (
        "Critical",
        "35.83 pts below plan (54.17 % against today's plan of 90 %)",
    )
    assert r["plan_note"] == "plan rescaled from the stated 45 % to the measured 50 %"
    tests = body["tests"]
    assert {k: tests[k] for k in EXPECTED_TESTS} == EXPECTED_TESTS
    assert tests["pass_rate"] == round(100 * 4 / 7, 2)
    burn = {d["day"]: d for d in body["burndown"]}
    for day, (failing, fixed, fixed_today, regressed_today) in DAYS.items():
        assert (
            burn[day]["failing"],
            burn[day]["fixed"],
            burn[day]["fixed_today"],
            burn[day]["regressed_today"],
        ) == (failing, fixed, fixed_today, regressed_today), day
    # The plan's failing: 3 on day 1 to the one target, 1, on day 5.
    assert [burn[d]["plan_failing"] for d in range(1, 6)] == [3, 2, 2, 2, 1]
    assert body["forecast"]["readiness"]["points"] == 4
    assert body["forecast"]["readiness"]["enough_data"]

    # As of the end of day 3, from stored history.
    then = sprint_json(server, at=local(4, 0).isoformat())
    assert then["sprint"]["day"] == 4
    assert {k: then["tests"][k] for k in ("failing", "fixed", "regressions_introduced")} == {
        "failing": 1,
        "fixed": 3,
        "regressions_introduced": 1,
    }
    assert then["tests"]["regressions_open"] == 0
    assert then["readiness"]["score"] == round(PREVIOUS, 2)
    # Before day 3 the forecast says it needs three days.
    early = sprint_json(server, at=local(2, 12).isoformat())
    assert early["forecast"]["readiness"]["text"] == "forecast needs 3 days of data (2 so far)"

    # /sprint (ephemeral, in the ack).
    resp = slash(server.url, "/sprint", user_id="U0DEV")
    text = blocks_text(resp.json()["blocks"])
    assert "*Readiness*\n54.17 % (-37.5 pts since yesterday)" in text
    assert "*Plan today / target*\n90 % / 90 %" in text
    assert "*Tests passing*\n4/7 (57.14 %, target 80 %)" in text
    line = (
        "*Tests*: 3 failing now (target 1; baseline 3) · fixed this sprint 2 · "
        "regressions introduced 2, open 2 · new failures open 1"
    )
    assert line in text
    assert "*Burn-down*: 3 failing now (plan for today 1, target 1) · 2 fixed this sprint" in text
    assert "35.83 pts below plan" in text

    # /readiness shows the same score, plan and health with its reason.
    text = blocks_text(slash(server.url, "/readiness", user_id="U0DEV").json()["blocks"])
    assert "*Overall*\n54.17 %" in text and "*Plan for today*\n90 %" in text
    assert "Critical: 35.83 pts below plan" in text

    # The daily report, as the clock posts it at 09:00 (here run for 09:30).
    capsys.readouterr()
    assert cli.main(["job", "run", "daily-report", "--at", NOW.isoformat()]) == 0
    assert capsys.readouterr().out == "daily-report: posted\n"
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    daily = text_of(report)
    assert "Daily report — Day 5 of 5, 2025-11-02" in daily
    assert "The sprint's final daily report" in daily
    assert line in daily
    assert "• Regressed: 2" in daily and "• Tests fixed: 0" in daily
    assert "*Open blockers*: none open" in daily and "*Risks*: none open" in daily

    # The tracker: the same figures, in the seed's document.
    out = tmp_path / "tracker.md"
    assert cli.main(["export", "tracker", "--out", str(out), "--at", NOW.isoformat()]) == 0
    md = out.read_text()
    assert "54.17 %" in md and "50 %" in md and "45 %" in md
    assert "35.83 pts below plan" in md


@pytest.mark.usefixtures("quick_pace")
def test_ci_after_the_end_changes_no_surface_of_the_ended_sprint(
    hand_sprint: tuple[Server, Path],
) -> None:
    """The day after the last day CI reports all green: the sprint's figures are its final
    ones on every surface — now, by name and in /sprint history — and none moves."""
    server, _ = hand_sprint
    after = local_instant(server.runtime.sprint.sprint, date(2025, 11, 3), time(8))
    at(server, after)
    final = sprint_json(server)
    green = junit(dict.fromkeys(FILES, "P"))
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs", params={"run": "late"}, content=green, headers=AUTH
    )
    assert resp.status_code == 201, resp.text
    at(server, after + timedelta(days=1))
    now, named = sprint_json(server), sprint_json(server, sprint="Hand sprint")
    for fig in (now, named):
        assert fig["readiness"]["score"] == final["readiness"]["score"] == 54.17
        assert fig["readiness"]["health_reason"] == final["readiness"]["health_reason"]
        assert fig["tests"] == final["tests"]
    history = blocks_text(slash(server.url, "/sprint", "history", user_id="U0DEV").json()["blocks"])
    assert "Readiness " in history and " → 54.17 % (" in history


@pytest.mark.usefixtures("quick_pace")
def test_the_sprint_ends(
    hand_sprint: tuple[Server, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = hand_sprint
    # Two days after the last day.
    after = local_instant(server.runtime.sprint.sprint, date(2025, 11, 4), time(9))
    at(server, after)
    monkeypatch.setattr(cli, "utcnow", lambda: after)  # (the day: `job run` runs as of it)
    body = sprint_json(server)
    assert body["sprint"]["status"] == "ended"
    assert body["sprint"]["text"] == "Sprint ended on 2025-11-02"
    assert body["readiness"]["health_reason"].startswith("sprint ended on 2025-11-02")
    # Daily jobs post nothing after the end.
    for job in ("daily-report", "weekly-report", "standup-prompt", "standup-digest"):
        capsys.readouterr()
        assert cli.main(["job", "run", job, "--at", after.isoformat()]) == 0
        printed = capsys.readouterr().out
        assert (
            printed == f"{job}: no sprint running; the last ended on 2025-11-02; nothing posted\n"
        ), printed
    assert not [p for p in posts(server) if p.args.get("channel") == "#status"]
    # /sprint and the tracker say the sprint ended instead of counting days past it.
    text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    assert "Hand sprint — Sprint ended on 2025-11-02" in text
    assert "Day 7" not in text
    out = tmp_path / "tracker.md"
    assert cli.main(["export", "tracker", "--out", str(out), "--at", after.isoformat()]) == 0
    md = out.read_text()
    assert "Sprint ended on 2025-11-02" in md and "Sprint Day 7" not in md


@pytest.mark.usefixtures("quick_pace")
def test_a_run_at_local_midnight_after_the_last_day_is_not_the_ended_sprints(
    hand_sprint: tuple[Server, Path],
) -> None:
    """The hand sprint's last day is 2025-11-02 (the DST day). CI reports all green at
    2025-11-03 00:00 New York: the first instant of the day after the end (DESIGN: ended =
    after the last day). The ended sprint's final figures jumped to 0 failing / 100 % /
    "target reached", while the same API answer's burn-down for day 5 still said 3 failing
    / 54.17 %; one minute later the same run changed nothing (found by review)."""
    server, _ = hand_sprint
    info = server.runtime.sprint.sprint
    midnight = local_instant(info, date(2025, 11, 3), time(0))
    at(server, midnight)
    final = sprint_json(server, at=(midnight - timedelta(seconds=1)).isoformat())
    assert final["tests"]["failing"] == 3 and final["readiness"]["score"] == 54.17
    send_run(server, midnight, "after-end", dict.fromkeys(FILES, "P"))
    at(server, midnight + timedelta(hours=9))
    body = sprint_json(server)
    assert body["sprint"]["status"] == "ended"
    last_day = body["burndown"][-1]
    shown = (
        body["tests"]["failing"],
        body["readiness"]["score"],
        body["readiness"]["health_reason"],
    )
    # The final figures must be the last day's, as the burn-down (and a run at 00:01) keep them.
    assert (last_day["failing"], last_day["readiness"]) == (3, 54.17)
    assert body["tests"]["failing"] == last_day["failing"], shown
    assert body["readiness"]["score"] == last_day["readiness"], shown
    text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    assert "target reached" not in text, text


@pytest.mark.usefixtures("quick_pace")
def test_an_ended_sprint_is_dated_its_last_day_whenever_asked(
    hand_sprint: tuple[Server, Path],
) -> None:
    """Asked the day after the end or a week later, GET /api/v1/sprint said day 6 of 5,
    dated 2025-11-03 — neither a day of the sprint nor the day asked (found by review).
    Its final figures are its last day's, and so are its day and date."""
    server, _ = hand_sprint
    info = server.runtime.sprint.sprint
    for asked in (date(2025, 11, 3), date(2025, 11, 10)):
        at(server, local_instant(info, asked, time(10)))
        sprint = sprint_json(server)["sprint"]
        assert (sprint["status"], sprint["day"], sprint["date"]) == ("ended", 5, "2025-11-02")


def readiness_line(server: Server) -> str:
    text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    return text.split("*Readiness*\n", 1)[1].splitlines()[0]


@pytest.mark.usefixtures("quick_pace")
def test_an_ended_sprints_change_since_yesterday_is_the_one_its_last_day_showed(
    hand_sprint: tuple[Server, Path],
) -> None:
    """The hand sprint (test_figures) ends on 2025-11-02 (day 5). Readiness was 91.67 %
    when day 4 began, 54.17 % when day 5 began; on day 5 at 10:00 CI fixes c1 and x2 is
    still passing: 72.92 %. At 23:59 on day 5 the API and /sprint say day 5, 2025-11-02,
    72.92 % (-18.75 pts since yesterday). One minute later (ended), and a week later, they
    say the same day 5, the same date 2025-11-02, the same 72.92 % — and "+18.75 pts since
    yesterday": the change since the last day began, not since its yesterday."""
    server, _ = hand_sprint
    info = server.runtime.sprint.sprint
    send_run(
        server,
        local_instant(info, date(2025, 11, 2), time(10)),
        "r5",
        {"c1": "P", "c2": "P", "c3": "P", "c4": "F", "x1": "P", "x2": "P", "x3": "F"},
    )
    at(server, local_instant(info, date(2025, 11, 2), time(23, 59)))
    last = sprint_json(server)
    last_line = readiness_line(server)
    assert (last["sprint"]["day"], last["sprint"]["date"]) == (5, "2025-11-02")
    assert last["readiness"]["score"] == 72.92
    assert last["readiness"]["change_since_yesterday"] == -18.75
    assert last_line == "72.92 % (-18.75 pts since yesterday)", last_line

    for asked in (date(2025, 11, 3), date(2025, 11, 10)):
        at(server, local_instant(info, asked, time(9)))
        final = sprint_json(server)
        assert final["sprint"]["status"] == "ended"
        # Dated the last day, as its final figures are (day 5, 2025-11-02), the same score...
        assert (final["sprint"]["day"], final["sprint"]["date"]) == (5, "2025-11-02")
        assert final["readiness"]["score"] == last["readiness"]["score"]
        # ...so the same change since that day's yesterday, on the API and in /sprint.
        shown = (final["readiness"]["change_since_yesterday"], readiness_line(server))
        assert shown == (-18.75, last_line), (asked, shown)

"""Surfaces that contradicted each other or the Definitions: App Home's last CI run (after
the end, a sharded run), an ended sprint's review and tracker after a blocker is reopened,
a P0's age after a reopen, a backfilled report's causes, day 1's plan before any report,
`/sprint report` after the end, and a quarantine past its `until`."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from jobs import reports, tracker
from jobs.numbers import local_instant
from tests.e2e.test_after_the_end_and_ids import resolved_on_day_2, tracker_blockers
from tests.e2e.test_figures import (
    FILES,
    NOW,
    RUNS,
    SPRINT,
    hand_server,
    local,
    send_run,
    sprint_json,
)
from tests.e2e.test_quarantine import api
from tests.e2e.test_sprint_command import wait_status_posts
from tests.support.e2e import at, blocks_text, home_opened, post_report, posts, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash


def home_text(server: Server, user: str = "U0DEV") -> str:
    home_opened(server, user)
    listeners_done()
    server.runtime.sender.drain()
    calls = server.slack.calls_to("views.publish")
    assert calls
    view: dict[str, Any] = calls[-1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    return blocks_text(view["blocks"])


@pytest.mark.usefixtures("quick_pace")
def test_home_shows_no_ci_run_after_the_end_beside_the_final_figures(
    hand_sprint: tuple[Server, Path],
) -> None:
    """After the sprint ended, CI reports all green. The Home's figures are the final ones
    (3 failing now), but its "Last CI run" line shows the post-sprint run: 7 passed, 0 failed."""
    server, _ = hand_sprint
    after = local_instant(server.runtime.sprint.sprint, date(2025, 11, 3), time(8))
    send_run(server, after, "late", dict.fromkeys(FILES, "P"))
    at(server, after + timedelta(hours=1))
    final = sprint_json(server)
    assert final["tests"]["failing"] == 3
    text = home_text(server)
    assert "3 failing now" in text
    # The Home must not show a CI run that is not the sprint's beside its final figures.
    assert "`late`" not in text, text


@pytest.mark.usefixtures("quick_pace")
def test_home_shows_no_ci_run_received_at_the_very_instant_the_sprint_ended(
    hand_sprint: tuple[Server, Path],
) -> None:
    """A run received at 00:00 after the last day (the next sprint's first instant) is not
    in the final figures; the Home's "Last CI run" showed it beside them all the same."""
    server, _ = hand_sprint
    midnight = local_instant(server.runtime.sprint.sprint, date(2025, 11, 3), time(0))
    send_run(server, midnight, "at-the-end", dict.fromkeys(FILES, "P"))
    at(server, midnight + timedelta(hours=9))
    assert sprint_json(server)["tests"]["failing"] == 3
    text = home_text(server)
    assert "3 failing now" in text
    assert "`at-the-end`" not in text, text


@pytest.mark.usefixtures("quick_pace")
def test_home_last_ci_run_adds_up_its_shards(
    hand_sprint: tuple[Server, Path],
) -> None:
    """A run in two shards (the Definitions: reports with the same `run` are shards of one
    run): the Home's "Last CI run `r5`" shows only the last shard's counts."""
    server, _ = hand_sprint
    when = NOW + timedelta(minutes=10)
    for statuses in (
        {"c1": "F", "c2": "P", "c3": "P", "c4": "F"},
        {"x1": "P", "x2": "P", "x3": "F"},
    ):
        send_run(server, when, "r5", statuses)
    at(server, when + timedelta(minutes=1))
    body = sprint_json(server)
    assert (body["tests"]["passing"], body["tests"]["failing"]) == (4, 3)
    text = home_text(server)
    line = next(x for x in text.splitlines() if x.startswith("*Last CI run*"))
    # Run r5 reported 7 tests: 4 passed, 3 failed.
    assert "4 passed, 3 failed" in line, line


def test_reopening_after_the_end_leaves_the_ended_sprints_review_alone(server: Server) -> None:
    """B-001 was reported on day 1 and resolved on day 2. After the sprint ended someone
    reopens it. The ended sprint's final figures (as of its end) still have it resolved (not
    open at the end), and its outcome kept at the end says 1 blocker resolved; but the
    review of that same ended sprint now says 0 blockers were resolved in it."""

    resolved_on_day_2(server)
    at(server, datetime(2025, 11, 13, 15, tzinfo=UTC))  # the sprint ended on 12 Nov 00:00
    [listed] = api(server, "/api/v1/sprints").json()["sprints"]
    assert listed["status"] == "ended"
    assert listed["outcome"]["blockers_resolved"] == 1
    at(server, datetime(2025, 11, 14, 15, tzinfo=UTC))
    resp = slash(server.url, "/blocker", "reopen B-001", user_id="U0DEV")
    assert resp.status_code == 200, resp.text
    listeners_done()
    assert "B-001 reopened" in resp.text, resp.text
    final = api(server, "/api/v1/sprint").json()
    assert final["sprint"]["status"] == "ended"
    assert final["blockers"]["open"] == 0  # at its end B-001 was resolved
    [listed] = api(server, "/api/v1/sprints").json()["sprints"]
    assert listed["outcome"]["blockers_resolved"] == 1  # the ended sprint's outcome
    slash(server.url, "/sprint", "review", user_id="U0DEV")
    [review] = wait_status_posts(server, 1)
    text = text_of(review)
    shown = re.search(r"\*Blockers resolved \((\d+)\)\*", text)
    assert shown is not None and int(shown[1]) == 1, text


def test_a_p0_reopened_a_moment_ago_is_not_open_for_days(server: Server) -> None:
    """A P0 filed on day 1 and resolved an hour later is reopened on day 2. Health at once
    says At Risk: "P0 B-001 open for 31 h", counting the 30 h it was resolved (DESIGN:
    At Risk "while a P0 blocker has been open over 24 h"); it has been open 1 h 5 min."""

    at(server, datetime(2025, 10, 29, 12, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T12:00:00Z")
    at(server, datetime(2025, 10, 29, 13, tzinfo=UTC))
    slash(server.url, "/blocker", "P0 Swarm Coordination: deadlock", user_id="U0DEV")
    listeners_done()
    at(server, datetime(2025, 10, 29, 14, tzinfo=UTC))
    slash(server.url, "/blocker", "resolve B-001 fixed", user_id="U0DEV")
    listeners_done()
    at(server, datetime(2025, 10, 30, 20, tzinfo=UTC))
    resp = slash(server.url, "/blocker", "reopen B-001", user_id="U0DEV")
    assert "B-001 reopened" in resp.text, resp.text
    listeners_done()
    at(server, datetime(2025, 10, 30, 20, 5, tzinfo=UTC))
    body = api(server, "/api/v1/sprint").json()
    assert body["blockers"]["open"] == 1
    reason = body["readiness"]["health_reason"]
    assert "P0 B-001 open for" not in reason, reason
    # /sprint ages it the same way: open 0 h, not the 1d 7h since it was first filed. (Its
    # first step, still queued when it was resolved, was taken back: the clock's next look
    # calls it again, tests/faults/test_reopen_first_step.py.)
    text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    assert "deadlock (0h, step 0)" in text, text
    # So does `/blocker list`: open 5 minutes, not 31 hours.
    listed = slash(server.url, "/blocker", "list", user_id="U0DEV").json()
    listed_text = blocks_text(listed.get("blocks") or []) or listed["text"]
    assert "deadlock (unowned, 5m old, step 0/4)" in listed_text, listed_text


@pytest.mark.usefixtures("quick_pace")
def test_a_backfilled_daily_report_counts_the_causes_of_its_own_day(
    hand_sprint: tuple[Server, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`sprintbot job run daily-report --at` (DESIGN: "as if the clock read --at", to
    backfill a missed report) for day 3, 09:00, run on day 5: the report's figures are as of
    day 3 (4 failing now), but its "Top causes of failing tests" counts the tests failing on
    day 5 (3 tests), so the one message contradicts itself."""

    server, _ = hand_sprint
    when = local(3, 9)
    then = sprint_json(server, at=when.isoformat())
    assert then["tests"]["failing"] == 4  # c1, c4, x2, x3 after day 2's run
    capsys.readouterr()
    assert cli.main(["job", "run", "daily-report", "--at", when.isoformat()]) == 0
    assert capsys.readouterr().out == "daily-report: posted\n"
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    text = text_of(report)
    assert "*Tests*: 4 failing now" in text, text
    assert "*Top causes of failing tests*\n• 4 tests: " in text, text


@pytest.mark.usefixtures("quick_pace")
def test_day_one_before_the_first_ci_report_has_no_plan_rather_than_zero(
    make_server: Any, tmp_path: Path
) -> None:
    """Day 1, 08:00, no CI report yet, components all scored from tests (no starting score):
    there is nothing to rescale a plan from, so /sprint, /readiness and the API say there is
    no plan yet (it used to be "Plan today / target 0 % / 90 %", a figure never true). At
    10:00 CI reports and the plan for the same day 1 becomes the measured baseline, 50 %
    (DESIGN: plan(1) = the measured baseline m)."""
    server, _ = hand_server(make_server, tmp_path)
    at(server, local(1, 8))
    early = sprint_json(server)
    early_text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    early_readiness = blocks_text(slash(server.url, "/readiness", user_id="U0DEV").json()["blocks"])
    when, run, statuses = RUNS[0]
    send_run(server, when, run, statuses)
    at(server, when + timedelta(minutes=5))
    later = sprint_json(server)
    later_text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    assert later["sprint"]["day"] == early["sprint"]["day"] == 1
    assert early["readiness"]["plan"] is None, early["readiness"]
    assert all(d["plan_readiness"] is None for d in early["burndown"]), early["burndown"]
    assert "no plan until the first CI report" in early["readiness"]["plan_note"]
    assert "*Plan today / target*\nn/a / 90 %" in early_text, early_text
    assert "no plan until the first CI report measures the baseline" in early_text, early_text
    assert "*Plan for today*\nn/a" in early_readiness, early_readiness
    assert later["readiness"]["plan"] == 50.0
    assert "*Plan today / target*\n50 % / 90 %" in later_text, later_text


@pytest.mark.usefixtures("quick_pace")
def test_before_the_first_ci_report_every_surface_shows_no_plan(
    make_server: Any, tmp_path: Path
) -> None:
    """Day 2, 08:00, still no CI report: App Home, the daily report's figures and the
    tracker export show the plan as n/a too, and say why."""
    server, _ = hand_server(make_server, tmp_path)
    at(server, local(2, 8))
    home = home_text(server)
    assert "*Plan today / target*\nn/a / 90 %" in home, home
    assert "no plan until the first CI report measures the baseline" in home, home
    with server.runtime.db.read() as session:
        markdown = tracker.tracker_markdown(
            session=session, sprint=server.runtime.sprint, now=local(2, 8)
        )
        daily = reports.daily_report(
            session=session, sprint=server.runtime.sprint, participants=["U0DEV"], now=local(2, 8)
        )
    assert "(plan for day 2: n/a)" in markdown, markdown
    assert "**Plan:** no plan until the first CI report measures the baseline" in markdown
    assert daily["readiness"]["plan"] is None, daily["readiness"]


@pytest.mark.usefixtures("quick_pace")
def test_a_stated_anchor_without_a_stated_plan_is_the_measured_plan(
    make_server: Any, tmp_path: Path
) -> None:
    """`[plan] anchor = "stated"` but no readiness list: the plan is rescaled from the
    measured baseline like any other, so its note says so — before anything is measured,
    no plan yet; after the first report, rescaled from the stated baseline (45 %) to the
    measured one — never "as the sprint file states it", which states none."""
    path = tmp_path / "stated.toml"
    path.write_text(SPRINT + '\n[plan]\nanchor = "stated"\n')
    server: Server = make_server(SPRINTBOT_CONFIG=str(path))
    at(server, local(1, 8))
    early = sprint_json(server)
    text = blocks_text(slash(server.url, "/sprint", user_id="U0DEV").json()["blocks"])
    assert early["readiness"]["plan"] is None, early["readiness"]
    assert early["readiness"]["plan_note"] == (
        "no plan until the first CI report measures the baseline"
    )
    assert "*Plan today / target*\nn/a / 90 %" in text, text
    when, run, statuses = RUNS[0]
    send_run(server, when, run, statuses)
    at(server, when + timedelta(minutes=5))
    later = sprint_json(server)
    assert later["readiness"]["plan"] == 50.0
    assert later["readiness"]["plan_note"] == (
        "plan rescaled from the stated 45 % to the measured 50 %"
    )


def test_the_tracker_keeps_a_blocker_reopened_after_the_end(server: Server) -> None:
    """Same story as the review's: B-001 resolved on day 2, reopened after the end. The
    ended sprint's tracker lists it neither among the open blockers (as of the end it was
    resolved) nor among the resolved ones (its row no longer holds a resolution)."""

    resolved_on_day_2(server)
    at(server, datetime(2025, 11, 14, 15, tzinfo=UTC))  # the sprint ended on 12 Nov 00:00
    resp = slash(server.url, "/blocker", "reopen B-001", user_id="U0DEV")
    assert "B-001 reopened" in resp.text, resp.text
    listeners_done()
    open_rows, resolved_rows = tracker_blockers(server)
    assert any("B-001" in r for r in open_rows + resolved_rows), (open_rows, resolved_rows)


@pytest.mark.usefixtures("quick_pace")
def test_a_report_asked_for_after_the_end_is_dated_the_day_asked(
    hand_sprint: tuple[Server, Path],
) -> None:
    """The sprint ended on 2025-11-02. On 2025-11-10 an admin types `/sprint report`: the
    report posted that day is headed "Daily report — Sprint ended on 2025-11-02, 2025-11-03"
    and speaks of "Yesterday (2025-11-02)" — a date a week off, the day after the end, on
    whatever day it is posted."""

    server, _ = hand_sprint
    asked = local_instant(server.runtime.sprint.sprint, date(2025, 11, 10), time(10))
    at(server, asked)
    resp = slash(server.url, "/sprint", "report", user_id="U0DEV")
    assert resp.status_code == 200, resp.text
    listeners_done()
    server.runtime.sender.drain()
    [report] = [p for p in posts(server) if p.args.get("channel") == "#status"]
    text = text_of(report)
    header = text.splitlines()[1]
    assert header.startswith("Daily report — Sprint ended on 2025-11-02"), header
    assert header.endswith("2025-11-10"), header
    # What it lists of CI is the sprint's last day's, and said so: not "Yesterday".
    assert "*The sprint's last day (2025-11-02)*" in text, text
    assert "Yesterday" not in text, text


def _quarantined_for_an_hour(
    make_server: Any, tmp_path: Path, test: str
) -> tuple[Server, datetime, dict[str, str]]:
    """The hand sprint after its first run, `test` quarantined for 1h then: the server, the
    run's time and statuses."""
    server, _ = hand_server(make_server, tmp_path)
    when, run, statuses = RUNS[0]
    send_run(server, when, run, statuses)
    answer = slash(
        server.url, "/tests", f"quarantine {test} for 1h because races", user_id="U0DEV"
    ).text
    assert "Quarantined" in answer, answer
    return server, when, statuses


@pytest.mark.usefixtures("quick_pace")
def test_a_quarantine_past_its_until_hides_no_regression(make_server: Any, tmp_path: Path) -> None:
    """c2 passes and is quarantined for 1h. Three minutes after its `until` (before the
    clock's 5-minute quarantine-expiry tick) CI reports c2 failing. DESIGN: a test is
    quarantined *until its `until`*; after that a pass → fail is a regression. The reply
    calls it flaky (no regression, no alert) and the figures still count 1 quarantined."""
    server, when, statuses = _quarantined_for_an_hour(make_server, tmp_path, "core.test_a::c2")
    [held] = api(server, "/api/v1/quarantine").json()["tests"]
    until = when + timedelta(hours=1)
    assert held["until"] == until.isoformat()
    reply = send_run(server, until + timedelta(minutes=3), "r1b", {**statuses, "c2": "F"})
    figs = sprint_json(server)
    shown = (figs["tests"]["quarantined"], [t["name"] for t in reply["flaky"]], reply["alert"])
    assert [t["name"] for t in reply["regressions"]] == ["c2"], shown


@pytest.mark.usefixtures("quick_pace")
def test_readiness_after_a_quarantine_past_its_until_agrees_with_the_figures(
    make_server: Any, tmp_path: Path
) -> None:
    """c3 fails and is quarantined for 1h (`[flaky] readiness = "exclude"`: left out of the
    counts). Three minutes after its `until`, before the clock's release tick, CI reports
    the same results: the reply's readiness (the stored snapshot) and the figures count c3
    again alike (the snapshot had still left it out: 62.5 against 50)."""
    server, when, statuses = _quarantined_for_an_hour(make_server, tmp_path, "core.test_b::c3")
    reply = send_run(server, when + timedelta(hours=1, minutes=3), "r1b", statuses)
    figs = sprint_json(server)
    assert figs["tests"]["quarantined"] == 0, figs["tests"]
    assert reply["readiness"]["score"] == pytest.approx(figs["readiness"]["score"], abs=0.01)


@pytest.mark.usefixtures("quick_pace")
def test_home_last_ci_run_counts_a_rerun_shard_once(hand_sprint: tuple[Server, Path]) -> None:
    """Run r5 in two shards, the CLI shard's job re-run under the same run id (GitHub's
    "Re-run failed jobs") with x3 passing this time: the run tested 7 tests, 5 passing and
    2 failing as the figures say, not 10 (the re-run added on top of the first attempt)."""
    server, _ = hand_sprint
    when = NOW + timedelta(minutes=10)
    for statuses in (
        {"c1": "F", "c2": "P", "c3": "P", "c4": "F"},
        {"x1": "P", "x2": "P", "x3": "F"},
        {"x1": "P", "x2": "P", "x3": "P"},  # the shard re-run
    ):
        send_run(server, when, "r5", statuses)
    at(server, when + timedelta(minutes=1))
    body = sprint_json(server)
    assert (body["tests"]["passing"], body["tests"]["failing"]) == (5, 2)
    line = next(x for x in home_text(server).splitlines() if x.startswith("*Last CI run*"))
    assert "5 passed, 2 failed" in line, line


def test_the_readiness_api_names_an_ended_sprints_last_day_as_the_sprint_api(
    server: Server,
) -> None:
    """Three days after the end, GET /api/v1/readiness answered day 17 of the 14-day
    sprint, GET /api/v1/sprint day 14 (found by review)."""
    at(server, datetime(2025, 10, 29, 20, tzinfo=UTC))
    post_report(server, "pytest-xunit1-run1.xml", run="d1", at="2025-10-29T20:00:00Z")
    at(server, datetime(2025, 11, 14, 15, tzinfo=UTC))
    sprint = api(server, "/api/v1/sprint").json()["sprint"]
    assert (sprint["status"], sprint["day"], sprint["days"]) == ("ended", 14, 14)
    assert api(server, "/api/v1/readiness").json()["day"] == 14

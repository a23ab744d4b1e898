"""Retention leaves the running sprint as it was: its test time window, `/tests show`, App
Home's last run, the same-commit flaky verdict keep their packed statuses (pruned only
from the margin before the sprint's start, as the figures' history is); its answer names
each step's own horizon; and an ended sprint's review draft keeps its figures when a lesson
comes in after its history was pruned."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot import clock as bot_clock
from bot.clock import run_job
from tests.e2e.test_durations_report import OWNED, TIMED_RUNS_TEST_TIME, timed_runs
from tests.e2e.test_sprint_rollover_buttons import S1_LAST, add_lesson, button, sent, updates
from tests.support import httpc
from tests.support.e2e import (
    AUTH,
    at,
    blocks_text,
    home_opened,
    posts,
    text_of,
)
from tests.support.listeners import listeners_done
from tests.support.reports import report as junit
from tests.support.server import EXAMPLE, ROOT, Server
from tests.support.slack import slash


def ci(server: Server, run: str, statuses: dict[str, str], when: str, **query: str) -> Any:
    """CI's report of `statuses` (run `run`, at `when`), received then; the API's reply."""
    at(server, datetime.fromisoformat(when))
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs",
        params={"run": run, "at": when, **query},
        content=junit(statuses),
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def statuses_kept_one_day(make_server: Callable[..., Server], tmp_path: Path) -> Server:
    """The example sprint with `statuses_days = 1`, the shortest."""
    path = tmp_path / "sprint.toml"
    path.write_text(EXAMPLE.read_text().replace("statuses_days = 14", "statuses_days = 1"))
    return make_server(SPRINTBOT_CONFIG=str(path))


def test_retention_keeps_the_running_sprints_test_time_window(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """Runs of the running sprint's days 1 and 2; with `statuses_days = 1` the daily
    retention run (every figure of the sprint stays the same, never anything from
    margin_days before the start) must leave the 9:00 report's test time as it was."""
    path = tmp_path / "sprint.toml"
    text = EXAMPLE.read_text().replace("statuses_days = 14", "statuses_days = 1")
    assert "statuses_days = 1 " in text
    path.write_text(text + OWNED)
    server = make_server(SPRINTBOT_CONFIG=str(path))
    # Day 1 (Oct 29, the sprint's start) three runs; day 2 (Oct 30) the slower one.
    times = [
        "2025-10-29T15:00:00Z",
        "2025-10-29T16:00:00Z",
        "2025-10-29T17:00:00Z",
        "2025-10-30T14:00:00Z",
    ]
    timed_runs(server, times)
    server.runtime.sender.drain()
    sent_before = len(posts(server))

    # Day 3, 03:30 local: the daily retention run; then the 9:00 report.
    at(server, datetime(2025, 10, 31, 7, 30, tzinfo=UTC))
    summary = bot_clock.run_job(server.runtime, "retention")
    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [report] = posts(server)[sent_before:]
    text = text_of(report)
    assert TIMED_RUNS_TEST_TIME in text, (
        summary,
        [ln for ln in text.splitlines() if "Test time" in ln or "Slower" in ln],
    )
    assert "*Slower tests (1)*" in text


def test_retention_keeps_tests_show_history_of_the_running_sprint(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """/tests show (GET /api/v1/tests/{id}): the test's runs of the running sprint's
    days 1 and 2 are its history; the retention run on day 3 must not change it."""

    server = statuses_kept_one_day(make_server, tmp_path)
    for i, (status, when) in enumerate(
        [
            ("passed", "2025-10-29T15:00:00Z"),
            ("failed", "2025-10-29T18:00:00Z"),
            ("passed", "2025-10-30T15:00:00Z"),
        ]
    ):
        ci(server, f"r{i}", {"api/a": status}, when)

    def show() -> object:
        got: httpx.Response = httpc.get(f"{server.url}/api/v1/tests/1", headers=AUTH, timeout=30)
        assert got.status_code == 200, got.text
        return got.json()

    at(server, datetime(2025, 10, 31, 7, 30, tzinfo=UTC))  # day 3, 03:30 local
    before = show()
    summary = bot_clock.run_job(server.runtime, "retention")
    assert show() == before, summary


def test_the_retention_answer_names_each_steps_horizon(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The retention job's answer: "pruned N packed statuses (before DATE)" must not name a
    date months before the reports whose statuses it just dropped."""

    server = statuses_kept_one_day(make_server, tmp_path)
    ci(server, "r1", {"api/a": "passed"}, "2025-10-29T15:00:00Z")
    at(server, datetime(2025, 10, 31, 7, 30, tzinfo=UTC))
    summary = bot_clock.run_job(server.runtime, "retention")
    # Day 1's report is the running sprint's: nothing of it goes, and the answer names no
    # date before which something was pruned (it had said "before 2025-08-02", the results'
    # horizon, of statuses received on 2025-10-29).
    assert summary == "retention: pruned nothing", summary


def test_retention_keeps_app_homes_last_ci_run(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The last CI run (day 1) had its shard re-run under the same run id: App Home counts
    each test once, as the re-run says (1 passed, 0 failed). Two quiet days on, the
    retention run drops the packed statuses; the last CI run must still read the same."""

    server = statuses_kept_one_day(make_server, tmp_path)
    for status, when in [("failed", "2025-10-29T15:00:00Z"), ("passed", "2025-10-29T15:30:00Z")]:
        ci(server, "ci-7", {"api/a": status}, when)

    def last_run_line() -> str:
        home_opened(server, "U0DEV")
        listeners_done()
        server.runtime.sender.drain()
        view = server.slack.calls_to("views.publish")[-1].args["view"]
        text = blocks_text(view["blocks"])
        return re.search(r"\*Last CI run\*[^\n]*", text).group(0)  # type: ignore[union-attr]

    at(server, datetime(2025, 10, 31, 7, 30, tzinfo=UTC))  # day 3, 03:30 local
    before = last_run_line()
    assert "1 passed, 0 failed" in before, before
    summary = bot_clock.run_job(server.runtime, "retention")
    at(server, datetime(2025, 10, 31, 7, 31, tzinfo=UTC))
    assert last_run_line() == before, summary


def _flaky_reply(make_server: Callable[..., Server], tmp_path: Path, *, prune: bool) -> object:

    server = statuses_kept_one_day(make_server, tmp_path)

    def post(run: str, status: str, when: str) -> Any:
        return ci(server, run, {"api/a": status, "api/b": "passed"}, when, commit="abc123def4567")

    post("r1", "passed", "2025-10-29T15:00:00Z")  # day 1
    if prune:  # day 2, the daily retention run (statuses_days = 1)
        at(server, datetime(2025, 10, 30, 16, 0, tzinfo=UTC))
        bot_clock.run_job(server.runtime, "retention")
    # Day 2: the same commit run again, api/a fails: it passed on another run of it.
    return post("r2", "failed", "2025-10-30T16:05:00Z")["flaky"]


def test_flaky_same_commit_control_without_retention(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    assert _flaky_reply(make_server, tmp_path, prune=False)


def test_retention_keeps_flaky_detection_of_the_same_commit(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """A test passing on one run of a commit and failing on another is flaky; the retention
    run between the two (day 1 and day 2 of the running sprint) must not change that."""
    flaky = _flaky_reply(make_server, tmp_path, prune=True)
    assert flaky, flaky  # without the retention run: api/a, "passed on another run of …"


@pytest.mark.parametrize("prune", [False, True], ids=["control", "pruned"])
def test_an_ended_sprints_review_keeps_its_figures_when_a_lesson_comes_after_pruning(
    make_server: Callable[..., Server], tmp_path: Path, prune: bool
) -> None:
    """Phase 4's review draft is posted on its last day: a test it regressed is listed. In
    Phase 5 the retention run prunes Phase 4's raw history (its outcome is kept first); a
    lesson added to Phase 4's review then redraws it: its figures must stay as they were."""

    shutil.copytree(ROOT / "examples" / "teams", tmp_path / "teams")
    pf = tmp_path / "teams" / "platform.toml"
    pf.write_text(pf.read_text() + "\n[retention]\nresults_days = 1\nmargin_days = 1\n")
    org = make_server(SPRINTBOT_CONFIG=str(tmp_path / "teams"))
    for i, (status, when) in enumerate(
        [("passed", "2025-10-30T15:00:00Z"), ("failed", "2025-10-31T15:00:00Z")]
    ):
        ci(org, f"r{i}", {"api/a": status, "api/b": "passed"}, when, team="platform")

    at(org, S1_LAST)
    slash(org.url, "/sprint", "platform review", user_id="U0ALICE")
    review, ts = sent(org, "platform · Sprint review draft — Phase 4")
    drawn = blocks_text(review.get("blocks") or [])
    add = button(review, "lesson_add")

    at(org, datetime(2025, 11, 16, 8, 30, tzinfo=UTC))  # Phase 5, 03:30 local
    if prune:
        summary = run_job(org.runtime, "retention", team=org.runtime.teams.named("platform"))
        assert "status changes" in summary, summary
    at(org, datetime(2025, 11, 16, 15, tzinfo=UTC))
    add_lesson(org, add, ts, "Sharding kept CI fast")
    [update] = updates(org, ts)
    assert "Sharding kept CI fast" in update
    assert "• Regressions introduced: 1 (1 still open)" in drawn
    assert "• `tests.api.test_it::a` (still failing)" in drawn
    assert "• Regressions introduced: 1 (1 still open)" in update, update
    assert "• `tests.api.test_it::a` (still failing)" in update, update

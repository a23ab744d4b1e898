"""A sprint's worth of CI runs through the real HTTP API, and every morning's jobs driven
with `sprintbot job run NAME --at` as a user would backfill them: the daily and weekly
reports' content, and the burn-down chart (a PNG carrying the series it plots)."""

from __future__ import annotations

import io
import json
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from PIL import Image

from bot import cli
from bot.demo import junit_runs
from jobs.numbers import local_instant
from tests.support import httpc
from tests.support.e2e import at, posts, text_of
from tests.support.server import EXAMPLE, INGEST_TOKEN, Server, cli_env

AUTH = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/xml"}
TOTAL = 2124


def job_run(capsys: pytest.CaptureFixture[str], name: str, when: datetime) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["job", "run", name, "--at", when.isoformat()])
    out, err = capsys.readouterr()
    return code, out, err


def chart_series(png: bytes) -> dict[str, Any]:
    image = Image.open(io.BytesIO(png))
    image.verify()  # a whole, valid PNG
    text = Image.open(io.BytesIO(png)).text  # type: ignore[attr-defined]
    return dict(json.loads(text["Description"]))


def status_posts(server: Server) -> list[str]:
    return [text_of(p) for p in posts(server) if p.args.get("channel") == "#sprint-status"]


@pytest.mark.usefixtures("quick_pace")
def test_a_sprint_of_reports_driven_by_job_run(
    server: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sprint = server.runtime.sprint
    cli_env(monkeypatch, server, EXAMPLE)
    failing: dict[int, int] = {}
    for run in junit_runs(sprint, days=14):
        at(server, run.at)
        resp = httpc.post(
            f"{server.url}/api/v1/test-runs",
            params={"run": f"ci-{run.day}", "commit": f"c{run.day:03d}"},
            content=run.xml,
            headers=AUTH,
            timeout=60,
        )
        assert resp.status_code == 201, resp.text
        failing[run.day] = run.failing
        morning = local_instant(
            sprint.sprint, run.at.astimezone(sprint.sprint.tz).date() + timedelta(days=1), time(9)
        )
        day = run.day + 1
        code, out, err = job_run(capsys, "daily-report", morning)
        if day > 14:  # the morning after the last day: the sprint has ended
            assert (
                out
                == "daily-report: no sprint running; the last ended on 2025-11-11; nothing posted\n"
            )
            continue
        assert (code, out) == (0, "daily-report: posted\n"), err
        last_morning = morning
        code, out, _ = job_run(capsys, "weekly-report", morning)
        assert out == (
            "weekly-report: posted\n"
            if day in (7, 14)
            else f"weekly-report: day {day} is not a weekly report day\n"
        )
    # Backfilling the same morning again posts nothing twice.
    code, out, _ = job_run(capsys, "daily-report", last_morning)
    assert out == "daily-report: already posted today\n"

    texts = status_posts(server)
    daily = [t for t in texts if t.startswith("Daily report")]
    weekly = [t for t in texts if t.startswith("Weekly report")]
    assert len(daily) == 13 and len(weekly) == 2
    assert "The sprint's final daily report" in daily[-1]

    # Day 7's report: yesterday (day 6) as the generator made it.
    day7 = next(t for t in daily if t.startswith("Daily report — Day 7 of 14, 2025-11-04"))
    passed6 = TOTAL - failing[6]
    assert f"*Tests passing*\n{passed6:,}/{TOTAL:,} ({100 * passed6 / TOTAL:.2f} %" in day7
    assert "plan rescaled from the stated 67 % to the measured" in day7
    assert "• Tests fixed: 12" in day7 and "• New failing tests: 0" in day7
    assert f"last: {passed6:,} passed, {failing[6]:,} failed, 0 skipped" in day7
    # Day 4's report shows day 3's six regressions as new failures.
    day4 = next(t for t in daily if "Day 4 of 14" in t)
    assert "• Regressed: 6" in day4 and "`tests.swarm." in day4

    # The week-1 report: the milestone's criteria evaluated with measured values.
    week1 = weekly[0]
    assert week1.startswith("Weekly report — week 1, Day 7 of 14, 2025-11-04")
    assert "5 of 8 criteria met" in week1
    # Fixed this sprint: baseline-failing tests that pass now, out of the 407 baseline
    # failing; ">" escaped as Slack's mrkdwn needs.
    assert f":x: tests_fixed &gt;= 110 — measured {407 - failing[6]} of 407" in week1
    # The six day-3 regressions were fixed on day 4, yet they were introduced.
    assert ":x: Zero new regressions introduced — measured 6" in week1
    assert (
        f":white_check_mark: pass_rate &gt;= 83.5 — measured {100 * passed6 / TOTAL:.2f} %" in week1
    )
    assert "Sign-offs: :hourglass_flowing_sand: Tech Lead" in week1
    assert "*Forecast* (least squares over the sprint's days so far)" in week1
    assert "*Metrics dashboard*" in week1 and "*Risk assessment*" in week1
    # The week-2 report (day 14, the last run was day 13): the pass-rate target is reached.
    week2 = weekly[1]
    passed13 = TOTAL - failing[13]
    assert 100 * passed13 / TOTAL >= 87
    assert "• Pass rate: 87 % reached" in week2
    assert "*Week 2 checkpoint: 85% production ready* (day 14)" in week2
    # The last week's report is the sprint's completion summary too.
    assert "*Sprint completion*: 2 of 4 goals met" in week2
    assert ":white_check_mark: Test Pass Rate: target 87 %, achieved 87.99 %" in week2
    # The fixes that reach the one failing target: 407 - 276 = 131.
    assert ":white_check_mark: Tests Fixed: target 131, achieved 152" in week2
    assert ":x: Zero Regressions Introduced: target 0, achieved 6" in week2
    assert "*Completion*" not in week1 and "*Sprint completion*" not in week1
    # On the last day a missed target has no days left to need a pace for.
    assert "• Readiness: not by day 14 at this pace (85 % on day 15, +0.49 pts/day)\n" in week2

    # Each report's chart, in its thread: a valid PNG plotting end-of-day failing tests
    # against the plan.
    uploads = server.slack.calls_to("files.completeUploadExternal")
    assert len(uploads) == 15
    assert all(u.args.get("thread_ts") for u in uploads)
    pngs = list(server.slack.uploads.values())
    last = chart_series(pngs[-1])
    assert last["failing"] == {str(d): f for d, f in failing.items()}
    # One failing target: 2,124 - ceil(87 % of 2,124) = 276.
    assert last["planned"]["1"] == 407 and last["planned"]["14"] == last["target"] == 276
    first = chart_series(pngs[0])  # day 2's report: day 1, and day 2 as it stands at 9:00
    assert first["failing"] == {"1": 407, "2": 407}


def test_job_run_refuses_a_bad_time(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["job", "run", "weekly-report", "--at", "2025-11-04T09:00"])
    _, err = capsys.readouterr()
    assert code == 2 and "needs a UTC offset" in err

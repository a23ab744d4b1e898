"""The clock's schedule: each job under its id, standups at local times on workdays; the
README's table of jobs is the clock's."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot import clock
from bot.clock import JOBS, _schedule, readme_table
from tests.support.server import Clock, Server
from tests.support.threads import run_switching_often

README = Path(__file__).resolve().parents[2] / "README.md"


def test_jobs_and_their_next_runs_across_dst(server: Server) -> None:
    scheduler = BackgroundScheduler(timezone=server.runtime.sprint.sprint.tz)
    _schedule(scheduler, server.runtime)
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {spec.name for spec in JOBS}
    prompt = scheduler.get_job("standup-prompt")
    ny = ZoneInfo("America/New_York")
    # Saturday 2025-11-01 10:00 EDT: the example sprint runs every day; next is Sunday 09:00,
    # after the DST change (EST), i.e. 14:00 UTC.
    after = datetime(2025, 11, 1, 10, 0, tzinfo=ny)
    nxt = prompt.trigger.get_next_fire_time(None, after)
    assert nxt.astimezone(UTC) == datetime(2025, 11, 2, 14, 0, tzinfo=UTC)
    before = datetime(2025, 10, 31, 8, 0, tzinfo=ny)
    assert prompt.trigger.get_next_fire_time(None, before).astimezone(UTC) == datetime(
        2025, 10, 31, 13, 0, tzinfo=UTC
    )
    digest = scheduler.get_job("standup-digest")
    assert digest.trigger.get_next_fire_time(None, before).astimezone(ny).strftime("%H:%M") == (
        "09:30"
    )


def test_weekly_report_keeps_its_sprint_days_even_off_workdays(
    server: Server, clock: Clock
) -> None:
    from dataclasses import replace
    from datetime import date

    from bot.clock import runs_on, scheduled

    sprint = server.runtime.sprint
    weekdays = sprint.model_copy(
        update={
            "sprint": sprint.sprint.model_copy(
                update={"workdays": ["mon", "tue", "wed", "thu", "fri"]}
            )
        }
    )
    runtime = replace(server.runtime, sprint=weekdays)
    saturday = date(2025, 11, 1)  # day 4
    assert not runs_on(runtime, "daily-report", saturday)
    assert not runs_on(runtime, "weekly-report", date(2025, 10, 31))  # day 3
    assert runs_on(runtime, "weekly-report", date(2025, 11, 4))  # day 7, a Tuesday
    shifted = weekdays.model_copy(
        update={"schedule": weekdays.schedule.model_copy(update={"weekly_report_days": [4]})}
    )
    runtime = replace(server.runtime, sprint=shifted)
    assert runs_on(runtime, "weekly-report", saturday)
    scheduler = BackgroundScheduler(timezone=shifted.sprint.tz)
    _schedule(scheduler, runtime)
    weekly = scheduler.get_job("weekly-report").trigger
    after = datetime(2025, 10, 31, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    assert weekly.get_next_fire_time(None, after).date() == saturday
    clock.at = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)  # the server's clock
    assert scheduled(runtime, "weekly-report") == "weekly-report: no slot on 2025-10-31"


def test_the_readme_lists_the_clocks_jobs() -> None:
    # Names, schedules and descriptions as `job list` prints them; after a change to JOBS,
    # paste `bot.clock.readme_table()` into the README's "The clock".
    assert readme_table() in README.read_text(encoding="utf-8")
    rows = [line for line in readme_table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [j.name for j in JOBS]
    assert "| `outbox` | every 15 s, and at once after anything is queued by `web` |" in (
        readme_table()
    )


def test_failures_recorded_by_two_jobs_at_once_are_each_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Fault (found by review): the start-up catch-up and the retry job, both failing with
    # Slack down, could record failed slots at the same moment; one iterated the shared
    # set while the other added to it ("Set changed size during iteration"), and that team's
    # other jobs waited for the next retry.
    monkeypatch.setattr(clock, "_failures", set())
    caplog.set_level(logging.CRITICAL, logger="bot.clock")
    escaped: list[BaseException] = []
    start = threading.Barrier(4)

    def fail(team: str) -> None:
        owner = SimpleNamespace(id=team)
        runtime: Any = SimpleNamespace(
            teams=SimpleNamespace(owning=lambda _: owner), db=SimpleNamespace(scope=None)
        )
        start.wait()
        for i in range(500):
            try:
                clock._failed(runtime, f"job-{i}", date(2025, 11, 3), RuntimeError("Slack down"))
            except RuntimeError as exc:
                escaped.append(exc)

    run_switching_often([threading.Thread(target=fail, args=(f"team-{n}",)) for n in range(4)])
    assert escaped == []
    assert len(clock._failures) == 4 * 500

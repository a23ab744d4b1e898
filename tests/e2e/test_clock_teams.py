"""One clock for many teams: each team's jobs at its own [schedule] times in its own zone,
posting to its own channels with the sprint it is served at that moment; each slot claimed
once per team however many clocks run it; a team between sprints posts nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import select

from bot.clock import JOBS, _schedule, run_job
from bot.outbox import SENDER_THREADS
from storage.models import JobRun
from tests.support.e2e import post_report, text_of
from tests.support.server import Clock, Server, together

TUESDAY = date(2025, 11, 4)  # day 7 of the New York team's sprint, day 2 of Berlin's


def team_file(
    folder: Path,
    team: str,
    zone: str,
    sprints: list[tuple[str, date, int]],
    people: list[str],
    *,
    at: str = "09:00",
    later: tuple[str, str] = ("09:25", "09:30"),
    workdays: str = '"mon", "tue", "wed", "thu", "fri"',
) -> None:
    """A team file: its zone, its own channels and people; reports and prompts `at`,
    standup reminders and digests `later`."""
    runs = "\n".join(
        f'[[sprints]]\nname = "{name}"\ngoal = "{name} goal"\nstart = {start.isoformat()}\n'
        f"days = {days}\ntargets = {{ readiness = 85.0, pass_rate = 90.0 }}\n"
        for name, start, days in sprints
    )
    ids = ", ".join(f'"{p}"' for p in people)
    (folder / f"{team}.toml").write_text(
        f"""[team]
id = "{team}"
name = "Team {team}"
timezone = "{zone}"
workdays = [{workdays}]

{runs}
[channels]
team = "#{team}"
status = "#{team}-status"
blockers = "#{team}-blockers"

[people]
participants = [{ids}]
tech_lead = ["{people[0]}"]
admins = ["{people[0]}"]

[schedule]
daily_report = "{at}"
standup_prompt = "{at}"
standup_reminder = "{later[0]}"
standup_digest = "{later[1]}"

[[escalation]]
after = "0h"
name = "Daily standup discussion"
notify = "team"

[[components]]
name = "Core"
group = "Core"
weight = 1
target = 90
source = "manual"
score = 60
""",
        encoding="utf-8",
    )


def org(tmp_path: Path, *, gap: bool = False) -> Path:
    """Two teams, in New York and Berlin; with `gap`, New York's second sprint starts a
    week after its first ends."""
    folder = tmp_path / "teams"
    folder.mkdir()
    second = date(2025, 11, 17) if gap else date(2025, 11, 12)
    team_file(
        folder,
        "east",
        "America/New_York",
        [("East One", date(2025, 10, 29), 10), ("East Two", second, 10)],
        ["U0EAST1", "U0EAST2"],
    )
    team_file(
        folder, "berlin", "Europe/Berlin", [("Berlin One", date(2025, 11, 3), 14)], ["U0BERLIN"]
    )
    return folder


def scheduler_of(server: Server) -> BackgroundScheduler:
    """The clock's schedule for the server's runtime (not started: the test fires it)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    _schedule(scheduler, server.runtime)
    return scheduler


def fire(scheduler: BackgroundScheduler, clock: Clock, at: datetime) -> dict[str, str]:
    """Move the clock to `at` and run, as the clock does, every job due at that instant;
    what each printed, by job id."""
    clock.at = at
    due = [j for j in scheduler.get_jobs() if _next(j, at - timedelta(seconds=1)) == at]
    return {j.id: j.func(*j.args) for j in due}


def _next(job: Job, after: datetime) -> datetime | None:
    nxt = job.trigger.get_next_fire_time(None, after)
    return None if nxt is None else nxt.astimezone(UTC)


def posts(server: Server, channel: str) -> list[str]:
    return [
        c.args["text"]
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
    ]


def test_each_team_reports_at_its_own_nine_in_its_own_channel(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path)))
    scheduler = scheduler_of(server)
    team_jobs = [j.name for j in JOBS if not j.org]
    assert {j.id for j in scheduler.get_jobs()} == {
        *(f"{team}:{name}" for team in ("east", "berlin") for name in team_jobs),
        *(j.name for j in JOBS if j.org),  # the outbox: once for the whole org
    }
    midnight = datetime(2025, 11, 4, tzinfo=UTC)
    # 09:00 in Berlin (CET) is 08:00 UTC; in New York (EST) 14:00 UTC.
    berlin_nine = datetime(2025, 11, 4, 8, tzinfo=UTC)
    east_nine = datetime(2025, 11, 4, 14, tzinfo=UTC)
    assert _next(scheduler.get_job("berlin:daily-report"), midnight) == berlin_nine
    assert _next(scheduler.get_job("east:daily-report"), midnight) == east_nine

    ran = fire(scheduler, clock, berlin_nine)
    assert ran == {
        "berlin:daily-report": "daily-report: posted",
        "berlin:standup-prompt": "standup-prompt: 1 prompts sent",
        # The weekly report fires with the daily one; its sprint days keep it to them.
        "berlin:weekly-report": "weekly-report: no slot on 2025-11-04",
    }
    [report] = posts(server, "#berlin-status")
    assert report.startswith("Daily report"), report
    assert posts(server, "#east-status") == []
    assert len(posts(server, "U0BERLIN")) == 1
    assert posts(server, "U0EAST1") == []

    ran = fire(scheduler, clock, east_nine)
    assert ran == {
        "east:daily-report": "daily-report: posted",
        "east:standup-prompt": "standup-prompt: 2 prompts sent",
        "east:weekly-report": "weekly-report: no slot on 2025-11-04",
    }
    assert len(posts(server, "#east-status")) == 1
    assert len(posts(server, "#berlin-status")) == 1
    assert len(posts(server, "U0EAST1")) == len(posts(server, "U0EAST2")) == 1
    # Each team's chart went into its own report's thread.
    uploads = server.slack.calls_to("files.completeUploadExternal")
    assert sorted(c.args["channel_id"] for c in uploads) == ["CBERLINSTATUS", "CEASTSTATUS"]

    with server.runtime.contexts.db.session() as session:
        claims = sorted((r.team_id, r.job, r.slot) for r in session.exec(select(JobRun)).all())
    east, berlin = (server.runtime.teams.rows[t].team_id for t in ("east", "berlin"))
    assert claims == sorted(
        (team, job, TUESDAY.isoformat())
        for team in (east, berlin)
        for job in ("daily-report", "standup-prompt")
    )


def test_two_clocks_run_each_teams_slot_once(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    config = str(org(tmp_path))
    clocks = [scheduler_of(make_server(SPRINTBOT_CONFIG=config)) for _ in range(2)]
    clock.at = datetime(2025, 11, 4, 15, tzinfo=UTC)  # past both teams' 9:00
    for team in ("east", "berlin"):
        jobs = [c.get_job(f"{team}:daily-report") for c in clocks]
        results = sorted(together(2, partial(_run, jobs)))
        assert results == [
            "daily-report: already ran for 2025-11-04",
            "daily-report: posted",
        ], results
    server = make_server(SPRINTBOT_CONFIG=config)
    assert len(posts(server, "#east-status")) == len(posts(server, "#berlin-status")) == 1


def _run(jobs: list[Job]) -> str:
    """Each of two clocks' copies of one job, run by its own thread: which one is this
    thread's is decided by who takes it first."""
    job = jobs.pop()
    return str(job.func(*job.args))


def test_a_team_between_sprints_posts_nothing_and_its_next_sprint_starts_by_itself(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path, gap=True)))
    scheduler = scheduler_of(server)
    # Thursday 2025-11-13: East's first sprint ended on the 7th (10 days), its next starts
    # on the 17th; Berlin's runs.
    ran = fire(scheduler, clock, datetime(2025, 11, 13, 14, tzinfo=UTC))
    assert ran == {
        f"east:{job}": f"east:{job}: no sprint running; the next starts on 2025-11-17; "
        "nothing posted"
        for job in ("daily-report", "standup-prompt", "weekly-report")
    }
    assert posts(server, "#east-status") == [] and posts(server, "U0EAST1") == []
    ran = fire(scheduler, clock, datetime(2025, 11, 13, 8, tzinfo=UTC))
    assert ran["berlin:daily-report"] == "daily-report: posted"

    # Monday the 17th: the same clock, not restarted, serves East's second sprint.
    ran = fire(scheduler, clock, datetime(2025, 11, 17, 14, tzinfo=UTC))
    assert ran["east:daily-report"] == "daily-report: posted"
    [report] = posts(server, "#east-status")
    assert report.startswith("Daily report — Day 1 of 10, 2025-11-17"), report
    with server.runtime.contexts.db.session() as session:
        east = server.runtime.teams.rows["east"].team_id
        slots = [r.slot for r in session.exec(select(JobRun).where(JobRun.team_id == east))]
    assert sorted(slots) == ["2025-11-17", "2025-11-17"]


def test_with_the_outbox_worker_running_the_jobs_leave_delivery_to_it(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    # In `sprintbot clock` the outbox worker runs (several sender threads): a team's job
    # queues its messages and wakes it rather than deliver them in the job's own thread,
    # which is then free for the next team's job at a busy minute.
    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path)))
    scheduler = scheduler_of(server)
    worker = server.runtime.worker
    assert len(worker._threads) == SENDER_THREADS > 1
    worker.start()
    try:
        ran = fire(scheduler, clock, datetime(2025, 11, 4, 14, tzinfo=UTC))
        assert ran["east:standup-prompt"] == "standup-prompt: 2 prompts sent"
        deadline = time.monotonic() + 20
        while len(posts(server, "U0EAST1")) + len(posts(server, "U0EAST2")) < 2 or not posts(
            server, "#east-status"
        ):
            assert time.monotonic() < deadline, "the worker did not deliver"
            time.sleep(0.05)
        while not server.slack.calls_to("files.completeUploadExternal"):
            assert time.monotonic() < deadline, "the chart was not uploaded"
            time.sleep(0.05)
    finally:
        worker.stop()
    keys = [key for _, key in server.slack.posted_keys()]
    assert len(keys) == len(set(keys)) == 4, keys  # report, standup message, two prompts


def test_job_run_runs_a_teams_job_for_the_team_it_is_given(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path)))
    clock.at = datetime(2025, 11, 4, 10, tzinfo=UTC)
    east = server.runtime.teams.named("east")
    assert east is not None
    assert run_job(server.runtime, "daily-report", team=east) == "daily-report: posted"
    assert len(posts(server, "#east-status")) == 1 and posts(server, "#berlin-status") == []
    # Without `team`, the runtime's own (the first in file order: berlin); the outbox is
    # the org's whichever team is named.
    assert server.runtime.teams.first.id == "berlin"
    assert run_job(server.runtime, "daily-report") == "daily-report: posted"
    assert len(posts(server, "#berlin-status")) == 1
    assert run_job(server.runtime, "outbox", team=east).startswith("outbox: ")


def _status_reports(server: Server, channel: str) -> list[str]:
    return [
        text_of(c)
        for c in server.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel
    ]


def test_fridays_regressions_reach_a_daily_report_when_the_weekend_has_none(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    # Thursday: all pass. Friday afternoon (after Friday's 9:00 report): 5 regressions.
    # Saturday and Sunday have no report (workdays mon-fri); Monday's report covers only
    # Sunday, so Friday's regressions were never listed in any daily report: it covers the
    # days since Friday's report.
    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path)))
    scheduler = scheduler_of(server)
    clock.at = datetime(2025, 10, 30, 20, tzinfo=UTC)
    assert (
        post_report(
            server, "pytest-xunit1-run1.xml", run="thu", at="2025-10-30T20:00:00Z", team="east"
        ).status_code
        == 201
    )
    fire(scheduler, clock, datetime(2025, 10, 31, 13, tzinfo=UTC))  # Fri 9:00 EDT
    clock.at = datetime(2025, 10, 31, 20, tzinfo=UTC)
    reply = post_report(
        server,
        "pytest-xunit1-run2.xml",
        run="fri",
        commit="bbb",
        at="2025-10-31T20:00:00Z",
        team="east",
    ).json()
    assert len(reply["regressions"]) == 5
    fire(scheduler, clock, datetime(2025, 11, 3, 14, tzinfo=UTC))  # Mon 9:00 EST
    friday, monday = _status_reports(server, "#east-status")
    assert friday.startswith("Daily report — Day 3 of 10, 2025-10-31")
    assert "• Regressed: 0" in friday  # Thursday's changes: none
    assert monday.startswith("Daily report — Day 6 of 10, 2025-11-03")
    assert "*Since Fri 2025-10-31 (3 days)*: 1 CI run(s), 1 report(s)" in monday, monday
    assert "• Regressed: 5" in monday, monday


def test_mondays_thread_lists_every_change_since_friday(
    make_server: Callable[..., Server], clock: Clock, tmp_path: Path
) -> None:
    """With mon-fri workdays, Monday's report counts the changes since Friday ("Since Fri
    2025-10-31 (3 days)", "Regressed: 12", the first 10 named), and the whole lists in its
    thread are of the same days (they were of Sunday alone, with no test in them)."""
    from tests.e2e.test_next_sprint import ci

    server = make_server(SPRINTBOT_CONFIG=str(org(tmp_path)))
    scheduler = scheduler_of(server)
    names = [f"swarm/test_{n:02d}" for n in range(12)]
    ci(
        server,
        dict.fromkeys(names, "passed"),
        "thu",
        datetime(2025, 10, 30, 20, tzinfo=UTC),
        "east",
    )
    fire(scheduler, clock, datetime(2025, 10, 31, 13, tzinfo=UTC))  # Fri 9:00 EDT
    ci(
        server,
        dict.fromkeys(names, "failed"),
        "fri",
        datetime(2025, 10, 31, 20, tzinfo=UTC),
        "east",
    )
    fire(scheduler, clock, datetime(2025, 11, 3, 14, tzinfo=UTC))  # Mon 9:00 EST
    server.runtime.sender.drain()
    sent = server.slack.calls_to("chat.postMessage")
    monday = [
        text_of(c)
        for c in sent
        if c.args.get("channel") == "#east-status" and "2025-11-03" in c.args.get("text", "")
    ]
    assert monday and "Since Fri 2025-10-31 (3 days)" in monday[0], monday
    assert "Regressed: 12" in monday[0], monday[0]
    thread = [text_of(c) for c in sent if "Every test that changed" in text_of(c)]
    assert len(thread) == 1, thread  # Friday's report had nothing to list
    assert thread[0].startswith("Every test that changed since Fri 2025-10-31")
    assert "Regressed (12)" in thread[0], thread[0]

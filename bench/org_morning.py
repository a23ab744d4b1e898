"""A morning for a whole org: every team's 9:00 wave through one clock and one outbox.

N teams (default 50) of 20 people each, every team in its own file with its own channels
and all in one zone, so that every team's 9:00 jobs — the daily report (its burn-down chart
uploaded into the report's thread) and the standup prompt to each of its people — fall due
at the same instant. They run as `sprintbot clock` runs them: the real runtime
(`build_runtime`, one process serving every team), the clock's own scheduler and thread
pool (`bot.clock._schedule`, the wave's jobs due at once), the real outbox sender and its
worker, on PostgreSQL, against the fake Slack on loopback enforcing Slack's ~1 post a
second per channel (429 with Retry-After beyond it).

Measured: the time from 9:00 until the jobs had queued every message, until the last job
finished, and until every message was delivered (the fake Slack holds every report, chart,
standup message and prompt), the 429s Slack answered,
and the database work per team — statements and time in the database, those of the jobs
(run in the team's scope) and the outbox's (run for the whole org), divided by the teams.
The baseline, in the same run, is one team alone. Goal: the whole wave within 2 minutes.

Run: .venv/bin/python -m bench.org_morning [--teams N] [--people N] [--sqlite]
(PostgreSQL at BENCH_POSTGRES_URL, default the bench's own database; its schema is reset).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import event, func
from sqlmodel import col, select

from bench.common import PG_URL, fresh_database, table
from bot import clock
from bot.outbox import SENDER_THREADS, OutboxWorker
from bot.runtime import build_runtime
from bot.settings import build_settings
from storage import scope
from storage.models import OutboxMessage, OutboxStatus
from tests.support.fakeslack import FakeSlack

ZONE = "Europe/Berlin"
NINE = clock_time(9)
# Seconds each Web API call takes to answer: Slack's round trip from a server near it is of
# this order, where the fake on loopback answers in about a millisecond.
LATENCY = 0.1
GOAL = 120.0  # seconds from 9:00 until the wave is delivered
GIVE_UP = 600.0  # seconds to wait for the wave before calling it
TOKEN = "xoxb-bench"  # noqa: S105  (the fake Slack's, not a secret)


def team_file(folder: Path, number: int, *, people: int, start: date, status: str = "") -> None:
    """Team `t<number>`: its own channels (or the `status` channel every team shares),
    `people` participants, reports and prompts at 9:00."""
    team = f"t{number:03d}"
    status = status or f"#{team}-status"
    ids = ", ".join(f'"U{number:03d}P{p:03d}"' for p in range(people))
    (folder / f"{team}.toml").write_text(
        f"""[team]
id = "{team}"
name = "Team {number}"
timezone = "{ZONE}"
workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

[[sprints]]
name = "Sprint of team {number}"
goal = "Ship it"
start = {start.isoformat()}
days = 14
targets = {{ readiness = 85.0, pass_rate = 90.0 }}
[[sprints.milestones]]
day = 7
name = "Checkpoint"
criteria = [{{ metric = "readiness", op = ">=", value = 70 }}]

[channels]
team = "#{team}"
status = "{status}"
blockers = "#{team}-blockers"

[people]
participants = [{ids}]
tech_lead = ["U{number:03d}P000"]
admins = ["U{number:03d}P000"]

[schedule]
daily_report = "09:00"
standup_prompt = "09:00"
standup_reminder = "09:25"
standup_digest = "09:30"

[[escalation]]
after = "0h"
name = "Daily standup discussion"
notify = "team"

[[components]]
name = "Core"
group = "Core"
weight = 3
target = 90
source = "manual"
score = 60
[[components]]
name = "Docs"
group = "Documentation"
weight = 1
target = 100
source = "manual"
score = 40
""",
        encoding="utf-8",
    )


@dataclass
class Wave:
    teams: int
    people: int
    senders: int  # the outbox worker's threads
    jobs: int
    queued: float  # seconds from 9:00 until the last message was queued (the jobs' work)
    jobs_done: float  # seconds from 9:00 until the last job finished (its drain included)
    delivered: float  # seconds from 9:00 until the fake Slack held every message
    messages: int  # posts and uploads delivered
    rate_limited: int  # 429s the fake Slack answered
    failed_jobs: int
    job_statements: int  # in the teams' scopes (the jobs)
    job_db_ms: float
    org_statements: int  # outside any team's scope (the outbox sender)
    org_db_ms: float


class Statements:
    """Statements run on an engine and the time they took, by whose scope ran them."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.ms: defaultdict[str, float] = defaultdict(float)
        self._lock = threading.Lock()
        self._started = threading.local()

    def before(self, *_: Any) -> None:
        self._started.at = time.perf_counter()

    def after(self, *_: Any) -> None:
        took = (time.perf_counter() - getattr(self._started, "at", time.perf_counter())) * 1000
        whose = "team" if in_scope() else "org"
        with self._lock:
            self.count[whose] += 1
            self.ms[whose] += took


def in_scope() -> bool:
    """Whether this thread runs a team's work (a scoped session is open in it)."""
    return scope._current.get() is not None


@contextmanager
def _counting(engine: Any, statements: Statements) -> Iterator[None]:
    event.listen(engine, "before_cursor_execute", statements.before)
    event.listen(engine, "after_cursor_execute", statements.after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", statements.before)
        event.remove(engine, "after_cursor_execute", statements.after)


def wave(
    kind: str,
    *,
    teams: int,
    people: int,
    latency: float,
    status: str = "",
    senders: int = SENDER_THREADS,
) -> Wave:
    """Every team's 9:00 jobs at once through the clock; measured until all is delivered."""
    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    nine = datetime.combine(today, NINE, tzinfo=zone).astimezone(UTC)
    started = time.monotonic()

    def now() -> datetime:  # 9:00 when the wave starts, then the real time passing
        return nine + timedelta(seconds=time.monotonic() - started)

    fake = FakeSlack().start()
    fake.channel_rate = 1.0  # Slack's ~1 post a second per channel
    fake.latency = latency
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind) as db:
        folder = Path(tmp)
        for number in range(1, teams + 1):
            start = today - timedelta(days=2)
            team_file(folder, number, people=people, start=start, status=status)
        url = str(db.engine.url.render_as_string(hide_password=False))
        db.dispose()
        settings = build_settings(
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET="bench-signing-secret",  # noqa: S106
            SLACK_API_URL=fake.url,
            DATABASE_URL=url,
            SPRINTBOT_CONFIG=str(folder),
            SLACK_APP_TOKEN=None,
            SPRINTBOT_SMTP_URL=None,
        )
        runtime = build_runtime(settings, now=now)
        if senders != SENDER_THREADS:
            runtime = replace(runtime, worker=OutboxWorker(runtime.sender, threads=senders))
        scheduler = BackgroundScheduler(
            timezone="UTC",
            executors={"default": {"type": "threadpool", "max_workers": clock.JOB_THREADS}},
        )
        clock._schedule(scheduler, runtime)
        team_runtime = runtime.for_team(runtime.teams.first)
        at_nine = {n for n, at in clock.daily_jobs(team_runtime).items() if at == NINE}
        wave_jobs = [j for j in scheduler.get_jobs() if j.id.split(":")[-1] in at_nine]
        for job in scheduler.get_jobs():
            if job not in wave_jobs:
                job.remove()
        finished: list[float] = []
        failed: list[str] = []

        def done(ev: JobExecutionEvent) -> None:
            finished.append(time.monotonic())
            if ev.exception is not None:
                failed.append(f"{ev.job_id}: {ev.exception!r}")

        scheduler.add_listener(done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        statements = Statements()
        # Per team: the report, the day's standup message in the team channel, a prompt
        # to each person (and the chart, an upload).
        expected = teams * (people + 2)
        engine = runtime.contexts.db.engine
        with _counting(engine, statements):
            runtime.worker.start()  # as `sprintbot clock` runs it
            started = time.monotonic()
            for job in wave_jobs:
                job.modify(next_run_time=datetime.now(UTC))
            scheduler.start()
            try:
                while True:
                    posts = len(fake.messages)
                    uploads = len(fake.calls_to("files.completeUploadExternal"))
                    if (posts >= expected and uploads >= teams) or len(failed) == len(wave_jobs):
                        break
                    if time.monotonic() - started > GIVE_UP:
                        raise SystemExit(f"gave up after {GIVE_UP:.0f} s: {posts} of {expected}")
                    time.sleep(0.05)
                delivered = time.monotonic() - started
                while len(finished) < len(wave_jobs):
                    time.sleep(0.05)
            finally:
                scheduler.shutdown(wait=True)
                runtime.worker.stop()
        with runtime.contexts.db.session() as session:
            left = session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.status) != OutboxStatus.SENT)
            ).one()
            last = session.exec(select(func.max(OutboxMessage.created_at))).one()
        runtime.contexts.db.dispose()
    fake.stop()
    keys = [key for _, key in fake.posted_keys()]
    twice = len(keys) - len(set(keys))
    if failed or left or twice:
        raise SystemExit(
            f"{len(failed)} jobs failed ({failed[:3]}), {left} messages unsent, "
            f"{twice} posted twice"
        )
    return Wave(
        teams=teams,
        people=people,
        senders=senders,
        jobs=len(wave_jobs),
        queued=(_aware(last) - nine).total_seconds(),
        jobs_done=max(finished) - started,
        delivered=delivered,
        messages=posts + uploads,
        rate_limited=fake.rate_limited,
        failed_jobs=len(failed),
        job_statements=statements.count["team"],
        job_db_ms=statements.ms["team"],
        org_statements=statements.count["org"],
        org_db_ms=statements.ms["org"],
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def row(label: str, w: Wave) -> list[object]:
    return [
        label,
        w.teams,
        w.people,
        w.senders,
        w.jobs,
        w.messages,
        f"{w.queued:.1f}",
        f"{w.jobs_done:.1f}",
        f"{w.delivered:.1f}",
        w.rate_limited,
        f"{w.job_statements / w.teams:.0f}",
        f"{w.job_db_ms / w.teams:.0f}",
        f"{w.org_statements / w.teams:.0f}",
        f"{w.org_db_ms / w.teams:.0f}",
        "yes" if w.delivered < GOAL else "NO",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.org_morning", description=__doc__)
    parser.add_argument("--teams", type=int, default=50, help="teams in the org (default 50)")
    parser.add_argument("--people", type=int, default=20, help="people per team (default 20)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument(
        "--latency",
        type=float,
        default=LATENCY,
        help=f"seconds each Slack call takes to answer (default {LATENCY})",
    )
    parser.add_argument(
        "--shared-status",
        action="store_true",
        help="also the org with one status channel for every team (reports paced 1/s)",
    )
    args = parser.parse_args(argv)
    kind = "sqlite" if args.sqlite else "postgresql"
    common: dict[str, Any] = {"people": args.people, "latency": args.latency}
    runs: list[tuple[str, Callable[[], Wave]]] = [
        ("one team alone (baseline)", lambda: wave(kind, teams=1, **common)),
        (
            "the org, one sender thread",
            lambda: wave(kind, teams=args.teams, senders=1, **common),
        ),
        ("the org", lambda: wave(kind, teams=args.teams, **common)),
    ]
    if args.shared_status:
        runs.append(
            (
                "the org, one #sprint-status",
                lambda: wave(kind, teams=args.teams, status="#sprint-status", **common),
            )
        )
    rows = [row(label, run()) for label, run in runs]
    where = "SQLite" if args.sqlite else f"PostgreSQL ({PG_URL.rsplit('/', 1)[-1]})"
    print(
        f"The 9:00 wave on {where}, the fake Slack at 1 post/s per channel, answering in "
        f"{args.latency * 1000:.0f} ms:"
    )
    print(
        table(
            [
                "run",
                "teams",
                "people/team",
                "sender threads",
                "jobs",
                "messages",
                "all queued (s)",
                "jobs done (s)",
                "all delivered (s)",
                "429s",
                "job statements/team",
                "job DB ms/team",
                "outbox statements/team",
                "outbox DB ms/team",
                f"< {GOAL:.0f} s",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()

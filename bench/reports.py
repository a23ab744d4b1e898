"""How long the reports take to compute and render as the suite grows, after a whole
sprint of daily CI runs (13 runs; fixes every day, regressions on day 3).

Baseline, measured in the same run: /readiness (current_status), the computation every
report starts from. Goal: each report within 10x of the baseline and under a second at
20,000 tests, so a 9:00 job or an App Home open never waits on it (the chart's matplotlib
rendering, ~0.1 s, is a fixed cost). The 9:00 job is timed with 20 people's App Homes to
refresh (who opened theirs the day before), each queued, then rolled back.
Run: .venv/bin/python -m bench.reports [--postgres]
"""

from __future__ import annotations

import hashlib
import sys
import tracemalloc
from collections.abc import Callable
from datetime import time, timedelta

from bench.common import fresh_database, median_ms, table
from bot.blocks.home import app_home
from bot.blocks.reports import daily_report, weekly_report
from bot.charts import burndown_png
from bot.demo import junit_runs
from jobs import reports
from jobs.config import load_sprint
from jobs.ingest import RunInfo, ingest_junit
from jobs.numbers import local_instant
from jobs.readiness import current_status
from jobs.tracker import tracker_markdown
from storage.db import Database

SCALES = (1, 10)  # the seed's 2,124 tests, then 21,240
HOMES = 20  # people whose App Home the 9:00 job refreshes


def _peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    sprint = load_sprint("sprint.example.toml")
    now = local_instant(sprint.sprint, sprint.sprint.end, time(9))  # day 14, 09:00
    rows = []
    for kind in kinds:
        for scale in SCALES:
            with fresh_database(kind) as db:
                tests = 0
                for run in junit_runs(sprint, days=13, scale=scale):
                    with db.session() as s:
                        ingest_junit(
                            session=s,
                            sprint=sprint,
                            document=run.xml,
                            digest=hashlib.sha256(run.xml).hexdigest(),
                            info=RunInfo(run=f"r{run.day}", at=run.at),
                            now=run.at,
                        )
                        s.commit()
                    tests = run.xml.count(b"<testcase")
                rows += _measure(kind, tests, db, sprint, now)
    print(
        table(
            ["db", "tests", "what", "median ms", "vs /readiness", "peak MB (Python)"],
            rows,
        )
    )


def _measure(kind: str, tests: int, db: Database, sprint, now) -> list[list[object]]:  # type: ignore[no-untyped-def]
    def readiness() -> None:
        with db.session() as s:
            current_status(session=s, sprint=sprint, now=now)

    def daily() -> None:
        with db.session() as s:
            daily_report(reports.daily_report(session=s, sprint=sprint, participants=[], now=now))

    def weekly() -> None:
        with db.session() as s:
            weekly_report(reports.weekly_report(session=s, sprint=sprint, participants=[], now=now))

    def home() -> None:
        with db.session() as s:
            app_home(reports.home(session=s, sprint=sprint, now=now, user_id="U1", participants=[]))

    def tracker() -> None:
        with db.session() as s:
            tracker_markdown(session=s, sprint=sprint, now=now)

    def chart() -> None:
        with db.session() as s:
            burndown_png(reports.daily_report(session=s, sprint=sprint, participants=[], now=now))

    with db.session() as s:  # HOMES people opened their App Home yesterday
        for n in range(HOMES):
            user = f"U{n:03d}"
            reports.publish_home(
                session=s,
                sprint=sprint,
                now=now - timedelta(days=1),
                user_id=user,
                participants=[],
                key=f"{reports.HOME_KEY}{user}:bench",
            )
        s.commit()

    def morning() -> None:
        with db.session() as s:
            assert reports.morning_report(session=s, sprint=sprint, participants=[], now=now)
            s.rollback()  # (queued again next time)

    base = median_ms(readiness)
    out: list[list[object]] = [
        [
            kind,
            f"{tests:,}",
            "/readiness (baseline)",
            f"{base:.1f}",
            "1.00x",
            f"{_peak_mb(readiness):.1f}",
        ]
    ]
    for name, fn in (
        ("daily report", daily),
        ("weekly report", weekly),
        ("App Home", home),
        ("tracker export", tracker),
        ("daily report + chart PNG", chart),
        (f"the 9:00 job, {HOMES} App Homes to refresh", morning),
    ):
        ms = median_ms(fn, repeat=3)
        out.append(
            [kind, f"{tests:,}", name, f"{ms:.1f}", f"{ms / base:.2f}x", f"{_peak_mb(fn):.1f}"]
        )
    return out


if __name__ == "__main__":
    main()

"""A sprint with six weeks of history before it, fed through the real ingest paths: CI runs
every other day (tests fixed, broken, skipped, erroring, new ones appearing), benchmark
samples, manual scores and standups; then the sprint's own runs (two shards on day 3, new
tests on day 2). Its figures at INSTANTS are pinned in tests/fixtures/history_figures.json,
computed by the walk over all history before `jobs.figures` learned to start at a fold,
so the faster walk and retention's pruning must both give exactly these numbers. (Pinned
again, by the walk over all history, when skips came to be seen through: t04, passed,
skipped, then erroring on day 1, is a regression since. One figure moved when the change
since yesterday became that of the scores as shown: 48.99 after 56.78 is -7.79, not the
-7.78 of the unrounded scores. And once the sprint ended its change since yesterday is
its last day's, since the day before it began: +9.76 from 47.5 %, not 0 since the last
day began.)
"""

from __future__ import annotations

import hashlib
import json
import random
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from jobs import figures
from jobs.config import Sprint, validate_sprint
from jobs.ingest import RunInfo, ingest_junit, ingest_metrics
from jobs.numbers import local_date, local_instant
from jobs.readiness import set_manual_score
from storage.db import Database
from storage.models import Standup

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "history_figures.json"

# A 5-day sprint in New York aiming at 90 % (80 % passing), U0DEV its everyone.
SPRINT_HEAD = """
[sprint]
name = "{name}"
start = 2025-10-29
days = 5
timezone = "America/New_York"

[targets]
readiness = 90.0
pass_rate = 80.0

[channels]
team = "#team"
status = "#status"
blockers = "#blockers"

[people]
participants = ["U0DEV"]
tech_lead = ["U0DEV"]
admins = ["U0DEV"]
"""

SPRINT = (
    SPRINT_HEAD.format(name="History sprint")
    + """
[retention]
results_days = 10
statuses_days = 3
metrics_days = 10
standups_days = 10
margin_days = 2

[[metrics]]
name = "latency"
target = 100
better = "lower"

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

[[components]]
name = "Docs"
weight = 1
target = 100
source = "manual"
score = 40

[[components]]
name = "Speed"
weight = 1
target = 100
source = "metrics"
metrics = ["latency"]

# Its tests change at random: with flaky detection on (4 changes in 20 runs) most would be
# flaky. The walk's figures are what this history checks: a test is flaky only after
# 100 changes in 100 runs, which never happens here.
[flaky]
window = 100
flip_rate = 1.0
"""
)

FILES = ("core/test_a.py", "core/test_b.py", "cli/test_x.py", "cli/test_y.py")
STATUSES = ("P", "P", "P", "F", "E", "S")  # how a changing test lands
NOW = datetime(2025, 11, 2, 14, 30, tzinfo=UTC)  # day 5, 09:30 EST


def sprint() -> Sprint:
    return validate_sprint(tomllib.loads(SPRINT))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return local_instant(sprint().sprint, day, time(hour, minute))


# Pre-sprint instants a day and more after the retention horizon (2025-10-23 14:30 UTC: a
# figure as of an instant also looks at the day before it), every sprint day, the sprint's
# start, now, and after the sprint ended.
INSTANTS = (
    local(date(2025, 10, 24), 12),
    local(date(2025, 10, 25), 12),
    local(date(2025, 10, 28), 12),
    local(date(2025, 10, 29), 0),
    local(date(2025, 10, 29), 12),
    local(date(2025, 10, 30), 9, 30),
    local(date(2025, 10, 31), 12),
    local(date(2025, 11, 1), 23, 59),
    NOW,
    local(date(2025, 11, 6), 12),
)


def _junit(statuses: dict[str, str], names: list[str]) -> bytes:
    cases = []
    for name in names:
        file = FILES[int(name[1:]) % len(FILES)]
        body = {
            "F": '<failure message="boom">boom</failure>',
            "E": '<error message="crash">crash</error>',
            "S": "<skipped/>",
        }.get(statuses[name], "")
        classname = file.removesuffix(".py").replace("/", ".")
        cases.append(
            f'<testcase classname="{classname}" name="{name}" file="{file}">{body}</testcase>'
        )
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def _ingest(db: Database, s: Sprint, doc: bytes, run: str, at: datetime) -> None:
    with db.session() as session:
        ingest_junit(
            session=session,
            sprint=s,
            document=doc,
            digest=hashlib.sha256(doc).hexdigest(),
            info=RunInfo(run=run, at=at),
            now=at,
        )
        session.commit()


def _metric(db: Database, s: Sprint, value: float, at: datetime) -> None:
    with db.session() as session:
        ingest_metrics(session=session, sprint=s, body={"metrics": {"latency": value}}, now=at)
        session.commit()


def _score(db: Database, s: Sprint, score: float, at: datetime) -> None:
    with db.session() as session:
        set_manual_score(
            session=session, sprint=s, component="Docs", score=score, user_id="U0DEV", now=at
        )
        session.commit()


def build(db: Database) -> Sprint:
    """Store the scenario; returns its sprint file."""
    s = sprint()
    rng = random.Random(7)  # noqa: S311 (a repeatable scenario, not a secret)
    names = [f"t{i:02d}" for i in range(24)]
    statuses = {n: rng.choice(STATUSES) for n in names}
    day = date(2025, 9, 15)
    run = 0
    while day < date(2025, 10, 29):
        at = local(day, 10)
        run += 1
        for n in rng.sample(names, 5):
            statuses[n] = rng.choice(STATUSES)
        if day == date(2025, 10, 1):
            names += ["t90", "t91", "t92"]
            statuses.update(t90="P", t91="F", t92="S")
        _ingest(db, s, _junit(statuses, names), f"pre-{run}", at)
        if run % 2 == 0:
            _metric(db, s, 150 - run * 2.5, at + timedelta(minutes=5))
        if day in (date(2025, 9, 20), date(2025, 10, 10), date(2025, 10, 25)):
            _score(db, s, 40 + run, at + timedelta(hours=1))
        day += timedelta(days=2)
    for d in range(1, 5):
        day = date(2025, 10, 28) + timedelta(days=d)
        for hour in (10, 15):
            at = local(day, hour)
            for n in rng.sample(names, 4):
                statuses[n] = rng.choice(STATUSES)
            if d == 2 and hour == 10:
                names += ["t93", "t94"]
                statuses.update(t93="F", t94="P")
            if d == 3 and hour == 10:  # two shards of one run
                half = len(names) // 2
                _ingest(db, s, _junit(statuses, names[:half]), f"day{d}-{hour}", at)
                _ingest(
                    db,
                    s,
                    _junit(statuses, names[half:]),
                    f"day{d}-{hour}",
                    at + timedelta(minutes=5),
                )
            else:
                _ingest(db, s, _junit(statuses, names), f"day{d}-{hour}", at)
        _metric(db, s, 120 - d * 5, local(day, 16))
        if d == 2:
            _score(db, s, 75, local(day, 11))
    with db.session() as session:
        for day in (date(2025, 10, 1), date(2025, 10, 20), date(2025, 10, 30)):
            at = local(day, 9, 20)
            session.add(
                Standup(
                    user_id="U0DEV",
                    day=day,
                    sprint_day=(day - s.sprint.start).days + 1,
                    yesterday="tests",
                    today="more tests",
                    created_at=at,
                    updated_at=at,
                )
            )
        session.commit()
    return s


def snapshot(fig: figures.Figures) -> dict[str, Any]:
    """Every figure, as JSON values: the API's dict, the tests behind the counts, each day's
    row and the coverage by component."""
    t = fig.tests
    data = {
        **fig.as_dict(),
        "ids": {
            "fixed": sorted(t.fixed_ids),
            "regressions_introduced": sorted(t.regressions_introduced_ids),
            "regressions_open": sorted(t.regressions_open_ids),
            "new_failures_open": sorted(t.new_failures_open_ids),
        },
        "days": [
            {**d.as_dict(), "active": d.active, "readiness_raw": d.readiness} for d in fig.days
        ],
        "coverage": sorted(
            [str(k), c.total, c.passing, c.failing, c.skipped] for k, c in fig.coverage.items()
        ),
        "previous_raw": fig.previous,
        "score_raw": fig.score,
        "baseline_raw": fig.baseline_measured,
    }
    normal: dict[str, Any] = json.loads(json.dumps(data))
    return normal


def figures_at(
    db: Database, s: Sprint, instants: tuple[datetime, ...] = INSTANTS
) -> dict[str, Any]:
    """The snapshot at each instant (by default INSTANTS), keyed by its ISO time."""
    out = {}
    with db.read() as session:
        for at in instants:
            out[at.isoformat()] = snapshot(figures.compute(session=session, sprint=s, at=at))
    return out


# NOW minus results_days (10): earlier than the sprint's start minus its margin of 2 days.
HORIZON = datetime(2025, 10, 23, 14, 30, tzinfo=UTC)
# Figures as of an instant look back to when the day before it began ("change since
# yesterday"): exact for every instant whose previous local day began after the horizon.
KEPT = tuple(
    at
    for at in INSTANTS
    if figures.day_start(sprint().sprint, local_date(sprint().sprint, at) - timedelta(days=1))
    >= HORIZON
)

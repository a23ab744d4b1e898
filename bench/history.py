"""History that grows for months: a season of CI (20,000 tests x 150 runs, ~1 % of the
tests changing each run) with standups, blockers, risks, manual scores and benchmark
samples over 75 days, the sprint file's sprint running at its end; then how long each
surface takes on it (daily and weekly report, /sprint, App Home, GET /api/v1/sprint, the
tracker export), how big the database is, and the same after `[retention]` pruned it.

Same-run baselines: a plain `SELECT count(*)` over test_result, and every surface on a
database holding one run of the same suite. The season is stored with bulk inserts of
exactly the rows ingestion writes (`shape_check` proves it on a small season against
real ingestion), then one more run goes through `jobs.ingest.receive_junit` to measure
the growth of a real run. Goal: every surface < 1 s on SQLite and PostgreSQL.

/sprint and App Home usually answer from the figures kept ready (jobs/ready.py); they are
timed here as a cold build, `figures.compute` then the surface, as `?at=` always is.

Run: .venv/bin/python -m bench.history [--tests 20000] [--runs 150] [--days 75]
     [--repeat 3] [--sqlite-only] [--no-baseline] [--no-shape-check]
     (PostgreSQL: BENCH_POSTGRES_URL; about a minute on 2 cores)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, text
from sqlmodel import Session, col

from bench.common import fresh_database, median_ms, table
from bot.blocks import history as history_blocks
from bot.blocks import home as home_blocks
from bot.blocks import reports as report_blocks
from bot.blocks.tests import render_history
from bot.demo import EXAMPLE, SUITE
from jobs import figures, reports, retention, standups, tests_history, tracker
from jobs import history as sprint_outcomes
from jobs.components import ComponentMap
from jobs.config import Retention, Source, Sprint, load_sprint
from jobs.ingest import RunInfo, receive_junit
from jobs.numbers import TestCounts, breakdown, local_instant
from jobs.ready import Ready
from storage import queries
from storage.db import Database
from storage.models import (
    Blocker,
    Event,
    KnownTest,
    ManualScore,
    MetricSample,
    OutboxMessage,
    OutboxStatus,
    ReadinessSnapshot,
    Risk,
    Standup,
    TestReport,
    TestResult,
)

STATUS = ("passed", "failed", "error", "skipped")  # the codes below; junit.STATUSES' order
PASSED, FAILED, ERROR, SKIPPED = range(4)
FAILING = (FAILED, ERROR)
MESSAGE = {FAILED: "AssertionError: expected ready", ERROR: "RuntimeError: agent crashed"}
PEOPLE = [f"U0DEV{i:02d}" for i in range(8)]
ADMIN = "U0TECHLEAD"
BATCH = 5000


def _key(classname: str, name: str) -> str:
    """known_test.key as ingestion computes it."""
    return queries.test_key(classname, name)


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    file: str
    component: str | None
    key: str


@dataclass
class Run:
    """One CI run as the season generates it: what ingestion would have been sent."""

    index: int
    at: datetime
    new: list[int]  # cases first seen, in the order ingestion inserts them (by key)
    changed: list[tuple[int, int, int]]  # (case, old, new)
    statuses: bytes  # the packed statuses of every test in the report
    counts: list[int]  # per status code
    tests: int
    components: dict[str, TestCounts]  # after the run, per component


@dataclass
class Season:
    """A deterministic season of CI and team activity over `days` days ending at `end`."""

    sprint: Sprint
    tests: int
    runs: int
    days: int
    end: datetime  # "now": the sprint's day 10, 09:30 local
    seed: int = 13
    cases: list[Case] = field(default_factory=list)
    status: bytearray = field(default_factory=bytearray)
    seen: bytearray = field(default_factory=bytearray)

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    def run_at(self, r: int) -> datetime:
        """Runs spread evenly over the season, the last one the evening before `end`."""
        span = self.end - timedelta(hours=16) - self.start
        return self.start + span * (r + 1) / self.runs

    def build_cases(self) -> None:
        extra = (self.runs // 5) * max(self.tests // 500, 1)
        pool = self.tests + extra
        files = [(path, n) for area in SUITE for path, n, _ in area.files]
        total = sum(n for _, n in files)
        mapper = ComponentMap(self.sprint)
        per_file = [max(1, round(n * pool / total)) for _, n in files]
        per_file[-1] += pool - sum(per_file)
        cases = []
        for (path, _), count in zip(files, per_file, strict=True):
            file, classname = f"tests/{path}.py", "tests." + path.replace("/", ".")
            component = mapper(file, classname)
            for i in range(count):
                name = f"test_case_{i:05d}"
                cases.append(Case(classname, name, file, component, _key(classname, name)))
        rng = random.Random(self.seed)
        order = list(range(len(cases)))
        rng.shuffle(order)
        # The first `tests` of a shuffled order are the initial suite; the rest come later.
        self.cases = [cases[i] for i in order]
        self.status = bytearray(len(cases))
        self.seen = bytearray(len(cases))

    def report_order(self) -> list[int]:
        """The order CI lists the tests in: by file."""
        return sorted(range(len(self.cases)), key=lambda i: (self.cases[i].file, i))

    def generate(self) -> Iterator[Run]:
        """Every run in order, ~1 % of the known tests changing in each: fixes, regressions,
        flaky tests flipping, skips coming and going, errors turning into failures."""
        self.build_cases()
        rng = random.Random(self.seed + 1)
        n = self.tests
        flaky = set(rng.sample(range(n), max(n * 3 // 1000, 1)))
        report_order = self.report_order()
        suffix = [f"\t{c.classname}\t{c.name}" for c in self.cases]
        next_new = n
        comp_counts: dict[str, list[int]] = {}

        def count(i: int, sign: int) -> None:
            comp = self.cases[i].component
            if comp is not None:
                c = comp_counts.setdefault(comp, [0, 0])
                c[0] += sign * (self.status[i] == PASSED)
                c[1] += sign

        for r in range(self.runs):
            new: list[int] = []
            changed: list[tuple[int, int, int]] = []
            if r == 0:
                for i in range(n):
                    x = rng.random()
                    self.status[i] = (
                        FAILED if x < 0.17 else ERROR if x < 0.19 else SKIPPED if x < 0.2 else 0
                    )
                    new.append(i)
            else:
                touched: dict[int, int] = {}
                for i in flaky:
                    if rng.random() < 0.5:
                        touched[i] = FAILED if self.status[i] == PASSED else PASSED
                known = range(next_new)
                failing = [i for i in known if self.status[i] in FAILING and i not in flaky]
                passing = [i for i in known if self.status[i] == PASSED and i not in flaky]
                for i in rng.sample(failing, min(len(failing), n * 35 // 10000)):
                    touched[i] = PASSED
                for i in rng.sample(passing, min(len(passing), n * 3 // 1000)):
                    touched[i] = FAILED if rng.random() < 0.9 else ERROR
                for i in rng.sample(range(next_new), max(n // 2000, 1)):
                    if self.status[i] in (PASSED, SKIPPED) and i not in touched:
                        touched[i] = SKIPPED if self.status[i] == PASSED else PASSED
                for i in rng.sample(failing, min(len(failing), max(n // 2000, 1))):
                    if i not in touched:
                        touched[i] = ERROR if self.status[i] == FAILED else FAILED
                for i, s in sorted(touched.items()):
                    if s != self.status[i]:
                        changed.append((i, self.status[i], s))
                if r % 5 == 0:
                    for i in range(next_new, next_new + max(n // 500, 1)):
                        self.status[i] = FAILED if rng.random() < 0.2 else PASSED
                        new.append(i)
                    next_new += max(n // 500, 1)
            for i, _old, s in changed:
                count(i, -1)
                self.status[i] = s
                count(i, +1)
            for i in new:
                self.seen[i] = 1
                count(i, +1)
            new.sort(key=lambda i: self.cases[i].key)
            statuses, counts, tests = self._pack(report_order, suffix)
            yield Run(
                index=r,
                at=self.run_at(r),
                new=new,
                changed=changed,
                statuses=statuses,
                counts=counts,
                tests=tests,
                components={
                    k: TestCounts(passed=p, total=t) for k, (p, t) in comp_counts.items() if t
                },
            )

    def _pack(self, order: list[int], suffix: list[str]) -> tuple[bytes, list[int], int]:
        """Every seen test's status in report order, packed as ingestion packs them."""
        packer = zlib.compressobj(1)
        status, seen = self.status, self.seen
        counts = [0, 0, 0, 0]
        lines = [i for i in order if seen[i]]
        out = []
        for start in range(0, len(lines), 4096):
            chunk = lines[start : start + 4096]
            for i in chunk:
                counts[status[i]] += 1
            body = "\n".join(STATUS[status[i]] + suffix[i] for i in chunk)
            out.append(packer.compress((body + "\n").encode()))
        out.append(packer.flush())
        return b"".join(out), counts, len(lines)

    def junit(self, changes: dict[int, int] | None = None) -> bytes:
        """The current statuses as a JUnit document (with `changes` applied first)."""
        for i, s in (changes or {}).items():
            self.status[i] = s
            self.seen[i] = 1
        cases = []
        for i in self.report_order():
            c = self.cases[i]
            if not self.seen[i]:
                continue
            s = self.status[i]
            body = (
                f'<failure message="{MESSAGE[FAILED]}"/>'
                if s == FAILED
                else f'<error message="{MESSAGE[ERROR]}"/>'
                if s == ERROR
                else "<skipped/>"
                if s == SKIPPED
                else ""
            )
            cases.append(
                f'<testcase classname="{c.classname}" name="{c.name}" file="{c.file}" '
                f'time="0.01">{body}</testcase>'
            )
        return f'<testsuite name="ci">{"".join(cases)}</testsuite>'.encode()


# -- the fill ------------------------------------------------------------------------------


def _ref(c: Case) -> dict[str, Any]:
    return {
        "id": f"{c.classname}::{c.name}",
        "classname": c.classname,
        "name": c.name,
        "file": c.file,
        "component": c.component,
    }


def _insert(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    target: Table = model.__table__
    for start in range(0, len(rows), BATCH):
        session.execute(insert(target), list(rows[start : start + BATCH]))


def fill(db: Database, season: Season, *, progress: bool = True) -> dict[str, int]:
    """Store the season with bulk inserts: the rows ingestion, the standup modal, the
    blocker and risk flows, /readiness set and the metrics API would have written."""
    sprint = season.sprint
    started = time.perf_counter()
    rng = random.Random(season.seed + 2)
    reports_rows: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    manual_rows: list[dict[str, Any]] = []
    test_id: dict[int, int] = {}
    first_seen: dict[int, datetime] = {}
    first_report: dict[int, int] = {}
    last_change: dict[int, tuple[int, datetime]] = {}
    manual = {c.name: c.score or 0.0 for c in sprint.components if c.source is Source.MANUAL}
    metric_values: dict[str, float] = {}
    score: float | None = None

    def snapshot(at: datetime, cause: str, comps: dict[str, TestCounts], run: Run | None) -> None:
        nonlocal score
        bd = breakdown(sprint, tests=comps, manual=manual, metric_values=metric_values)
        data: dict[str, Any] = {**bd.as_dict()}
        if run is not None:
            failing = run.counts[FAILED] + run.counts[ERROR]
            data["tests"] = {"passed": run.counts[PASSED], "failing": failing, "known": run.tests}
        snapshots.append(
            {"at": at, "score": bd.score, "cause": cause, "breakdown": data, "id": None}
        )
        score = bd.score

    comps: dict[str, TestCounts] = {}
    for run in season.generate():
        report_id = run.index + 1
        at = run.at
        for i in run.new:
            test_id[i] = len(test_id) + 1
            first_seen[i] = at
            first_report[i] = report_id
        for i in run.new:
            s = season.status[i]
            if s != PASSED:
                results.append(
                    {
                        "report_id": report_id,
                        "test_id": test_id[i],
                        "status": STATUS[s],
                        "previous_status": None,
                        "message": MESSAGE.get(s),
                    }
                )
        for i, old, s in run.changed:
            results.append(
                {
                    "report_id": report_id,
                    "test_id": test_id[i],
                    "status": STATUS[s],
                    "previous_status": STATUS[old],
                    "message": MESSAGE.get(s),
                }
            )
            last_change[i] = (report_id, at)
        previous = score
        comps = run.components
        snapshot(at, f"report:{report_id}", comps, run)
        reports_rows.append(
            {
                "id": report_id,
                "run": f"ci-{report_id}",
                "commit": hashlib.sha1(str(report_id).encode()).hexdigest(),  # noqa: S324
                "branch": sprint.sprint.branch,
                "url": f"https://ci.example.com/runs/{report_id}",
                "at": at,
                "received_at": at,
                "digest": hashlib.sha256(f"season-{report_id}".encode()).hexdigest(),
                **_counts(run),
                "flaky": 0,
                "statuses": run.statuses,
                "reply": _reply(season, run, report_id, score=score, previous=previous),
            }
        )
        # Benchmarks after each run, a manual score now and then.
        metrics_at = at + timedelta(minutes=5)
        for m in sprint.metrics:
            base = m.baseline if m.baseline is not None else m.target
            drift = (m.target - base) * run.index / max(season.runs - 1, 1)
            value = round((base + drift) * (1 + rng.uniform(-0.05, 0.05)), 3)
            metric_values[m.name] = value
            samples.append(
                {
                    "name": m.name,
                    "value": value,
                    "at": metrics_at,
                    "commit": None,
                    "received_at": metrics_at,
                }
            )
        snapshot(metrics_at, "metrics", comps, None)
        if run.index % 12 == 6 and manual:
            name = sorted(manual)[run.index // 12 % len(manual)]
            old_score = manual[name]
            manual[name] = min(old_score + 5, 100.0)
            set_at = at + timedelta(hours=1)
            manual_rows.append(
                {
                    "component": name,
                    "score": manual[name],
                    "previous": old_score,
                    "set_by": ADMIN,
                    "set_at": set_at,
                    "note": None,
                }
            )
            snapshot(set_at, f"manual:{name}", comps, None)

    known = []
    for i, tid in sorted(test_id.items(), key=lambda x: x[1]):
        c, s = season.cases[i], season.status[i]
        report_id, changed_at = last_change.get(i, (first_report[i], first_seen[i]))
        known.append(
            {
                "id": tid,
                "branch": sprint.sprint.branch,
                "key": c.key,
                "classname": c.classname,
                "name": c.name,
                "file": c.file,
                "component": c.component,
                "status": STATUS[s],
                "message": MESSAGE.get(s),
                "first_seen_at": first_seen[i],
                "changed_at": changed_at,
                "last_report_id": report_id,
                "muted": False,
                "alert_id": None,
            }
        )
    for row in snapshots:
        del row["id"]
    people = _people_rows(season, rng)
    with db.session() as session:
        _insert(session, TestReport, reports_rows)
        _insert(session, KnownTest, known)
        _insert(session, TestResult, results)
        _insert(session, ReadinessSnapshot, snapshots)
        _insert(session, MetricSample, samples)
        _insert(session, ManualScore, manual_rows)
        for model, rows in people:
            _insert(session, model, rows)
        _fix_sequences(session)
        session.commit()
    if progress:
        print(
            f"  filled {season.tests:,} tests x {season.runs} runs in "
            f"{time.perf_counter() - started:.1f} s: {len(results):,} change rows"
        )
    return {"results": len(results), "reports": len(reports_rows), "known": len(known)}


def _counts(run: Run) -> dict[str, int]:
    """A run's tests and its counts by status, as its report row and its reply keep them."""
    return {
        "tests": run.tests,
        "passed": run.counts[PASSED],
        "failed": run.counts[FAILED],
        "errors": run.counts[ERROR],
        "skipped": run.counts[SKIPPED],
    }


def _reply(
    season: Season, run: Run, report_id: int, *, score: float | None, previous: float | None
) -> dict[str, Any]:
    """The reply ingestion keeps with a report (the lists name the tests)."""
    cases = season.cases
    status = season.status
    kinds: dict[str, list[dict[str, Any]]] = {
        "regressions": [],
        "fixed": [],
        "new_failures": [],
        "newly_skipped": [],
    }
    for i, old, s in run.changed:
        if old == PASSED and s in FAILING:
            kinds["regressions"].append(_ref(cases[i]))
        elif old in FAILING and s == PASSED:
            kinds["fixed"].append(_ref(cases[i]))
        elif s == SKIPPED:
            kinds["newly_skipped"].append(_ref(cases[i]))
    kinds["new_failures"] = [_ref(cases[i]) for i in run.new if status[i] in FAILING]
    return {
        "run": f"ci-{report_id}",
        "report": report_id,
        **_counts(run),
        "unique_tests": run.tests,
        "flaky_count": 0,
        **kinds,
        "still_failing": 0,
        "flaky": [],
        "flaky_found": [],
        "readiness": {
            "score": None if score is None else round(score, 2),
            "previous": None if previous is None else round(previous, 2),
        },
        "impact": None,
        "alert": None,
    }


def _people_rows(season: Season, rng: random.Random) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Standups on every workday, blockers every other day, a dozen risks with their status
    changes: what the team's Slack side stores over the season."""
    info = season.sprint.sprint
    first = season.start.astimezone(info.tz).date()
    last = season.end.astimezone(info.tz).date()
    standups, blockers, risks, events = [], [], [], []
    day = first
    while day < last:
        if day.weekday() < 5:
            at = local_instant(info, day, clock_time(9, 20))
            for user in PEOPLE:
                skipped = rng.random() < 0.05
                answers = {
                    "yesterday": "Fixed flaky tests in the swarm coordinator; reviewed PRs.",
                    "today": "Work on memory eviction regressions and the CLI init tests.",
                    "blockers": "None" if rng.random() < 0.8 else "Waiting on CI capacity.",
                    "action_items": "Pair with QA on the e2e suite.",
                }
                standups.append(
                    {
                        "user_id": user,
                        "day": day,
                        "sprint_day": (day - info.start).days + 1,
                        "skipped": skipped,
                        "reason": "away" if skipped else None,
                        **(dict.fromkeys(answers) if skipped else answers),
                        "answers": {} if skipped else answers,
                        "metrics": {"readiness": 70.0, "passing": season.tests * 8 // 10},
                        "edits": 0,
                        "channel": "C0TEAM",
                        "ts": f"{at.timestamp():.6f}",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
        day += timedelta(days=1)
    components = [c.name for c in season.sprint.components]
    blocker_id = 0
    t = season.start + timedelta(hours=30)
    while t < season.end - timedelta(hours=2):
        blocker_id += 1
        severity = "P0" if rng.random() < 0.1 else "P1" if rng.random() < 0.45 else "P2"
        resolved = t + timedelta(hours=rng.uniform(4, 60))
        still_open = resolved > season.end
        blockers.append(
            {
                "id": blocker_id,
                "component": rng.choice(components),
                "description": "CI runners run out of memory during the swarm suite",
                "severity": severity,
                "owner": rng.choice(PEOPLE),
                "reported_by": rng.choice(PEOPLE),
                "reported_at": t,
                "escalation_level": 1,
                "escalated_at": t + timedelta(hours=1),
                "resolved_by": None if still_open else ADMIN,
                "resolved_at": None if still_open else resolved,
                "resolution": None if still_open else "Bigger runners",
            }
        )
        events.append(_event("blocker", blocker_id, "created", t, {}))
        if not still_open:
            events.append(_event("blocker", blocker_id, "resolved", resolved, {}))
        t += timedelta(hours=rng.uniform(30, 66))
    for risk_id in range(1, 13):
        created = season.start + (season.end - season.start) * (risk_id - 0.5) / 12
        status, was = "Active", "Active"
        events.append(_event("risk", risk_id, "created", created, {}))
        for step, new in enumerate(("Critical", "Mitigated", "Resolved")):
            at = created + timedelta(days=2 + 3 * step)
            if at >= season.end or rng.random() < 0.3:
                break
            events.append(_event("risk", risk_id, "status", at, {"old": was, "new": new}))
            was = status = new
        risks.append(
            {
                "id": risk_id,
                "description": f"Risk {risk_id}: the consensus protocol may not scale",
                "impact": rng.choice(("High", "Medium", "Low")),
                "probability": rng.choice(("High", "Medium", "Low")),
                "mitigation": "Load test weekly",
                "owner": rng.choice(PEOPLE),
                "status": status,
                "created_by": ADMIN,
                "created_at": created,
                "updated_at": created,
            }
        )
    return [(Standup, standups), (Risk, risks), (Blocker, blockers), (Event, events)]


def fill_outbox(db: Database, season: Season) -> tuple[int, int]:
    """What a team's mornings leave in the outbox over the season, delivered: each workday's
    standup prompts, the daily report and its thread, the standup digest, and everyone's App
    Home refreshed. One morning is queued by the real jobs on the season's last day; its
    rows, as they are, stand for every workday's (keys and times moved to that day). Returns
    (rows, bytes of payload)."""
    sprint, info = season.sprint, season.sprint.sprint
    end = season.end
    with db.session() as session:
        standups.prompt(session=session, sprint=sprint, participants=PEOPLE, now=end)
        reports.post_daily_report(session=session, sprint=sprint, participants=PEOPLE, now=end)
        standups.digest(session=session, sprint=sprint, participants=PEOPLE, now=end)
        for user in PEOPLE:
            reports.publish_home(
                session=session,
                sprint=sprint,
                now=end,
                user_id=user,
                participants=PEOPLE,
                key=f"{reports.HOME_KEY}{user}:{end.isoformat()}",
            )
        queued = select(OutboxMessage).order_by(col(OutboxMessage.id))
        morning = session.execute(queued).scalars().all()
        rows: list[dict[str, Any]] = []
        last = end.astimezone(info.tz).date()
        day = season.start.astimezone(info.tz).date()
        while day <= last:
            back = last - day
            if day.weekday() < 5:
                stamp = f"@{day.isoformat()}" if back else ""
                for m in morning:
                    at = m.created_at - back
                    rows.append(
                        {
                            "key": m.key + stamp,
                            "method": m.method,
                            "payload": m.payload,
                            "parent_key": m.parent_key + stamp if m.parent_key else None,
                            "status": OutboxStatus.SENT,
                            "attempts": 1,
                            "created_at": at,
                            "next_attempt_at": at,
                            "sent_at": at,
                            "result": {"ok": True, "channel": "C0STATUS", "ts": "1.000100"},
                            "lane": m.lane,
                        }
                    )
            day += timedelta(days=1)
        session.execute(delete(OutboxMessage))
        _insert(session, OutboxMessage, rows)
        session.commit()
    return len(rows), sum(len(json.dumps(r["payload"])) for r in rows)


def _event(subject: str, subject_id: int, action: str, at: datetime, detail: dict[str, Any]) -> Any:
    return {
        "subject": subject,
        "subject_id": subject_id,
        "action": action,
        "actor": ADMIN,
        "at": at,
        "detail": detail,
    }


def _fix_sequences(session: Session) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in (TestReport, KnownTest, Blocker, Risk):
        name = model.__tablename__
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {name}))"
            )
        )


# -- the shape check -----------------------------------------------------------------------


def _dump(db: Database) -> dict[str, Any]:
    """The history tables as comparable values: tests by identity, no ids or reply."""
    with db.read() as s:
        tests = {
            r.id: r
            for r in s.execute(select(KnownTest.__table__)).all()  # type: ignore[attr-defined]
        }
        reports_by_id = {
            r.id: r
            for r in s.execute(select(TestReport.__table__)).all()  # type: ignore[attr-defined]
        }
        order = {rid: n for n, rid in enumerate(sorted(reports_by_id))}
        known = sorted(
            (
                t.classname,
                t.name,
                t.key,
                t.file,
                t.component,
                t.status,
                t.message,
                t.first_seen_at,
                t.changed_at,
                order[t.last_report_id],
            )
            for t in tests.values()
        )
        results = sorted(
            (
                order[r.report_id],
                tests[r.test_id].classname,
                tests[r.test_id].name,
                r.status,
                r.previous_status,
                r.message,
            )
            for r in s.execute(select(TestResult.__table__)).all()  # type: ignore[attr-defined]
        )
        reps = [
            (
                r.tests,
                r.passed,
                r.failed,
                r.errors,
                r.skipped,
                r.flaky,
                r.at,
                r.received_at,
                zlib.decompress(r.statuses),
                sorted(r.reply),
            )
            for _, r in sorted(reports_by_id.items())
        ]
    return {"known_test": known, "test_result": results, "test_report": reps}


def shape_check(sprint: Sprint, *, tests: int = 400, runs: int = 11) -> list[str]:
    """Store a small season both ways, through `receive_junit` run by run and with the bulk
    fill, and list where the history tables differ (empty: the same rows)."""
    end = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)
    bulk_season = Season(sprint=sprint, tests=tests, runs=runs, days=10, end=end)
    with fresh_database("sqlite") as db:
        fill(db, bulk_season, progress=False)
        bulk = _dump(db)
    season = Season(sprint=sprint, tests=tests, runs=runs, days=10, end=end)
    with fresh_database("sqlite") as db:
        for run in season.generate():
            doc = season.junit()
            receive_junit(
                db=db,
                sprint=sprint,
                document=doc,
                digest=hashlib.sha256(doc).hexdigest(),
                info=RunInfo(run=f"ci-{run.index + 1}", at=run.at),
                now=run.at,
            )
        real = _dump(db)
    problems = []
    for name, rows in real.items():
        if rows != bulk[name]:
            diff = next(
                (f"{a!r} != {b!r}" for a, b in zip(rows, bulk[name], strict=False) if a != b),
                f"{len(rows)} rows != {len(bulk[name])}",
            )
            problems.append(f"{name}: {diff}"[:400])
    return problems


# -- the surfaces ----------------------------------------------------------------------------


def surfaces(db: Database, sprint: Sprint, now: datetime) -> dict[str, Callable[[], object]]:
    """Each surface as its handler runs it: computed in a read session, then rendered."""

    def daily() -> object:
        with db.read() as s:
            data = reports.daily_report(session=s, sprint=sprint, participants=PEOPLE, now=now)
        return report_blocks.daily_report(data)

    def weekly() -> object:
        with db.read() as s:
            data = reports.weekly_report(session=s, sprint=sprint, participants=PEOPLE, now=now)
        return report_blocks.weekly_report(data)

    # /sprint, App Home and the API read the figures kept ready (jobs/ready.py); timed
    # first as a cold build (figures.compute, then the surface), then as they answer.
    def status() -> object:
        with db.read() as s:
            fig = figures.compute(session=s, sprint=sprint, at=now)
        return report_blocks.sprint_status(reports.sprint_status(fig=fig, now=now))

    def home() -> object:
        with db.read() as s:
            fig = figures.compute(session=s, sprint=sprint, at=now)
            data = reports.home(
                session=s, sprint=sprint, now=now, user_id=PEOPLE[0], participants=PEOPLE, fig=fig
            )
        return home_blocks.app_home(data)

    def api() -> object:
        with db.read() as s:
            return json.dumps(figures.compute(session=s, sprint=sprint, at=now).as_dict())

    def api_past() -> object:
        at = local_instant(sprint.sprint, sprint.sprint.start + timedelta(days=3), clock_time(12))
        with db.read() as s:
            return json.dumps(figures.compute(session=s, sprint=sprint, at=at).as_dict())

    def export() -> object:
        with db.read() as s:
            return tracker.tracker_markdown(session=s, sprint=sprint, now=now)

    # As a running process answers: from its build of the figures (made once, here).
    ready = Ready(db=db, sprint=sprint)
    ready.figures(now)
    ready.settle()

    def status_ready() -> object:
        return report_blocks.sprint_status(reports.sprint_status(fig=ready.figures(now), now=now))

    def home_ready() -> object:
        fig = ready.figures(now)
        with db.read() as s:
            data = reports.home(
                session=s, sprint=sprint, now=now, user_id=PEOPLE[0], participants=PEOPLE, fig=fig
            )
        return home_blocks.app_home(data)

    def api_ready() -> object:
        return json.dumps(ready.figures(now).as_dict())

    def sprint_history() -> object:
        data = sprint_outcomes.sprint_history(db, None, sprint, now, ready.figures(now))
        return history_blocks.sprint_history(data)

    # One test's timeline (`/tests show`): the newest runs of the branch, then its reports.
    def test_show() -> object:
        with db.read() as s:
            shown = s.execute(select(KnownTest).order_by(col(KnownTest.id)).limit(1)).scalar_one()
            data = tests_history.history(session=s, sprint=sprint, test=shown, now=now)
        return render_history(data, tz=sprint.sprint.tz)

    return {
        "daily report": daily,
        "weekly report": weekly,
        "/sprint": status,
        "App Home": home,
        "GET /api/v1/sprint": api,
        "GET /api/v1/sprint?at=day 4": api_past,
        "tracker export": export,
        "/sprint, figures kept ready": status_ready,
        "App Home, figures kept ready": home_ready,
        "GET /api/v1/sprint, figures kept ready": api_ready,
        "/sprint history, figures kept ready": sprint_history,
        "/tests show (one test's timeline)": test_show,
    }


def count_results(db: Database) -> Callable[[], object]:
    def run() -> object:
        with db.read() as s:
            return s.execute(select(func.count()).select_from(TestResult)).scalar()

    return run


def time_all(db: Database, sprint: Sprint, now: datetime, repeat: int) -> dict[str, float]:
    out = {"SELECT count(*) FROM test_result (baseline)": median_ms(count_results(db))}
    for name, fn in surfaces(db, sprint, now).items():
        out[name] = median_ms(fn, repeat=repeat)
    return out


# -- sizes -------------------------------------------------------------------------------------

TABLES = (
    "test_report",
    "known_test",
    "test_result",
    "readiness_snapshot",
    "metric_sample",
    "standup",
    "blocker",
    "event",
    "risk",
    "manual_score",
    "outbox",
    "alert",
)


def sizes(db: Database, *, compact: bool = False) -> dict[str, int]:
    """Bytes per table (PostgreSQL) or of the file (SQLite: pages in use, and the file; and
    the outbox's pages); `compact` first (VACUUM FULL / VACUUM) to show the live data alone."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        if compact:
            # Outside SQLAlchemy: its SQLite connections always open a transaction.
            raw = sqlite3.connect(engine.url.database or "", isolation_level=None)
            raw.execute("VACUUM")
            raw.close()
        with engine.connect() as c:
            page = c.exec_driver_sql("PRAGMA page_size").scalar() or 0
            pages = c.exec_driver_sql("PRAGMA page_count").scalar() or 0
            free = c.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
            # The outbox apart (its table and indexes), to tell it from the test history.
            outbox = c.exec_driver_sql(
                "SELECT sum(pgsize) FROM dbstat WHERE name IN "
                "(SELECT name FROM sqlite_master WHERE tbl_name = 'outbox')"
            ).scalar()
        path = engine.url.database or ""
        return {
            "(file)": os.path.getsize(path),
            "(pages in use)": (pages - free) * page,
            "outbox": int(outbox or 0),
        }
    auto = engine.execution_options(isolation_level="AUTOCOMMIT")
    with auto.connect() as c:
        for name in TABLES:
            c.exec_driver_sql(f"VACUUM {'FULL ' if compact else ''}ANALYZE {name}")
        out = {
            name: int(c.exec_driver_sql(f"SELECT pg_total_relation_size('{name}')").scalar() or 0)
            for name in TABLES
        }
    out["(all tables)"] = sum(out.values())
    return out


def total(size: dict[str, int]) -> int:
    return size.get("(pages in use)") or size.get("(all tables)") or 0


def history(size: dict[str, int]) -> int:
    """The database less its outbox: what the test history and the team's records take."""
    return total(size) - size["outbox"]


# -- main --------------------------------------------------------------------------------------


def bench_sprint(end: datetime, base: Sprint) -> Sprint:
    """The example sprint, moved so that `end` is its day 10 at 09:30 local; its tests are
    never judged flaky by how often they flip (`[flaky] flip_rate = 1`): the bulk fill
    stores the season's flipping tests' failures as failures, and ingestion, judging them,
    would store them as flaky (each with a notice) — not what this bench measures, and the
    shape check would find the two apart."""
    start = end.astimezone(base.sprint.tz).date() - timedelta(days=9)
    return base.model_copy(
        update={
            "sprint": base.sprint.model_copy(update={"start": start}),
            "flaky": base.flaky.model_copy(update={"flip_rate": 1.0}),
        }
    )


def season_end(base: Sprint) -> datetime:
    today = date(2026, 3, 12)
    return local_instant(base.sprint, today, clock_time(9, 30))


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench.history", description=__doc__.split("\n\n")[0])
    p.add_argument("--tests", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=150)
    p.add_argument("--days", type=int, default=75)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sqlite-only", action="store_true")
    p.add_argument("--no-baseline", action="store_true", help="skip the one-run databases")
    p.add_argument("--no-shape-check", action="store_true")
    args = p.parse_args(argv)
    base = load_sprint(EXAMPLE)
    end = season_end(base)
    sprint = bench_sprint(end, base)
    policy = Retention(results_days=30, statuses_days=7, metrics_days=30, standups_days=30)
    sprint = sprint.model_copy(update={"retention": policy})
    kinds = ["sqlite"] if args.sqlite_only else ["sqlite", "postgresql"]
    began = time.perf_counter()
    print(f"[retention] for the bench: {policy!r}")

    if not args.no_shape_check:
        problems = shape_check(sprint)
        print(
            "shape check (bulk fill vs receive_junit, 400 tests x 11 runs): "
            + ("identical rows" if not problems else "DIFFERENT: " + "; ".join(problems))
        )

    timings: dict[str, dict[str, dict[str, float]]] = {}
    size_rows: list[list[object]] = []
    for kind in kinds:
        print(f"{kind}:")
        if not args.no_baseline:
            with fresh_database(kind) as db:
                one = Season(sprint=sprint, tests=args.tests, runs=1, days=args.days, end=end)
                fill(db, one)
                timings.setdefault("one run", {})[kind] = time_all(db, sprint, end, args.repeat)
        with fresh_database(kind) as db:
            empty = history(sizes(db))
            season = Season(
                sprint=sprint, tests=args.tests, runs=args.runs, days=args.days, end=end
            )
            filled = fill(db, season)
            messages, payload_bytes = fill_outbox(db, season)
            print(
                f"  outbox: {messages:,} delivered messages over the season, "
                f"{payload_bytes / 1e6:.1f} MB of payload"
            )
            timings.setdefault("season", {})[kind] = time_all(db, sprint, end, args.repeat)
            before = sizes(db)
            stored = args.tests * args.runs
            grown = history(before) - empty

            # One more run through real ingestion: what a run adds to the database.
            doc = season.junit(_next_changes(season))
            started = time.perf_counter()
            receive_junit(
                db=db,
                sprint=sprint,
                document=doc,
                digest=hashlib.sha256(doc).hexdigest(),
                info=RunInfo(run="ci-next", at=end - timedelta(minutes=5)),
                now=end - timedelta(minutes=5),
            )
            ingest_s = time.perf_counter() - started
            after_run = sizes(db)
            marginal = history(after_run) - history(before)

            started = time.perf_counter()
            with db.read() as s:
                figures_before = figures.compute(session=s, sprint=sprint, at=end).as_dict()
            summary = retention.run_all(db=db, sprint=sprint, now=end)
            pruned_s = time.perf_counter() - started
            with db.read() as s:
                figures_after = figures.compute(session=s, sprint=sprint, at=end).as_dict()
            same = figures_before == figures_after
            timings.setdefault("after retention", {})[kind] = time_all(db, sprint, end, args.repeat)
            after = sizes(db, compact=True)
            size_rows += [
                [kind, "season stored", _mb(history(before)), f"{grown / stored:.2f}", ""],
                [
                    kind,
                    "one more run (receive_junit)",
                    f"+{_mb(marginal)}",
                    f"{marginal / args.tests:.2f}",
                    f"ingest {ingest_s:.1f} s",
                ],
                [
                    kind,
                    "after retention (compacted)",
                    _mb(history(after)),
                    f"{(history(after) - empty) / stored:.2f}",
                    f"pruned in {pruned_s:.1f} s; figures {'identical' if same else 'CHANGED'}",
                ],
                [
                    kind,
                    f"outbox: the season's {messages:,} messages",
                    _mb(before["outbox"]),
                    "",
                    f"{before['outbox'] / messages:,.0f} bytes a message",
                ],
                [
                    kind,
                    "outbox after retention (compacted)",
                    _mb(after["outbox"]),
                    "",
                    f"{after['outbox'] / messages:,.0f} bytes a message",
                ],
            ]
            print(f"  {filled['results']:,} change rows; retention: {summary}")
            if kind == "postgresql":
                print(
                    table(
                        ["table", "season", "+1 run", "after retention (VACUUM FULL)"],
                        [
                            [n, _mb(before[n]), _mb(after_run[n]), _mb(after[n])]
                            for n in (*TABLES, "(all tables)")
                        ],
                    )
                )

    print()
    print(
        f"Surfaces, median of {args.repeat} (ms), {args.tests:,} tests, {args.runs} runs "
        f"over {args.days} days ({args.tests * args.runs:,} results):"
    )
    names = list(next(iter(timings["season"].values())))
    headers = ["surface"]
    for phase in timings:
        headers += [f"{k} {phase}" for k in kinds]
    rows = []
    for name in names:
        row: list[object] = [name]
        for phase in timings:
            row += [f"{timings[phase][k][name]:.0f}" for k in kinds]
        rows.append(row)
    print(table(headers, rows))
    print()
    print("Size: bytes per stored result = (database - outbox - empty database) / (tests x runs)")
    print(table(["db", "when", "size", "bytes/result", "note"], size_rows))
    print(f"\nwhole bench: {time.perf_counter() - began:.0f} s")


def _next_changes(season: Season) -> dict[int, int]:
    """~1 % of the tests changing in one more run."""
    rng = random.Random(season.seed + 3)
    known = [i for i in range(len(season.cases)) if season.seen[i]]
    picked = rng.sample(known, max(len(known) // 100, 1))
    return {i: PASSED if season.status[i] != PASSED else FAILED for i in picked}


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


if __name__ == "__main__":
    main()

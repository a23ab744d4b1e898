"""`sprintbot demo`: a week of the example sprint, with no Slack and no settings.

It builds the sprint from `sprint.example.toml` in a temporary SQLite database, feeds it a
week of CI runs (JUnit XML written by `junit_runs`, then ingested exactly as
`sprintbot ingest junit` does), benchmark figures, a blocker, a risk and a manual score,
runs the clock's jobs at their times, and prints what Slack would have shown: the
regression and performance alerts, the readiness breakdown, the 9:00 daily report and the
week-1 report. It writes the burn-down PNG and the tracker Markdown and says where.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from sqlmodel import Session, col, select

from bot.charts import burndown_png
from bot.messages import render_readiness
from bot.templates import render
from bot.terminal import to_text
from jobs import blockers, reports, risks
from jobs.config import Sprint, load_sprint
from jobs.ingest import RunInfo, ingest_junit, ingest_metrics
from jobs.numbers import local_instant
from jobs.readiness import current_status, set_manual_score
from jobs.tracker import tracker_markdown
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage

EXAMPLE = Path(__file__).resolve().parent.parent / "sprint.example.toml"
DEMO_DAYS = 6  # CI runs on days 1-6; the demo's "now" is day 7, 09:00

# (component, test directory, tests, failing on day 1): 2,124 tests, 407 failing, as the
# seed's baseline states (1,717 passing).
SUITE = (
    ("Swarm Coordination", "tests/swarm", 287, 62),
    ("Memory Management", "tests/memory", 193, 34),
    ("Task Orchestration", "tests/orchestration", 178, 26),
    ("Agent Commands", "tests/cli/agent", 234, 67),
    ("Swarm Commands", "tests/cli/swarm", 160, 34),
    ("Utility Commands", "tests/utils", 252, 63),
    ("Unit Tests", "tests/unit", 300, 32),
    ("Integration Tests", "tests/integration", 150, 27),
    ("E2E Tests", "tests/e2e", 100, 14),
    ("Authentication", "tests/security/auth", 100, 14),
    ("Authorization", "tests/security/authz", 90, 16),
    ("Data Protection", "tests/security/data", 80, 18),
)
# Tests fixed each day (the demo shows days 1-6; tests replay the whole sprint).
FIXES = {2: 30, 3: 20, 4: 22, 5: 18, 6: 12, 7: 10, 8: 10, 9: 10, 10: 5, 11: 5, 12: 5, 13: 5}
REGRESSED_ON, RECOVERED_ON, REGRESSIONS = 3, 4, 6  # six swarm tests break on day 3
RUN_AT = time(16, 0)  # CI's nightly-ish run, local time


@dataclass
class Case:
    component: str
    file: str
    classname: str
    name: str


@dataclass
class DemoRun:
    day: int
    at: datetime
    xml: bytes
    failing: int


def _cases(scale: int = 1) -> list[Case]:
    out = []
    for component, directory, tests, _ in SUITE:
        count = tests * scale
        per_file = 36  # about the seed's 59 test files
        for i in range(count):
            module = f"test_{directory.rsplit('/', 1)[-1]}_{i // per_file:02d}"
            out.append(
                Case(
                    component=component,
                    file=f"{directory}/{module}.py",
                    classname=f"{directory.replace('/', '.')}.{module}",
                    name=f"test_case_{i:03d}",
                )
            )
    return out


def _xml(cases: list[Case], failing: set[int], at: datetime) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<testsuites><testsuite name="phase4" timestamp="{at.isoformat()}">',
    ]
    for i, c in enumerate(cases):
        head = (
            f"<testcase classname={quoteattr(c.classname)} name={quoteattr(c.name)} "
            f'file={quoteattr(c.file)} time="0.01"'
        )
        if i in failing:
            lines.append(
                f'{head}><failure message="AssertionError: expected ready">'
                f"Traceback: assert state == 'ready'</failure></testcase>"
            )
        else:
            lines.append(f"{head}/>")
    lines.append("</testsuite></testsuites>")
    return "\n".join(lines).encode()


def junit_runs(
    sprint: Sprint, *, days: int = DEMO_DAYS, seed: int = 4, scale: int = 1
) -> Iterator[DemoRun]:
    """One full CI run per day at 16:00 local: fixes every day, six regressions on day 3
    (fixed on day 4). Deterministic for a given seed; `scale` multiplies tests, failures
    and fixes (benchmarks)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    cases = _cases(scale)
    failing: set[int] = set()
    start = 0
    for _, _, count, fail in SUITE:
        failing |= set(rng.sample(range(start, start + count * scale), fail * scale))
        start += count * scale
    swarm_passing = [i for i, c in enumerate(cases) if c.component == "Swarm Coordination"]
    regressed: set[int] = set()
    for day in range(1, days + 1):
        fixes = FIXES.get(day, 0) * scale
        if fixes:
            failing -= set(rng.sample(sorted(failing - regressed), min(fixes, len(failing))))
        if day == REGRESSED_ON:
            candidates = [i for i in swarm_passing if i not in failing]
            regressed = set(rng.sample(candidates, REGRESSIONS))
            failing |= regressed
        if day == RECOVERED_ON:
            failing -= regressed
        at = local_instant(sprint.sprint, sprint.sprint.start + timedelta(days=day - 1), RUN_AT)
        yield DemoRun(day=day, at=at, xml=_xml(cases, failing, at), failing=len(failing))


@dataclass
class Demo:
    """The demo sprint: its database, and what the bot queued along the way."""

    sprint: Sprint
    db: Database
    shown: list[str] = field(default_factory=list)

    def at(self, day: int, clock: time) -> datetime:
        return local_instant(
            self.sprint.sprint, self.sprint.sprint.start + timedelta(days=day - 1), clock
        )

    def step(self, now: datetime, work: Callable[[Session, datetime], Any]) -> Any:
        with self.db.session() as session:
            result = work(session, now)
            session.commit()
        return result


def build(sprint: Sprint, db: Database, *, runs_dir: Path | None = None) -> Demo:
    """Feed a week of the sprint into `db`; the clock's jobs run at their times. With
    `runs_dir`, the JUnit documents are written there too (day-1.xml, …)."""
    demo = Demo(sprint, db)
    runs = {r.day: r for r in junit_runs(sprint)}
    if runs_dir is not None:
        runs_dir.mkdir(parents=True, exist_ok=True)
        for r in runs.values():
            (runs_dir / f"day-{r.day}.xml").write_bytes(r.xml)
    metrics_by_day: dict[int, dict[str, float]] = {
        2: {
            "swarm_init_time": 1.05,
            "agent_spawn_time": 0.45,
            "task_orchestration": 1.9,
            "memory_operations": 0.21,
            "cli_response_time": 0.28,
            "hook_execution": 0.09,
            "api_throughput": 1050,
            "memory_usage": 140,
        },
        5: {"api_throughput": 850, "memory_usage": 146},  # throughput drops 15 % below target
    }
    first_blocker = 0
    for day in range(1, DEMO_DAYS + 1):
        if day == 3:
            filed = demo.step(
                demo.at(3, time(11, 0)),
                lambda s, now: blockers.file_blocker(
                    session=s,
                    sprint=sprint,
                    component="Swarm Coordination",
                    description="Leader election deadlocks under a network partition",
                    severity="P0",
                    reporter="U0DEV1",
                    owner="U0DEV2",
                    target="Day 5",
                    now=now,
                ),
            )
            first_blocker = int(filed.id)
            demo.step(
                demo.at(3, time(11, 30)),
                lambda s, now: risks.create(
                    session=s,
                    sprint=sprint,
                    fields=risks.RiskFields(
                        description="Test fixes introduce regressions",
                        impact="High",
                        probability="Medium",
                        mitigation="Full regression suite after each fix; revert on red",
                        owner="U0QALEAD",
                        status="Active",
                    ),
                    user_id="U0QALEAD",
                    now=now,
                ),
            )
        if day in metrics_by_day:
            figures = metrics_by_day[day]
            demo.step(
                demo.at(day, time(14, 0)),
                lambda s, now, f=figures: ingest_metrics(  # type: ignore[misc]
                    session=s, sprint=sprint, body={"metrics": f}, now=now
                ),
            )
        if day == 5:
            demo.step(
                demo.at(5, time(10, 0)),
                lambda s, now, b=first_blocker: blockers.resolve(  # type: ignore[misc]
                    session=s,
                    sprint=sprint,
                    blocker_id=b,
                    user_id="U0DEV2",
                    note="Lock ordering fixed in the consensus module",
                    allowed=True,
                    now=now,
                ),
            )
            demo.step(
                demo.at(5, time(12, 0)),
                lambda s, now: set_manual_score(
                    session=s,
                    sprint=sprint,
                    component="User Guides",
                    score=65,
                    user_id="U0TECHLEAD",
                    now=now,
                ),
            )
        if day == 6:
            demo.step(
                demo.at(6, time(10, 0)),
                lambda s, now: blockers.file_blocker(
                    session=s,
                    sprint=sprint,
                    component="E2E Tests",
                    description="E2E suite times out on the shared CI runners",
                    severity="P1",
                    reporter="U0DEV1",
                    now=now,
                ),
            )
        run = runs[day]
        digest = hashlib.sha256(run.xml).hexdigest()
        demo.step(
            run.at,
            lambda s, now, r=run, d=digest: ingest_junit(  # type: ignore[misc]
                session=s,
                sprint=sprint,
                document=r.xml,
                digest=d,
                info=RunInfo(
                    run=f"ci-{1000 + r.day}",
                    commit=hashlib.sha1(f"demo-{r.day}".encode()).hexdigest()[:12],  # noqa: S324
                    url=f"https://ci.example.com/phase4/runs/{1000 + r.day}",
                    at=r.at,
                ),
                now=now,
            ),
        )
        # The clock's escalation job, as it would have run through the day.
        for hour in (9, 13, 17, 21):
            demo.step(
                demo.at(day, time(hour, 0)),
                lambda s, now: blockers.escalate_due(session=s, sprint=sprint, now=now),
            )
    return demo


def _queued(db: Database, template: str) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [dict(r.payload) for r in rows if r.payload.get("template") == template]


def run_demo(
    out_dir: Path, *, sprint_file: Path = EXAMPLE, echo: Callable[[str], None]
) -> dict[str, Path]:
    """Build the demo in `out_dir` and print it; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sprint = load_sprint(sprint_file)
    db_path = out_dir / "demo.db"
    db_path.unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    upgrade(url)
    db = Database.from_url(url)
    try:
        demo = build(sprint, db, runs_dir=out_dir / "junit")
        now = demo.at(DEMO_DAYS + 1, sprint.schedule.daily_report)
        with db.session() as session:
            report = reports.daily_report(session=session, sprint=sprint, participants=[], now=now)
            weekly = reports.weekly_report(session=session, sprint=sprint, participants=[], now=now)
            status = current_status(session=session, sprint=sprint, now=now)
            tracker = tracker_markdown(session=session, sprint=sprint, now=now)
        rule = "#" * 78
        for template, title in (
            ("regression_alert", "Regression alert (#phase4-production-readiness, day 3)"),
            ("performance_alert", "Performance alert (#phase4-production-readiness, day 5)"),
        ):
            for payload in _queued(db, template)[:1]:
                echo(f"\n{rule}\n# {title}\n{rule}")
                echo(to_text(render(template, payload["data"])))
        echo(f"\n{rule}\n# /readiness — the breakdown\n{rule}")
        echo(
            to_text(
                {
                    "blocks": render_readiness(
                        status, sprint_name=sprint.sprint.name, days=sprint.sprint.days
                    )
                }
            )
        )
        echo(f"\n{rule}\n# Daily report (#sprint-status, day {report['day']}, 09:00)\n{rule}")
        echo(to_text(render("daily_report", report)))
        echo(f"\n{rule}\n# Weekly report (#sprint-status, day {weekly['day']})\n{rule}")
        echo(to_text(render("weekly_report", weekly)))
        files = {
            "chart": out_dir / "burndown.png",
            "tracker": out_dir / "tracker.md",
            "database": db_path,
            "runs": out_dir / "junit",
        }
        files["chart"].write_bytes(burndown_png(report))
        files["tracker"].write_text(tracker, encoding="utf-8")
        return files
    finally:
        db.dispose()

"""`sprintbot demo`: two teams, the first in its second sprint, with no Slack and no settings.

It writes a teams directory (`team_dir`: the example sprint file as the platform team's file,
its sprint the first of two, and examples/teams' mobile team), loads it as SPRINTBOT_CONFIG
would be (`load_org`), keeps team and sprint rows in step with it in a temporary SQLite
database (`Teams.sync`) and feeds each team's sprint through a session scoped to it, so each
team's data is stored in its own team and sprint.

The platform team's first sprint starts as it always did: a week of CI runs (JUnit XML
written by `junit_runs`, then ingested exactly as `sprintbot ingest junit` does) that start
from the seed tracker's baseline: 2,124 tests in 59 files, each of the seed's "Test Coverage
by Component" rows with its own counts. Along the way: benchmark figures, a P0 blocker that
climbs its escalation path before it is resolved, a risk, a manual score, and a day of
standups that records a P1 blocker. The clock's jobs run at their times. It prints what
Slack would have shown — the escalation steps, the regression, performance and
readiness-decline notices, the standup thread, the readiness breakdown, the 9:00 daily
report, the week-1 report and the App Home dashboard. Then that sprint runs to its end, the
P1 still open, and the second begins: the demo's "now" is its day 3 (`/sprint history`, its
blockers with the carried-over one, a standup, breakdown, daily report, App Home). The
mobile team's sprint is on its day 12, with its own blockers, standup and reports. It
writes the burn-down PNG and the tracker Markdown of the first week and says where. With
`links` (`sprintbot demo --links`) each message it prints is followed by a link that opens
it in Slack's Block Kit Builder (`link_line`).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import random
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from sqlmodel import Session

from bot.blocks import render as render_payload
from bot.blocks.common import Message
from bot.blocks.readiness import render_readiness
from bot.charts import burndown_png
from bot.terminal import to_text
from jobs import blockers, figures, reports, risks, standups
from jobs.components import ComponentMap
from jobs.config import Sprint, Team, format_duration, load_org
from jobs.ingest import RunInfo, ingest_junit, ingest_metrics
from jobs.messages import payload
from jobs.numbers import local_instant, pct, sprint_day
from jobs.readiness import Status, set_manual_score
from jobs.teams import Teams
from jobs.tracker import tracker_markdown
from storage import queries
from storage.db import Database
from storage.migrate import upgrade

EXAMPLE = Path(__file__).resolve().parent.parent / "sprint.example.toml"
DEMO_DAYS = 6  # CI runs on days 1-6; the demo's "now" is day 7, 09:00


@dataclass(frozen=True)
class Area:
    """A row of the seed's "Test Coverage by Component" table, as test files: each file is
    (path under tests/ without .py, tests, failing on day 1). Where a file lands in the
    readiness breakdown is up to the sprint file's `[[components]] tests` globs."""

    name: str
    files: tuple[tuple[str, int, int], ...]

    @property
    def total(self) -> int:
        return sum(tests for _, tests, _ in self.files)

    @property
    def failing(self) -> int:
        return sum(failing for _, _, failing in self.files)


# The seed's baseline: 2,124 tests in 59 files, 1,717 passing, 407 failing (as its rows add
# up; its summary says 341), 33 files all passing and 26 with failures. The areas the
# readiness breakdown has no component for live where such tests usually do: hooks and
# neural features as unit tests, GitHub as integration tests, performance as end-to-end
# tests; the agent framework (tests/agents) matches no component and counts in the totals.
SUITE_TABLE = """
Swarm Core
    swarm/test_coordinator                    36  20
    swarm/test_leader_election                36  19
    swarm/test_consensus                      36  17
    swarm/test_topology                       36   0
    swarm/test_messaging                      36   0
    swarm/test_scaling                        36   0
    swarm/test_recovery                       36   0
    swarm/test_lifecycle                      35   0
Memory System
    memory/test_store                         39  17
    memory/test_cache                         39  12
    memory/test_persistence                   39   0
    memory/test_namespaces                    38   0
    memory/test_eviction                      38   0
CLI Interface
    cli/agent/test_spawn                      38  22
    cli/agent/test_list                       38  18
    cli/agent/test_terminate                  38   0
    cli/agent/test_info                       38   0
    cli/swarm/test_start                      37  20
    cli/swarm/test_status                     37  16
    cli/swarm/test_scale                      37   0
    cli/swarm/test_monitor                    37   0
    cli/test_config                           38  20
    cli/test_init                             37  18
    cli/test_completion                       37   0
Task Orchestration
    orchestration/test_scheduler              36  12
    orchestration/test_queue                  36  10
    orchestration/test_dependencies           36   0
    orchestration/test_retries                35   0
    orchestration/test_workflows              35   0
Agent Framework
    agents/test_base_agent                    34  18
    agents/test_capabilities                  34  15
    agents/test_registry                      34  14
    agents/test_lifecycle                     33   0
    agents/test_communication                 33   0
    agents/test_specialized                   33   0
    agents/test_pool                          33   0
Hooks System
    unit/hooks/test_pre_task                  37  17
    unit/hooks/test_post_edit                 36   0
    unit/hooks/test_session                   36   0
    unit/hooks/test_notify                    36   0
Neural Features
    unit/neural/test_patterns                 33  16
    unit/neural/test_training                 33   0
    unit/neural/test_inference                32   0
GitHub Integration
    integration/github/test_pull_requests     39  22
    integration/github/test_issues            39   0
    integration/github/test_releases          39   0
    integration/github/test_webhooks          39   0
Performance
    e2e/performance/test_load                 45  11
    e2e/performance/test_latency              44   0
Security
    security/auth/test_tokens                 31   5
    security/authz/test_permissions           31   5
    security/data/test_encryption             31   6
    security/data/test_redaction              31   0
Utilities
    utils/test_helpers                        35  20
    utils/test_validation                     35  19
    utils/test_formatting                     35  18
    utils/test_logger                         35   0
    utils/test_paths                          34   0
    utils/test_retry                          34   0
"""


def _suite(table: str) -> tuple[Area, ...]:
    """Areas from a table: an area's name, then its files indented, one a line (path under
    tests/ without .py, tests, failing on day 1)."""
    areas: list[tuple[str, list[tuple[str, int, int]]]] = []
    for line in table.strip().splitlines():
        if not line.startswith(" "):
            areas.append((line, []))
            continue
        path, tests, failing = line.split()
        areas[-1][1].append((path, int(tests), int(failing)))
    return tuple(Area(name, tuple(files)) for name, files in areas)


SUITE = _suite(SUITE_TABLE)
# Tests fixed each day (the demo shows days 1-6; tests replay the whole sprint).
FIXES = {2: 30, 3: 20, 4: 22, 5: 18, 6: 12, 7: 10, 8: 10, 9: 10, 10: 5, 11: 5, 12: 5, 13: 5}
# The platform team's second sprint (`run_demo`): CI days 15-16 are its days 1-2.
FIXES |= {15: 6, 16: 4}
# Where each day's fixes go (test paths under tests/), after the notes of the seed's Daily
# Progress Tracker; on other days, or once those files pass, anywhere.
FOCUS = {
    2: ("swarm/", "memory/", "orchestration/"),  # Core infrastructure fixes
    3: ("swarm/",),  # Swarm coordination fixes
    4: ("memory/", "unit/hooks/"),  # Memory & hooks fixes
    5: ("cli/",),  # CLI command fixes
    6: ("integration/",),  # Integration testing
    8: ("e2e/performance/",),  # Performance optimization
    10: ("security/",),  # Security hardening
}
REGRESSED_ON, RECOVERED_ON, REGRESSIONS = 3, 4, 6  # six swarm tests break on day 3
REGRESSED_AREA = "Swarm Core"
RUN_AT = time(16, 0)  # CI's nightly-ish run, local time
# Standup participants (the example file says "team", the members of channels.team, which
# only Slack knows): who answers on STANDUP_ON, who is away, who forgets.
TEAM = ("U0TECHLEAD", "U0QALEAD", "U0DEV1", "U0DEV2", "U0DEV3")
STANDUP_ON = 6
HOME_USER = "U0DEV1"


@dataclass(frozen=True)
class Case:
    area: str
    file: str
    classname: str
    name: str

    @cached_property
    def head(self) -> str:
        """The test's `<testcase` tag, open: written once, not quoted again every run."""
        return (
            f"<testcase classname={quoteattr(self.classname)} name={quoteattr(self.name)} "
            f'file={quoteattr(self.file)} time="0.01"'
        )


@dataclass
class DemoRun:
    day: int
    at: datetime
    xml: bytes
    failing: int
    tests: int = 0
    files: int = 0
    files_passing: int = 0  # files all of whose tests pass
    fixed: dict[str, int] = field(default_factory=dict)  # file: tests failing before, passing now


def _cases(scale: int = 1) -> list[Case]:
    out = []
    for area in SUITE:
        for path, tests, _ in area.files:
            for i in range(tests * scale):
                out.append(
                    Case(
                        area=area.name,
                        file=f"tests/{path}.py",
                        classname="tests." + path.replace("/", "."),
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
        head = c.head
        if i in failing:
            lines.append(
                f'{head}><failure message="AssertionError: expected ready">'
                f"Traceback: assert state == 'ready'</failure></testcase>"
            )
        else:
            lines.append(f"{head}/>")
    lines.append("</testsuite></testsuites>")
    return "\n".join(lines).encode()


def _fixes(
    rng: random.Random,
    cases: list[Case],
    fixable: set[int],
    count: int,
    *,
    started: list[str],
    focus: tuple[str, ...],
) -> set[int]:
    """`count` failing tests fixed, a file at a time as a team works: files of the day's
    focus first, among them those already begun, else one at random; so files come to pass
    all their tests."""
    by_file: dict[str, list[int]] = {}
    for i in sorted(fixable):
        by_file.setdefault(cases[i].file, []).append(i)
    focused = tuple(f"tests/{p}" for p in focus)
    fixed: set[int] = set()
    while len(fixed) < count and by_file:
        files = [f for f in by_file if focused and f.startswith(focused)] or list(by_file)
        begun = [f for f in started if f in files]
        file = begun[0] if begun else rng.choice(sorted(files))
        if file not in started:
            started.append(file)
        tests = by_file.pop(file)
        fixed |= set(rng.sample(tests, min(len(tests), count - len(fixed))))
    return fixed


def junit_runs(
    sprint: Sprint, *, days: int = DEMO_DAYS, seed: int = 4, scale: int = 1
) -> Iterator[DemoRun]:
    """One full CI run per day at 16:00 local: day 1 is the seed's baseline (SUITE), then
    FIXES every day, a file at a time where the day's FOCUS is, and six regressions on
    day 3 (fixed on day 4).
    Deterministic for a given seed; `scale` multiplies each file's tests, its failures and
    the fixes (benchmarks)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    cases = _cases(scale)
    failing: set[int] = set()
    start = 0
    for area in SUITE:
        for _, tests, fail in area.files:
            failing |= set(rng.sample(range(start, start + tests * scale), fail * scale))
            start += tests * scale
    files = {c.file for c in cases}
    breakable = [i for i, c in enumerate(cases) if c.area == REGRESSED_AREA]
    regressed: set[int] = set()
    started: list[str] = []  # files being fixed, in the order work on them began
    for day in range(1, days + 1):
        before = set(failing)
        fixes = FIXES.get(day, 0) * scale
        if fixes:
            failing -= _fixes(
                rng,
                cases,
                failing - regressed,
                fixes,
                started=started,
                focus=FOCUS.get(day, ()),
            )
        if day == REGRESSED_ON:
            candidates = [i for i in breakable if i not in before | failing]
            regressed = set(rng.sample(candidates, REGRESSIONS))
            failing |= regressed
        if day == RECOVERED_ON:
            failing -= regressed
        fixed: dict[str, int] = {}
        for i in sorted(before - failing):
            fixed[cases[i].file] = fixed.get(cases[i].file, 0) + 1
        at = local_instant(sprint.sprint, sprint.sprint.start + timedelta(days=day - 1), RUN_AT)
        yield _run(day, at, cases, files, failing, fixed=fixed)


def _run(
    day: int,
    at: datetime,
    cases: list[Case],
    files: set[str],
    failing: set[int],
    *,
    fixed: dict[str, int],
) -> DemoRun:
    """One day's CI run of `cases` (in `files`), `failing` (their indexes) failing."""
    return DemoRun(
        day=day,
        at=at,
        xml=_xml(cases, failing, at),
        failing=len(failing),
        tests=len(cases),
        files=len(files),
        files_passing=len(files - {cases[i].file for i in failing}),
        fixed=fixed,
    )


class Work(Protocol):
    """One thing done at its time in a transaction of its own: a job, a command, a CI run."""

    def __call__(self, *, session: Session, now: datetime) -> Any: ...


Event = tuple[datetime, Work]


@dataclass
class Demo:
    """The demo sprint: its database, and what the bot queued along the way."""

    sprint: Sprint
    db: Database
    runs: list[DemoRun] = field(default_factory=list)
    # What the jobs and commands it ran returned, by name ("p0": the P0 blocker's id).
    jobs: dict[str, Any] = field(default_factory=dict)
    people: tuple[str, ...] = TEAM  # the standup's participants
    home_user: str = HOME_USER  # whose App Home the morning shows
    until: datetime | None = None  # the demo's "now" when not the week's (`now`)
    team: Team | None = None  # whose App Home lists its past sprints

    def at(self, day: int, clock: time) -> datetime:
        return local_instant(
            self.sprint.sprint, self.sprint.sprint.start + timedelta(days=day - 1), clock
        )

    @property
    def now(self) -> datetime:
        """The demo's "now": the morning after the last CI run, at the daily report."""
        if self.until is not None:
            return self.until
        return self.at(DEMO_DAYS + 1, self.sprint.schedule.daily_report)

    def step(self, now: datetime, work: Work) -> Any:
        with self.db.session() as session:
            result = work(session=session, now=now)
            session.commit()
        return result

    def recorded(self, name: str, work: Work) -> Work:
        """`work`, keeping what it returns in `jobs[name]`."""

        def run(*, session: Session, now: datetime) -> Any:
            self.jobs[name] = work(session=session, now=now)
            return self.jobs[name]

        return run

    def replay(self, events: list[Event]) -> None:
        """Each event at its time (events at the same time in the order listed), with the
        escalation job run whenever a step falls due in between, up to the demo's "now"."""
        for when, work in sorted(events, key=lambda e: e[0]):
            self.escalate_until(when)
            self.step(when, work)
        self.escalate_until(self.now)

    def escalate_until(self, until: datetime) -> None:
        """The clock's `blocker-escalation` job (every 5 minutes), run the moment each open
        blocker's next `[[escalation]]` step falls due, up to `until`."""
        steps = self.sprint.escalation
        while True:
            with self.db.session() as session:
                due = min(
                    (
                        b.reported_at + steps[b.escalation_level].after
                        for b in queries.open_blockers(session=session)
                        if b.escalation_level < len(steps)
                    ),
                    default=None,
                )
            if due is None or due > until:
                return
            fired = self.step(due, partial(blockers.escalate_due, sprint=self.sprint))
            if not fired:  # cannot happen; never spin
                return


def _answer(sprint: Sprint, user: str, values: dict[standups.Field, Any]) -> Work:
    """A standup modal's submission, handled as its listener does: parse, then submit."""

    def work(*, session: Session, now: datetime) -> Any:
        open_ids = {b.id for b in queries.open_blockers(session=session) if b.id is not None}
        answers = standups.parse_answers(
            {str(k): v for k, v in values.items()}, sprint=sprint, open_blocker_ids=open_ids
        )
        return standups.submit(
            session=session, sprint=sprint, user_id=user, answers=answers, now=now
        )

    return work


F = standups.Field
# Day 6's standup: three answer before the digest, U0DEV2 forgets, U0DEV3 is away (so
# says `/standup away` on day 5). Their tests fixed yesterday and components improved are
# what CI shows of day 5 (`standup_answers`), their targets add up to day 6's fixes; the
# seed's plan: day 5 "CLI command fixes", day 6 "Integration testing". U0DEV1's blocker
# line becomes a real blocker (B-002).
ANSWERS: tuple[tuple[time, str, dict[standups.Field, Any]], ...] = (
    (
        time(9, 6),
        "U0DEV1",
        {
            F.NOTES: "CLI command fixes, as planned for day 5",
            F.FOCUS_AREAS: "Integration testing: GitHub pull requests",
            F.CURRENT_BLOCKERS: "P1: E2E Tests time out on the shared CI runners",
            F.HELP_NEEDED: "Someone with access to the CI runner pool",
            F.ACTION_ITEMS: "Split the E2E suite into shards | @U0DEV1 | tomorrow",
        },
    ),
    (
        time(9, 12),
        "U0QALEAD",
        {
            F.NOTES: "Full regression suite now runs after every merge",
            F.FOCUS_AREAS: "Integration suite, then the full regression suite",
            F.RISK_ITEMS: "R-001: watch the swarm suite after each fix",
            F.ACTION_ITEMS: "Rerun the full regression suite | @U0QALEAD | today",
        },
    ),
    (
        time(9, 18),
        "U0TECHLEAD",
        {
            F.NOTES: "Reviewed the CLI fixes and the B-001 consensus fix",
            F.FOCUS_AREAS: "Integration test reviews; week-1 checkpoint",
            F.ACTION_ITEMS: "Prepare the week-1 review | @U0TECHLEAD | day 7",
        },
    ),
)


def standup_answers(
    sprint: Sprint, runs: list[DemoRun]
) -> list[tuple[time, str, dict[standups.Field, Any]]]:
    """ANSWERS with the numbers CI bears out: yesterday's fixed tests shared out in turn,
    with the components they belong to, and today's planned fixes shared likewise."""
    components = ComponentMap(sprint)
    yesterday = next((r for r in runs if r.day == STANDUP_ON - 1), None)
    fixed = sorted(
        file for file, n in (yesterday.fixed if yesterday else {}).items() for _ in range(n)
    )
    people = len(ANSWERS)
    target, extra = divmod(FIXES.get(STANDUP_ON, 0), people)
    out = []
    for k, (clock, user, values) in enumerate(ANSWERS):
        mine = fixed[len(fixed) * k // people : len(fixed) * (k + 1) // people]
        improved = {components(f, f.removesuffix(".py").replace("/", ".")) for f in mine}
        answer = {
            **values,
            F.TESTS_FIXED: str(len(mine)),
            F.COMPONENTS_IMPROVED: sorted(c for c in improved if c),
            F.TARGET_TESTS: str(target + (k < extra)),
        }
        out.append((clock, user, answer))
    return out


METRICS = {
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


def build(sprint: Sprint, db: Database, *, runs_dir: Path | None = None) -> Demo:
    """Feed a week of the sprint into `db`, each thing at its time; the clock's jobs run at
    theirs. With `runs_dir`, the JUnit documents are written there too (day-1.xml, …)."""
    demo = Demo(sprint, db, runs=list(junit_runs(sprint)))
    if runs_dir is not None:
        runs_dir.mkdir(parents=True, exist_ok=True)
        for r in demo.runs:
            (runs_dir / f"day-{r.day}.xml").write_bytes(r.xml)
    # Listed in this order, which decides among events at the same time.
    demo.replay([*_benchmarks(demo), *_incidents(demo), *_standup_day(demo), *_ci_runs(demo)])
    return demo


def _benchmarks(demo: Demo) -> list[Event]:
    """METRICS, posted at 14:00 on their days."""
    return [
        (
            demo.at(day, time(14, 0)),
            partial(ingest_metrics, sprint=demo.sprint, body={"metrics": f}),
        )
        for day, f in METRICS.items()
    ]


def _incidents(demo: Demo) -> list[Event]:
    """Day 3: a P0 blocker (kept as `jobs["p0"]`) and a risk; day 5: a manual score, and
    the P0 resolved after its last escalation step (48h, the executive decision, 11:00)."""
    sprint = demo.sprint

    def file_p0(*, session: Session, now: datetime) -> int | None:
        return blockers.file_blocker(
            session=session,
            sprint=sprint,
            component="Swarm Coordination",
            description="Leader election deadlocks under a network partition",
            severity="P0",
            reporter="U0DEV1",
            owner="U0DEV2",
            target="Day 5",
            now=now,
        ).id

    def resolve_p0(*, session: Session, now: datetime) -> Any:
        return blockers.resolve(
            session=session,
            sprint=sprint,
            blocker_id=demo.jobs["p0"],
            user_id="U0DEV2",
            note="Lock ordering fixed in the consensus module",
            now=now,
        )

    risk = risks.RiskFields(
        description="Test fixes introduce regressions",
        impact="High",
        probability="Medium",
        mitigation="Full regression suite after each fix; revert on red",
        owner="U0QALEAD",
        status="Active",
    )
    score = partial(
        set_manual_score, sprint=sprint, component="User Guides", score=65, user_id="U0TECHLEAD"
    )
    return [
        (demo.at(3, time(11, 0)), demo.recorded("p0", file_p0)),
        (
            demo.at(3, time(11, 30)),
            partial(risks.create, sprint=sprint, fields=risk, user_id="U0QALEAD"),
        ),
        (demo.at(5, time(12, 0)), score),
        (demo.at(5, time(15, 0)), resolve_p0),
    ]


def _standup_day(demo: Demo) -> list[Event]:
    """Day STANDUP_ON's standup: U0DEV3 away the evening before, the clock's three standup
    jobs at their times, and ANSWERS as the form submits them."""
    sprint, schedule, team = demo.sprint, demo.sprint.schedule, list(TEAM)
    standup_date = sprint.sprint.start + timedelta(days=STANDUP_ON - 1)
    away = partial(  # `/standup away day 6 day 7 conference`
        standups.away,
        user_id="U0DEV3",
        start=standup_date,
        end=standup_date + timedelta(days=1),
        reason="conference",
    )
    events: list[Event] = [(demo.at(STANDUP_ON - 1, time(17, 0)), away)]
    for name, clock, standup_job in (
        ("standup-prompt", schedule.standup_prompt, standups.prompt),
        ("standup-reminder", schedule.standup_reminder, standups.remind),
        ("standup-digest", schedule.standup_digest, standups.digest),
    ):
        work = partial(standup_job, sprint=sprint, participants=team)
        events.append((demo.at(STANDUP_ON, clock), demo.recorded(name, work)))
    for clock, user, values in standup_answers(sprint, demo.runs):
        events.append((demo.at(STANDUP_ON, clock), _answer(sprint, user, values)))
    return events


def _ci_runs(demo: Demo) -> list[Event]:
    """The CI runs, each ingested at its time as `sprintbot ingest junit` does."""
    return [_ci_run(demo, run) for run in demo.runs]


def render(q: Queued) -> Message:
    """A queued row's message as the outbox renders it: from its template, version and data."""
    return render_payload(q.payload)


# Block Kit Builder opens the surface JSON it finds URL-encoded after the `#` of its address
# (the form of Slack's own "View in Block Kit Builder" links).
BUILDER = "https://app.slack.com/block-kit-builder/#"
# RFC 9110 asks every sender and recipient to support URIs of at least 8,000 octets; past
# that a link may be cut short by whatever it is pasted into, so none is printed.
MAX_LINK = 8000


def surface(message: Mapping[str, Any], *, home: bool = False) -> dict[str, Any]:
    """What Slack is given to show: a message's blocks, or an App Home view of them (the
    outbox publishes `{"type": "home", "blocks": ...}`)."""
    blocks = list(message.get("blocks") or [])
    return {"type": "home", "blocks": blocks} if home else {"blocks": blocks}


def builder_link(shown: Mapping[str, Any]) -> str:
    """The Block Kit Builder address that opens `shown` (a surface, as `surface` makes it):
    compact JSON, with `:`, `/` and `,` left as they are, as Slack's own links leave them."""
    text = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
    return BUILDER + quote(text, safe=":/,")


def link_line(shown: Mapping[str, Any]) -> str:
    """The line printed under a message with `demo --links`: its Builder link, or, for a
    message whose link would be too long to work everywhere, how long it would be."""
    link = builder_link(shown)
    if len(link) > MAX_LINK:
        return (
            f"Block Kit Builder: no link, this message is too large for one "
            f"({len(link):,} characters; links stop at {MAX_LINK:,})"
        )
    return f"Block Kit Builder: {link}"


@dataclass(frozen=True)
class Queued:
    """An outbox row, as the demo reads it back."""

    key: str
    at: datetime
    parent_key: str | None
    payload: dict[str, Any]
    method: str = "chat.postMessage"

    @property
    def home(self) -> bool:
        """An App Home view (views.publish), not a message."""
        return self.method == "views.publish"

    @property
    def template(self) -> str | None:
        return self.payload.get("template")

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.payload.get("data") or {})


_TEAM_KEY = re.compile(r"^t\d+:")


def _outbox(db: Database, *, since: datetime | None = None) -> list[Queued]:
    """What the bot queued for the team `db` is scoped to (every team's when unscoped),
    queued at or after `since`; keys as the team's code wrote them, without the prefix
    that keeps two teams' keys apart (`Scope.key_prefix`)."""
    prefix = db.scope.key_prefix if db.scope is not None else None

    def mine(key: str | None) -> bool:
        if prefix is None or key is None:
            return True
        return key.startswith(prefix) if prefix else _TEAM_KEY.match(key) is None

    def bare(key: str | None) -> str | None:
        return key.removeprefix(prefix) if prefix and key is not None else key

    with db.session() as session:
        rows = queries.all_messages(session=session)
        return [
            Queued(str(bare(r.key)), r.created_at, bare(r.parent_key), dict(r.payload), r.method)
            for r in rows
            if mine(r.key) and (since is None or r.created_at >= since)
        ]


def _when(sprint: Sprint, at: datetime) -> str:
    """ "day 3, 19:00" in the sprint's time zone."""
    return f"day {sprint_day(sprint.sprint, at)}, {at.astimezone(sprint.sprint.tz):%H:%M}"


def baseline_line(sprint: Sprint, run: DemoRun) -> str:
    """What the day-1 run holds, and which reading of the seed it takes."""
    passing = run.tests - run.failing
    line = (
        f"Baseline as the seed's Test Coverage rows give it: {run.tests:,} tests in "
        f"{run.files} files ({run.files_passing} files all passing), {passing:,} passing, "
        f"{run.failing:,} failing"
    )
    stated = sprint.baseline.failing_tests
    if stated is not None and stated != run.failing:
        skipped = run.tests - passing - stated
        line += f" (the seed's summary says {stated:,}" + (
            f": that would need {skipped:,} skipped tests, which the seed never mentions)"
            if skipped > 0
            else ")"
        )
    return line + "."


def area_lines(sprint: Sprint) -> list[str]:
    """The seed's areas as the demo's test files, and where the sprint file's globs put
    them in the readiness breakdown."""
    components = ComponentMap(sprint)
    indent = 41
    out = [f"{'Seed area':<19}{'tests':>6}{'failing':>8}{'files':>6}  test files → component"]
    for area in SUITE:
        where: dict[str, str | None] = {}
        for path, _, _ in area.files:
            file = f"tests/{path}.py"
            where.setdefault(
                posixpath.dirname(file) + "/",
                components(file, "tests." + path.replace("/", ".")),
            )
        places = [f"{d} → {c or 'none (counts in the totals only)'}" for d, c in where.items()]
        out.append(
            f"{area.name:<19}{area.total:>6,}{area.failing:>8,}{len(area.files):>6}  {places[0]}"
        )
        out += [" " * indent + p for p in places[1:]]
    total, failing = sum(a.total for a in SUITE), sum(a.failing for a in SUITE)
    files = sum(len(a.files) for a in SUITE)
    out.append(f"{'Total':<19}{total:>6,}{failing:>8,}{files:>6}")
    return out


@dataclass(frozen=True)
class Morning:
    """The demo's "now": the reports, the readiness breakdown, the tracker, and the key of
    the App Home published as when the demo's home user opens the Home tab."""

    report: reports.DailyReport
    weekly: reports.WeeklyReport | None
    status: Status
    tracker: str
    home_key: str


def _morning(demo: Demo, *, weekly: bool = True) -> Morning:
    """What the demo's "now" holds, in one transaction (the App Home is queued)."""
    sprint, now, team = demo.sprint, demo.now, list(demo.people)
    home_key = f"{reports.HOME_KEY}{demo.home_user}:demo:{now:%Y%m%d}"
    past = _past(demo)
    with demo.db.session() as session:
        # The figures once, every surface rendered from them (the tracker computes its own:
        # once a sprint ended, the figures as it stood at its end).
        fig = figures.compute(session=session, sprint=sprint, at=now)
        morning = Morning(
            report=reports.daily_report(
                session=session, sprint=sprint, participants=team, now=now, fig=fig
            ),
            weekly=reports.weekly_report(
                session=session, sprint=sprint, participants=team, now=now, fig=fig
            )
            if weekly
            else None,
            status=Status.of(fig),
            tracker=tracker_markdown(session=session, sprint=sprint, now=now),
            home_key=home_key,
        )
        home = reports.home(
            session=session,
            sprint=sprint,
            now=now,
            user_id=demo.home_user,
            participants=team,
            fig=fig,
        )
        home["past_sprints"] = past  # as the Home tab's listener adds them
        reports.publish_home(
            session=session,
            sprint=sprint,
            now=now,
            user_id=demo.home_user,
            participants=team,
            key=home_key,
            data=home,
        )
        session.commit()
    return morning


def _past(demo: Demo) -> list[Any]:
    """The team's ended sprints, newest first, for its App Home (`jobs.history`)."""
    if demo.team is None:
        return []
    try:
        from jobs import history
    except ImportError:  # pragma: no cover - built alongside
        return []
    return list(history.past(demo.db, demo.team, demo.sprint, demo.now))


@dataclass
class Screen:
    """Prints, section by section, what Slack would have shown from the queued rows."""

    sprint: Sprint
    queued: list[Queued]
    echo: Callable[[str], None]
    links: bool = False  # each message followed by its Block Kit Builder link (`--links`)
    by_key: dict[str, Queued] = field(init=False)

    def __post_init__(self) -> None:
        self.by_key = {q.key: q for q in self.queued}

    def section(self, title: str) -> None:
        rule = "#" * 78
        self.echo(f"\n{rule}\n# {title}\n{rule}")

    def message(self, message: Mapping[str, Any], *, indent: str = "", home: bool = False) -> None:
        """A message as terminal text, every line indented by `indent`; with `links`, the
        link that opens it in Block Kit Builder under it."""
        text = to_text(message)
        if self.links:
            text += "\n" + link_line(surface(message, home=home))
        self.echo(indent + text.replace("\n", "\n" + indent) if indent else text)

    def show(self, q: Queued, *, indent: str = "") -> None:
        """A queued row as the outbox would send it."""
        self.message(render(q), indent=indent, home=q.home)

    def of(self, template: str) -> list[Queued]:
        return [q for q in self.queued if q.template == template]

    def suite(self, day_one: DemoRun) -> None:
        """The CI suite on day 1, and what the week does to it."""
        self.section(
            f"{self.sprint.sprint.name}: the demo's CI suite on day 1 (sprint.example.toml)"
        )
        self.echo(baseline_line(self.sprint, day_one))
        self.echo("\n".join(area_lines(self.sprint)))
        fixes = ", ".join(str(FIXES.get(d, 0)) for d in range(2, DEMO_DAYS + 1))
        self.echo(
            f"Then one CI run a day at {RUN_AT:%H:%M}: {fixes} tests fixed on days 2-{DEMO_DAYS}; "
            f"{REGRESSIONS} {REGRESSED_AREA} tests regress on day {REGRESSED_ON} and pass again "
            f"on day {RECOVERED_ON}."
        )

    def alerts(self, p0: int | None) -> None:
        """The first regression alert, the P0 blocker's escalation, the first performance
        alert and every readiness-decline notice."""
        team = self.sprint.channels.team
        for q in self.of("regression_alert")[:1]:
            self.section(f"Regression alert ({team}, {_when(self.sprint, q.at).split(',')[0]})")
            self.show(q)
        self.escalation(p0)
        for q in self.of("performance_alert")[:1]:
            self.section(f"Performance alert ({team}, {_when(self.sprint, q.at)})")
            self.show(q)
        for q in self.of("decline_notice"):
            self.section(f"Readiness-decline notice ({team}, {_when(self.sprint, q.at)})")
            self.show(q)

    def escalation(self, p0: int | None) -> None:
        """The P0 blocker (id `p0`), each escalation step in its thread, and its resolution."""
        key = f"blocker:{p0}"
        posted = self.by_key.get(key)
        if posted is None:
            return
        sprint = self.sprint
        self.section(
            f"{posted.data['code']} climbs the escalation path ({sprint.channels.blockers}, "
            f"from {_when(sprint, posted.at)})"
        )
        self.show(posted)
        self.echo("In its thread, each step as the blocker-escalation job posted it when due:")
        for i, step in enumerate(sprint.escalation):
            fired = self.by_key.get(f"{key}:step:{i}")
            if fired is None:
                continue
            copies = [
                q.payload.get("channel", "")
                for q in self.queued
                if q.key.startswith(f"{key}:step:{i}:")
            ]
            self.echo(
                f"+{format_duration(step.after)} ({_when(sprint, fired.at)})"
                + (f", also in {', '.join(copies)}" if copies else "")
                + ":"
            )
            self.show(fired, indent="    ")
        done = self.by_key.get(f"{key}:resolved")
        if done is not None:
            self.echo(f"{_when(sprint, done.at)}:")
            self.show(done, indent="    ")

    def morning(
        self,
        morning: Morning,
        now: datetime,
        *,
        standup_on: int = STANDUP_ON,
        people: tuple[str, ...] = TEAM,
        home_user: str = HOME_USER,
    ) -> None:
        """Day `standup_on`'s standup, then the readiness breakdown, reports and App Home."""
        sprint, sched = self.sprint, self.sprint.schedule
        status = sprint.channels.status
        self.section(
            f"Standups ({sprint.channels.team}, day {standup_on}, "
            f"{sched.standup_prompt:%H:%M}-{sched.standup_digest:%H:%M})"
        )
        self.standups(on=standup_on, people=people)
        self.section(f"/readiness — the breakdown ({sprint.sprint.name})")
        blocks = render_readiness(
            morning.status, sprint_name=sprint.sprint.name, days=sprint.sprint.days
        )
        self.message({"blocks": blocks})
        self.section(
            f"Daily report ({status}, day {morning.report['day']}, {sched.daily_report:%H:%M})"
        )
        self.message(render_payload(payload(reports.DAILY_REPORT, morning.report)))
        if morning.weekly is not None:
            self.section(f"Weekly report ({status}, day {morning.weekly['day']})")
            self.message(render_payload(payload(reports.WEEKLY_REPORT, morning.weekly)))
        home = self.by_key.get(morning.home_key)
        if home is not None:
            self.section(f"App Home of @{home_user} (the Home tab, opened {_when(sprint, now)})")
            self.show(home)

    def standups(self, *, on: int = STANDUP_ON, people: tuple[str, ...] = TEAM) -> None:
        """Day `on`'s standup as the team saw it: the prompt DM, the reminder, the day's
        message as the digest left it, the answers in its thread, and the blocker one
        recorded."""
        sprint, queued, echo = self.sprint, self.queued, self.echo
        sched = sprint.schedule
        day = sprint.sprint.start + timedelta(days=on - 1)
        parent = standups.day_key(day)

        def dms(template: str) -> list[Queued]:
            return [
                q for q in queued if q.template == template and q.data.get("day") == day.isoformat()
            ]

        prompts, reminders = dms("standup_prompt"), dms("standup_reminder")
        echo(
            f"{sched.standup_prompt:%H:%M} standup-prompt: {len(prompts)} DMs"
            + (f", e.g. to @{prompts[0].payload['channel']}:" if prompts else "")
        )
        for q in prompts[:1]:
            self.show(q, indent="    ")
        replies = [q for q in queued if q.template == "standup_reply" and q.parent_key == parent]
        if replies:
            echo(
                "; ".join(
                    f"{q.at.astimezone(sprint.sprint.tz):%H:%M} @{q.data['user']} answers"
                    for q in replies
                )
                + " (the /standup form, handled as its listener does)"
            )
        echo(
            f"{sched.standup_reminder:%H:%M} standup-reminder: {len(reminders)} DM(s)"
            + (
                f", to {', '.join('@' + q.payload['channel'] for q in reminders)}"
                if reminders
                else ""
            )
        )
        digest = next((q for q in queued if q.key == f"standup-digest:{day.isoformat()}"), None)
        if digest is not None:
            echo(f"{sched.standup_digest:%H:%M} standup-digest: the day's message, updated:")
            self.show(digest)
        if replies:
            echo("In its thread:")
            for q in replies:
                self.show(q)
        recorded = [
            q
            for q in queued
            if q.template == "blocker"
            and q.key.count(":") == 1
            and sprint_day(sprint.sprint, q.at) == on
            and q.data.get("reporter") in people
        ]
        for q in recorded:
            echo(
                f"The blocker line @{q.data['reporter']} typed is recorded as {q.data['code']}, "
                f"posted to {sprint.channels.blockers}:"
            )
            self.show(q)

    def blockers(self) -> None:
        """Each blocker as posted, and what became of it (its escalation steps, resolution)."""
        sprint = self.sprint
        posted = [q for q in self.of("blocker") if q.key.count(":") == 1]
        if not posted:
            return
        self.section(f"Blockers ({sprint.channels.blockers})")
        for q in posted:
            self.echo(f"{_when(sprint, q.at)}:")
            self.show(q)
            for step in self.queued:
                if step.key.startswith(f"{q.key}:step:") and step.key.count(":") == 3:
                    self.echo(f"  in its thread ({_when(sprint, step.at)}):")
                    self.show(step, indent="    ")
            done = self.by_key.get(f"{q.key}:resolved")
            if done is not None:
                self.echo(f"  {_when(sprint, done.at)}:")
                self.show(done, indent="    ")


# -- two teams, the first in its second sprint (issue 15) ---------------------------------

TEAMS_EXAMPLE = EXAMPLE.parent / "examples" / "teams"
# The example file's [sprint] keys that are the team's in a team file.
_TEAM_KEYS = ("timezone", "workdays")
# The example file's sprint tables, as a team file writes them (in its [[sprints]] entry).
_SPRINT_TABLES = {
    "[targets]": "[sprints.targets]",
    "[plan]": "[sprints.plan]",
    "[[milestones]]": "[[sprints.milestones]]",
    "[baseline]": "[sprints.baseline]",
}
PLATFORM_CHANNEL = "#platform"


def platform_file(example: str, team_file: str) -> str:
    """The example sprint file as a team file: [team] "platform" holding its tables, its
    sprint the first of `[[sprints]]`, and the sprints after it that `team_file`
    (examples/teams/platform.toml) lists."""
    lines = example.splitlines()
    start = lines.index("[sprint]")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    own = lines[start + 1 : end]
    team = [line for line in own if line.split("=")[0].strip() in _TEAM_KEYS]
    entry = [line for line in own if line not in team]
    out = [
        "# The demo's platform team (written by `sprintbot demo`): sprint.example.toml as a team",
        "# file, its [sprint] the first of [[sprints]], then examples/teams' Phase 5 Hardening.",
        "# Check the directory with: sprintbot config check <this directory>",
        "",
        "[team]",
        'id = "platform"',
        'name = "Core Platform"',
        *team,
        "",
        "[[sprints]]",
        *entry,
    ]
    for line in lines[end:]:
        header = line.split("#", 1)[0].strip()
        out.append(_SPRINT_TABLES.get(header, line) if header in _SPRINT_TABLES else line)
    later = team_file.split("\n[[sprints]]")[2:]  # the team file's second sprint on
    for text in later:
        out += ["", "[[sprints]]" + text.split("\n[channels]", 1)[0].rstrip()]
    text = "\n".join(out).replace('"#phase4-production-readiness"', f'"{PLATFORM_CHANNEL}"')
    # [schedule] is the team's, for sprints of 14 and 10 days: a weekly report on day 7.
    return text.replace("weekly_report_days = [7, 14]", "weekly_report_days = [7]") + "\n"


def team_dir(out_dir: Path, *, example: Path = EXAMPLE, teams: Path = TEAMS_EXAMPLE) -> Path:
    """The demo's SPRINTBOT_CONFIG directory, written to `out_dir/teams`: platform.toml
    (`platform_file`: the example sprint, then Phase 5 Hardening) and examples/teams'
    mobile.toml as it is."""
    path = out_dir / "teams"
    path.mkdir(parents=True, exist_ok=True)
    (path / "platform.toml").write_text(
        platform_file(
            example.read_text(encoding="utf-8"),
            (teams / "platform.toml").read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    (path / "mobile.toml").write_text(
        (teams / "mobile.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return path


# The platform team's first sprint runs its 14 days (CI every day, a daily report every
# morning after the week the demo shows, the weekly report on day 14), then its second
# starts: CI on its days 1-2, a P1 blocker, a standup on day 2; the demo's "now" is its
# day 3 at the daily report. B-002 (the standup's P1 of day 6) is never resolved, so it
# carries over.
SPRINT_ONE_DAYS = 14
SECOND_SPRINT_RUNS = 2  # CI runs in the second sprint before the demo's "now"
SECOND_NOW_DAY = 3
SECOND_STANDUP_ON = 2
SECOND_ANSWERS: tuple[tuple[time, str, dict[standups.Field, Any]], ...] = (
    (
        time(9, 5),
        "U0DEV1",
        {
            F.NOTES: "Profiled the API under load; the connection pool is the ceiling",
            F.FOCUS_AREAS: "Pool sizing, then the E2E shards (B-002)",
            F.TESTS_FIXED: "4",
            F.TARGET_TESTS: "4",
        },
    ),
    (
        time(9, 14),
        "U0QALEAD",
        {
            F.NOTES: "Regression suite green on main",
            F.FOCUS_AREAS: "Load test at 1,000 req/s",
            F.TESTS_FIXED: "2",
            F.TARGET_TESTS: "3",
        },
    ),
)


def _ci_run(demo: Demo, run: DemoRun, *, prefix: str = "phase4") -> Event:
    """One CI run, ingested at its time as `sprintbot ingest junit` does."""
    info = RunInfo(
        run=f"ci-{1000 + run.day}",
        commit=hashlib.sha1(f"demo-{prefix}-{run.day}".encode()).hexdigest()[:12],  # noqa: S324
        url=f"https://ci.example.com/{prefix}/runs/{1000 + run.day}",
        at=run.at,
    )
    digest = hashlib.sha256(run.xml).hexdigest()
    work = partial(ingest_junit, sprint=demo.sprint, document=run.xml, digest=digest, info=info)
    return (run.at, work)


def _reports(demo: Demo, days: range) -> list[Event]:
    """The clock's 9:00 daily report on `days`, and the weekly report at 18:00 on its days."""
    team, sched = list(demo.people), demo.sprint.schedule
    events: list[Event] = [
        (
            demo.at(day, sched.daily_report),
            partial(reports.post_daily_report, sprint=demo.sprint, participants=team),
        )
        for day in days
    ]
    events += [
        (
            demo.at(day, time(18, 0)),
            partial(reports.post_weekly_report, sprint=demo.sprint, participants=team),
        )
        for day in days
        if day in sched.weekly_report_days
    ]
    return events


def _standup(
    demo: Demo,
    on: int,
    answers: tuple[tuple[time, str, dict[standups.Field, Any]], ...],
) -> list[Event]:
    """The clock's three standup jobs on sprint day `on`, and `answers` as the form sends them."""
    sched, team = demo.sprint.schedule, list(demo.people)
    events: list[Event] = [
        (demo.at(on, clock), partial(job, sprint=demo.sprint, participants=team))
        for clock, job in (
            (sched.standup_prompt, standups.prompt),
            (sched.standup_reminder, standups.remind),
            (sched.standup_digest, standups.digest),
        )
    ]
    events += [(demo.at(on, clock), _answer(demo.sprint, u, v)) for clock, u, v in answers]
    return events


def _blocker(
    demo: Demo, name: str, *, severity: str, component: str, description: str, who: str
) -> Work:
    """A blocker filed with /blocker by `who`, its id kept as `jobs[name]`."""

    def work(*, session: Session, now: datetime) -> int | None:
        return blockers.file_blocker(
            session=session,
            sprint=demo.sprint,
            component=component,
            description=description,
            severity=severity,
            reporter=who,
            owner=who,
            now=now,
        ).id

    return demo.recorded(name, work)


def _resolve(demo: Demo, name: str, *, who: str, note: str) -> Work:
    def work(*, session: Session, now: datetime) -> Any:
        return blockers.resolve(
            session=session,
            sprint=demo.sprint,
            blocker_id=demo.jobs[name],
            user_id=who,
            note=note,
            now=now,
        )

    return work


@dataclass(frozen=True)
class PlatformDemo:
    """The platform team: its first sprint's week as the demo always showed it, and its
    second sprint at the demo's "now"."""

    week: Demo
    week_morning: Morning
    week_queued: list[Queued]
    ended: figures.Figures  # the first sprint as it ended
    second: Demo
    morning: Morning


def build_platform(team: Team, teams: Teams, db: Database, *, runs_dir: Path) -> PlatformDemo:
    """The platform team's two sprints, each in its own scope (`Teams.scope`)."""
    first, second = team.sprints[0], team.sprints[1]
    db_one = db.scoped(teams.scope(team, first))
    week = build(first, db_one, runs_dir=runs_dir)
    week_morning = _morning(week)
    week_queued = _outbox(db_one)
    runs = list(junit_runs(first, days=SPRINT_ONE_DAYS + SECOND_SPRINT_RUNS))

    # The rest of the first sprint: CI every day, the daily and weekly reports.
    end = local_instant(first.sprint, first.sprint.end, time(23, 0))
    rest = Demo(first, db_one, runs=runs, until=end)
    rest.replay(
        [
            *_reports(rest, range(DEMO_DAYS + 2, SPRINT_ONE_DAYS + 1)),
            *(_ci_run(rest, r) for r in runs[DEMO_DAYS:SPRINT_ONE_DAYS]),
        ]
    )
    with db_one.session() as session:
        ended = figures.compute(session=session, sprint=first, at=end)

    # The second sprint, to the morning of its day SECOND_NOW_DAY.
    db_two = db.scoped(teams.scope(team, second))
    demo = Demo(second, db_two, runs=runs[SPRINT_ONE_DAYS:], team=team)
    demo.until = demo.at(SECOND_NOW_DAY, second.schedule.daily_report)
    load = _blocker(
        demo,
        "pool",
        severity="P1",
        component="Scalability",
        description="Connection pool exhausted at 900 req/s",
        who="U0DEV1",
    )
    demo.replay(
        [
            *_reports(demo, range(1, SECOND_NOW_DAY)),
            (demo.at(1, time(11, 0)), load),
            *_standup(demo, SECOND_STANDUP_ON, SECOND_ANSWERS),
            *(_ci_run(demo, r, prefix="phase5") for r in demo.runs),
        ]
    )
    return PlatformDemo(
        week=week,
        week_morning=week_morning,
        week_queued=week_queued,
        ended=ended,
        second=demo,
        morning=_morning(demo, weekly=False),
    )


# The mobile team: its one sprint (from 2025-11-03, Mon-Fri) to its day 12, a Friday: CI
# each workday at 16:00 Berlin, two blockers of its own (B-001 resolved, B-002 open), a
# standup on day 11. Its people are its own; none of the platform team's.
MOBILE_PEOPLE = ("U0DAVE", "U0ERIN", "U0FRANK")
MOBILE_NOW_DAY = 12
MOBILE_STANDUP_ON = 11
# (test file without .py, tests, failing on day 1); where they land is up to mobile.toml.
MOBILE_SUITE = (
    ("ios/SyncTests/test_merge", 40, 14),
    ("ios/SyncTests/test_queue", 30, 6),
    ("android/sync/test_worker", 35, 9),
    ("ios/UITests/test_screens", 25, 4),
    ("android/ui/test_lists", 20, 2),
)
MOBILE_FIXES = 3  # failing tests fixed each workday
MOBILE_ANSWERS: tuple[tuple[time, str, dict[standups.Field, Any]], ...] = (
    (
        time(9, 10),
        "U0DAVE",
        {
            F.NOTES: "Merge conflicts resolved on both platforms",
            F.FOCUS_AREAS: "Sync queue crash on Android 12 (B-002)",
            F.TESTS_FIXED: "3",
            F.TARGET_TESTS: "3",
        },
    ),
    (
        time(9, 20),
        "U0ERIN",
        {
            F.NOTES: "Store screenshots drafted",
            F.FOCUS_AREAS: "UI tests of the offline banner",
            F.TESTS_FIXED: "0",
            F.TARGET_TESTS: "2",
        },
    ),
)


def mobile_runs(sprint: Sprint, *, days: int, seed: int = 11) -> list[DemoRun]:
    """One CI run at 16:00 local on each workday of the sprint's first `days` days;
    MOBILE_FIXES failing tests pass at each run after the first."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    cases = [
        Case(
            area="Mobile", file=f"{path}.py", classname=path.replace("/", "."), name=f"test_{i:03d}"
        )
        for path, tests, _ in MOBILE_SUITE
        for i in range(tests)
    ]
    failing: set[int] = set()
    start = 0
    for _, tests, fail in MOBILE_SUITE:
        failing |= set(rng.sample(range(start, start + tests), fail))
        start += tests
    files = {c.file for c in cases}
    out: list[DemoRun] = []
    for day in range(1, days + 1):
        date_ = sprint.sprint.start + timedelta(days=day - 1)
        if not standups.is_workday(sprint, date_):
            continue
        if out:
            failing -= set(rng.sample(sorted(failing), min(MOBILE_FIXES, len(failing))))
        out.append(
            _run(day, local_instant(sprint.sprint, date_, RUN_AT), cases, files, failing, fixed={})
        )
    return out


def build_mobile(team: Team, teams: Teams, db: Database) -> tuple[Demo, Morning]:
    """The mobile team's sprint, in its own scope, to the morning of its day 12."""
    sprint = team.sprints[0]
    demo = Demo(
        sprint,
        db.scoped(teams.scope(team, sprint)),
        runs=mobile_runs(sprint, days=MOBILE_NOW_DAY - 1),
        people=MOBILE_PEOPLE,
        home_user=MOBILE_PEOPLE[0],
        team=team,
    )
    demo.until = demo.at(MOBILE_NOW_DAY, sprint.schedule.daily_report)
    conflict = _blocker(
        demo,
        "conflict",
        severity="P1",
        component="Sync",
        description="Edits made offline are lost on a merge conflict",
        who="U0DAVE",
    )
    crash = _blocker(
        demo,
        "crash",
        severity="P0",
        component="Sync",
        description="Sync queue crashes on Android 12 after a restart",
        who="U0ERIN",
    )
    fixed = _resolve(demo, "conflict", who="U0DAVE", note="Last-writer-wins replaced by a merge")
    demo.replay(
        [
            (demo.at(2, time(10, 30)), conflict),
            (demo.at(4, time(15, 0)), fixed),
            (demo.at(9, time(11, 15)), crash),
            *_standup(demo, MOBILE_STANDUP_ON, MOBILE_ANSWERS),
            *(_ci_run(demo, r, prefix="mobile") for r in demo.runs),
        ]
    )
    return demo, _morning(demo, weekly=False)


def _heading(echo: Callable[[str], None], team: Team, sprint: Sprint, now: datetime) -> None:
    rule = "=" * 78
    info = sprint.sprint
    echo(
        f"\n{rule}\n= Team: {team.name} ({team.id}) — {info.name}, day "
        f"{sprint_day(info, now)} of {info.days}, {now.astimezone(info.tz):%Y-%m-%d %H:%M} "
        f"{info.timezone}\n{rule}"
    )


def show_history(screen: Screen, db: Database, team: Team, sprint: Sprint, now: datetime) -> None:
    """`/sprint history` as the team would see it now (`jobs.history`), when it is there."""
    try:
        from jobs import history
    except ImportError:  # pragma: no cover - built alongside
        return
    data = history.sprint_history(db, team, sprint, now)
    screen.section(f"/sprint history ({team.name}, {_when(sprint, now)})")
    screen.message(render_payload(payload(history.SPRINT_HISTORY, data)))


def show_ended(echo: Callable[[str], None], fig: figures.Figures, *, next_name: str) -> None:
    """How a sprint ended: readiness start → end, tests fixed, blockers open at its end
    (they carry over to the next sprint with their codes)."""
    info, tests = fig.sprint.sprint, fig.tests
    start = fig.baseline_measured
    end = fig.score
    echo(
        f"{info.name} ended on {info.end} (day {info.days}): readiness "
        f"{pct(start)} → {pct(end)} (target {pct(fig.target)}), failing tests "
        f"{tests.baseline_failing:,} → {tests.failing:,}, {tests.fixed:,} fixed, "
        f"{tests.regressions_introduced} regressions introduced."
    )
    still = [b for b in fig.blockers if b.resolved_at is None]
    for b in still:
        echo(
            f"{b.code} {b.severity} · {b.component} — {b.description}: still open, "
            f"carried over to {next_name} with its code and history."
        )


def run_demo(
    out_dir: Path,
    *,
    sprint_file: Path = EXAMPLE,
    echo: Callable[[str], None],
    links: bool = False,
) -> dict[str, Path]:
    """Build the demo in `out_dir` and print it, with `links` each message's Block Kit
    Builder link under it; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    org = load_org(team_dir(out_dir, example=sprint_file))
    platform, mobile = (t for key in ("platform", "mobile") for t in org.teams if t.id == key)
    db_path = out_dir / "demo.db"
    db_path.unlink(missing_ok=True)
    url = f"sqlite:///{db_path}"
    upgrade(url)
    db = Database.from_url(url)
    try:
        first = platform.sprints[0].sprint
        teams = Teams.sync(org, db=db, now=local_instant(first, first.start, time(0, 0)))
        p = build_platform(platform, teams, db, runs_dir=out_dir / "junit")
        m_demo, m_morning = build_mobile(mobile, teams, db)

        # The platform team: its first sprint's first week as it happened, how that sprint
        # ended, then its second sprint this morning.
        first_sprint, second = platform.sprints[0], platform.sprints[1]
        echo(
            f"Two teams from {org.path} (sprintbot config check it), one database, each "
            "team's rows its own: Core Platform in its second sprint, Mobile Apps in its first."
        )
        _heading(echo, platform, second, p.second.now)
        week = Screen(first_sprint, p.week_queued, echo, links)
        week.suite(p.week.runs[0])
        week.alerts(p.week.jobs.get("p0"))
        week.morning(p.week_morning, p.week.now)
        week.section(f"{first.name}: how it ended")
        show_ended(echo, p.ended, next_name=second.sprint.name)
        start = local_instant(second.sprint, second.sprint.start, time(0, 0))
        now2 = Screen(second, _outbox(p.second.db, since=start), echo, links)
        show_history(now2, p.second.db, platform, second, p.second.now)
        now2.blockers()
        now2.morning(p.morning, p.second.now, standup_on=SECOND_STANDUP_ON)

        # The mobile team: its one sprint this morning.
        _heading(echo, mobile, mobile.sprints[0], m_demo.now)
        screen = Screen(mobile.sprints[0], _outbox(m_demo.db), echo, links)
        screen.blockers()
        screen.morning(
            m_morning,
            m_demo.now,
            standup_on=MOBILE_STANDUP_ON,
            people=MOBILE_PEOPLE,
            home_user=m_demo.home_user,
        )
        files = {
            "chart": out_dir / "burndown.png",
            "tracker": out_dir / "tracker.md",
            "database": db_path,
            "runs": out_dir / "junit",
            "teams": out_dir / "teams",
        }
        files["chart"].write_bytes(burndown_png(p.week_morning.report))
        files["tracker"].write_text(p.week_morning.tracker, encoding="utf-8")
        return files
    finally:
        db.dispose()

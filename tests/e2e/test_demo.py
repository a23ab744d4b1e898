"""`sprintbot demo` as a new user runs it: no Slack, no settings, a fresh process; and the
CI runs it generates, which start from the seed tracker's baseline. It serves two teams from
one database: Core Platform in its second sprint (its first sprint's week shown as it
happened, then how that sprint ended), and Mobile Apps in its only sprint."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image

from bot.blocks import render
from bot.demo import BUILDER, DEMO_DAYS, MAX_LINK, junit_runs, link_line
from bot.terminal import to_text
from jobs.components import ComponentMap
from jobs.config import Source, Sprint, load_sprint
from jobs.junit import parse
from storage.models import TestStatus
from tests.support.server import EXAMPLE

# The seed's "Test Coverage by Component": (total, passing, failing).
SEED_AREAS = {
    "Swarm Core": (287, 231, 56),
    "Memory System": (193, 164, 29),
    "CLI Interface": (412, 298, 114),
    "Task Orchestration": (178, 156, 22),
    "Agent Framework": (234, 187, 47),
    "Hooks System": (145, 128, 17),
    "Neural Features": (98, 82, 16),
    "GitHub Integration": (156, 134, 22),
    "Performance": (89, 78, 11),
    "Security": (124, 108, 16),
    "Utilities": (208, 151, 57),
}
# Where the demo keeps each area's tests, and the component the example file's globs give
# each directory (None: no component; those tests count in the totals only).
LAYOUT = {
    "tests/swarm/": ("Swarm Core", "Swarm Coordination"),
    "tests/memory/": ("Memory System", "Memory Management"),
    "tests/cli/agent/": ("CLI Interface", "Agent Commands"),
    "tests/cli/swarm/": ("CLI Interface", "Swarm Commands"),
    "tests/cli/": ("CLI Interface", "Utility Commands"),
    "tests/orchestration/": ("Task Orchestration", "Task Orchestration"),
    "tests/agents/": ("Agent Framework", None),
    "tests/unit/hooks/": ("Hooks System", "Unit Tests"),
    "tests/unit/neural/": ("Neural Features", "Unit Tests"),
    "tests/integration/github/": ("GitHub Integration", "Integration Tests"),
    "tests/e2e/performance/": ("Performance", "E2E Tests"),
    "tests/security/auth/": ("Security", "Authentication"),
    "tests/security/authz/": ("Security", "Authorization"),
    "tests/security/data/": ("Security", "Data Protection"),
    "tests/utils/": ("Utilities", "Utility Commands"),
}
FAILED = (TestStatus.FAILED, TestStatus.ERROR)


def _directory(file: str) -> str:
    return file.rsplit("/", 1)[0] + "/"


def test_day_one_is_the_seeds_baseline(example: Sprint) -> None:
    """The day-1 JUnit document, read as CI's would be: the seed's 2,124 tests in 59 files,
    1,717 passing and 407 failing (its rows' reading), 33 files all passing, and each of
    its Test Coverage rows with its own counts."""
    day1 = next(junit_runs(example, days=1))
    report = parse(day1.xml)
    cases = list(report.cases.values())
    assert report.testcases == len(cases) == 2124
    assert sum(c.status in FAILED for c in cases) == 407
    assert sum(c.status is TestStatus.PASSED for c in cases) == 1717
    assert not any(c.status is TestStatus.SKIPPED for c in cases)

    files: dict[str, list[bool]] = defaultdict(list)
    for c in cases:
        assert c.file is not None
        files[c.file].append(c.status is TestStatus.PASSED)
    assert len(files) == 59
    assert sum(all(passed) for passed in files.values()) == 33
    assert (day1.tests, day1.failing, day1.files, day1.files_passing) == (2124, 407, 59, 33)

    areas: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    components = ComponentMap(example)
    fed: set[str] = set()
    for c in cases:
        area, component = LAYOUT[_directory(c.file or "")]
        counts = areas[area]
        counts[0] += 1
        counts[1 if c.status is TestStatus.PASSED else 2] += 1
        assert components(c.file, c.classname) == component, c.file
        if component:
            fed.add(component)
    assert {name: tuple(n) for name, n in areas.items()} == SEED_AREAS
    # The example file's baseline says the same, and every test-fed component gets tests.
    assert {a.name: (a.total, a.passing, a.failing) for a in example.baseline.areas} == SEED_AREAS
    assert fed == {c.name for c in example.components if c.source is Source.TESTS}


def test_a_week_of_runs_fixes_and_regresses_as_described(example: Sprint) -> None:
    runs = list(junit_runs(example, days=DEMO_DAYS))
    # 30, 20, 22, 18, 12 fixed on days 2-6; six swarm tests break on day 3, pass on day 4.
    assert [r.failing for r in runs] == [407, 377, 363, 335, 317, 305]
    failing = [{k for k, c in parse(r.xml).cases.items() if c.status in FAILED} for r in runs[1:4]]
    broke = failing[1] - failing[0]
    assert len(broke) == 6 and all(classname.startswith("tests.swarm.") for classname, _ in broke)
    assert not broke & failing[2]
    # Fixes go a file at a time, so files come to pass all their tests (day 3's regressions
    # break files that passed).
    files = [r.files_passing for r in runs]
    assert files[0] == 33 and files[2] < files[1] < files[3] <= files[-1]


def _run_demo(tmp_path: Path, *flags: str) -> tuple[str, Path]:
    """`sprintbot demo` in a fresh process, as a new user runs it: no settings, no Slack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SPRINTBOT_"))}
    env.pop("DATABASE_URL", None)
    out_dir = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--out", str(out_dir), *flags],
        env=env,
        cwd=tmp_path,  # no .env, no sprint.toml here
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout, out_dir


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return _run_demo(tmp_path_factory.mktemp("demo-run"))


def _section(out: str, title: str) -> str:
    """The printed section whose `# ` heading starts with `title`, up to the next one."""
    start = out.index(f"\n# {title}")
    end = out.find("\n####", out.index("\n", out.index("\n####", start + 1) + 1))
    return out[start : end if end != -1 else len(out)]


def test_demo_states_the_baseline_it_starts_from(demo: tuple[str, Path]) -> None:
    out, _ = demo
    # Near the start, under the first team's heading, one line: the seed's figures, and
    # which reading of them it takes.
    head = out.strip().splitlines()[:10]
    baseline = next(line for line in head if line.startswith("Baseline as the seed's"))
    assert baseline == (
        "Baseline as the seed's Test Coverage rows give it: 2,124 tests in 59 files "
        "(33 files all passing), 1,717 passing, 407 failing (the seed's summary says 341: "
        "that would need 66 skipped tests, which the seed never mentions)."
    )
    # Each seed area, with where its tests go.
    assert "Swarm Core            287      56     8  tests/swarm/ → Swarm Coordination" in out
    assert "tests/agents/ → none (counts in the totals only)" in out
    assert "Total               2,124     407    59" in out


def test_demo_prints_the_sprint_and_writes_chart_and_tracker(demo: tuple[str, Path]) -> None:
    out, out_dir = demo
    # What Slack would have shown, as terminal text.
    assert "# Regression alert (#platform, day 3)" in out
    assert "6 tests regressed on main" in out
    assert "API Throughput degraded: 850 req/s" in out
    assert "# /readiness — the breakdown" in out and "Core Infrastructure · weight 25" in out
    assert "Daily report — Day 7 of 14, 2025-11-04" in out
    assert "Weekly report — week 1, Day 7 of 14, 2025-11-04" in out
    assert "B-002 P1 · E2E Tests" in out  # the open blocker; B-001 was resolved on day 5
    assert "R-001 Active (High impact) — Test fixes introduce regressions" in out
    assert "Standups yesterday: 3 of 4; missing @U0DEV2" in out
    assert "<@" not in out and ":white_check_mark:" not in out  # mrkdwn made readable
    runs = list(junit_runs(load_sprint(EXAMPLE), days=DEMO_DAYS))
    passed = 2124 - runs[-1].failing
    assert f"Tests passing: {passed:,}/2,124" in out

    # It says how long it took (no bound here: a timed assertion failed a CI run on a
    # loaded machine, 30.3 s for a demo that takes 6-7 s alone), where it wrote, and the
    # files are there.
    assert re.search(r"The demo sprint \([\d.]+ s\)", out) is not None
    chart = out_dir / "burndown.png"
    tracker = out_dir / "tracker.md"
    assert f"burn-down chart   {chart}" in out and f"tracker document  {tracker}" in out
    # The CI runs it ingested are there to read, or to ingest again.
    assert f"CI runs (JUnit)   {out_dir / 'junit'}/day-1.xml … day-6.xml" in out
    assert (out_dir / "junit" / "day-6.xml").read_bytes() == runs[-1].xml
    png = chart.read_bytes()
    Image.open(io.BytesIO(png)).verify()
    series = json.loads(Image.open(io.BytesIO(png)).text["Description"])  # type: ignore[attr-defined]
    # One point per CI day; this morning's (day 7), if plotted, is still day 6's count.
    plotted = {int(d): f for d, f in series["failing"].items()}
    assert {d: plotted[d] for d in range(1, DEMO_DAYS + 1)} == {r.day: r.failing for r in runs}
    assert all(f == runs[-1].failing for d, f in plotted.items() if d > DEMO_DAYS)

    md = tracker.read_text(encoding="utf-8")
    assert md.startswith("# Phase 4 Production Readiness Tracker\n")
    for heading in (
        "## Executive Summary",
        "## Daily Progress Tracker",
        "## Burn-Down Chart Data",
        "## Risk Tracking Matrix",
        "## Blocker Resolution Log",
        "## Key Metrics Dashboard",
        "### Performance Benchmarks",
        "## Sprint Milestones",
        "## Update History",
    ):
        assert f"\n{heading}\n" in md, heading
    assert f"| **Passing Tests** | 1,717 / 2,124 | {passed:,} / 2,124 |" in md
    assert f"\n| 6 | {runs[-1].failing} | " in md  # day 6 in the burn-down: failing
    assert (
        "| B-001 | Swarm Coordination | Leader election deadlocks under a network partition" in md
    )
    assert "| R-001 | Test fixes introduce regressions | High | Medium |" in md
    # Fixed this sprint: baseline-failing tests that pass now (the regressions passed again).
    assert f"- [ ] tests_fixed >= 110 — measured {407 - runs[-1].failing}" in md
    assert any(
        line.startswith("| API Throughput |") and "850 req/s" in line and "degraded" in line
        for line in md.splitlines()
    )


def test_the_change_since_yesterday_is_that_of_the_scores_shown(demo: tuple[str, Path]) -> None:
    out, _ = demo
    # Yesterday's standups (day 6, 09:00, before that day's CI run) show readiness as the
    # day began; this morning's report shows today's and the change since: the one less
    # the other as both are shown (it read +0.38, the unrounded scores' difference, beside
    # 80.62 % and 81.01 %; found by review).
    assert "readiness 80.62 %, At Risk" in _section(out, "Standups (#platform, day 6")
    daily = _section(out, "Daily report (#sprint-status, day 7")
    assert "Readiness: 81.01 % (+0.39 pts since yesterday)" in daily


def test_the_full_suite_criterion_is_the_pass_rate(demo: tuple[str, Path]) -> None:
    out, _ = demo
    # The week-2 checkpoint's "Full regression suite passing (100%)" is the pass rate: it
    # read "✔ … — measured 0" (no regression open) beside 305 failing (found by review).
    weekly = _section(out, "Weekly report (#sprint-status, day 7")
    assert "✘ Full regression suite passing (100%) — measured 85.64 %" in weekly
    assert "Tests passing: 1,819/2,124 (85.64 %" in weekly


def test_demo_shows_a_p0_climbing_its_escalation_path(demo: tuple[str, Path]) -> None:
    out, _ = demo
    section = _section(out, "B-001 climbs the escalation path (#critical-blockers")
    assert "B-001 P0 · Swarm Coordination" in section
    # Each [[escalation]] step of the example file, in order, at its hour after the report
    # (day 3, 11:00; the clocks went back an hour on day 5, 2025-11-02).
    lines = section.splitlines()
    steps = [
        ("+0h (day 3, 11:00), also in #platform:", "Daily standup discussion"),
        ("+8h (day 3, 19:00):", "Technical lead review"),
        (
            "+24h (day 4, 11:00), also in #platform:",
            "Swarm coordination meeting",
        ),
        ("+48h (day 5, 10:00):", "Executive decision"),
    ]
    at = 0
    for n, (when, name) in enumerate(steps, start=1):
        at = lines.index(when, at) + 1
        hours = when.split(" ", 1)[0][1:]
        assert f"reached escalation step {n} — {name} after {hours}." in lines[at], lines[at]
    assert lines[at].endswith("@S0EXECUTIVES")  # the executives' user group
    assert "B-001 resolved by @U0DEV2 after 53h" in section


def test_demo_shows_a_day_of_standups_and_the_notices(demo: tuple[str, Path]) -> None:
    out, _ = demo
    standups = _section(out, "Standups (#platform, day 6, 09:00-09:30)")
    assert "09:00 standup-prompt: 4 DMs" in standups  # U0DEV3 is away
    assert "09:25 standup-reminder: 1 DM(s), to @U0DEV2" in standups
    assert "Standup — Day 6 of 14, 2025-11-03" in standups
    assert "Answered 3 of 4\nMissing: @U0DEV2\nAway: @U0DEV3" in standups
    for user in ("U0DEV1", "U0QALEAD", "U0TECHLEAD"):
        assert f"Standup from @{user} (Day 6 of 14)" in standups
    assert "The blocker line @U0DEV1 typed is recorded as B-002" in standups
    # What they say they fixed yesterday is what CI shows of day 5 (all CLI fixes).
    day5 = list(junit_runs(load_sprint(EXAMPLE), days=5))[-1]
    said = [int(n) for n in re.findall(r"^• Tests fixed: (\d+)$", standups, re.M)]
    assert len(said) == 3 and sum(said) == sum(day5.fixed.values()) == 18
    assert all(f.startswith("tests/cli/") for f in day5.fixed)

    decline = _section(out, "Readiness-decline notice (#platform, day 5")
    assert "Readiness fell" in decline and "Scalability (weight 5)" in decline
    assert "[Call emergency standup]" in decline

    home = _section(out, "App Home of @U0DEV1")
    assert "Phase 4 Production Readiness — Day 7 of 14" in home
    assert "Breakdown by group" in home and "Open blockers (1)" in home
    assert "Today's standups: 0 of 4" in home
    assert "Last CI run `ci-1006`" in home


def test_demo_reports_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--out", str(blocker / "demo")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("cannot write (Not a directory)")
    assert proc.stderr.count("\n") == 1


def _teams(out: str) -> dict[str, str]:
    """Each team's part of the output, by team id: from its `= Team:` heading to the next."""
    parts = out.split("\n= Team: ")[1:]
    assert parts, "no team headings"
    return {part.split("(", 1)[1].split(")", 1)[0]: part for part in parts}


def test_demo_runs_two_teams_the_first_in_its_second_sprint(demo: tuple[str, Path]) -> None:
    out, out_dir = demo
    teams = _teams(out)
    assert list(teams) == ["platform", "mobile"]
    platform = teams["platform"]
    assert platform.startswith(
        "Core Platform (platform) — Phase 5 Hardening, day 3 of 10, 2025-11-14 09:00 "
        "America/New_York\n"
    )
    # Its first sprint ran its 14 days and ended with B-002 (the standup's P1) still open.
    ended = _section(out, "Phase 4 Production Readiness: how it ended")
    assert re.search(
        r"Phase 4 Production Readiness ended on 2025-11-11 \(day 14\): readiness "
        r"[\d.]+ % → [\d.]+ % \(target 85 %\), failing tests 407 → \d+",
        ended,
    )
    assert (
        "B-002 P1 · E2E Tests — E2E Tests time out on the shared CI runners: still open, "
        "carried over to Phase 5 Hardening" in ended
    )
    # The second sprint this morning: its day 3, with the carried-over blocker under its
    # same code and the team's numbering going on (B-003 filed on its day 1).
    now = platform[platform.index("# Daily report (#sprint-status, day 3, 09:00)") :]
    assert "Daily report — Day 3 of 10, 2025-11-14" in now
    assert "Open blockers (2)" in now
    # (#sprint-status is both teams': a code there may come with its team, "platform B-002".)
    assert re.search(r"● (platform )?B-002 P1 · E2E Tests — E2E Tests time out on the", now)
    assert re.search(r"● (platform )?B-003 P1 · Scalability — Connection pool exhausted", now)
    readiness = _section(out, "/readiness — the breakdown (Phase 5 Hardening)")
    assert "Phase 5 Hardening · Day 3 of 10" in readiness and "Target: 90 %" in readiness
    standup = _section(out, "Standups (#platform, day 2, 09:00-09:30)")
    assert "Standup — Day 2 of 10, 2025-11-13" in standup
    home = platform[platform.index("# App Home of @U0DEV1 (the Home tab, opened day 3") :]
    assert "Phase 5 Hardening — Day 3 of 10" in home
    # Its App Home lists the past sprint, as the Home tab's listener adds it.
    assert "Past sprints\nPhase 4 Production Readiness (2025-10-29 → 2025-11-11)" in home
    # /sprint history: both sprints, the running one first.
    history = _section(out, "/sprint history (Core Platform")
    assert history.index("Phase 5 Hardening") < history.index("Phase 4 Production Readiness")

    # The teams directory it served, as `config check` reads it.
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "config", "check", str(out_dir / "teams")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{out_dir / 'teams'}: valid, 2 teams" in proc.stdout
    assert "    Phase 5 Hardening: 2025-11-12 to 2025-11-21, 10 days" in proc.stdout


def test_demo_second_team_has_its_own_sprint_and_numbers(demo: tuple[str, Path]) -> None:
    out, _ = demo
    mobile = _teams(out)["mobile"]
    assert mobile.startswith(
        "Mobile Apps (mobile) — Offline Sync, day 12 of 14, 2025-11-14 09:00 Europe/Berlin\n"
    )
    # Its blockers are numbered from B-001, in its own blockers channel.
    blockers = mobile[mobile.index("# Blockers (#mobile-blockers)") :]
    assert "● B-001 P1 · Sync\nEdits made offline are lost on a merge conflict" in blockers
    assert "✔ B-001 resolved by @U0DAVE" in blockers
    assert "● B-002 P0 · Sync\nSync queue crashes on Android 12 after a restart" in blockers
    assert "Standup — Day 11 of 14, 2025-11-13" in mobile
    assert "Answered 2 of 3\nMissing: @U0FRANK" in mobile
    report = mobile[mobile.index("# Daily report (#sprint-status, day 12, 09:00)") :]
    assert "Daily report — Day 12 of 14, 2025-11-14" in report
    assert re.search(r"Open blockers \(1\)\n● (mobile )?B-002 P0 · Sync", report)
    assert "Data · weight 3" in mobile and "✔ UI (2)" in mobile
    assert "Offline Sync — Day 12 of 14" in mobile[mobile.index("# App Home of @U0DAVE") :]


def test_demo_keeps_each_teams_data_to_itself(demo: tuple[str, Path]) -> None:
    out, out_dir = demo
    teams = _teams(out)
    platform, mobile = teams["platform"], teams["mobile"]
    for word in (
        "Mobile Apps",
        "Offline Sync",
        "#mobile",
        "U0DAVE",
        "U0ERIN",
        "U0FRANK",
        "Android",
        "ci.example.com/mobile",
        "Sync queue",
    ):
        assert word not in platform, word
    for word in (
        "Core Platform",
        "Phase 4",
        "Phase 5",
        "#platform",
        "#critical-blockers",
        "U0DEV",
        "U0TECHLEAD",
        "U0QALEAD",
        "Swarm",
        "E2E Tests",
        "Scalability",
        "ci.example.com/phase",
    ):
        assert word not in mobile, word

    # In the database: each team's blockers numbered on their own, each sprint's rows its own.
    db = sqlite3.connect(out_dir / "demo.db")
    try:
        numbers = db.execute(
            "SELECT t.slug, b.number, b.resolved_at IS NULL FROM blocker b "
            "JOIN team t ON t.id = b.team_id ORDER BY t.slug, b.number"
        ).fetchall()
        assert numbers == [
            ("mobile", 1, 0),
            ("mobile", 2, 1),
            ("platform", 1, 0),
            ("platform", 2, 1),  # carried over from Phase 4, open in Phase 5
            ("platform", 3, 1),
        ]
        standups = db.execute(
            "SELECT t.slug, s.name, count(*) FROM standup u JOIN sprint s ON s.id = u.sprint_id "
            "JOIN team t ON t.id = s.team_id AND t.id = u.team_id GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        assert standups == [
            ("mobile", "Offline Sync", 2),
            ("platform", "Phase 4 Production Readiness", 3),
            ("platform", "Phase 5 Hardening", 2),
        ]
        sprints = {
            row[0]
            for row in db.execute(
                "SELECT s.name FROM readiness_snapshot r JOIN sprint s ON s.id = r.sprint_id"
            )
        }
        assert sprints == {"Offline Sync", "Phase 4 Production Readiness", "Phase 5 Hardening"}
    finally:
        db.close()


# -- demo --links: each message it shows opens in Block Kit Builder -------------------------

LINK = re.compile(r"^( *)Block Kit Builder: (\S+)$", re.M)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return _run_demo(tmp_path_factory.mktemp("demo-links"), "--links")


def _opened(link: str) -> dict[str, Any]:
    """What Block Kit Builder reads from a link: the JSON after its `#`, URL-decoded."""
    assert link.startswith(BUILDER), link
    surface: dict[str, Any] = json.loads(unquote(link.removeprefix(BUILDER)))
    return surface


def _heading(out: str, at: int) -> str:
    """The title of the printed section that position `at` is in."""
    start = out.rindex("\n# ", 0, at) + 3
    return out[start:].split("\n", 1)[0]


def _plain(out: str, out_dir: Path) -> str:
    """The demo's output without its links, its time and where it wrote."""
    text = re.sub(r"^ *Block Kit Builder: \S+\n", "", out, flags=re.M)
    return re.sub(r"\(\d+\.\d s\)", "", text.replace(str(out_dir), "DIR"))


def _sent(out_dir: Path) -> list[str]:
    """Every surface the demo's bot queued, as the outbox would send it (a message's blocks,
    or a Home view), as canonical JSON."""
    db = sqlite3.connect(out_dir / "demo.db")
    try:
        rows = db.execute("SELECT method, payload FROM outbox ORDER BY id").fetchall()
    finally:
        db.close()
    out = []
    for method, raw in rows:
        payload = json.loads(raw)
        if method == "files.upload_v2":  # the chart: an image, not blocks
            continue
        blocks = render(payload)["blocks"]
        home = method == "views.publish"  # the outbox publishes {"type": "home", "blocks": …}
        sent = {"type": "home", "blocks": blocks} if home else {"blocks": blocks}
        out.append(json.dumps(sent, sort_keys=True))
    return out


def test_demo_links_open_each_message_it_shows_in_block_kit_builder(
    linked: tuple[str, Path], demo: tuple[str, Path]
) -> None:
    out, out_dir = linked
    links = list(LINK.finditer(out))
    assert len(links) > 30
    sent = _sent(out_dir)
    computed = set()  # sections whose message is shown as computed now, not queued
    for m in links:
        indent, link = m.group(1), m.group(2)
        assert len(link) <= MAX_LINK
        opened = _opened(link)
        # What the link opens is the message printed right above it.
        shown = indent + to_text(opened).replace("\n", "\n" + indent)
        assert out[: m.start()].endswith(shown + "\n"), link
        # And exactly what the bot posts: a queued row's blocks, as the outbox sends them.
        if json.dumps(opened, sort_keys=True) not in sent:
            computed.add(_heading(out, m.start()).split(" (", 1)[0])
    # Only the answers to slash commands and the morning's reports are not in the outbox:
    # the demo computes them at its "now" (the reports are the ones the 9:00 job posts).
    assert computed == {
        "/readiness — the breakdown",
        "/sprint history",
        "Daily report",
        "Weekly report",
    }
    home = [_opened(m.group(2)) for m in links if _heading(out, m.start()).startswith("App Home")]
    assert len(home) == 3 and all(h["type"] == "home" for h in home)
    # Without --links the demo prints the same, less the links.
    assert _plain(out, out_dir) == _plain(*demo)


def test_readme_shows_links_the_demo_prints(linked: tuple[str, Path]) -> None:
    out, _ = linked
    printed = {m.group(2) for m in LINK.finditer(out)}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"\((https://app\.slack\.com/block-kit-builder/#[^)\s]+)\)", readme)
    assert len(shown) >= 3
    for link in shown:
        # A message changed since the README was written: paste its new link from
        # `sprintbot demo --links`.
        assert link in printed, _opened(link)["blocks"][0]


def test_a_message_too_large_for_a_link_says_so() -> None:
    huge = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}] * 50}
    line = link_line(huge)
    assert line.startswith("Block Kit Builder: no link, this message is too large for one (")
    assert "links stop at 8,000" in line and "https://" not in line
    text = {"type": "mrkdwn", "text": "50% #done & *ok*"}
    small = {"blocks": [{"type": "section", "text": text}]}
    link = link_line(small).removeprefix("Block Kit Builder: ")
    assert _opened(link) == small and " " not in link and "#" not in link.removeprefix(BUILDER)

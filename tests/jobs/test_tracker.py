"""The tracker export of the demo sprint (fed through the real ingest path by
`bot.demo.build`): every number as `figures.compute` has it, and its tables agreeing with
each other on every day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.demo import DEMO_DAYS, Demo, build
from jobs import figures, milestones, tracker
from jobs.config import Criterion, Milestone, Sprint, load_sprint
from jobs.figures import DayFigures, Figures, TestFigures
from jobs.numbers import Health, MetricState, breakdown, pct, target_failing
from jobs.tracker import (
    Checkpoint,
    Evaluated,
    Resolved,
    SignOff,
    Tracker,
    Update,
    tracker_markdown,
    verdict,
)
from storage.db import Database
from storage.migrate import upgrade
from tests.support.server import EXAMPLE

ENDED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a year after the sprint's last day


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo sprint in its own SQLite file, as `sprintbot demo` builds it."""
    path: Path = tmp_path_factory.mktemp("tracker") / "demo.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database.from_url(url)
    try:
        yield build(load_sprint(EXAMPLE), db)
    finally:
        db.dispose()


def now_of(demo: Demo) -> datetime:
    """The demo's "now": the morning after its last CI run."""
    return demo.at(DEMO_DAYS + 1, demo.sprint.schedule.daily_report)


def render(demo: Demo, at: datetime) -> tuple[str, Figures]:
    with demo.db.session() as session:
        md = tracker_markdown(session=session, sprint=demo.sprint, now=at)
        fig = figures.compute(session=session, sprint=demo.sprint, at=at)
    return md, fig


def section(md: str, heading: str) -> list[str]:
    """The lines under `heading` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    lines = md.splitlines()
    start = lines.index(heading) + 1
    out = []
    for line in lines[start:]:
        mark = line.split(" ", 1)[0]
        if mark.startswith("#") and len(mark) <= len(level):
            break
        out.append(line)
    return out


def table(lines: list[str]) -> list[list[str]]:
    """The body rows of the first Markdown table in `lines`, as cells."""
    rows = []
    started = False
    for line in lines:
        if line.startswith("|"):
            started = True
            rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif started:
            break
    return rows[2:]  # the header and its rule


def number(cell: str) -> int:
    return int(cell.split(" ", 1)[0].replace(",", "").strip("*"))


def row(rows: list[list[str]], first: str) -> list[str]:
    return next(r for r in rows if r[0] == first)


# -- Executive Summary --------------------------------------------------------------------


def test_summary_shows_both_baselines_plan_note_and_health_with_reason(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    summary = table(section(md, "## Executive Summary"))
    readiness = row(summary, "**Production Readiness**")
    assert fig.baseline_measured is not None
    assert readiness[1] == f"{pct(67.0)} stated, {pct(fig.baseline_measured)} measured"
    assert readiness[2] == f"**{pct(fig.score)}**"
    assert str(fig.health) in readiness[4]
    text = "\n".join(section(md, "## Executive Summary"))
    assert f"{fig.health} — {fig.health_reason}\n" in text
    assert f"**Plan:** {fig.plan_note()}" in text
    # The measured baseline differs from the stated one: the plan says it was rescaled.
    assert "rescaled from the stated 67 %" in fig.plan_note()

    t = fig.tests
    assert row(summary, "**Test Pass Rate**")[1] == pct(100 * t.baseline_passing / t.baseline_known)
    assert row(summary, "**Passing Tests**")[1:3] == [
        f"{t.baseline_passing:,} / {t.baseline_known:,}",
        f"{t.passing:,} / {t.known:,}",
    ]
    assert row(summary, "**Test Files Passing**")[1:3] == [
        "33 / 59 stated",
        f"{t.test_files_passing} / {t.test_files}",
    ]
    assert row(summary, "**New Failures Open**")[2] == str(t.new_failures_open)


def test_one_failing_target_everywhere(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    # DESIGN: 2,124 known tests at 87 % leave 276 failing.
    assert target_failing(2124, 87.0) == 276
    assert (fig.tests.known, fig.tests.target_failing) == (2124, 276)
    summary = table(section(md, "## Executive Summary"))
    failing = row(summary, "**Failing Tests**")
    assert failing[2] == f"{fig.tests.failing:,}"
    assert failing[3] == "≤ 276 (target failing)"
    stated = re.findall(r"≤ ([\d,]+) \(target failing\)", md)
    stated += re.findall(r"\*\*Target failing:\*\* ([\d,]+)", md)
    assert stated == ["276", "276"]
    # The burn-down's remaining is measured against it, and the plan ends on it.
    burn = table(section(md, "## Burn-Down Chart Data"))
    assert number(burn[-1][2]) == 276
    for r in burn:
        if r[1] != "-":
            remaining = number(r[1]) - 276
            assert r[6] == (f"{remaining:,}" if remaining > 0 else "0 (reached)")
    # The seed's stated 341 failing is shown as what it is, never as a target.
    assert "341 failing (the tracker's own figures" in md
    assert "341" not in "\n".join(section(md, "## Burn-Down Chart Data"))


def test_fixed_and_regressions_agree_between_summary_and_burndown(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    t = fig.tests
    summary = table(section(md, "## Executive Summary"))
    assert row(summary, "**Tests Fixed**")[2] == f"{t.fixed:,} fixed this sprint"
    burn = table(section(md, "## Burn-Down Chart Data"))
    measured = [r for r in burn if r[3] != "-"]
    assert number(measured[-1][3]) == t.fixed > 0
    # The demo's six swarm tests broke on day 3 and passed again on day 4.
    assert row(summary, "**Regressions Introduced**")[2:5] == ["6", "0", "🔴"]
    assert row(summary, "**Regressions Open**")[2:5] == ["0", "0", "🟢"]
    assert (t.regressions_introduced, t.regressions_open) == (6, 0)
    # Per day: the regressions are counted on the day they happened.
    assert sum(number(r[5]) for r in measured) == 6


# -- the two day-by-day tables ------------------------------------------------------------


def day(n: int, **kw: Any) -> DayFigures:
    on_plan = DayFigures(
        day=n,
        date=date(2025, 10, 28) + timedelta(days=n),
        reached=True,
        measured=True,
        active=True,
        known=100,
        passing=90,
        failing=10,
        fixed=0,
        fixed_today=0,
        regressed_today=0,
        readiness=80.0,
        plan_readiness=80.0,
        plan_failing=10,
    )
    return replace(on_plan, **kw)


def test_a_day_has_one_status() -> None:
    assert verdict(day(1)) == "✅"
    assert verdict(day(2, failing=12)) == "⚠️ 2 failing over plan"
    assert verdict(day(3, readiness=79.0)) == "⚠️ readiness below plan"
    assert verdict(day(4, measured=False, known=None, failing=None)) == "no data"
    assert verdict(day(5, reached=False, measured=False)) == "⏳"


def status_of(d: DayFigures) -> str:
    """What the tables must show: ✅ on plan, ⚠️ with why, no data, ⏳."""
    if not d.reached:
        return "⏳"
    if d.on_plan is None:
        return "no data"
    return "✅" if d.on_plan else f"⚠️ {d.why_off_plan}"


@pytest.mark.parametrize("when", ["day 2", "day 4", "now", "ended"])
def test_daily_tracker_and_burndown_agree_on_every_day(demo: Demo, when: str) -> None:
    at = {
        "day 2": demo.at(2, time(9, 0)),
        "day 4": demo.at(4, time(20, 0)),
        "now": now_of(demo),
        "ended": ENDED,
    }[when]
    md, fig = render(demo, at)
    daily = table(section(md, "## Daily Progress Tracker"))
    burn = table(section(md, "## Burn-Down Chart Data"))
    assert len(daily) == len(burn) == len(fig.days) == demo.sprint.sprint.days
    for d, a, b in zip(fig.days, daily, burn, strict=True):
        assert number(a[0]) == number(b[0]) == d.day
        # One verdict per day, the same in both tables.
        assert a[7] == b[7] == status_of(d), d.day
        if d.reached and d.measured:
            assert a[2] == f"{pct(d.readiness)} (plan {pct(d.plan_readiness)})"
            assert a[3] == f"{d.passing:,} / {d.known:,}"
            assert a[4] == f"{d.failing:,} (plan {d.plan_failing:,})"
            assert b[1] == f"{d.failing:,}" and b[2] == f"{d.plan_failing:,}"
            assert b[3] == f"{d.fixed:,}"  # fixed this sprint as of the day's end
        else:
            assert b[1] == "-" and b[3] == "-"
        # Fixed and regressed today: the same transitions in both tables.
        assert a[5] == b[4] and a[6] == b[5]
        if d.reached:
            assert (a[5], a[6]) == (str(d.fixed_today), str(d.regressed_today))
    marks = {r[7].split(" ")[0] for r in daily}
    if when == "ended":
        assert "⏳" not in marks
    if when == "day 2":
        assert [r[7] for r in daily[2:]] == ["⏳"] * (len(daily) - 2)


def test_velocity_is_the_mean_of_fixed_today_after_day_one(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    fixed = [d.fixed_today for d in fig.days if d.measured and 1 < d.day < fig.day]
    assert fixed
    line = next(x for x in md.splitlines() if x.startswith("**Velocity:**"))
    assert line.startswith(f"**Velocity:** {sum(fixed) / len(fixed):.1f} tests fixed per day")


# -- the dashboard ------------------------------------------------------------------------


def test_coverage_by_component_adds_up_to_the_known_tests(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    rows = table(section(md, "### Test Coverage by Component"))
    *parts, total = rows
    assert total[0] == "**Total**"
    names = [r[0] for r in parts]
    tested = [c.name for c in demo.sprint.components if str(c.source) == "tests"]
    assert names == [*tested, "Unmapped tests"]
    t = fig.tests
    for col, expected in ((1, t.known), (2, t.passing), (3, t.failing), (4, t.skipped)):
        assert sum(number(r[col]) for r in parts) == number(total[col]) == expected
    assert total[5] == f"**{pct(t.pass_rate)}**"
    assert number(row(parts, "Unmapped tests")[1]) == t.unmapped
    # Each component's pass rate is its readiness score (both from the same tests).
    scores = {c.name: c.score for c in fig.breakdown.components}
    for r in parts[:-1]:
        assert r[5] == pct(scores[r[0]])
    # Agrees with the Executive Summary.
    summary = table(section(md, "## Executive Summary"))
    assert row(summary, "**Passing Tests**")[2] == f"{number(total[2]):,} / {number(total[1]):,}"
    assert "Per-component counts are the latest results" not in md


def test_coverage_in_the_past_is_as_of_then(demo: Demo) -> None:
    md, fig = render(demo, demo.at(3, time(9, 0)))
    rows = table(section(md, "### Test Coverage by Component"))
    total = row(rows, "**Total**")
    # The morning of day 3: day 2's results, not the latest ones.
    assert total[1:4] == [
        f"**{fig.tests.known:,}**",
        f"**{fig.tests.passing:,}**",
        f"**{fig.tests.failing:,}**",
    ]
    _, now_fig = render(demo, now_of(demo))
    assert now_fig.tests.failing != fig.tests.failing


def test_code_quality_trends_follow_each_benchmark(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    rows = table(section(md, "### Code Quality Trends"))
    assert rows[0][0] == "Test Pass Rate" and rows[0][2] == pct(fig.tests.pass_rate)
    for b in fig.benchmarks:
        r = row(rows, b.metric.title)
        assert b.value is not None and b.state is not None
        assert r[2] == f"{b.value:,g} {b.metric.unit}" and r[5].endswith(str(b.state))
    # Throughput fell from its first sample: the wrong way for a "higher is better" figure.
    throughput = row(rows, "API Throughput")
    assert throughput[3].startswith("↓") and throughput[3].endswith("(worse)")

    early, _ = render(demo, demo.at(1, time(20, 0)))  # before any benchmark was posted
    assert "Benchmarks: not tracked yet" in early
    assert all(r[1] == "not tracked" for r in table(section(early, "### Code Quality Trends"))[1:])


# -- milestones, forecast, the sprint's end -------------------------------------------------


def test_success_criteria_matrix_evaluates_every_criterion(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    lines = section(md, "## Success Criteria Matrix")
    text = "\n".join(lines)
    for ms in demo.sprint.milestones:
        heading = next(x for x in lines if x.startswith(f"### {ms.name} (Day {ms.day}) — "))
        met, of = re.findall(r"— (\d+) of (\d+) criteria met", heading)[0]
        rows = table(section(md, heading))
        assert int(of) == len(rows) == len(ms.criteria)
        assert int(met) == sum(1 for r in rows if r[3] == "✅")
        assert all(r[3] in ("✅", "❌", "⏳") for r in rows)
    n = len(fig.benchmarks)
    assert f"| Performance benchmarks met | == {n} | {fig.benchmarks_met} of {n} |" in text
    t = fig.tests
    assert f"| tests_fixed >= 110 | >= 110 | {t.fixed} of {t.baseline_failing} | ❌ |" in text
    assert f"{pct(t.pass_rate)} ({t.passing:,} of {t.known:,} tests)" in text
    regressions = "| Zero new regressions introduced | == 0 | 6 | ❌ |"
    assert regressions in text


def test_forecast_lines_come_from_the_figures(demo: Demo) -> None:
    md, fig = render(demo, now_of(demo))
    assert f"- Production readiness: {fig.forecast['readiness'].describe()}" in md
    assert f"- Test pass rate: {fig.forecast['pass_rate'].describe()}" in md
    early, early_fig = render(demo, demo.at(2, time(20, 0)))
    text = early_fig.forecast["readiness"].describe()
    assert text.startswith("forecast needs 3 days of data (")
    assert f"- Production readiness: {text}" in early


def test_after_the_sprint_it_says_when_it_ended(demo: Demo) -> None:
    md, fig = render(demo, ENDED)
    assert fig.phase is figures.Phase.ENDED
    assert "**Sprint Status:** Sprint ended on 2025-11-11\n" in md
    assert "**Days Remaining:** 0\n" in md
    assert f" {fig.status_line()} - {fig.health}; " in md
    assert "Sprint Day" not in md and "Day 394" not in md
    assert "(today)" not in md


def test_before_the_sprint_it_says_when_it_starts(tmp_path: Path) -> None:
    sprint: Sprint = load_sprint(EXAMPLE)
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    db = Database.from_url(url)
    try:
        with db.session() as session:
            md = tracker_markdown(
                session=session, sprint=sprint, now=datetime(2025, 10, 20, 12, tzinfo=UTC)
            )
    finally:
        db.dispose()
    assert "**Sprint Status:** Sprint starts on 2025-10-29\n" in md
    assert "**Days Remaining:** 14\n" in md
    assert "no test results yet" in md
    assert "(target failing)" not in md  # no failing target before any test is known


# -- render, by value, from a hand-built Tracker (no database) ----------------------------

AT = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)  # day 3, 10:00 in New York
NINE = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # day 3, 09:00 in New York


def hand_built(**kw: Any) -> Tracker:
    """A tracker of the example sprint on day 3: 90 of 100 tests passing, no days measured
    (the day tables are not what these tests read), plus what `kw` sets."""
    sprint = load_sprint(EXAMPLE)
    tests = TestFigures(
        known=100,
        passing=90,
        failing=10,
        skipped=0,
        target_failing=13,
        baseline_known=100,
        baseline_passing=80,
        baseline_failing=20,
        fixed=12,
        regressions_introduced=2,
        regressions_open=1,
        new_failures_open=0,
        test_files_passing=9,
        test_files=10,
        unmapped=0,
    )
    swarm = sprint.metrics[0]  # Swarm Init Time, in s, lower is better, target 1.0
    fig = Figures(
        sprint=sprint,
        at=AT,
        today=date(2025, 10, 31),
        day=3,
        phase=figures.Phase.RUNNING,
        breakdown=breakdown(sprint),
        plan=70.0,
        health=Health.ON_TRACK,
        health_reason="on plan",
        previous=None,
        baseline_measured=None,
        tests=tests,
        days=[],
        forecast={},
        blockers=[],
        risks=[],
        benchmarks=[figures.Benchmark(swarm, 0.9, MetricState.MET)],
    )
    values: dict[str, Any] = {
        "sprint": sprint,
        "now": AT,
        "fig": fig,
        "resolved": (),
        "first_samples": {swarm.name: 1.25},
        "checkpoints": (),
        "history": (),
    }
    values.update(kw)
    return Tracker(**values)


def test_render_lays_out_resolved_blockers_in_the_sprints_zone() -> None:
    resolved = Resolved(
        "B-001",
        "Swarm Coordination",
        "dead|lock\nunder load",
        datetime(2025, 10, 30, 14, 0, tzinfo=UTC),
        datetime(2025, 10, 30, 17, 30, tzinfo=UTC),
        None,
    )
    md = tracker.render(hand_built(resolved=(resolved,)))
    assert table(section(md, "### Resolved Blockers")) == [
        [
            "B-001",
            "Swarm Coordination",
            "dead\\|lock under load",
            "2025-10-30 10:00",
            "2025-10-30 13:30",
            "3.5 h",
            "-",
        ]
    ]
    assert table(section(md, "### Open Blockers")) == [["-"] * 8]
    assert "**Last Updated:** 2025-10-31 10:00 (America/New_York), written by sprintbot" in md


def test_render_shows_each_criterion_and_sign_off_as_gathered() -> None:
    milestone = Milestone(day=7, name="Week 1", review="Day 7, 2:00 PM")
    rate = Criterion(metric="pass_rate", op=">=", value=87)
    p0 = Criterion(blockers="P0", op="==", value=0)
    checkpoint = Checkpoint(
        milestone,
        (
            Evaluated(rate, 90.0, None, True, "90 %", ">= 87 %"),
            Evaluated(p0, None, None, False, None, "== 0"),
        ),
        (SignOff("qa_lead", "U1", NINE), SignOff("tech_lead", None, None)),
    )
    md = tracker.render(hand_built(checkpoints=(checkpoint,)))
    assert section(md, "### Week 1 (Day 7)")[:11] == [
        "",
        "**Success Criteria:**",
        "- [x] pass_rate >= 87 — measured 90 % (90 of 100 tests)",
        "- [ ] open P0 blockers == 0 — measured nothing yet",
        "",
        "**Review Meeting:** Day 7, 2:00 PM",
        "",
        "**Sign-off Required:**",
        "- [x] QA Lead approval (@U1, 2025-10-31 09:00)",
        "- [ ] Tech Lead approval",
        "",
    ]
    matrix = section(md, "### Week 1 (Day 7) — 1 of 2 criteria met")
    assert table(matrix) == [
        ["pass_rate >= 87", ">= 87 %", "90 % (90 of 100 tests)", "✅"],
        ["open P0 blockers == 0", "== 0", "nothing yet", "⏳"],
    ]


def test_render_without_milestones_says_so() -> None:
    md = tracker.render(hand_built())
    assert section(md, "## Success Criteria Matrix")[:2] == [
        "",
        "The sprint file names no milestones.",
    ]


def test_render_lists_the_update_history_and_benchmark_trends() -> None:
    history = (
        Update(NINE, "CI", "run 7", "90 passed, 10 failed, 0 skipped"),
        Update(AT, "@U1", "B-001 resolved", ""),
    )
    md = tracker.render(hand_built(history=history))
    assert table(section(md, "## Update History")) == [
        ["2025-10-31 09:00", "CI", "run 7", "90 passed, 10 failed, 0 skipped"],
        ["2025-10-31 10:00", "@U1", "B-001 resolved", "-"],
    ]
    assert table(section(md, "### Code Quality Trends")) == [
        ["Test Pass Rate", "80 %", "90 %", "↑ +10 pts (better)", "87 %", "🟢 met"],
        ["Swarm Init Time", "1.25 s", "0.9 s", "↓ -0.35 s (better)", "≤ 1 s", "🟢 met"],
    ]
    assert tracker.render(hand_built(history=history)) == md  # no clock, no session: the same twice


def test_typed_text_in_the_tracker_reads_as_typed_not_as_markdown() -> None:
    """What a Python team types in a blocker — a dunder, a glob, a traceback's frame, a
    link — was Markdown in the tracker: `__init__` bold "init", `<lambda>` an HTML tag
    GitHub drops, `[re-run](…)` a live link (found by review). It is escaped."""
    typed = "fix __init__ for test_*.py; fails at <lambda>; [re-run](https://evil.example)"
    resolved = Resolved(
        "B-001",
        "Swarm Coordination",
        typed,
        datetime(2025, 10, 30, 14, 0, tzinfo=UTC),
        datetime(2025, 10, 30, 17, 30, tzinfo=UTC),
        "see **NOTES** & `code`",
    )
    cells = table(
        section(tracker.render(hand_built(resolved=(resolved,))), "### Resolved Blockers")
    )
    assert cells[0][2] == (
        r"fix \_\_init\_\_ for test\_\*.py; fails at \<lambda\>; "
        r"\[re-run\](https://evil.example)"
    )
    assert cells[0][6] == r"see \*\*NOTES\*\* \& \`code\`"


def test_sprint_file_text_in_the_tracker_reads_as_typed_not_as_markdown() -> None:
    """A milestone named `Week 1 <freeze>`, its review `[notes](https://…)`, a criterion
    labelled `` `__init__` hooks <all> green `` and a component `Hooks <pre/post> __init__`:
    escaped where people typed text, not where the sprint file named things (found by
    review). GitHub dropped `<freeze>` as an HTML tag, made the review a live link, and
    `__init__` bold "init". Slack shows them as typed."""
    label = "`__init__` hooks <all> green"
    criterion = Criterion(metric="pass_rate", op=">=", value=87, label=label)
    milestone = Milestone(day=7, name="Week 1 <freeze>", review="[notes](https://evil.example)")
    checkpoint = Checkpoint(
        milestone, (Evaluated(criterion, 90.0, None, True, "90 %", ">= 87 %"),), ()
    )
    sprint = load_sprint(EXAMPLE)
    renamed = sprint.components[0].model_copy(update={"name": "Hooks <pre/post> __init__"})
    sprint = sprint.model_copy(update={"components": [renamed, *sprint.components[1:]]})
    built = hand_built(checkpoints=(checkpoint,))
    fig = replace(built.fig, sprint=sprint, breakdown=breakdown(sprint))
    md = tracker.render(replace(built, sprint=sprint, fig=fig))
    escaped = r"\`\_\_init\_\_\` hooks \<all\> green"
    assert r"### Week 1 \<freeze\> (Day 7)" in md
    assert r"**Review Meeting:** \[notes\](https://evil.example)" in md
    assert f"- [x] {escaped} — measured 90 %" in md
    assert f"| {escaped} | >= 87 % | 90 % (90 of 100 tests) | ✅ |" in md
    assert r"Hooks \<pre/post\> \_\_init\_\_" in md
    assert "Hooks <pre/post>" not in md


def test_a_criterion_without_a_label_names_its_component_as_typed() -> None:
    """A criterion with no label is described from the sprint file's terms: a component
    `Hooks <pre/post> __init__` read "Hooks  >= 87" in GitHub (its `<pre/post>` taken for
    HTML, `__init__` bold). Its name is escaped; the operator and target are left as they
    read (found by review)."""
    component = "Hooks <pre/post> __init__"
    criterion = Criterion(component=component, op=">=", value=87)
    assert milestones.describe(criterion) == "Hooks <pre/post> __init__ >= 87"  # (Slack)
    checkpoint = Checkpoint(
        Milestone(day=7, name="Week 1"),
        (Evaluated(criterion, 90.0, None, True, "90 %", ">= 87 %"),),
        (),
    )
    md = tracker.render(hand_built(checkpoints=(checkpoint,)))
    escaped = r"Hooks \<pre/post\> \_\_init\_\_ >= 87"
    assert f"- [x] {escaped} — measured 90 %" in md, md
    assert f"| {escaped} | >= 87 % | 90 % | ✅ |" in md, md
    assert "<pre/post>" not in md


def test_the_benchmarks_baseline_says_it_is_the_stated_one() -> None:
    """Found by review: the Performance Benchmarks table's "Baseline" (the sprint file's)
    beside the trends' first sample read as two starts of one benchmark."""
    md = tracker.render(hand_built())
    assert "| Benchmark | Baseline (stated) | Current | Target | Status |" in md

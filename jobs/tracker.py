"""The tracker document the team used to keep by hand (the seed's Markdown), written from
what sprintbot recorded: every figure computed, none typed.

Every number comes from one `figures.compute` at the instant asked for; the tracker only
lays them out (DESIGN.md, "Definitions"). What is not a figure — risk and blocker text,
the update history, sign-offs, per-component test counts and benchmark samples — is read
from storage as it stood at that instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from jobs import blockers, figures, milestones, reports
from jobs.config import Better, Criterion, Metric, Milestone, Source, Sprint
from jobs.figures import DayFigures, Figures, Phase
from jobs.numbers import pct
from storage import queries

HEALTH_MARK = {"On Track": "🟢", "At Risk": "🟡", "Critical": "🔴"}
RISK_MARK = {"Critical": "🔴", "Active": "🟡", "Mitigated": "🟢", "Resolved": "⚪"}
STATE_MARK = {"met": "🟢", "missed": "🟡", "degraded": "🔴"}
FAILING = frozenset({"failed", "error"})
RULE = ("", "---", "")  # between sections


def _cell(value: Any) -> str:
    """A table cell: one line, pipes escaped."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|") or "-"


def _table(head: list[str], rows: Iterable[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines + (body or ["| " + " | ".join("-" for _ in head) + " |"])


def _num(x: float | None, digits: int = 2) -> str:
    if x is None:
        return "-"
    text = f"{x:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _int(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def _local(sprint: Sprint, at: datetime) -> str:
    return at.astimezone(sprint.sprint.tz).strftime("%Y-%m-%d %H:%M")


def _of(part: int | None, whole: int | None) -> str:
    return f"{part:,} / {whole:,}" if part is not None and whole else "-"


def _rate(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _zero_mark(n: int) -> str:
    return "🟢" if n == 0 else "🔴"


def verdict(day: DayFigures) -> str:
    """The status cell of a sprint day, the same in every table: the day's one `on_plan`
    verdict, ⏳ before the day, "no data" for a day reached without test results."""
    if not day.reached:
        return "⏳"
    if day.on_plan is None:
        return "no data"
    return "✅" if day.on_plan else f"⚠️ {day.why_off_plan}"


@dataclass(frozen=True)
class ComponentTests:
    """One row of "Test Coverage by Component"."""

    name: str
    total: int
    passing: int
    failing: int
    skipped: int
    target: float | None

    @property
    def rate(self) -> float | None:
        return _rate(self.passing, self.total)


def component_tests(fig: Figures) -> tuple[list[ComponentTests], ComponentTests]:
    """The tests by component as of the figures' instant (the sprint file's `tests`
    components in its order, then any other recorded component) and the unmapped ones."""
    counts = fig.coverage
    sprint = fig.sprint

    def row(name: str | None, label: str, target: float | None) -> ComponentTests:
        c = counts.get(name) or figures.ComponentTests(name)
        return ComponentTests(label, c.total, c.passing, c.failing, c.skipped, target)

    rows = [row(c.name, c.name, c.target) for c in sprint.components if c.source is Source.TESTS]
    named = {c.name for c in sprint.components}
    rows += [
        row(name, f"{name} (not in the sprint file)", None)
        for name in sorted(k for k in counts if k is not None and k not in named)
    ]
    return rows, row(None, "Unmapped tests", None)


def tracker_markdown(*, session: Session, sprint: Sprint, now: datetime) -> str:
    """The whole tracker as Markdown, as of `now`."""
    fig = figures.compute(session=session, sprint=sprint, at=now)
    measures = milestones.measure(session=session, sprint=sprint, now=now, fig=fig)
    checkpoints = [
        (ms, milestones.milestone_data(session=session, milestone=ms, measures=measures))
        for ms in sorted(sprint.milestones, key=lambda x: x.day)
    ]
    info = sprint.sprint
    out: list[str] = [
        f"# {info.name} Tracker",
        "",
        f"**Sprint Duration:** {info.days} days (Days 1-{info.days}), "
        f"{info.start.isoformat()} to {info.end.isoformat()}",
        f"**Sprint Goal:** {info.goal or '-'}",
        f"**Sprint Status:** {fig.status_line()}"
        + (f" ({fig.today.isoformat()})" if fig.running else ""),
        f"**Last Updated:** {_local(sprint, now)} ({info.timezone}), written by sprintbot "
        "from recorded CI results, Slack posts and benchmarks",
        "",
        "---",
        "",
    ]
    out += _summary(fig)
    out += _daily(fig)
    out += _burndown(fig)
    out += _risks(fig)
    out += _blockers(session=session, sprint=sprint, fig=fig, now=now)
    out += _dashboard(session=session, fig=fig, now=now)
    out += _milestones(sprint=sprint, fig=fig, checkpoints=checkpoints, now=now)
    out += _matrix(fig=fig, checkpoints=checkpoints)
    out += _history(session=session, sprint=sprint, now=now)
    out += _footer(fig)
    return "\n".join(out)


def _summary(fig: Figures) -> list[str]:
    t, sprint = fig.tests, fig.sprint
    b = sprint.baseline
    stated, measured = fig.baseline_stated, fig.baseline_measured
    baseline = ", ".join(
        x
        for x in (
            f"{pct(stated)} stated" if stated is not None else "",
            f"{pct(measured)} measured" if measured is not None else "not measured yet",
        )
        if x
    )
    known = t.known
    base_known = t.baseline_known
    over = t.failing - t.target_failing
    rows: list[list[Any]] = [
        [
            "**Production Readiness**",
            baseline,
            f"**{pct(fig.score)}**",
            pct(fig.target),
            f"{HEALTH_MARK.get(str(fig.health), '')} {fig.health} "
            f"(plan for day {fig.shown_day}: {pct(fig.plan)})",
        ],
        [
            "**Test Pass Rate**",
            pct(_rate(t.baseline_passing, base_known)),
            f"**{pct(t.pass_rate)}**",
            pct(sprint.targets.pass_rate),
            "",
        ],
        [
            "**Passing Tests**",
            _of(t.baseline_passing, base_known) if base_known else "-",
            _of(t.passing, known) if known else "no test results yet",
            _of(t.target_passing, known) if known else "-",
            "",
        ],
        [
            "**Failing Tests**",
            _int(t.baseline_failing) if base_known else "-",
            _int(t.failing) if known else "-",
            f"≤ {t.target_failing:,} (target failing)" if known else "-",
            (f"{over:,} over target" if over > 0 else "🟢 at or under target") if known else "",
        ],
        [
            "**Test Files Passing**",
            f"{b.test_files_passing} / {b.test_files} stated" if b.test_files else "-",
            _of(t.test_files_passing, t.test_files),
            "",
            f"{t.test_files - t.test_files_passing} files with failures" if t.test_files else "",
        ],
        ["**Tests Fixed**", "-", f"{t.fixed:,} fixed this sprint", "", ""],
        [
            "**Regressions Introduced**",
            "-",
            _int(t.regressions_introduced),
            "0",
            _zero_mark(t.regressions_introduced),
        ],
        [
            "**Regressions Open**",
            "-",
            _int(t.regressions_open),
            "0",
            _zero_mark(t.regressions_open),
        ],
        [
            "**New Failures Open**",
            "-",
            _int(t.new_failures_open),
            "0",
            _zero_mark(t.new_failures_open),
        ],
        [
            "**Benchmarks Met**",
            "-",
            f"{fig.benchmarks_met} of {len(fig.benchmarks)}",
            f"{len(fig.benchmarks)} of {len(fig.benchmarks)}",
            "",
        ],
    ]
    out = ["## Executive Summary", ""]
    out += _table(["Metric", "Baseline", "Current", "Target", "Status"], rows)
    counts = fig.blocker_counts()
    out += [
        "",
        f"**Health:** {HEALTH_MARK.get(str(fig.health), '')} {fig.health} — {fig.health_reason}",
        f"**Plan:** {fig.plan_note()}",
        f"**Open blockers:** {len(fig.blockers)} "
        f"(P0 {counts['P0']}, P1 {counts['P1']}, P2 {counts['P2']})",
    ]
    if b.total_tests:
        out.append(
            f"**Stated at sprint start:** {_of(b.passing_tests, b.total_tests)} tests passing"
            + (f", {b.failing_tests:,} failing" if b.failing_tests is not None else "")
            + " (the tracker's own figures; the baseline above is measured)"
        )
    return [*out, *RULE]


def _daily(fig: Figures) -> list[str]:
    rows: list[list[Any]] = []
    for d in fig.days:
        date = d.date.isoformat() + (" (today)" if fig.running and d.day == fig.day else "")
        if not d.reached or not d.measured:
            rows.append(
                [
                    d.day,
                    date,
                    f"Plan: {pct(d.plan_readiness)}",
                    "-",
                    f"Plan: {_planned(fig, d)}",
                    _int(d.fixed_today) if d.reached else "-",
                    _int(d.regressed_today) if d.reached else "-",
                    verdict(d),
                ]
            )
            continue
        rows.append(
            [
                d.day,
                date,
                f"{pct(d.readiness)} (plan {pct(d.plan_readiness)})",
                _of(d.passing, d.known),
                f"{_int(d.failing)} (plan {_planned(fig, d)})",
                _int(d.fixed_today),
                _int(d.regressed_today),
                verdict(d),
            ]
        )
    out = ["## Daily Progress Tracker", ""]
    out += _table(
        [
            "Day",
            "Date",
            "Production Ready %",
            "Tests Passing",
            "Tests Failing",
            "Fixed Today",
            "Regressed Today",
            "Status",
        ],
        rows,
    )
    return [*out, *RULE]


def _burndown(fig: Figures) -> list[str]:
    t = fig.tests
    target = t.target_failing
    out = ["## Burn-Down Chart Data", ""]
    if t.known:
        out += [
            f"**Target failing:** {target:,} ({t.known:,} known tests at a "
            f"{pct(fig.sprint.targets.pass_rate)} pass rate); planned failing runs from the "
            f"baseline's {t.baseline_failing:,} on day 1 to the target on day {fig.info.days}.",
            "",
        ]
    rows = []
    for d in fig.days:
        measured = d.reached and d.measured and d.failing is not None
        remaining = (d.failing or 0) - target
        rows.append(
            [
                d.day,
                _int(d.failing) if measured else "-",
                _planned(fig, d),
                _int(d.fixed) if measured else "-",
                _int(d.fixed_today) if d.reached else "-",
                _int(d.regressed_today) if d.reached else "-",
                (f"{remaining:,}" if remaining > 0 else "0 (reached)") if measured else "-",
                verdict(d),
            ]
        )
    out += _table(
        [
            "Day",
            "Tests Failing",
            "Planned Failing",
            "Fixed (Cumulative)",
            "Fixed Today",
            "Regressed Today",
            "Remaining to Target",
            "On Track?",
        ],
        rows,
    )
    v = reports.velocity(fig)
    if v["average"] is not None:
        low, high = v["target"]
        out += [
            "",
            f"**Velocity:** {v['average']:.1f} tests fixed per day on average over the days "
            f"after day 1 (last day {v['last']}; target {low}-{high})",
        ]
    return [*out, *RULE]


def _risks(fig: Figures) -> list[str]:
    out = ["## Risk Tracking Matrix", ""]
    out += _table(
        [
            "Risk ID",
            "Description",
            "Impact",
            "Probability",
            "Mitigation Strategy",
            "Owner",
            "Status",
        ],
        [
            [
                r.code,
                r.description,
                r.impact,
                r.probability,
                r.mitigation,
                f"@{r.owner}" if r.owner else "-",
                f"{RISK_MARK.get(r.status, '')} {r.status}",
            ]
            for r in fig.risks
        ],
    )
    return [*out, *RULE]


def _blockers(*, session: Session, sprint: Sprint, fig: Figures, now: datetime) -> list[str]:
    out = ["## Blocker Resolution Log", "", "### Open Blockers", ""]
    out += _table(
        ["ID", "Severity", "Component", "Description", "Reported", "Owner", "Target", "Escalation"],
        [
            [
                x.code,
                x.severity,
                x.component,
                x.description,
                _local(sprint, x.reported_at),
                f"@{x.owner}" if x.owner else "-",
                x.target,
                blockers.step_name(sprint, x.escalation_level),
            ]
            for x in fig.blockers
        ],
    )
    out += ["", "### Resolved Blockers", ""]
    out += _table(
        ["ID", "Component", "Description", "Reported", "Resolved", "Resolution Time", "Resolution"],
        [
            [
                x.code,
                x.component,
                x.description,
                _local(sprint, x.reported_at),
                _local(sprint, x.resolved_at),
                f"{(x.resolved_at - x.reported_at).total_seconds() / 3600:.1f} h",
                x.resolution,
            ]
            for x in queries.resolved_blockers(session=session)
            if x.resolved_at is not None and x.resolved_at <= now
        ],
    )
    if sprint.escalation:
        out += ["", "**Escalation Path:**"]
        out += [
            f"{i}. {step.name} (after {int(step.after.total_seconds() // 3600)} h)"
            for i, step in enumerate(sprint.escalation, 1)
        ]
    return [*out, *RULE]


def _dashboard(*, session: Session, fig: Figures, now: datetime) -> list[str]:
    out = ["## Key Metrics Dashboard", "", "### Production Readiness Score Breakdown", ""]
    rows: list[list[Any]] = []
    for g in fig.breakdown.groups:
        rows.append(
            [
                f"**{g.name}**",
                _num(g.weight),
                pct(g.score),
                pct(g.target),
                _gap(g.score, g.target),
                "",
            ]
        )
        rows += [
            [c.name, _num(c.weight), pct(c.score), pct(c.target), _gap(c.score, c.target), c.detail]
            for c in g.components
        ]
    rows.append(
        [
            "**Overall**",
            "100%",
            f"**{pct(fig.score)}**",
            f"**{pct(fig.target)}**",
            f"**{_gap(fig.score, fig.target)}**",
            "",
        ]
    )
    out += _table(["Component", "Weight", "Current Score", "Target Score", "Gap", "Source"], rows)
    out += _coverage(fig)
    out += _trends(session=session, fig=fig, now=now)
    out += ["", "### Performance Benchmarks", ""]
    out += _table(
        ["Benchmark", "Baseline", "Current", "Target", "Status"],
        [
            [
                b.metric.title,
                _value(b.metric, b.metric.baseline),
                _value(b.metric, b.value) if b.value is not None else "not measured",
                _target(b.metric),
                f"{STATE_MARK.get(str(b.state), '')} {b.state}" if b.state is not None else "⏳",
            ]
            for b in fig.benchmarks
        ],
    )
    out += ["", f"**Benchmarks met:** {fig.benchmarks_met} of {len(fig.benchmarks)}"]
    return [*out, *RULE]


def _coverage(fig: Figures) -> list[str]:
    sprint = fig.sprint
    rows, unmapped = component_tests(fig)
    every = [*rows, unmapped]
    total = ComponentTests(
        "Total",
        sum(r.total for r in every),
        sum(r.passing for r in every),
        sum(r.failing for r in every),
        sum(r.skipped for r in every),
        sprint.targets.pass_rate,
    )
    out = ["", "### Test Coverage by Component", ""]
    out += _table(
        ["Component", "Total Tests", "Passing", "Failing", "Skipped", "Pass Rate", "Target"],
        [
            *(
                [
                    r.name,
                    _int(r.total),
                    _int(r.passing),
                    _int(r.failing),
                    _int(r.skipped),
                    pct(r.rate),
                    pct(r.target) if r.target is not None else "-",
                ]
                for r in every
            ),
            [
                "**Total**",
                f"**{total.total:,}**",
                f"**{total.passing:,}**",
                f"**{total.failing:,}**",
                f"**{total.skipped:,}**",
                f"**{pct(total.rate)}**",
                f"**{pct(total.target)}**",
            ],
        ],
    )
    return out


def _trends(*, session: Session, fig: Figures, now: datetime) -> list[str]:
    """How the tracked measures moved: pass rate from the figures, each benchmark from its
    first sample to its latest."""
    t = fig.tests
    first: dict[str, float] = {}
    for s in queries.metric_history(session=session, until=now):
        first.setdefault(s.name, s.value)
    base_rate = _rate(t.baseline_passing, t.baseline_known)
    rows: list[list[Any]] = [
        [
            "Test Pass Rate",
            pct(base_rate),
            pct(t.pass_rate),
            _change(base_rate, t.pass_rate, Better.HIGHER, "pts", digits=2),
            pct(fig.sprint.targets.pass_rate),
            "🟢 met"
            if t.pass_rate is not None and t.pass_rate >= fig.sprint.targets.pass_rate
            else ("🟡 missed" if t.pass_rate is not None else "⏳"),
        ]
    ]
    for b in fig.benchmarks:
        m = b.metric
        if b.value is None:
            rows.append([m.title, "not tracked", "not tracked", "-", _target(m), "⏳"])
            continue
        rows.append(
            [
                m.title,
                _value(m, first.get(m.name)),
                _value(m, b.value),
                _change(first.get(m.name), b.value, m.better, m.unit, digits=3),
                _target(m),
                f"{STATE_MARK.get(str(b.state), '')} {b.state}" if b.state is not None else "⏳",
            ]
        )
    out = ["", "### Code Quality Trends", ""]
    out += _table(["Metric", "First", "Latest", "Change", "Target", "Status"], rows)
    if not fig.benchmarks:
        out += ["", "Benchmarks: not tracked (the sprint file lists no [[metrics]])."]
    elif not any(b.value is not None for b in fig.benchmarks):
        out += ["", "Benchmarks: not tracked yet (no figures posted to /api/v1/metrics)."]
    out += [
        "",
        "Code coverage, linting and type errors, security issues and tech debt are not "
        "tracked unless the sprint file lists them under [[metrics]].",
    ]
    return out


Checkpoint = tuple[Milestone, dict[str, Any]]  # a milestone and its evaluation


def _milestones(
    *, sprint: Sprint, fig: Figures, checkpoints: list[Checkpoint], now: datetime
) -> list[str]:
    out = ["## Sprint Milestones"]
    for ms, data in checkpoints:
        out += ["", f"### {ms.name} (Day {ms.day})", "", "**Success Criteria:**"]
        out += [
            f"- [{'x' if c['met'] else ' '}] {c['criterion']} — measured "
            + _measured(c, criterion, fig)
            for criterion, c in zip(ms.criteria, data["criteria"], strict=True)
        ]
        if ms.review:
            out += ["", f"**Review Meeting:** {ms.review}"]
        if data["signoffs"]:
            out += ["", "**Sign-off Required:**"]
            for s in data["signoffs"]:
                at = datetime.fromisoformat(s["at"]) if s["at"] else None
                done = s["user"] and at is not None and at <= now
                out.append(
                    f"- [{'x' if done else ' '}] {milestones.role_title(s['role'])} approval"
                    + (f" (@{s['user']}, {_local(sprint, at)})" if done and at else "")
                )
    out += ["", "### Forecast", ""]
    for label, key in (("Production readiness", "readiness"), ("Test pass rate", "pass_rate")):
        f = fig.forecast.get(key)
        if f is not None:
            out.append(f"- {label}: {f.describe()}")
    return [*out, *RULE]


def _matrix(*, fig: Figures, checkpoints: list[Checkpoint]) -> list[str]:
    """Every milestone criterion evaluated: target, measured value (with what it is out
    of), met."""
    out = ["## Success Criteria Matrix"]
    if not checkpoints:
        return [*out, "", "The sprint file names no milestones.", *RULE]
    for ms, data in checkpoints:
        criteria = data["criteria"]
        out += [
            "",
            f"### {ms.name} (Day {ms.day}) — {data['met']} of {len(criteria)} criteria met",
            "",
        ]
        out += _table(
            ["Criterion", "Target", "Measured", "Met"],
            [
                [
                    c["criterion"],
                    f"{criterion.op} {_plain(criterion.value, c['unit'])}",
                    _measured(c, criterion, fig),
                    ("✅" if c["met"] else "❌") if c["value"] is not None else "⏳",
                ]
                for criterion, c in zip(ms.criteria, criteria, strict=True)
            ],
        )
    return [*out, *RULE]


def _history(*, session: Session, sprint: Sprint, now: datetime) -> list[str]:
    history: list[tuple[datetime, str, str, str]] = []
    for r in queries.reports_of_branch(session=session, branch=sprint.sprint.branch):
        history.append(
            (
                r.received_at,
                "CI",
                f"run {r.run}",
                f"{r.passed} passed, {r.failed + r.errors} failed, {r.skipped} skipped",
            )
        )
    for e in queries.events(session=session):
        prefix = "B" if e.subject == "blocker" else "R"
        history.append((e.at, f"@{e.actor}", f"{prefix}-{e.subject_id:03d} {e.action}", ""))
    for s in queries.manual_scores(session=session):
        history.append(
            (
                s.set_at,
                f"@{s.set_by}",
                f"{s.component} score",
                f"{pct(s.previous)} → {pct(s.score)}",
            )
        )
    history = sorted((h for h in history if h[0] <= now), key=lambda h: h[0])
    out = ["## Update History", ""]
    out += _table(
        ["Date", "Updated By", "Change", "Details"],
        [[_local(sprint, at), who, what, detail] for at, who, what, detail in history[-100:]],
    )
    return [*out, *RULE]


def _footer(fig: Figures) -> list[str]:
    info = fig.info
    if fig.phase is Phase.ENDED:
        remaining = 0
    elif fig.phase is Phase.BEFORE:
        remaining = info.days
    else:
        remaining = max(info.days - fig.day, 0)
    return [
        f"**Sprint End Date:** {info.end.isoformat()}",
        f"**Days Remaining:** {remaining}",
        "",
        f"**Current Status:** {HEALTH_MARK.get(str(fig.health), '')} {fig.status_line()} - "
        f"{fig.health}; {len(fig.blockers)} open blocker(s)",
        "",
    ]


def _measured(c: dict[str, Any], criterion: Criterion, fig: Figures) -> str:
    """A criterion's measured value, with what it is out of ("5 of 8")."""
    value, of = c["value"], c.get("of")
    if value is None:
        return "nothing yet"
    text = _plain(value, c["unit"])
    if of is not None:
        text += f" of {_num(of)}"
    elif criterion.metric == "pass_rate" and fig.tests.known:
        text += f" ({fig.tests.passing:,} of {fig.tests.known:,} tests)"
    return text


def _planned(fig: Figures, day: DayFigures) -> str:
    """The day's planned failing tests; none before any test is known (there is no
    measured baseline to plan from)."""
    return f"{day.plan_failing:,}" if fig.tests.known else "-"


def _plain(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return _num(value) + (" %" if unit == "%" else "")


def _value(metric: Metric, value: float | None) -> str:
    return f"{_num(value, 3)} {metric.unit}".strip() if value is not None else "-"


def _target(metric: Metric) -> str:
    return f"{'<' if metric.better is Better.LOWER else '>'}{_num(metric.target, 3)} {metric.unit}"


def _change(
    first: float | None, latest: float | None, better: Better, unit: str, *, digits: int
) -> str:
    """Latest against first, and whether that is the better direction."""
    if first is None or latest is None:
        return "-"
    delta = latest - first
    if abs(delta) < 1e-9:
        return "→ unchanged"
    good = (delta > 0) == (better is Better.HIGHER)
    arrow, sign = ("↑", "+") if delta > 0 else ("↓", "")
    return f"{arrow} {sign}{_num(delta, digits)} {unit}".rstrip() + (
        " (better)" if good else " (worse)"
    )


def _gap(score: float | None, target: float) -> str:
    return "-" if score is None else pct(score - target, signed=True)

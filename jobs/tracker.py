"""The tracker document the team used to keep by hand (the seed's Markdown), written from
what sprintbot recorded: every figure computed, none typed.

Like every report, it is gathered (`gather`: every read, as of one instant) and then
rendered (`render`: pure Markdown). Every number comes from one `figures.compute` at that
instant; the tracker only lays them out (DESIGN.md, "Definitions"). What is not a figure —
risk and blocker text, the update history, sign-offs, per-component test counts and
benchmark samples — is read from storage as it stood at that instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from jobs import blockers, figures, milestones, reports, review
from jobs.config import Better, Criterion, Metric, Milestone, Source, Sprint, format_duration
from jobs.figures import Benchmark, DayFigures, Figures, Phase
from jobs.numbers import MetricState, change, pct, quantity, reached, to_go, with_unit
from storage import queries

HEALTH_MARK = {"On Track": "🟢", "At Risk": "🟡", "Critical": "🔴"}
RISK_MARK = {"Critical": "🔴", "Active": "🟡", "Mitigated": "🟢", "Resolved": "⚪"}
STATE_MARK = {"met": "🟢", "missed": "🟡", "degraded": "🔴"}
FAILING = frozenset({"failed", "error"})
RULE = ("", "---", "")  # between sections
Row = Sequence[object]  # a table row's cells, as `_cell` writes them


# Control characters (ESC, BEL, …) of text stored before they were refused: shown as "?"
# rather than written to a terminal (`sprintbot export tracker`).
_CONTROLS = dict.fromkeys([*range(0x20), 0x7F, *range(0x80, 0xA0)], "?")
for _kept in "\t\n\r":
    del _CONTROLS[ord(_kept)]


def _cell(value: object) -> str:
    """A table cell: one line, pipes escaped."""
    text = "" if value is None else str(value).translate(_CONTROLS)
    return " ".join(text.split()).replace("|", "\\|") or "-"


# What starts Markdown's inline syntax (emphasis, code, links, HTML, entities), escaped by a
# backslash in what people typed (`|` is the cell's to escape).
_MARKUP = str.maketrans({c: "\\" + c for c in "\\`*_[]<>~&"})


def _typed(text: str | None) -> str | None:
    """Text someone typed (a blocker, a risk, a resolution, a CI run's name; in the sprint
    file, a name, a label, a goal), shown as typed: `__init__` was bold "init",
    `<lambda>` an HTML tag GitHub drops, `[x](url)` a live link (found by review); and on
    one line, where it stands: a goal or a step's name over two lines (a TOML multi-line
    string) wrote headings and checked items of its own (found by review)."""
    return None if text is None else " ".join(text.translate(_TYPED).split())


_TYPED = {**_MARKUP, **_CONTROLS}  # (no control character is markup)


def _criterion(c: Evaluated) -> str:
    """A criterion as described, what the sprint file typed shown as typed: a component
    `Hooks <pre/post>` of a criterion with no label lost `<pre/post>` (found by review)."""
    return milestones.describe(c.criterion, typed=lambda text: _typed(text) or "")


def _table(head: list[str], rows: Iterable[Row]) -> list[str]:
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


# -- what the document shows: gathered once, as of one instant ----------------------------


@dataclass(frozen=True)
class Resolved:
    """One row of "Resolved Blockers"."""

    code: str
    component: str
    description: str
    reported_at: datetime
    resolved_at: datetime
    resolution: str | None


@dataclass(frozen=True)
class Evaluated:
    """One milestone criterion, evaluated as of the tracker's instant."""

    criterion: Criterion  # as the sprint file states it (described by `_criterion`)
    value: float | None  # measured; None: nothing measured yet
    of: float | None  # what a count is out of ("5 of 8"), None where it is not a count
    met: bool
    shown: str | None  # the value as every surface shows it (`milestones.shown_value`)
    target: str  # the target, as every surface shows it ("<= 0.00015")


@dataclass(frozen=True)
class SignOff:
    """A role a milestone needs, and who signed for it (by the tracker's instant) and when."""

    role: str
    user: str | None
    at: datetime | None  # None: not signed by then


@dataclass(frozen=True)
class Checkpoint:
    """A milestone and its evaluation."""

    milestone: Milestone
    criteria: tuple[Evaluated, ...]
    signoffs: tuple[SignOff, ...]

    @property
    def met(self) -> int:
        return sum(1 for c in self.criteria if c.met)


@dataclass(frozen=True)
class Update:
    """One row of "Update History"."""

    at: datetime
    who: str
    what: str
    details: str


@dataclass(frozen=True)
class Tracker:
    """Everything the tracker document shows, as of `now`."""

    sprint: Sprint
    now: datetime
    fig: Figures
    resolved: tuple[Resolved, ...]  # resolved by `now`
    first_samples: Mapping[str, float]  # each benchmark's first sample this sprint, by `now`
    checkpoints: tuple[Checkpoint, ...]  # by milestone day
    history: tuple[Update, ...]  # the newest 100 by `now`, oldest first


HISTORY_ROWS = 100


def gather(*, session: Session, sprint: Sprint, now: datetime) -> Tracker:
    """Read everything the tracker shows, as it stood at `now` — once the sprint ended, as
    it stood at its end, as the figures do (a blocker resolved after the end was listed
    both open, in the figures, and resolved)."""
    at = figures.final_at(sprint.sprint, now)
    fig = figures.compute(session=session, sprint=sprint, at=at)
    # This sprint's first sample: the sprint before's is not where this one started.
    first: dict[str, float] = {}
    start = figures.day_start(sprint.sprint, sprint.sprint.start)
    for s in queries.metric_history(session=session, until=at, since=start):
        first.setdefault(s.name, s.value)
    return Tracker(
        sprint=sprint,
        now=now,
        fig=fig,
        resolved=tuple(
            Resolved(b.code, b.component, b.description, b.reported_at, r.at, r.note)
            for r in review.resolved_in(session=session, sprint=sprint, at=at)
            for b in [r.blocker]
        ),
        first_samples=first,
        checkpoints=_checkpoints(session=session, sprint=sprint, fig=fig, now=at, asked=now),
        history=_updates(session=session, sprint=sprint, now=at),
    )


def _checkpoints(
    *, session: Session, sprint: Sprint, fig: Figures, now: datetime, asked: datetime
) -> tuple[Checkpoint, ...]:
    """Each milestone's criteria as of `now` (the figures' instant) and its sign-offs by
    `asked` (given after the end too, at the review)."""
    measures = milestones.measure(session=session, sprint=sprint, now=now, fig=fig)
    out = []
    for ms in sorted(sprint.milestones, key=lambda x: x.day):
        data = milestones.milestone_data(session=session, milestone=ms, measures=measures, at=asked)
        criteria = tuple(
            Evaluated(
                criterion,
                c["value"],
                c.get("of"),
                c["met"],
                milestones.shown_value(c),
                milestones.shown_target(c),
            )
            for criterion, c in zip(ms.criteria, data["criteria"], strict=True)
        )
        signoffs = []
        for s in data["signoffs"]:
            at = datetime.fromisoformat(s["at"]) if s["at"] else None
            signed = bool(s["user"]) and at is not None
            signoffs.append(SignOff(s["role"], s["user"], at if signed else None))
        out.append(Checkpoint(ms, criteria, tuple(signoffs)))
    return tuple(out)


def _updates(*, session: Session, sprint: Sprint, now: datetime) -> tuple[Update, ...]:
    """CI runs, blocker and risk changes and manual scores by `now`, the newest 100 (each
    read by `now`: the newest rows of all were newer than a past `now`)."""
    history = [
        Update(
            r.received_at,
            "CI",
            f"run {_typed(r.run)}",
            f"{r.passed} passed, {r.failed + r.errors} failed, {r.skipped} skipped",
        )
        for r in queries.reports_of_branch(
            session=session, branch=sprint.sprint.branch, until=now, limit=HISTORY_ROWS
        )
    ]
    events = queries.events(session=session, until=now, limit=HISTORY_ROWS)
    # Codes are the team's numbers (B-001 in each team), not the rows' ids.
    codes = {
        "blocker": queries.blocker_codes(
            session=session, ids={e.subject_id for e in events if e.subject == "blocker"}
        ),
        "risk": queries.risk_codes(
            session=session, ids={e.subject_id for e in events if e.subject == "risk"}
        ),
    }
    for e in events:
        code = codes.get(e.subject, {}).get(e.subject_id, f"#{e.subject_id}")
        history.append(Update(e.at, f"@{e.actor}", f"{code} {e.action}", ""))
    history += [
        Update(
            s.set_at,
            f"@{s.set_by}",
            f"{_typed(s.component)} score",
            f"{pct(s.previous)} → {pct(s.score)}",
        )
        for s in queries.manual_score_history(session=session, until=now)
    ]
    # A stable sort: rows at the same instant keep the order above.
    return tuple(sorted(history, key=lambda h: h.at)[-HISTORY_ROWS:])


# -- the document: pure Markdown from a Tracker --------------------------------------------


def tracker_markdown(*, session: Session, sprint: Sprint, now: datetime) -> str:
    """The whole tracker as Markdown, as of `now`."""
    return render(gather(session=session, sprint=sprint, now=now))


def render(tracker: Tracker) -> str:
    """The tracker document."""
    fig = tracker.fig
    out = _title(tracker)
    out += _summary(fig)
    out += _daily(fig)
    out += _burndown(fig)
    out += _risks(fig)
    out += _blockers(tracker)
    out += _dashboard(tracker)
    out += _milestones(tracker)
    out += _matrix(tracker)
    out += _history(tracker)
    out += _footer(fig)
    return "\n".join(out)


def _title(tracker: Tracker) -> list[str]:
    fig, info = tracker.fig, tracker.sprint.sprint
    return [
        f"# {_typed(info.name)} Tracker",
        "",
        f"**Sprint Duration:** {info.days} days (Days 1-{info.days}), "
        f"{info.start.isoformat()} to {info.end.isoformat()}",
        f"**Sprint Goal:** {_typed(info.goal) or '-'}",
        f"**Sprint Status:** {fig.status_line()}"
        + (f" ({fig.today.isoformat()})" if fig.running else ""),
        f"**Last Updated:** {_local(tracker.sprint, tracker.now)} ({info.timezone}), written "
        "by sprintbot from recorded CI results, Slack posts and benchmarks",
        "",
        "---",
        "",
    ]


def _summary(fig: Figures) -> list[str]:
    b = fig.sprint.baseline
    out = ["## Executive Summary", ""]
    out += _table(
        ["Metric", "Baseline", "Current", "Target", "Status"],
        [*_score_rows(fig), *_tally_rows(fig)],
    )
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


def _score_rows(fig: Figures) -> list[Row]:
    """The summary's readiness and test rows."""
    t = fig.tests
    stated, measured = fig.baseline_stated, fig.baseline_measured
    baseline = ", ".join(
        x
        for x in (
            f"{pct(stated)} stated" if stated is not None else "",
            f"{pct(measured)} measured" if measured is not None else "not measured yet",
        )
        if x
    )
    known, base_known = t.known, t.baseline_known
    over = t.failing - t.target_failing
    if over > 0:
        verdict = f"{over:,} over target"
    elif t.to_go:  # (skipped or flaky tests: the passing fall short all the same)
        verdict = f"{t.to_go:,} more to pass: skipped and flaky tests are not passing"
    else:
        verdict = "🟢 at or under target"
    return [
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
            pct(fig.sprint.targets.pass_rate),
            "",
        ],
        [
            "**Passing Tests**",
            _of(t.baseline_passing, base_known) if base_known else "-",
            _of(t.passing, known) if known else "no test results yet",
            _of(t.target_passing, known) if known else "-",
            # (Neither passing nor failing: the tests the two rows do not count.)
            f"{t.flaky:,} flaky (passed only on a re-run)" if known and t.flaky else "",
        ],
        [
            "**Failing Tests**",
            _int(t.baseline_failing) if base_known else "-",
            _int(t.failing) if known else "-",
            f"≤ {t.target_failing:,} (target failing)" if known else "-",
            verdict if known else "",
        ],
    ]


def _tally_rows(fig: Figures) -> list[Row]:
    """The summary's files, fixes, regressions and benchmarks rows."""
    t, b = fig.tests, fig.sprint.baseline
    zero_is_target = [
        ("**Regressions Introduced**", t.regressions_introduced),
        ("**Regressions Open**", t.regressions_open),
        ("**New Failures Open**", t.new_failures_open),
    ]
    return [
        [
            "**Test Files Passing**",
            f"{b.test_files_passing} / {b.test_files} stated" if b.test_files else "-",
            _of(t.test_files_passing, t.test_files),
            "",
            # (Files not all passing: a skipped or flaky test's too, not only a failure's;
            # "with failures" called a skipped test's file failing; found by review.)
            f"{t.test_files - t.test_files_passing} files not all passing" if t.test_files else "",
        ],
        ["**Tests Fixed**", "-", f"{t.fixed:,} fixed this sprint", "", ""],
        *([name, "-", _int(n), "0", _zero_mark(n)] for name, n in zero_is_target),
        [
            "**Benchmarks Met**",
            "-",
            f"{fig.benchmarks_met} of {len(fig.benchmarks)}",
            f"{len(fig.benchmarks)} of {len(fig.benchmarks)}",
            "",
        ],
    ]


def _daily(fig: Figures) -> list[str]:
    rows: list[Row] = []
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
        # As the plan runs (a stated plan need not start at the baseline or end at the
        # target; before day 1 there is no baseline yet).
        plan = [d.plan_failing for d in fig.days] or [t.baseline_failing, target]
        first, last = plan[0], plan[-1]
        base = " (the baseline)" if t.baseline_known and first == t.baseline_failing else ""
        out += [
            f"**Target failing:** {target:,} ({t.known:,} known tests at a "
            f"{pct(fig.sprint.targets.pass_rate)} pass rate); planned failing runs from "
            f"{first:,} on day 1{base} to {last:,} on day {fig.info.days}"
            + (" (the target)." if last == target else "."),
            "",
        ]
    rows = []
    for d in fig.days:
        measured = d.reached and d.measured and d.failing is not None
        remaining = to_go(
            known=d.known or 0,
            passing=d.passing or 0,
            failing=d.failing or 0,
            target_failing=target,
        )
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
    return [*out, *_velocity(fig), *RULE]


def _velocity(fig: Figures) -> list[str]:
    v = reports.velocity(fig)
    if v["average"] is None:
        return []
    target = reports.target_text(v)
    return [
        "",
        f"**Velocity:** {v['average']:.1f} tests fixed per day on average over the days "
        f"after day 1 (last day {v['last']}; target {target})",
    ]


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
                _typed(r.description),
                r.impact,
                r.probability,
                _typed(r.mitigation),
                f"@{r.owner}" if r.owner else "-",
                f"{RISK_MARK.get(r.status, '')} {r.status}",
            ]
            for r in fig.risks
        ],
    )
    return [*out, *RULE]


def _blockers(tracker: Tracker) -> list[str]:
    sprint = tracker.sprint
    out = ["## Blocker Resolution Log", "", "### Open Blockers", ""]
    out += _table(
        ["ID", "Severity", "Component", "Description", "Reported", "Owner", "Target", "Escalation"],
        [
            [
                x.code,
                x.severity,
                _typed(x.component),
                _typed(x.description),
                _local(sprint, x.reported_at),
                f"@{x.owner}" if x.owner else "-",
                _typed(x.target),
                _typed(blockers.step_name(sprint, tracker.fig.level_of(x))),
            ]
            for x in tracker.fig.blockers
        ],
    )
    out += ["", "### Resolved Blockers", ""]
    out += _table(
        ["ID", "Component", "Description", "Reported", "Resolved", "Resolution Time", "Resolution"],
        [
            [
                x.code,
                _typed(x.component),
                _typed(x.description),
                _local(sprint, x.reported_at),
                _local(sprint, x.resolved_at),
                f"{(x.resolved_at - x.reported_at).total_seconds() / 3600:.1f} h",
                _typed(x.resolution),
            ]
            for x in tracker.resolved
        ],
    )
    if sprint.escalation:
        out += ["", "**Escalation Path:**"]
        out += [
            f"{i}. {_typed(step.name)} (after {format_duration(step.after)})"
            for i, step in enumerate(sprint.escalation, 1)
        ]
    return [*out, *RULE]


def _dashboard(tracker: Tracker) -> list[str]:
    fig = tracker.fig
    out = ["## Key Metrics Dashboard", "", "### Production Readiness Score Breakdown", ""]
    rows: list[Row] = []
    # Each weight as its share of the whole, as the seed's column reads (adding up to the
    # Overall row's 100 %): the sprint file's weights need not add up to 100.
    total = sum(c.weight for g in fig.breakdown.groups for c in g.components) or 1.0

    def share(weight: float) -> str:
        return _num(weight * 100 / total, 1)

    for g in fig.breakdown.groups:
        rows.append(
            [
                f"**{_typed(g.name)}**",
                share(g.weight),
                pct(g.score),
                pct(g.target),
                _gap(g.score, g.target),
                "",
            ]
        )
        rows += [
            [
                _typed(c.name),
                share(c.weight),
                pct(c.score),
                pct(c.target),
                _gap(c.score, c.target),
                c.detail,
            ]
            for c in g.components
        ]
    rows.append(
        [
            "**Overall**",
            "100",
            f"**{pct(fig.score)}**",
            f"**{pct(fig.target)}**",
            f"**{_gap(fig.score, fig.target)}**",
            "",
        ]
    )
    out += _table(
        ["Component", "Weight (%)", "Current Score", "Target Score", "Gap", "Source"], rows
    )
    out += _coverage(fig)
    out += _trends(fig, first=tracker.first_samples)
    out += ["", "### Performance Benchmarks", ""]
    out += _table(
        # (The baseline the sprint file states: the trends above start from the first sample,
        # and two unlabelled starts read as one contradicting the other; found by review.)
        ["Benchmark", "Baseline (stated)", "Current", "Target", "Status"],
        [
            [
                _typed(b.metric.title),
                _value(b.metric, b.metric.baseline),
                _value(b.metric, b.value) if b.value is not None else "not measured",
                _target(b.metric),
                _state(b.state),
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
                    _typed(r.name),
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


def _trends(fig: Figures, *, first: Mapping[str, float]) -> list[str]:
    """How the tracked measures moved: pass rate from the figures, each benchmark from its
    first sample to its latest."""
    out = ["", "### Code Quality Trends", ""]
    out += _table(
        ["Metric", "First", "Latest", "Change", "Target", "Status"],
        [_pass_rate_trend(fig), *(_benchmark_trend(b, first) for b in fig.benchmarks)],
    )
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


def _pass_rate_trend(fig: Figures) -> Row:
    t, target = fig.tests, fig.sprint.targets.pass_rate
    base_rate = _rate(t.baseline_passing, t.baseline_known)
    return [
        "Test Pass Rate",
        pct(base_rate),
        pct(t.pass_rate),
        _change(base_rate, t.pass_rate, Better.HIGHER, "pts", shown=_num, moved=change),
        pct(target),
        "🟢 met"
        if reached(t.pass_rate, target, counted=True)
        else ("🟡 missed" if t.pass_rate is not None else "⏳"),
    ]


def _benchmark_trend(b: Benchmark, first: Mapping[str, float]) -> Row:
    m = b.metric
    if b.value is None:
        return [_typed(m.title), "not tracked", "not tracked", "-", _target(m), "⏳"]
    start = first.get(m.name)
    return [
        _typed(m.title),
        _value(m, start) if start is not None else "no sample this sprint",
        _value(m, b.value),
        _change(start, b.value, m.better, _unit(m), shown=quantity),
        _target(m),
        _state(b.state),
    ]


def _milestones(tracker: Tracker) -> list[str]:
    fig, sprint = tracker.fig, tracker.sprint
    out = ["## Sprint Milestones"]
    for cp in tracker.checkpoints:
        ms = cp.milestone
        out += ["", f"### {_typed(ms.name)} (Day {ms.day})", "", "**Success Criteria:**"]
        out += [
            f"- [{'x' if c.met else ' '}] {_criterion(c)} — measured " + _measured(c, fig)
            for c in cp.criteria
        ]
        if ms.review:
            out += ["", f"**Review Meeting:** {_typed(ms.review)}"]
        if cp.signoffs:
            out += ["", "**Sign-off Required:**"]
            out += [
                f"- [{'x' if s.at else ' '}] {_typed(milestones.role_title(s.role))} approval"
                + (f" (@{s.user}, {_local(sprint, s.at)})" if s.at else "")
                for s in cp.signoffs
            ]
    out += ["", "### Forecast", ""]
    for label, key in (("Production readiness", "readiness"), ("Test pass rate", "pass_rate")):
        f = fig.forecast.get(key)
        if f is not None:
            out.append(f"- {label}: {f.describe()}")
    return [*out, *RULE]


def _matrix(tracker: Tracker) -> list[str]:
    """Every milestone criterion evaluated: target, measured value (with what it is out
    of), met."""
    out = ["## Success Criteria Matrix"]
    if not tracker.checkpoints:
        return [*out, "", "The sprint file names no milestones.", *RULE]
    for cp in tracker.checkpoints:
        ms = cp.milestone
        out += [
            "",
            f"### {_typed(ms.name)} (Day {ms.day}) — {cp.met} of {len(cp.criteria)} criteria met",
            "",
        ]
        out += _table(
            ["Criterion", "Target", "Measured", "Met"],
            [
                [
                    _criterion(c),
                    c.target,
                    _measured(c, tracker.fig),
                    ("✅" if c.met else "❌") if c.value is not None else "⏳",
                ]
                for c in cp.criteria
            ],
        )
    return [*out, *RULE]


def _history(tracker: Tracker) -> list[str]:
    out = ["## Update History", ""]
    out += _table(
        ["Date", "Updated By", "Change", "Details"],
        [[_local(tracker.sprint, u.at), u.who, u.what, u.details] for u in tracker.history],
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


def _measured(c: Evaluated, fig: Figures) -> str:
    """A criterion's measured value, with what it is out of ("5 of 8")."""
    if c.shown is None:
        return "nothing yet"
    text = c.shown
    if c.of is not None:
        text += f" of {_num(c.of)}"
    elif c.criterion.metric == "pass_rate" and fig.tests.known:
        text += f" ({fig.tests.passing:,} of {fig.tests.known:,} tests)"
    return text


def _state(state: MetricState | None) -> str:
    """A benchmark's state cell: marked, or ⏳ before it is measured."""
    return f"{STATE_MARK.get(str(state), '')} {state}" if state is not None else "⏳"


def _planned(fig: Figures, day: DayFigures) -> str:
    """The day's planned failing tests; none before any test is known (there is no
    measured baseline to plan from)."""
    return f"{day.plan_failing:,}" if fig.tests.known else "-"


def _unit(metric: Metric) -> str:
    """A metric's unit as the sprint file typed it (`[docs](url)` no live link)."""
    return metric.unit.translate(_MARKUP)


def _value(metric: Metric, value: float | None) -> str:
    return with_unit(value, _unit(metric)) if value is not None else "-"


def _target(metric: Metric) -> str:
    """Inclusive, as a benchmark's state is judged (1 s meets a target of 1 s: "<1 s" read
    as missed, found by review)."""
    shown = with_unit(metric.target, _unit(metric))
    return f"{'≤' if metric.better is Better.LOWER else '≥'} {shown}"


def _change(
    first: float | None,
    latest: float | None,
    better: Better,
    unit: str,
    *,
    shown: Callable[[float], str],
    moved: Callable[[float, float], float] = lambda first, latest: latest - first,
) -> str:
    """Latest against first, as `shown` writes numbers, and whether that is the better
    direction; "unchanged" where the change shows as nothing. `moved`: the change (for
    percentages, `numbers.change`: the difference of the two as shown)."""
    if first is None or latest is None:
        return "-"
    delta = moved(first, latest)
    if abs(delta) < 1e-9 or shown(abs(delta)) == "0":
        return "→ unchanged"
    good = (delta > 0) == (better is Better.HIGHER)
    arrow, sign = ("↑", "+") if delta > 0 else ("↓", "")
    return f"{arrow} {sign}{shown(delta)} {unit}".rstrip() + (" (better)" if good else " (worse)")


def _gap(score: float | None, target: float) -> str:
    return "-" if score is None else pct(change(target, score), signed=True)

"""The tracker document the team used to keep by hand (the seed's Markdown), written from
what sprintbot recorded: every figure computed, none typed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from jobs import blockers, milestones, numbers, reports
from jobs.config import Metric, Sprint
from jobs.numbers import pct
from jobs.readiness import baseline
from storage import queries

HEALTH_MARK = {"On Track": "🟢", "At Risk": "🟡", "Critical": "🔴"}
RISK_MARK = {"Critical": "🔴", "Active": "🟡", "Mitigated": "🟢", "Resolved": "⚪"}
STATE_MARK = {"met": "🟢", "missed": "🟡", "degraded": "🔴"}


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


def _local(sprint: Sprint, at: datetime) -> str:
    return at.astimezone(sprint.sprint.tz).strftime("%Y-%m-%d %H:%M")


def tracker_markdown(*, session: Session, sprint: Sprint, now: datetime) -> str:
    """The whole tracker as Markdown, as of `now`."""
    info = sprint.sprint
    today = numbers.local_date(info, now)
    day = numbers.sprint_day(info, now)
    m = milestones.measure(session=session, sprint=sprint, now=now)
    status = m.status
    score = status.breakdown.score
    start_score = baseline(session=session, sprint=sprint, current=score)
    ends = milestones.day_ends(session=session, sprint=sprint, upto=today)
    files_passing, files = queries.file_counts(session=session, branch=info.branch)
    b = sprint.baseline
    out: list[str] = [
        f"# {info.name} Tracker",
        "",
        f"**Sprint Duration:** {info.days} days (Days 1-{info.days}), "
        f"{info.start.isoformat()} to {info.end.isoformat()}",
        f"**Sprint Goal:** {info.goal or '-'}",
        f"**Last Updated:** {_local(sprint, now)} ({info.timezone}), written by sprintbot "
        "from recorded CI results, Slack posts and benchmarks",
        "",
        "---",
        "",
        "## Executive Summary",
        "",
    ]
    base_rate = 100 * b.passing_tests / b.total_tests if b.passing_tests and b.total_tests else None
    out += _table(
        ["Metric", "Baseline", "Current", "Target", "Status"],
        [
            [
                "**Production Readiness**",
                pct(start_score),
                f"**{pct(score)}**",
                pct(sprint.targets.readiness),
                f"{HEALTH_MARK.get(str(status.health), '')} {status.health} "
                f"(plan today {pct(status.plan)})",
            ],
            [
                "**Test Pass Rate**",
                pct(base_rate),
                f"**{pct(status.pass_rate)}**",
                pct(sprint.targets.pass_rate),
                "",
            ],
            [
                "**Passing Tests**",
                f"{b.passing_tests:,} / {b.total_tests:,}"
                if b.passing_tests and b.total_tests
                else "-",
                _of(status.passed, status.known) if status.known else "no test results yet",
                "",
                f"{_num(m.values['failing_tests'], 0)} failing",
            ],
            [
                "**Test Files Passing**",
                f"{b.test_files_passing} / {b.test_files}" if b.test_files else "-",
                f"{files_passing} / {files}" if files else "-",
                "",
                "",
            ],
            ["**Tests Fixed**", "-", _num(m.values["tests_fixed"], 0), "", ""],
            [
                "**Regressions**",
                "-",
                f"{len(m.regressions)} ({len(m.still_failing)} still failing)",
                "0",
                "🔴" if m.still_failing else "🟢",
            ],
        ],
    )

    # Daily progress: recorded end-of-day values against the plan.
    out += ["", "---", "", "## Daily Progress Tracker", ""]
    rows = []
    previous_passed: int | None = None
    total = status.known or (b.total_tests or 0)
    for d in range(1, info.days + 1):
        snap = ends.get(d)
        plan_r = numbers.plan_readiness(sprint, d, baseline=start_score)
        plan_p = numbers.plan_passing(
            sprint, d, baseline_passing=b.passing_tests or status.passed, total=total
        )
        if snap is None:
            mark = "⏳" if d >= day else "no data"
            rows.append(
                [
                    d,
                    numbers.day_date(info, d),
                    f"Plan: {pct(plan_r)}",
                    f"Plan: {plan_p:,}",
                    "-",
                    mark,
                ]
            )
            continue
        tests = (snap.breakdown or {}).get("tests") or {}
        passed = tests.get("passed")
        fixed = (
            passed - previous_passed if passed is not None and previous_passed is not None else None
        )
        previous_passed = passed if passed is not None else previous_passed
        on_plan = snap.score is not None and snap.score >= plan_r
        rows.append(
            [
                d,
                numbers.day_date(info, d),
                f"{pct(snap.score)} (plan {pct(plan_r)})",
                f"{passed:,} (plan {plan_p:,})" if passed is not None else "-",
                f"{fixed:+d}" if fixed is not None else "-",
                "✅" if on_plan else "⚠️ below plan",
            ]
        )
    out += _table(
        ["Day", "Date", "Production Ready %", "Tests Passing", "Net Tests Fixed", "Status"], rows
    )

    # Burn-down.
    out += ["", "---", "", "## Burn-Down Chart Data", ""]
    failing = reports.failing_of(ends)
    points = reports.burndown_points(sprint, status, failing)
    first = failing[min(failing)] if failing else None
    final = points[-1].planned if points else 0
    out += _table(
        [
            "Day",
            "Tests Failing",
            "Planned Failing",
            "Fixed (Cumulative)",
            "Remaining to Target",
            "On Track?",
        ],
        [
            [
                p.day,
                p.failing if p.failing is not None else "-",
                p.planned,
                first - p.failing if first is not None and p.failing is not None else "-",
                max(p.failing - final, 0) if p.failing is not None else "-",
                ("✅" if p.failing <= p.planned else "⚠️") if p.failing is not None else "⏳",
            ]
            for p in points
        ],
    )
    fixed_days = reports.fixed_per_day(failing)
    if fixed_days:
        out += [
            "",
            f"**Velocity:** {sum(fixed_days) / len(fixed_days):.1f} net tests fixed per day "
            f"(target {reports.VELOCITY_TARGET[0]}-{reports.VELOCITY_TARGET[1]})",
        ]

    # Risks.
    out += ["", "---", "", "## Risk Tracking Matrix", ""]
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
                f"R-{r.id or 0:03d}",
                r.description,
                r.impact,
                r.probability,
                r.mitigation,
                f"@{r.owner}" if r.owner else "-",
                f"{RISK_MARK.get(r.status, '')} {r.status}",
            ]
            for r in queries.all_risks(session=session)
        ],
    )

    # Blockers.
    out += ["", "---", "", "## Blocker Resolution Log", "", "### Open Blockers", ""]
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
            for x in queries.open_blockers(session=session)
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
                _local(sprint, x.resolved_at) if x.resolved_at else "-",
                f"{((x.resolved_at or now) - x.reported_at).total_seconds() / 3600:.1f} h",
                x.resolution,
            ]
            for x in queries.resolved_blockers(session=session)
        ],
    )
    if sprint.escalation:
        out += ["", "**Escalation Path:**"]
        out += [
            f"{i}. {step.name} (after {int(step.after.total_seconds() // 3600)} h)"
            for i, step in enumerate(sprint.escalation, 1)
        ]

    # Dashboard.
    out += [
        "",
        "---",
        "",
        "## Key Metrics Dashboard",
        "",
        "### Production Readiness Score Breakdown",
        "",
    ]
    dash_rows: list[list[Any]] = []
    for g in status.breakdown.groups:
        dash_rows.append(
            [
                f"**{g.name}**",
                _num(g.weight),
                pct(g.score),
                pct(g.target),
                _gap(g.score, g.target),
                "",
            ]
        )
        dash_rows += [
            [c.name, _num(c.weight), pct(c.score), pct(c.target), _gap(c.score, c.target), c.detail]
            for c in g.components
        ]
    dash_rows.append(
        [
            "**Overall**",
            "100%",
            f"**{pct(score)}**",
            f"**{pct(sprint.targets.readiness)}**",
            f"**{_gap(score, sprint.targets.readiness)}**",
            "",
        ]
    )
    out += _table(
        ["Component", "Weight", "Current Score", "Target Score", "Gap", "Source"], dash_rows
    )
    metrics = m.benchmarks
    out += ["", "### Performance Benchmarks", ""]
    out += _table(
        ["Benchmark", "Baseline", "Current", "Target", "Status"],
        [
            [
                x.title,
                f"{_num(x.baseline, 3)} {x.unit}" if x.baseline is not None else "-",
                f"{_num(metrics[x.name], 3)} {x.unit}" if x.name in metrics else "not measured",
                f"{'<' if str(x.better) == 'lower' else '>'}{_num(x.target, 3)} {x.unit}",
                _state(sprint, x, metrics),
            ]
            for x in sprint.metrics
        ],
    )

    # Milestones.
    out += ["", "---", "", "## Sprint Milestones"]
    for ms in sorted(sprint.milestones, key=lambda x: x.day):
        data = milestones.milestone_data(session=session, milestone=ms, measures=m)
        out += ["", f"### {ms.name} (Day {ms.day})", "", "**Success Criteria:**"]
        out += [
            f"- [{'x' if c['met'] else ' '}] {c['criterion']} — measured "
            + (
                _num(c["value"]) + (" %" if c["unit"] == "%" else "")
                if c["value"] is not None
                else "nothing yet"
            )
            for c in data["criteria"]
        ]
        if ms.review:
            out += ["", f"**Review Meeting:** {ms.review}"]
        if data["signoffs"]:
            out += ["", "**Sign-off Required:**"]
            out += [
                f"- [{'x' if s['user'] else ' '}] {milestones.role_title(s['role'])} approval"
                + (
                    f" (@{s['user']}, {_local(sprint, datetime.fromisoformat(s['at']))})"
                    if s["user"]
                    else ""
                )
                for s in data["signoffs"]
            ]
    f = milestones.forecasts(session=session, sprint=sprint, now=now)
    out += ["", "### Forecast", ""]
    for label, key in (("Production readiness", "readiness"), ("Test pass rate", "pass_rate")):
        x = f[key]
        if x["reached"]:
            text = "reached"
        elif x["per_day"] is None:
            text = "not enough days measured yet"
        elif x["day"] is not None:
            text = f"Day {x['day']} ({x['date']}) at {x['per_day']:+.2f} pts/day"
        else:
            text = f"not at this pace ({x['per_day']:+.2f} pts/day)" + (
                f"; needs {x['needed_per_day']:+.2f} pts/day"
                if x["needed_per_day"] is not None
                else ""
            )
        out.append(f"- {label} {pct(x['target'])}: {text}")

    # Update history.
    out += ["", "---", "", "## Update History", ""]
    history: list[tuple[datetime, str, str, str]] = []
    for r in queries.reports_of_branch(session=session, branch=info.branch):
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
    history.sort(key=lambda h: h[0])
    out += _table(
        ["Date", "Updated By", "Change", "Details"],
        [[_local(sprint, at), who, what, detail] for at, who, what, detail in history[-100:]],
    )
    remaining = max(info.days - day, 0)
    out += [
        "",
        "---",
        "",
        f"**Sprint End Date:** {info.end.isoformat()}",
        f"**Days Remaining:** {remaining}",
        "",
        f"**Current Status:** {HEALTH_MARK.get(str(status.health), '')} Sprint Day {day} - "
        f"{status.health}; {sum(m.blockers.values())} open blocker(s)",
        "",
    ]
    return "\n".join(out)


def _of(part: int | None, whole: int | None) -> str:
    return f"{part:,} / {whole:,}" if part is not None and whole else "-"


def _state(sprint: Sprint, metric: Metric, values: dict[str, float]) -> str:
    if metric.name not in values:
        return "⏳"
    state = numbers.metric_state(
        metric, values[metric.name], tolerance=sprint.alerts.perf_tolerance
    )
    return f"{STATE_MARK.get(str(state), '')} {state}"


def _gap(score: float | None, target: float) -> str:
    return "-" if score is None else pct(score - target, signed=True)

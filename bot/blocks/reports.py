"""The daily and weekly reports, the lists in their threads, and /sprint (jobs.reports)."""

from __future__ import annotations

import math
from datetime import date

from slack_sdk.models.blocks import Block, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.alerts import cause_text
from bot.blocks.common import (
    HEALTH_EMOJI,
    NAME_CHARS,
    SEVERITY_EMOJI,
    Message,
    code,
    context,
    esc,
    line,
    mention,
    mentions,
    message,
    more,
    named,
    plural,
    pts,
    run_counts,
    sections,
    short,
    tests_passing,
)
from bot.blocks.review import completion_lines, milestone_lines
from bot.blocks.tests import seconds
from jobs.milestones import ForecastData
from jobs.numbers import change, pct, with_unit
from jobs.reports import (
    ChangeList,
    DailyReport,
    LastStandups,
    SprintStatus,
    Summary,
    TestChange,
    WeeklyReport,
    target_text,
)

LATE = ":hourglass: Posted late: the clock was down at the scheduled time."


def _team(d: DailyReport) -> str:
    """A report's team, where another team's reports share its channel."""
    return f"{d['team']} · " if d.get("team") else ""


def headline(d: Summary, *, since: str = "since yesterday") -> SectionBlock:
    """Readiness and its change, plan and target, health, tests passing."""
    r, t = d["readiness"], d["tests"]
    # The figures' own change (the API's); a report queued before it was in the data, the
    # same difference of the two as shown (`numbers.change`).
    score, previous = r.get("score"), r.get("previous")
    moved = r.get("change")
    if moved is None and score is not None and previous is not None:
        moved = change(previous, score)
    since_text = f" ({pts(moved)} pts {since})" if moved is not None else ""
    passing = tests_passing(
        t["passed"],
        t.get("known") or 0,
        t["pass_rate"],
        target=t.get("pass_rate_target"),
        flaky=t.get("flaky") or 0,
    )
    tests = f"*Tests passing*\n{passing}"
    return SectionBlock(
        fields=[
            MarkdownTextObject(text=f"*Readiness*\n{pct(r['score'])}{since_text}"),
            MarkdownTextObject(
                text=f"*Plan today / target*\n{pct(r['plan'])} / {pct(r['target'])}"
            ),
            MarkdownTextObject(text=f"*Health*\n{HEALTH_EMOJI.get(r['health'], '')} {r['health']}"),
            MarkdownTextObject(text=tests),
        ]
    )


def why(d: Summary) -> list[Block]:
    """Health's reason and where the plan comes from, under the headline."""
    r = d["readiness"]
    parts = []
    if r.get("health_reason"):
        parts.append(f"*{r['health']}*: {esc(r['health_reason'])}")
    if r.get("plan_note"):
        parts.append(esc(r["plan_note"]))
    return [context(" · ".join(parts))] if parts else []


def tests_line(d: Summary) -> str:
    """The sprint's test figures by their DESIGN names, against the one failing target."""
    t = d["tests"]
    if not t.get("known") or "target_failing" not in t:
        return "*Tests*: no test results yet"
    base = t["baseline_failing"]
    baseline = "no baseline yet" if base is None else f"baseline {base:,}"
    return (
        f"*Tests*: {t['failing']:,} failing now (target {t['target_failing']:,}; "
        f"{baseline}) · fixed this sprint {t['fixed']:,} · "
        f"regressions introduced {t['regressions_introduced']:,}, open "
        f"{t['regressions_open']:,} · new failures open {t['new_failures_open']:,}"
        + (f" · {t['quarantined']:,} quarantined" if t.get("quarantined") else "")
    )


def blocker_lines(d: Summary) -> list[str]:
    if not d["blocker_count"]:
        return ["*Open blockers*: none open"]
    return (
        [f"*Open blockers ({d['blocker_count']})*"]
        + [
            f"{SEVERITY_EMOJI.get(b['severity'], '')} *{b['code']}* {b['severity']} · "
            f"{esc(b['component'], NAME_CHARS)} — {line(b['description'], 600)} "
            f"({b['age']}, step {b['level']})"
            for b in d["blockers"]
        ]
        + more(len(d["blockers"]), d["blocker_count"], "`/blocker list` shows them all")
    )


def _benchmark_lines(d: Summary) -> list[str]:
    bench = [b for b in d["benchmarks"] if b["value"] is not None]
    marks = {
        "met": ":white_check_mark:",
        "missed": ":large_yellow_circle:",
        "degraded": ":red_circle:",
    }
    return (
        ["*Benchmarks*"]
        + [
            f"{marks.get(b['state'] or '', '')} {esc(b['label'], NAME_CHARS)}: "
            f"{esc(with_unit(b['value'], b['unit']))} "
            f"(target {'≤' if b['better'] == 'lower' else '≥'} "
            f"{esc(with_unit(b['target'], b['unit']))})"
            for b in bench
        ]
        if bench
        else []
    )


def _report_day(d: Summary) -> str:
    return d.get("status_line") or f"Day {d['day']} of {d['days']}"


def _change_lines(label: str, items: list[TestChange], count: int) -> str:
    return (
        f"• {label}: {count}"
        + "".join(f"\n    {code(c['id'], 120)}" for c in items)
        + "".join(f"\n    {x}" for x in more(len(items), count, "the whole list is in the thread"))
    )


def daily_report(d: DailyReport) -> Message:
    r, y = d["readiness"], d["yesterday"]
    title = f"{_team(d)}Daily report — {_report_day(d)}, {d['date']}"
    blocks: list[Block] = [HeaderBlock(text=short(title, 150)), headline(d), *why(d)]
    if d.get("final"):
        blocks.append(
            context(f":checkered_flag: The sprint's final daily report: it ends today, {d['end']}.")
        )
    if d.get("late"):
        blocks.append(context(LATE))
    if d.get("on_demand"):
        blocks.append(context("Posted on request with `/sprint report`."))
    since = y.get("since", y["date"])
    if since != y["date"]:
        period = f"Since {_weekday(since)} ({_days(since, y['date'])})"
    elif d["phase"] == "ended":  # (asked for after the end: its last day, not yesterday)
        period = f"The sprint's last day ({y['date']})"
    else:
        period = f"Yesterday ({y['date']})"
    lines = [
        f"*{period}*: {y['runs']} CI run(s), {y['reports']} report(s)"
        + (f"; last: {run_counts(y)}" if y["reports"] else "")
    ]
    if "regressed" in y:
        lines.append(_change_lines("Regressed", y["regressed"], y["regressed_count"]))
    lines.append(_change_lines("New failing tests", y["new_failures"], y["new_failures_count"]))
    lines.append(_change_lines("Tests fixed", y["fixed"], y["fixed_count"]))
    v = d["velocity"]
    if v["last"] is not None:
        # The last day CI reported on: yesterday, or an earlier one named.
        when = "yesterday" if v["last_date"] == y["date"] else f"on {v['last_date']}"
        lines.append(
            f"• Velocity: {plural(v['last'], 'test')} fixed {when}, {v['average']:.1f}/day on "
            f"average (target {target_text(v)})"
        )
    lines.append(tests_line(d))
    lines += _cause_lines(d)
    lines += _duration_lines(d)
    blocks += sections(lines)
    blocks += sections(blocker_lines(d))
    blocks += sections(_risk_lines(d))
    blocks += sections(_benchmark_lines(d))
    s = d["standups"]
    if s["expected"]:
        blocks.append(
            context(
                f"Standups {_standup_day(s)}: {s['answered']} of {s['expected']}"
                + (f"; missing {mentions(s['missing'])}" if s["missing"] else "")
            )
        )
    blocks.append(context("The burn-down chart is in the thread."))
    return message(f"{title}: readiness {pct(r['score'])}, {r['health']}", blocks)


def _standup_day(s: LastStandups) -> str:
    """ "yesterday", or the last day standups were asked for: "on Fri 2025-10-31"."""
    # (.get: a report queued before these were kept renders as it would have then)
    if s.get("yesterday", True) or s.get("day") is None:
        return "yesterday"
    return "on " + _weekday(str(s.get("day")))


def _weekday(day: str) -> str:
    """ "Fri 2025-10-31" """
    return date.fromisoformat(day).strftime("%a %Y-%m-%d")


def _days(first: str, last: str) -> str:
    """ "3 days" from `first` to `last`, both counted."""
    return plural((date.fromisoformat(last) - date.fromisoformat(first)).days + 1, "day")


def _cause_lines(d: DailyReport) -> list[str]:
    """The commonest causes of the failing tests: "• 4 tests: `KeyError: '…'`"."""
    top = d.get("top_causes") or []
    if not top:
        return []
    return ["*Top causes of failing tests*"] + [
        f"• {plural(c['count'], 'test')}: {cause_text(c)}" for c in top
    ]


def _duration_lines(d: DailyReport) -> list[str]:
    """The latest run's test time against the runs before it, and the tests that became
    slower (jobs.durations), each with its owners; nothing when no run timed its tests."""
    f = d.get("durations")
    if not f:
        return []
    s = f["suite"]
    head = f"*Test time*: {seconds(s['total'])} in the latest run {code(s['run'], 200)}"
    if s["median"] is not None:
        head += (
            f", {pct(s['change'], signed=True)} on the median of the "
            f"{plural(s['runs'], 'run')} before ({seconds(s['median'])})"
        )
    lines = [head]
    if not f["slow"]:
        return lines
    lines.append(
        f"*Slower tests ({f['slow_count']})*: at least {f['factor']:g}x their median over "
        f"the {f['window']} runs before, and at least {seconds(f['floor'])}"
    )
    for t in f["slow"]:
        was = f"{t['seconds'] / t['median']:.1f}x, " if t["median"] else ""
        lines.append(
            f"• {code(t['classname'] + '::' + t['name'], 700)} "
            f"{seconds(t['seconds'])} ({was}median {seconds(t['median'])})"
            + (f" · id {t['id']}" if t["id"] is not None else "")
            + (f" · {mentions(t['owners'], sep=' ')}" if t.get("owners") else "")
        )
    return lines + more(len(f["slow"]), f["slow_count"], "`/tests slow` lists the slowest")


def _risk_lines(d: Summary) -> list[str]:
    rc = d["risk_counts"]
    open_count = d.get("risk_open_count", rc["Critical"] + rc["Active"])
    if not open_count:
        head = "*Risks*: none open"
        if rc["Mitigated"] or rc["Resolved"]:
            head += f" ({rc['Mitigated']} mitigated, {rc['Resolved']} resolved)"
        return [head]
    return (
        [
            f"*Risks*: {rc['Critical']} critical, {rc['Active']} active, "
            f"{rc['Mitigated']} mitigated, {rc['Resolved']} resolved"
        ]
        + [
            f"• *{x['code']}* {x['status']} ({x['impact']} impact) — {line(x['description'], 600)}"
            for x in d["risks"]
        ]
        + more(len(d["risks"]), open_count, "`/risk list` shows them all")
    )


def change_list(d: ChangeList) -> Message:
    """The whole lists the daily report could only start: in its thread."""
    since = d.get("since", d["date"])
    title = (
        f"Every test that changed on {d['date']}"
        if since == d["date"]
        else f"Every test that changed since {_weekday(since)}"
    )
    if d.get("parts"):
        title += f" ({d.get('part')} of {d['parts']})"
    counts = d.get("counts") or {}
    lines = [f"*{title}*"]
    for kind, label in (
        ("regressed", "Regressed"),
        ("new_failures", "New failing tests"),
        ("fixed", "Tests fixed"),
    ):
        ids: list[str] = d.get(kind) or []  # type: ignore[assignment]
        if ids:
            lines.append(f"*{label} ({counts.get(kind, len(ids))})*")
            lines += [f"• {code(x, 200)}" for x in ids]
    blocks: list[Block] = [*sections(lines)]
    return message(title, blocks)


def _forecast_line(label: str, f: ForecastData, unit: str, extra: str = "") -> str:
    target = f"{f['target']:g}{unit}"
    if f.get("text"):
        return f"• {label}: {f['text']}" + (extra if not f["on_pace"] and f["per_day"] else "")
    if f["reached"]:
        return f"• {label} {target}: reached ({f['current']:.2f}{unit})"
    if f["per_day"] is None:
        return f"• {label} {target}: not enough days measured for a forecast yet"
    pace = f"{f['per_day']:+.2f} pts/day"
    if f["day"] is not None:
        return f"• {label} {target}: on Day {f['day']} ({f['date']}) at the current {pace}"
    needed = (
        f"; needs {f['needed_per_day']:+.2f} pts/day{extra}"
        if f["needed_per_day"] is not None
        else ""
    )
    return f"• {label} {target}: not at this pace ({pace}){needed}"


def _forecast_lines(d: WeeklyReport) -> list[str]:
    f = d["forecast"]
    tests = f["pass_rate"].get("needed_tests_per_day")
    return [
        "*Forecast* (least squares over the sprint's days so far)",
        _forecast_line("Readiness", f["readiness"], " %"),
        _forecast_line(
            "Pass rate",
            f["pass_rate"],
            " %",
            # (Up: a test still needed is never "≈0 tests/day"; found by review.)
            f" (≈{math.ceil(tests - 1e-9):,} tests/day)" if tests is not None and tests > 0 else "",
        ),
    ]


def _risk_assessment_lines(d: WeeklyReport) -> list[str]:
    assessed = d["risk_assessment"]
    risks = ["*Risk assessment*"] + [
        f"• *{x['code']}* {x['status']} — {line(x['description'], 600)} (impact {x['impact']}, "
        f"probability {x['probability']}"
        + (f", owner {mention(x['owner'])}" if x["owner"] else "")
        + ")"
        + (f"\n    Mitigation: {line(x['mitigation'], 600)}" if x.get("mitigation") else "")
        for x in assessed
    ]
    if len(risks) == 1:
        risks.append("No open risks.")
    total = d.get("risk_assessment_count", len(assessed))
    return risks + more(len(assessed), total, "`/risk list` shows them all")


def _dashboard_lines(d: WeeklyReport) -> list[str]:
    dash = ["*Metrics dashboard*"]
    for g in d["dashboard"]:
        dash.append(
            f"*{esc(g['name'], NAME_CHARS)}* ({g['weight']:g}) — {pct(g['score'])} of "
            f"{pct(g['target'])}"
        )
        dash += [
            f"    {esc(c['name'], NAME_CHARS)} ({c['weight']:g}) — {pct(c['score'])} of "
            f"{pct(c['target'])}"
            for c in g["components"]
        ]
    dash.append(tests_line(d))
    t = d["tests"]
    if t.get("test_files"):
        dash.append(f"Test files passing: {t['test_files_passing']} of {t['test_files']}")
    return dash


def weekly_report(d: WeeklyReport) -> Message:
    """The most decision-worthy first (forecast, milestones, risks, blockers), the long
    dashboard last: if a huge sprint overflows Slack's 50 blocks, it is the tail that is
    cut, and the message says so."""
    r = d["readiness"]
    title = f"{_team(d)}Weekly report — week {d['week']}, {_report_day(d)}, {d['date']}"
    blocks: list[Block] = [HeaderBlock(text=short(title, 150)), headline(d), *why(d)]
    if d.get("late"):
        blocks.append(context(LATE))
    blocks += sections(_forecast_lines(d))
    if completion := d.get("completion"):
        blocks += sections(completion_lines(completion))
    blocks += sections([x for m in d["milestones"] for x in milestone_lines(m)])
    blocks += sections(_risk_assessment_lines(d))
    blocks += sections(blocker_lines(d))
    blocks += sections(_benchmark_lines(d))
    blocks += sections(_dashboard_lines(d))
    blocks.append(context("The burn-down chart is in the thread."))
    return message(f"{title}: readiness {pct(r['score'])}, {r['health']}", blocks)


def day_text(d: Summary) -> str:
    if d.get("status_line"):
        return str(d["status_line"])
    if d["day"] < 1:
        return "Before the sprint"
    if d["day"] > d["days"]:
        return "Sprint over"
    return f"Day {d['day']} of {d['days']}"


def burndown_line(d: SprintStatus) -> str:
    b = d["burndown"]
    if b["failing"] is None:
        return "*Burn-down*: no test results yet"
    return (
        f"*Burn-down*: {b['failing']:,} failing now (plan for today {b['planned']:,}, "
        f"target {b['final']:,})"
        + (f" · {b['fixed']:,} fixed this sprint" if b["fixed"] is not None else "")
        + f" · {b['remaining']:,} to go"
    )


def sprint_status(d: SprintStatus) -> Message:
    """/sprint: day, health, readiness vs plan, burn-down, open blockers."""
    title = named(d["name"], f" — {day_text(d)}")
    blocks: list[Block] = [HeaderBlock(text=title), headline(d), *why(d)]
    lines = [burndown_line(d)]
    if "target_failing" in d["tests"]:
        lines.append(tests_line(d))
    lines += blocker_lines(d)
    blocks += sections(lines)
    blocks.append(
        context("`/sprint report` posts today's report · `/sprint review` · `/sprint signoff`")
    )
    r = d["readiness"]
    return message(
        f"{esc(title)}: readiness {pct(r['score'])} (plan {pct(r['plan'])}), {r['health']}",
        blocks,
    )

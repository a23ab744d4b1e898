"""A team's sprints one after another (jobs.history): `/sprint history` and App Home's
"Past sprints"."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, HeaderBlock

from bot.blocks.common import (
    NAME_CHARS,
    Message,
    context,
    esc,
    message,
    more,
    plural,
    pts,
    sections,
    short,
)
from jobs.history import SprintHistory, SprintOutcome
from jobs.numbers import change, pct


def _hours(h: float | None) -> str:
    if h is None:
        return "—"
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"


def _tests(o: SprintOutcome) -> str:
    fixed, regressions = o["tests_fixed"], o["regressions_introduced"]
    if fixed is None or regressions is None:
        return "no tests measured"
    return f"{plural(fixed, 'test')} fixed · {plural(regressions, 'regression')} introduced"


def outcome_line(o: SprintOutcome) -> str:
    """One sprint's outcome: readiness start → end, tests fixed, regressions introduced,
    blockers resolved (with their median time), goals met."""
    start, end = o["readiness_start"], o["readiness_end"]
    moved = f" ({pts(change(start, end))} pts)" if start is not None and end is not None else ""
    when = f"{o['start']} → {o['end']}" + (", running" if o["status"] == "running" else "")
    resolved = o["blockers_resolved"]
    median = f", median {_hours(o['median_resolution_hours'])}" if resolved else ""
    return (
        f"*{esc(o['name'], NAME_CHARS)}* ({when})\n"
        f"Readiness {pct(start)} → {pct(end)}{moved} · {_tests(o)} · "
        f"{plural(resolved, 'blocker')} resolved{median} · {o['goals_met']} of "
        f"{plural(o['goals'], 'goal')} met"
    )


def past_lines(outcomes: list[SprintOutcome], total: int) -> list[str]:
    """The sprints' outcomes, newest first, with how many more there are."""
    if not outcomes:
        return ["No sprint has begun yet."]
    return [outcome_line(o) for o in outcomes] + more(
        len(outcomes), total, "`GET /api/v1/sprints` lists them all"
    )


def sprint_history(d: SprintHistory) -> Message:
    """`/sprint history`: each sprint's outcome, newest first, and the next one planned."""
    title = "Sprint history" + (f" — {d['team']}" if d.get("team") else "")
    blocks: list[Block] = [HeaderBlock(text=short(title, 150))]
    blocks += sections(past_lines(d["sprints"], d["total"]))
    if d["upcoming"]:
        blocks.append(context(f"Next: {esc(d['upcoming'], NAME_CHARS)}"))
    summary = (
        f"{esc(title)}: {plural(d['total'], 'sprint')}"
        if d["total"]
        else f"{esc(title)}: no sprint has begun yet"
    )
    return message(summary, blocks)

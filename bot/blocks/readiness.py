"""/readiness: the breakdown by group and component, and the confirmation of a manual
score (jobs.readiness)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.common import (
    HEALTH_EMOJI,
    MAX_BLOCKS,
    capped,
    escape,
    pts,
    sections,
    tests_passing,
)
from jobs.numbers import ComponentScore, GroupScore, change, pct, reached
from jobs.readiness import ScoreChange, Status


def _gap(score: float | None, target: float) -> str:
    if score is None:
        return "no data"
    return "on target" if reached(score, target) else f"gap {pts(change(target, score))} pts"


def _leaf_line(c: ComponentScore) -> str:
    mark = ":white_check_mark:" if reached(c.score, c.target) else ":small_orange_diamond:"
    detail = f" · _{escape(c.detail, 300)}_" if c.detail else ""
    return (
        f"{mark} {escape(c.name, 300)} ({c.weight:g}) — *{pct(c.score)}* of {pct(c.target)}, "
        f"{_gap(c.score, c.target)}{detail}"
    )


def _group_lines(g: GroupScore) -> list[str]:
    """A group's line, then each of its components'."""
    head = (
        f"*{escape(g.name, 300)}* · weight {g.weight:g} — *{pct(g.score)}* of {pct(g.target)}, "
        f"{_gap(g.score, g.target)}"
    )
    return [head, *(_leaf_line(c) for c in g.components)]


def _groups(groups: list[GroupScore], room: int) -> list[SectionBlock]:
    """Every group with its components: each group in as many sections as it takes (a
    group of thirty components was cut at 3,000 characters, its last ones left out), or,
    where that is more than `room` blocks, the groups one after another in as few sections
    as they fit (sixty groups were cut at Slack's 50 blocks, the last ones left out)."""
    apart = [b for g in groups for b in sections(_group_lines(g))]
    if len(apart) <= room:
        return apart
    # (A blank line between two groups.)
    return sections(
        [line for i, g in enumerate(groups) for line in [""] * bool(i) + _group_lines(g)]
    )


def render_readiness(status: Status, *, sprint_name: str, days: int) -> list[dict[str, Any]]:
    """The /readiness breakdown: overall score, target, gap, then every group and leaf."""
    bd = status.breakdown
    day = status.status_line or (
        f"Day {status.day} of {days}"
        if 1 <= status.day <= days
        else ("Before the sprint" if status.day < 1 else "Sprint over")
    )
    why = " · ".join(x for x in (f"{status.health}: {status.health_reason}", status.plan_note) if x)
    # As the reports write it (thousands grouped; none known: no "0/0").
    passing = tests_passing(status.passed, status.known, status.pass_rate, flaky=status.flaky)
    unmapped = f"\n_{status.unmapped} Unmapped (in no component)_" if status.unmapped else ""
    blocks: list[Block] = [
        HeaderBlock(text=f"Readiness {pct(bd.score)} — target {pct(bd.target)}"[:150]),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Overall*\n{pct(bd.score)}"),
                MarkdownTextObject(
                    text=f"*Target*\n{pct(bd.target)} ({_gap(bd.score, bd.target)})"
                ),
                MarkdownTextObject(text=f"*Plan for today*\n{pct(status.plan)}"),
                MarkdownTextObject(text=f"*Health*\n{HEALTH_EMOJI[status.health]} {status.health}"),
                MarkdownTextObject(text=f"*Tests passing*\n{passing}" + unmapped),
            ]
        ),
        ContextBlock(elements=[MarkdownTextObject(text=escape(f"{sprint_name} · {day}", 3000))]),
        ContextBlock(elements=[MarkdownTextObject(text=escape(why, 3000))]),
        DividerBlock(),
    ]
    blocks += _groups(bd.groups, MAX_BLOCKS - len(blocks))
    return [b.to_dict() for b in capped(blocks, "`sprintbot export tracker` shows it all")]


def readiness_fallback(status: Status) -> str:
    """Plain text for notifications and clients that do not show blocks."""
    bd = status.breakdown
    return (
        f"Readiness {pct(bd.score)} (target {pct(bd.target)}, plan {pct(status.plan)}, "
        f"{status.health})"
    )


def render_score_change(change: ScoreChange) -> str:
    """The confirmation after /readiness set (after the sprint ended, its readiness stays
    the final one every surface shows: the score counts from the next sprint)."""
    head = f":pencil2: *{escape(change.component)}*: {pct(change.old)} → *{pct(change.new)}*. "
    if change.ended:
        return head + (
            f"The sprint ended on {change.ended}: its readiness stays final, and this score "
            "counts from the next sprint."
        )
    return head + f"Readiness {pct(change.readiness_before)} → *{pct(change.readiness_after)}*."


READINESS_USAGE = (
    "Usage: `/readiness` shows the breakdown; `/readiness set COMPONENT SCORE` sets a manual "
    "component's score (admins), e.g. `/readiness set User Guides 70`."
)

"""The sprint review draft, milestones and their sign-off, and the lesson-learned modal
(jobs.review, jobs.milestones)."""

from __future__ import annotations

from typing import Any, Literal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MAX_BLOCKS,
    NAME_CHARS,
    VALUE,
    Message,
    code,
    context,
    esc,
    line,
    mention,
    message,
    more,
    plural,
    pts,
    sections,
    short,
    team_value,
)
from bot.ids import Action
from bot.ids import View as ViewId
from jobs.config import is_slack_id
from jobs.milestones import (
    CriterionResult,
    MilestoneData,
    SignoffState,
    role_title,
    shown_value,
)
from jobs.numbers import change, pct
from jobs.reports import Completion
from jobs.review import (
    LESSON_CHARS,
    LESSON_TITLES,
    Goal,
    LessonField,
    LessonItem,
    PreviousSprint,
    ReviewSummary,
    SprintReview,
)


def _measured(c: CriterionResult) -> str:
    """ "measured 87 %", "measured 3 of 12", or "not measured yet"."""
    shown = shown_value(c)
    if shown is None:
        return "not measured yet"
    value = f"measured {shown}"
    if c.get("of") is not None:
        value += f" of {c['of']:,.0f}"
    return value


def milestone_lines(m: MilestoneData) -> list[str]:
    head = (
        f"*{esc(m['name'], NAME_CHARS)}* (day {m['day']}) — {m['met']} of "
        f"{len(m['criteria'])} criteria met"
        + (f" · review {esc(m['review'], NAME_CHARS)}" if m.get("review") else "")
    )
    lines = [head] + [
        f"{':white_check_mark:' if c['met'] else ':x:'} {esc(c['criterion'], NAME_CHARS)} — "
        f"{_measured(c)}"
        for c in m["criteria"]
    ]
    if m["signoffs"]:
        lines.append("Sign-offs: " + " · ".join(_signoff_text(x) for x in m["signoffs"]))
    return lines


def _signoff_text(x: SignoffState) -> str:
    """A role's sign-off ("QA Lead <@U…>"); one named by a person's or group's ID mentions
    them instead of showing the bare ID."""
    role = x["role"]
    # (A role's name is the sprint file's: shown as typed, never a broadcast or a link;
    # found by review.)
    who = mention(role) if is_slack_id(role) else esc(role_title(role), NAME_CHARS)
    if x["user"]:
        signer = "" if x["user"] == role else f" {mention(x['user'])}"
        return f":white_check_mark: {who}{signer}"
    return f":hourglass_flowing_sand: {who}"


def _goal_lines(goals: list[Goal]) -> list[str]:
    return [
        f"{':white_check_mark:' if g['met'] else ':x:'} {esc(g['goal'], NAME_CHARS)}: target "
        f"{_goal_value(g, 'target')}, achieved {_goal_value(g, 'achieved')}"
        for g in goals
    ]


def completion_lines(c: Completion) -> list[str]:
    s = c["summary"]
    met = sum(1 for g in c["goals"] if g["met"])
    lines = [f"*Sprint completion*: {met} of {len(c['goals'])} goals met", *_goal_lines(c["goals"])]
    if s["start"] is not None and s["end"] is not None:
        moved = pts(change(s["start"], s["end"]))
        lines.append(f"Readiness {pct(s['start'])} → {pct(s['end'])} ({moved} pts)")
    lines.append("*Next phase* (action items from the review)")
    lines += [f"• {line(x['text'], 1000)} — {mention(x['author'])}" for x in c["next_phase"]] or [
        "• _none yet: add them with `/sprint review`_"
    ]
    shown = len(c["next_phase"])
    return lines + more(shown, c.get("next_phase_count", shown), "the review draft lists them all")


def _goal_value(g: Goal, key: Literal["target", "achieved"]) -> str:
    value = g[key]
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") + (" %" if g["unit"] == "%" else "")


def _metrics_lines(s: ReviewSummary) -> list[str]:
    improvement = (
        f" ({pts(change(s['start'], s['end']))} pts)"
        if s["start"] is not None and s["end"] is not None
        else ""
    )
    # (Tests fixed unmeasured: no test is known, and no regression either; "0" read as
    # counted beside the goal's "achieved —"; found by review.)
    measured = s["tests_fixed"] is not None
    return [
        "*Metrics summary*",
        f"• Readiness: {pct(s['start'])} → {pct(s['end'])}{improvement}",
        f"• Pass rate: {pct(s['pass_rate'])}",
        "• Tests fixed: " + (f"{s['tests_fixed']:g}" if measured else NOT_MEASURED),
        "• Regressions introduced: "
        + (f"{s['regressions']} ({s['still_failing']} still open)" if measured else NOT_MEASURED),
    ]


NOT_MEASURED = "not measured yet"


def _counted(x: float | None) -> str:
    return NOT_MEASURED if x is None else f"{x:g}"


def _signed(x: float) -> str:
    return f"{x:+g}" if x else "±0"


def previous_lines(d: SprintReview, p: PreviousSprint) -> list[str]:
    """This sprint against the team's sprint before: readiness at the end, tests fixed,
    regressions introduced, blockers resolved (this one's value, the change)."""
    s = d["summary"]
    end, before = s["end"], p["readiness_end"]
    readiness = (
        f"{pct(end)} ({pts(change(before, end))} pts, was {pct(before)})"
        if end is not None and before is not None
        else f"{pct(end)} (was {pct(before)})"
    )
    was_fixed, was_regressions = p["tests_fixed"], p["regressions_introduced"]
    if s["tests_fixed"] is None or was_fixed is None or was_regressions is None:
        # (No test known in one of them: no change to say.)
        fixed = f"{_counted(s['tests_fixed'])} (was {_counted(was_fixed)})"
        regressions = (
            f"{_counted(s['regressions'] if s['tests_fixed'] is not None else None)} "
            f"(was {_counted(was_regressions)})"
        )
    else:
        n = int(s["tests_fixed"])
        fixed = f"{n} ({_signed(n - was_fixed)}, was {was_fixed})"
        regressions = (
            f"{s['regressions']} ({_signed(s['regressions'] - was_regressions)}, "
            f"was {was_regressions})"
        )
    return [
        f"*vs previous sprint* ({esc(p['name'], NAME_CHARS)})",
        f"• Readiness at the end: {readiness}",
        f"• Tests fixed: {fixed}",
        f"• Regressions introduced: {regressions}",
        f"• Blockers resolved: {d['blockers_resolved_count']} "
        f"({_signed(d['blockers_resolved_count'] - p['blockers_resolved'])}, "
        f"was {p['blockers_resolved']})",
    ]


def _change_lines(d: SprintReview) -> list[str]:
    """The sprint's regressions (marking those still failing), then the tests it fixed."""
    count = d["summary"]["regressions"]
    return (
        [f"*Regressions introduced during the sprint ({count})*"]
        + [
            f"• {code(t, 120)}" + (" (still failing)" if t in d["still_failing"] else "")
            for t in d["regressions"]
        ]
        + more(len(d["regressions"]), count, "`GET /api/v1/sprint` counts them")
        + [f"*Tests fixed this sprint ({d['fixed_count']})*"]
        + [f"• {code(t, 120)}" for t in d["fixed"]]
        + more(len(d["fixed"]), d["fixed_count"], "the tracker export lists the days")
    )


def _lesson_lines(lessons: dict[str, list[LessonItem]]) -> list[str]:
    lines = ["*Lessons learned*"]
    for kind, heading in LESSON_TITLES.items():
        lines.append(f"_{heading}_")
        lines += [
            f"• {line(x['text'], 1000)} — {mention(x['author'])}" for x in lessons.get(kind) or []
        ] or ["• _none yet_"]
    return lines


def _fitted_lessons(lines: list[str], room: int) -> list[SectionBlock]:
    """The lessons' sections within `room` blocks: the earliest left out where they do not
    all fit (the one just added stays in sight), and said so."""
    packed = sections(lines)
    dropped = 0
    while len(packed) > room and any(x.startswith("• ") for x in lines):
        del lines[min(i for i, x in enumerate(lines) if x.startswith("• "))]
        dropped += 1
        packed = sections([*lines, f"_{plural(dropped, 'earlier lesson')} did not fit here._"])
    return packed


def _when(d: SprintReview) -> str:
    """ "Day 9 of 14, 2025-11-06"; once the sprint ended (or before it), its status line:
    "Day 15 of 14" is no day of it."""
    if 1 <= d["day"] <= d["days"] or not d.get("status_line"):
        return f"Day {d['day']} of {d['days']}, {d['date']}"
    return str(d["status_line"])


def sprint_review(d: SprintReview) -> Message:
    title = (f"{d['titled']} · " if d.get("titled") else "") + f"Sprint review draft — {d['name']}"
    blocks: list[Block] = [
        HeaderBlock(text=short(title, 150)),
        context(
            _when(d)
            + (f" · requested by {mention(by)}" if (by := d.get("requested_by")) else "")
            + (f" · goal: {esc(d['goal'], 1000)}" if d.get("goal") else "")
        ),
        *sections(["*Sprint goals achievement*", *_goal_lines(d["goals"])]),
        *sections(_metrics_lines(d["summary"])),
    ]
    if previous := d.get("previous"):
        blocks += sections(previous_lines(d, previous))
    if d["accomplishments"]:
        blocks += sections(
            ["*Components at target*", ", ".join(esc(x, NAME_CHARS) for x in d["accomplishments"])]
        )
    blocks += sections(_change_lines(d))
    blocks += sections(
        [f"*Blockers resolved ({d['blockers_resolved_count']})*"]
        + [
            f"• *{b['code']}* {b['severity']} · {esc(b['component'], NAME_CHARS)} — "
            f"{line(b['description'], 600)} (resolved in {b['took']})"
            for b in d["blockers_resolved"]
        ]
        + more(
            len(d["blockers_resolved"]),
            d["blockers_resolved_count"],
            "`/sprint history` counts them",
            "blockers",
        )
    )
    # The lessons in what room the message has left, the button to add one always last
    # (past Slack's 50 blocks the tail was cut, the button with it; found by review).
    blocks += _fitted_lessons(_lesson_lines(d["lessons"]), MAX_BLOCKS - len(blocks) - 1)
    add = ButtonElement(
        text="Add a lesson learned",
        action_id=Action.LESSON_ADD,
        value=team_value("lesson", d.get("team"), d.get("sprint")),
    )
    blocks.append(ActionsBlock(elements=[add]))
    return message(esc(title), blocks)


def signoff(d: MilestoneData) -> Message:
    """The current milestone's sign-off request, one button per role still to sign."""
    title = (f"{d['titled']} · " if d.get("titled") else "") + f"Sign-off: {d['name']}"
    blocks: list[Block] = [HeaderBlock(text=short(title, 150))]
    blocks += sections(milestone_lines(d))
    waiting = [x for x in d["signoffs"] if not x["user"]]
    if waiting:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=short(f"Sign off as {role_title(x['role'])}", 75),
                        action_id=f"{Action.SIGNOFF}:{x['role']}"[:255],
                        value=team_value(f"{d['day']}:{x['role']}", d.get("team"), d.get("sprint")),
                        style="primary",
                    )
                    for x in waiting[:25]
                ]
            )
        )
    else:
        blocks.append(context(":tada: Every sign-off is in."))
    return message(esc(title), blocks)


def lesson_form() -> dict[str, Any]:
    """The modal of the review's *Add a lesson learned* button."""
    kinds = [Option(value=str(k), text=t) for k, t in LESSON_TITLES.items()]
    return View(
        type="modal",
        callback_id=ViewId.LESSON,
        title="Lesson learned",
        submit="Add",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=LessonField.KIND,
                label="Kind",
                element=StaticSelectElement(
                    action_id=VALUE, options=kinds, initial_option=kinds[0]
                ),
            ),
            InputBlock(
                block_id=LessonField.TEXT,
                label="Lesson",
                element=PlainTextInputElement(
                    action_id=VALUE, multiline=True, max_length=LESSON_CHARS
                ),
            ),
        ],
    ).to_dict()

"""Block Kit of the daily standup: the day's message and the answers in its thread, the
prompt and reminder DMs, and the standup modal (the seed's Daily Standup Template)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.blockers import severity_select
from bot.blocks.common import (
    MENU,
    NAME_CHARS,
    NO_TEST_RESULTS,
    SECTION_CHARS,
    VALUE,
    Message,
    context,
    esc,
    line,
    mentions,
    message,
    more,
    pieces,
    section,
    sections,
    short,
    tests_passing,
)
from bot.ids import Action
from bot.ids import View as ViewId
from jobs.numbers import pct
from jobs.standups import (
    MAX_FIELD,
    Field,
    MetricsSnapshot,
    StandupAnswers,
    StandupDayMessage,
    StandupDM,
    StandupReplyMessage,
    action_items_field,
    blockers_field,
)

NAMED = 150  # people a digest's list names (each "<@U…>, " ~16 characters): a section each


def _mentions(users: list[str]) -> str:
    """The first NAMED of `users` mentioned, then how many more."""
    if not users:
        return "nobody"
    rest = f" and {len(users) - NAMED} more" if len(users) > NAMED else ""
    return mentions(users[:NAMED]) + rest


def standup_day(d: StandupDayMessage) -> Message:
    """The day's parent message in the team channel; participation once the digest ran."""
    title = f"Standup — Day {d['sprint_day']} of {d['days']}, {d['day']}"
    blocks: list[Block] = [HeaderBlock(text=short(title, 150))]
    if "answered" not in d:
        blocks.append(section("Answers go in this thread: `/standup` opens the form."))
        return message(title, blocks)
    answered, expected = len(d["answered"]), d["expected"]
    lines = [f"*Answered {answered} of {expected}*"]
    if d["missing"]:
        lines.append(f"Missing: {_mentions(d['missing'])}")
    if d["away"]:
        lines.append(f"Away: {_mentions(d['away'])}")
    blocks += sections(lines)
    where = "each standup is in this message's thread"
    blockers, calls = d["blockers"], d["help"]
    highlights = [f"• :no_entry: <@{b['user']}> {line(b['text'], 1000)}" for b in blockers]
    highlights += more(len(blockers), d.get("blockers_total", len(blockers)), where, "blockers")
    highlights += [
        f"• :raising_hand: <@{h['user']}> needs help: {line(h['text'], 1000)}" for h in calls
    ]
    highlights += more(len(calls), d.get("help_total", len(calls)), where, "calls for help")
    if highlights:
        blocks += sections(["*Blockers and help needed*", *highlights])
    return message(f"{title}: answered {answered} of {expected}", blocks)


def _bullets(*pairs: tuple[str, Any]) -> str:
    """ "• label: value" lines for the answered fields, whole."""
    return "\n".join(f"• {k}: {esc(v)}" for k, v in pairs if v not in (None, "", []))


def _answer_sections(a: StandupAnswers, codes: list[str] | None) -> list[tuple[str, str]]:
    """(title, body) of each part of the template; "" where nothing was answered. `codes`:
    those of the blockers it resolved (the team's B-001; queued before they were kept, the
    rows' ids stand in)."""
    if codes is None:
        codes = [f"B-{b:03d}" for b in a.get("blockers_resolved") or []]
    resolved = ", ".join(codes)
    current = "; ".join(f"{s} {t}" for s, t in a.get("current_blockers") or [])
    return [
        (
            "Yesterday's progress",
            _bullets(
                ("Tests fixed", a.get("tests_fixed")),
                ("Components improved", ", ".join(a.get("components_improved") or [])),
                ("Blockers resolved", resolved),
                ("Notes", a.get("notes")),
            ),
        ),
        (
            "Today's plan",
            _bullets(
                ("Target tests to fix", a.get("target_tests")),
                ("Focus areas", a.get("focus_areas")),
                ("Risk items to address", a.get("risk_items")),
            ),
        ),
        (
            "Blockers & risks",
            _bullets(
                ("Current blockers", current),
                ("New risks", "; ".join(a.get("new_risks") or [])),
                ("Help needed", a.get("help_needed")),
            ),
        ),
        (
            "Action items",
            "\n".join(
                f"• {esc(i['item'], 500)} — {esc(i['owner'], 200)}, due {esc(i['due'], 200)}"
                for i in a.get("action_items") or []
            ),
        ),
    ]


def standup_reply(d: StandupReplyMessage) -> Message:
    """Someone's answer in the day's thread, with the figures as they answered."""
    m = d["metrics"]
    text = f"*Standup from <@{d['user']}>* (Day {d['sprint_day']} of {d['days']})"
    blocks: list[Block] = [section(text)]
    for title, body in _answer_sections(d["answers"], d.get("resolved")):
        if body:
            # Each part whole, in as many sections as it takes (a field holds 2,900
            # characters, more once escaped).
            lines = [f"*{title}*", *body.split("\n")]
            blocks += sections([p for line in lines for p in pieces(line, SECTION_CHARS)])
    blocks.append(
        context(
            "Snapshot: "
            + tests_passing(
                m["passed"],
                m["known"],
                m.get("pass_rate"),
                flaky=m.get("flaky") or 0,
                said=" tests passing",
            )
            + f", readiness {pct(m.get('readiness'))}, {m.get('health')}"
            + (f" ({esc(m['health_reason'], 300)})" if m.get("health_reason") else "")
            + (" · edited" if d.get("edited") else "")
        )
    )
    return message(f"Standup from <@{d['user']}>", blocks)


def _open_button(team: str | None) -> ButtonElement:
    # The team rides in the value: the click opens that team's standup (routing.stated_team).
    value = json.dumps({"team": team}) if team else "open"
    return ButtonElement(
        text="Open standup", action_id=Action.STANDUP_OPEN, value=value, style="primary"
    )


def _with_open_button(text: str, team: str | None = None) -> Message:
    return message(text, [section(text), ActionsBlock(elements=[_open_button(team)])])


def standup_prompt(d: StandupDM) -> Message:
    """The morning DM: the button that opens the standup modal."""
    team = d.get("team")
    return _with_open_button(
        f":wave: Time for today's {_team(team)}standup — Day {d['sprint_day']} of {d['days']} "
        f"({d['day']}).",
        team,
    )


def standup_reminder(d: StandupDM) -> Message:
    """The DM to those who have not answered by the reminder time."""
    team = d.get("team")
    skip = f"/standup {team} skip" if team else "/standup skip"
    return _with_open_button(
        f":hourglass_flowing_sand: Your {_team(team)}standup for {d['day']} is still open — "
        f"two minutes, and the team sees where you are. `{skip}` if you are away.",
        team,
    )


def _team(team: str | None) -> str:
    """The team a DM is for, said where the person may be in several ("*mobile* ")."""
    return f"*{team}* " if team else ""


# -- the modal ---------------------------------------------------------------------------


def _text_input(
    field: Field, label: str, *, initial: str = "", hint: str = "", placeholder: str = ""
) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=label,
        optional=True,
        hint=hint or None,
        element=PlainTextInputElement(
            action_id=VALUE,
            multiline=True,
            initial_value=initial or None,
            placeholder=placeholder or None,
            max_length=MAX_FIELD,
        ),
    )


def _number_input(field: Field, label: str, *, initial: int | None = None) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=label,
        optional=True,
        element=NumberInputElement(
            action_id=VALUE, is_decimal_allowed=False, min_value=0, initial_value=initial
        ),
    )


def _multi(
    field: Field,
    label: str,
    options: list[tuple[str, str]],
    selected: list[str],
    *,
    empty: str = "none open",
    elsewhere: str,
) -> Block:
    """A menu of `options` (at most the 100 a menu holds, those `selected` among them), and
    how many more there are and where they are (`elsewhere`): 105 open blockers showed 100
    and nothing of the other five (found by review)."""
    if not options:
        return ContextBlock(elements=[MarkdownTextObject(text=f"*{label}:* {empty}")])
    chosen = set(selected)
    room = MENU - sum(1 for v, _ in options if v in chosen)  # for those not chosen
    kept: list[tuple[str, str]] = []
    for v, t in options:
        if v in chosen or room > 0:
            kept.append((v, t))
            room -= v not in chosen
    kept = kept[:MENU]
    opts = [Option(value=v, text=t[:75]) for v, t in kept]
    initial = [o for o in opts if o.value in chosen] or None
    left = len(options) - len(kept)
    return InputBlock(
        block_id=field,
        label=label,
        optional=True,
        element=StaticMultiSelectElement(action_id=VALUE, options=opts, initial_options=initial),
        hint=f"{left} more are not listed here (a menu holds {MENU}): {elsewhere}."
        if left
        else None,
    )


def _reason(metrics: MetricsSnapshot) -> str:
    """The health's reason (every surface states it with the health), then " · "."""
    reason = metrics.get("health_reason")
    return f"*{esc(metrics['health'], 40)}*: {esc(reason, 300)} · " if reason else ""


def _snapshot(metrics: MetricsSnapshot, sprint_name: str, prev: Mapping[str, Any]) -> list[Block]:
    """The live figures, read-only, and what the last answer planned for today."""
    blocks: list[Block] = [
        SectionBlock(
            fields=[
                MarkdownTextObject(
                    # (Before any report, as every surface says it: it read "0 / 0".)
                    text=f"*Tests passing*\n{metrics['passed']:,} / {metrics['known']:,}"
                    + (f" · {flaky:,} flaky" if (flaky := metrics.get("flaky")) else "")
                    if metrics["known"]
                    else f"*Tests passing*\n{NO_TEST_RESULTS}"
                ),
                MarkdownTextObject(text=f"*Pass rate*\n{pct(metrics.get('pass_rate'))}"),
                MarkdownTextObject(text=f"*Production readiness*\n{pct(metrics.get('readiness'))}"),
                MarkdownTextObject(
                    text=f"*Health*\n{metrics.get('health')} (plan {pct(metrics.get('plan'))})"
                ),
            ]
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=_reason(metrics)
                    + f"Metrics snapshot from live data · {esc(sprint_name, NAME_CHARS)}"
                )
            ]
        ),
    ]
    if prev:
        target = prev.get("target_tests")
        head = "*Carried over from your last standup*\nPlanned: "
        tail = f"\nTarget tests to fix: {esc(target, 100)}" if target is not None else ""
        planned = esc(prev.get("focus_areas") or "—", SECTION_CHARS - len(head) - len(tail))
        blocks.append(section(head + planned + tail))
    return blocks


def _part(title: str, fields: list[Block]) -> list[Block]:
    """A titled part of the modal, set off from the one above by a divider."""
    return [DividerBlock(), HeaderBlock(text=title), *fields]


def _yesterday(
    cur: Mapping[str, Any], components: list[str], open_blockers: list[tuple[int, str]]
) -> list[Block]:
    return [
        _number_input(Field.TESTS_FIXED, "Tests fixed", initial=cur.get("tests_fixed")),
        _multi(
            Field.COMPONENTS_IMPROVED,
            "Components improved",
            [(c, c) for c in components],
            cur.get("components_improved") or [],
            elsewhere="name them in Notes",
        ),
        _multi(
            Field.BLOCKERS_RESOLVED,
            "Blockers resolved",
            [(str(i), label) for i, label in open_blockers],
            # Nothing ticked: what the answer resolved is no longer open, unless someone
            # reopened it since, and ticked it would be resolved again (found by review).
            [],
            empty="none open that you may resolve",
            elsewhere="resolve them with `/blocker resolve ID`",
        ),
        _text_input(Field.NOTES, "Notes", initial=cur.get("notes") or ""),
    ]


def _today(cur: Mapping[str, Any], prev: Mapping[str, Any]) -> list[Block]:
    return [
        _number_input(Field.TARGET_TESTS, "Target tests to fix", initial=cur.get("target_tests")),
        _text_input(
            Field.FOCUS_AREAS,
            "Focus areas",
            # Carried over from the last answer only into a new one: an edit of today's
            # shows today's, empty as it was left (found by review).
            initial=(cur.get("focus_areas") if cur else prev.get("focus_areas")) or "",
        ),
        _text_input(Field.RISK_ITEMS, "Risk items to address", initial=cur.get("risk_items") or ""),
    ]


def _blockers_and_risks(cur: Mapping[str, Any]) -> list[Block]:
    return [
        _text_input(
            Field.CURRENT_BLOCKERS,
            "Current blockers",
            initial=blockers_field(cur.get("current_blockers") or []),
            hint="One per line; start a line with P0, P1 or P2 to set its severity.",
            placeholder="P0: swarm deadlocks under partition",
        ),
        InputBlock(
            block_id=Field.BLOCKER_SEVERITY,
            label="Severity of lines without one",
            optional=True,
            element=severity_select(),
        ),
        _text_input(
            Field.NEW_RISKS,
            "New risks identified",
            hint="One per line.",
            initial="\n".join(cur.get("new_risks") or []),
        ),
        _text_input(Field.HELP_NEEDED, "Help needed", initial=cur.get("help_needed") or ""),
    ]


def _action_items(cur: Mapping[str, Any]) -> list[Block]:
    return [
        _text_input(
            Field.ACTION_ITEMS,
            "Action items",
            initial=action_items_field(cur.get("action_items") or []),
            hint="One per line: item | owner | due (2025-11-03, day 9, today, tomorrow, EOD).",
            placeholder="Fix flaky swarm test | @dana | tomorrow",
        ),
    ]


def render_standup_modal(
    *,
    sprint_name: str,
    day: str,
    sprint_day: int,
    days: int,
    components: list[str],
    open_blockers: list[tuple[int, str]],  # (id, "B-001 what") of those the user may resolve
    metrics: MetricsSnapshot,
    carry_over: Mapping[str, Any] | None,
    current: Mapping[str, Any] | None,
    resolved: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """The modal; `current` pre-fills an edit, `carry_over` is yesterday's answers (both
    as stored, so possibly written by older code: read with .get). `resolved`: how often
    each offered blocker had been resolved, checked when the form is sent."""
    cur = current or {}
    prev = carry_over or {}
    blocks: list[Block] = [
        HeaderBlock(text=f"Standup — Day {sprint_day} of {days}, {day}"[:150]),
        *_snapshot(metrics, sprint_name, prev),
        *_part("Yesterday's progress", _yesterday(cur, components, open_blockers)),
        *_part("Today's plan", _today(cur, prev)),
        *_part("Blockers & risks", _blockers_and_risks(cur)),
        *_part("Action items", _action_items(cur)),
    ]
    view = View(
        type="modal",
        callback_id=ViewId.STANDUP,
        title="Daily standup",
        submit="Update" if current else "Post",
        close="Cancel",
        private_metadata=json.dumps(
            {
                "day": day,
                **({"resolved": {str(i): n for i, n in resolved.items()}} if resolved else {}),
            }
        ),
        blocks=blocks,
    )
    return view.to_dict()

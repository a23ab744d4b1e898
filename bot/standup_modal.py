"""The standup modal (the seed's Daily Standup Template) as a pure function, and reading a
submitted view's values back."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    Block,
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
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import View as ViewId
from jobs.numbers import pct
from jobs.standups import SEVERITIES, Field

VALUE = "value"  # the action id of every input: block ids say which field it is


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
            max_length=2900,
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
) -> Block:
    if not options:
        return ContextBlock(elements=[MarkdownTextObject(text=f"*{label}:* {empty}")])
    opts = [Option(value=v, text=t[:75]) for v, t in options[:100]]
    initial = [o for o in opts if o.value in selected] or None
    return InputBlock(
        block_id=field,
        label=label,
        optional=True,
        element=StaticMultiSelectElement(action_id=VALUE, options=opts, initial_options=initial),
    )


def render_standup_modal(
    *,
    sprint_name: str,
    day: str,
    sprint_day: int,
    days: int,
    components: list[str],
    open_blockers: list[tuple[int, str]],  # those the user may resolve
    metrics: dict[str, Any],
    carry_over: dict[str, Any] | None,
    current: dict[str, Any] | None,
) -> dict[str, Any]:
    """The modal; `current` pre-fills an edit, `carry_over` is yesterday's answers."""
    cur = current or {}
    prev = carry_over or {}
    blocks: list[Block] = [
        HeaderBlock(text=f"Standup — Day {sprint_day} of {days}, {day}"[:150]),
        SectionBlock(
            fields=[
                MarkdownTextObject(
                    text=f"*Tests passing*\n{metrics['passed']} / {metrics['known']}"
                ),
                MarkdownTextObject(text=f"*Pass rate*\n{pct(metrics.get('pass_rate'))}"),
                MarkdownTextObject(text=f"*Production readiness*\n{pct(metrics.get('readiness'))}"),
                MarkdownTextObject(
                    text=f"*On track*\n{metrics.get('health')} (plan {pct(metrics.get('plan'))})"
                ),
            ]
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text=f"Metrics snapshot from live data · {sprint_name}")]
        ),
    ]
    if prev:
        planned = prev.get("focus_areas") or "—"
        target = prev.get("target_tests")
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Carried over from your last standup*\nPlanned: {planned}"
                    + (f"\nTarget tests to fix: {target}" if target is not None else "")[:2900]
                )
            )
        )
    blocks += [
        DividerBlock(),
        HeaderBlock(text="Yesterday's progress"),
        _number_input(Field.TESTS_FIXED, "Tests fixed", initial=cur.get("tests_fixed")),
        _multi(
            Field.COMPONENTS_IMPROVED,
            "Components improved",
            [(c, c) for c in components],
            cur.get("components_improved") or [],
        ),
        _multi(
            Field.BLOCKERS_RESOLVED,
            "Blockers resolved",
            [(str(i), f"B-{i:03d} {t}") for i, t in open_blockers],
            [str(b) for b in cur.get("blockers_resolved") or []],
            empty="none open that you may resolve",
        ),
        _text_input(Field.NOTES, "Notes", initial=cur.get("notes") or ""),
        DividerBlock(),
        HeaderBlock(text="Today's plan"),
        _number_input(Field.TARGET_TESTS, "Target tests to fix", initial=cur.get("target_tests")),
        _text_input(
            Field.FOCUS_AREAS,
            "Focus areas",
            initial=cur.get("focus_areas") or prev.get("focus_areas") or "",
        ),
        _text_input(Field.RISK_ITEMS, "Risk items to address", initial=cur.get("risk_items") or ""),
        DividerBlock(),
        HeaderBlock(text="Blockers & risks"),
        _text_input(
            Field.CURRENT_BLOCKERS,
            "Current blockers",
            initial="\n".join(f"{s}: {t}" for s, t in cur.get("current_blockers") or []),
            hint="One per line; start a line with P0, P1 or P2 to set its severity.",
            placeholder="P0: swarm deadlocks under partition",
        ),
        InputBlock(
            block_id=Field.BLOCKER_SEVERITY,
            label="Severity of lines without one",
            optional=True,
            element=StaticSelectElement(
                action_id=VALUE,
                options=[Option(value=s, text=s) for s in SEVERITIES],
                initial_option=Option(value="P1", text="P1"),
            ),
        ),
        _text_input(
            Field.NEW_RISKS,
            "New risks identified",
            hint="One per line.",
            initial="\n".join(cur.get("new_risks") or []),
        ),
        _text_input(Field.HELP_NEEDED, "Help needed", initial=cur.get("help_needed") or ""),
        DividerBlock(),
        HeaderBlock(text="Action items"),
        _text_input(
            Field.ACTION_ITEMS,
            "Action items",
            initial="\n".join(
                f"{i['item']} | {i['owner']} | {i['due']}" for i in cur.get("action_items") or []
            ),
            hint="One per line: item | owner | due (2025-11-03, day 9, today, tomorrow, EOD).",
            placeholder="Fix flaky swarm test | @dana | tomorrow",
        ),
    ]
    view = View(
        type="modal",
        callback_id=ViewId.STANDUP,
        title="Daily standup",
        submit="Update" if current else "Post",
        close="Cancel",
        private_metadata=json.dumps({"day": day}),
        blocks=blocks,
    )
    return view.to_dict()

"""Block Kit of the blocker log: a blocker's message and the notes in its thread, `/blocker
list`, the form that files one and the form that resolves one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MENU,
    NAME_CHARS,
    SECTION_CHARS,
    SEVERITY_EMOJI,
    VALUE,
    Message,
    context,
    esc,
    escape,
    fitted,
    line,
    mentions,
    message,
    pieces,
    plural,
    section,
    short,
    text_message,
)
from bot.ids import Action
from bot.ids import View as ViewId
from jobs.blockers import (
    MAX_DESCRIPTION,
    BlockerField,
    BlockerMessage,
    BlockerReopened,
    EscalationStep,
    ResolveField,
)
from jobs.config import SEVERITIES, Sprint


def blocker(d: BlockerMessage) -> Message:
    """A blocker's message in channels.blockers: open with buttons, or resolved and struck."""
    resolved = bool(d.get("resolved_at"))
    mark = ":white_check_mark:" if resolved else SEVERITY_EMOJI.get(d["severity"], "")
    title = esc(f"{d['code']} {d['severity']} · {d['component']}", NAME_CHARS)
    room = SECTION_CHARS - len(f"{mark} *{title}*\n")
    if resolved:
        # Struck through as one line: ~…~ does not span line breaks.
        description = "~" + esc(" ".join(d["description"].split()), room - 2) + "~"
    else:
        description = esc(d["description"], room)
    owner = f"<@{d['owner']}>" if d.get("owner") else "unowned"
    if not d.get("owner") and d.get("suggested"):
        owner += f" (component owner: {mentions(d.get('suggested') or [], sep=' ')})"
    level = (
        f"step {d['level']} of {d['levels']}: {esc(d['step'], NAME_CHARS)}"
        if d.get("step")
        else "not escalated yet"
    )
    facts = [
        MarkdownTextObject(text=f"*Reported by*\n<@{d['reporter']}>"),
        MarkdownTextObject(text=f"*Owner*\n{owner}"),
        MarkdownTextObject(text=f"*Age*\n{d['age']}"),
        MarkdownTextObject(text=f"*Escalation*\n{level}"),
    ]
    if d.get("target"):
        facts.append(MarkdownTextObject(text=f"*Resolution target*\n{esc(d['target'], 500)}"))
    if d.get("risk"):
        facts.append(MarkdownTextObject(text=f"*Risk*\n{esc(d.get('risk') or '', 40)}"))
    blocks: list[Block] = [
        section(f"{mark} *{title}*\n{description}"),
        SectionBlock(fields=facts),
        _resolution(d)
        if resolved
        else _buttons(d["id"], d["level"], d.get("owner"), last=d["level"] >= d["levels"]),
    ]
    return message(
        f"{'Resolved: ' if resolved else ''}{title}: {esc(d['description'], 2000)}", blocks
    )


def _resolution(d: BlockerMessage) -> Block:
    return context(
        f"Resolved by <@{d['resolved_by']}> after {d['took']}: "
        f"{esc(d.get('resolution') or '', 500)}"
    )


def _buttons(blocker_id: int, level: int, owner: str | None, *, last: bool) -> Block:
    """Take ownership, Escalate now (not at the path's `last` step, where every click was
    refused; found by review) and Resolve."""
    value = str(blocker_id)
    # "Escalate now" carries the step the message shows ("7@1") and "Take ownership" the
    # owner it shows ("7@U0ANA", "7@": none): a second click on the same message (a double
    # click, two people at once) is neither a second step nor a silent takeover.
    escalate = f"{blocker_id}@{level}"
    take = f"{blocker_id}@{owner or ''}"
    own = ButtonElement(
        text="Take ownership", action_id=Action.BLOCKER_ACK, value=take, style="primary"
    )
    up = ButtonElement(text="Escalate now", action_id=Action.BLOCKER_ESCALATE, value=escalate)
    done = ButtonElement(text="Resolve", action_id=Action.BLOCKER_RESOLVE, value=value)
    return ActionsBlock(elements=[own, done] if last else [own, up, done])


def blocker_step(d: EscalationStep | BlockerReopened) -> Message:
    """In the blocker's thread: a step of its escalation path reached, or it reopened."""
    if "reopened_by" in d:
        why = d.get("reason")
        return text_message(
            f":leftwards_arrow_with_hook: *{d['code']}* reopened by <@{d['reopened_by']}>"
            + (f": {esc(why, MAX_DESCRIPTION)}" if why else ".")
        )
    who = mentions(d.get("mentions") or [], sep=" ")
    by = "" if d.get("by") == "sprintbot" else f" (escalated by <@{d['by']}>)"
    text = (
        f":arrow_up: *{d['code']}* ({d['severity']}, {esc(d['component'], NAME_CHARS)}) reached "
        f"escalation step {d['step_index']} — *{esc(d['step_name'], NAME_CHARS)}* after "
        f"{d['age']}{by}." + (f" {who}" if who else "")
    )
    # Every person it calls is mentioned, in as many sections as they take (cut to one,
    # a step notifying a few hundred people named only the first ~190; found by review).
    return message(text, [section(p) for p in pieces(text, SECTION_CHARS)])


def blocker_resolved(d: BlockerMessage) -> Message:
    """In the blocker's thread: who resolved it, after how long, and how."""
    return text_message(
        f":white_check_mark: *{d['code']}* resolved by <@{d['resolved_by']}> after "
        f"{d['took']}: {esc(d.get('resolution') or '', 2000)}"
    )


# Blockers `/blocker list` shows at most: fewer where they do not fit whole in the 3,000
# characters of an ephemeral answer.
LISTED = 40


def render_blocker_list(blockers: list[BlockerMessage]) -> str:
    """`/blocker list`: the open blockers in the order given (most severe, oldest first)."""
    if not blockers:
        return ":white_check_mark: No open blockers."
    head = f"*{plural(len(blockers), 'open blocker')}*"
    return fitted(head, [_listed(d) for d in blockers[:LISTED]], len(blockers))


def _listed(d: BlockerMessage) -> str:
    owner = f"<@{d['owner']}>" if d["owner"] else "unowned"
    return (
        f"• *{d['code']}* {d['severity']} · {escape(d['component'], 300)} — "
        f"{line(d['description'], 120)} "
        f"({owner}, {d['age']} old, step {d['level']}/{d['levels']}"
        + (f", risk {line(d.get('risk') or '', 40)})" if d.get("risk") else ")")
    )


# -- modals ------------------------------------------------------------------------------


def severity_select() -> StaticSelectElement:
    """P0, P1 or P2, P1 chosen: in the blocker form and the standup modal."""
    return StaticSelectElement(
        action_id=VALUE,
        options=[Option(value=s, text=s) for s in SEVERITIES],
        initial_option=Option(value="P1", text="P1"),
    )


def _component_menu(sprint: Sprint, component: str | None) -> StaticSelectElement:
    """The components to pick from, `component` chosen: past the 100 options a menu holds,
    in groups of at most 100 each, by their [[components]] group (the first 100 were
    offered and the rest could not be chosen, found by review)."""
    options = [Option(value=c.name, text=c.name[:75]) for c in sprint.components]
    chosen = next((o for o in options if o.value == component), None)
    if len(options) <= MENU:
        return StaticSelectElement(action_id=VALUE, options=options, initial_option=chosen)
    grouped: dict[str, list[Option]] = {}
    for c, option in zip(sprint.components, options, strict=True):
        grouped.setdefault(c.group or "Other components", []).append(option)
    groups = [
        OptionGroup(
            label=short(name if not start else f"{name} ({start // MENU + 1})", 75),
            options=members[start : start + MENU],
        )
        for name, members in grouped.items()
        for start in range(0, len(members), MENU)
    ]
    return StaticSelectElement(action_id=VALUE, option_groups=groups[:MENU], initial_option=chosen)


def blocker_form(
    sprint: Sprint,
    *,
    component: str | None = None,
    owners: Sequence[str] = (),
    suggest: str | None = None,
) -> dict[str, Any]:
    """The modal for filing a blocker. Picking a component updates it (`dispatch_action`)
    with `component` chosen and its `owners` ([[owners]] / CODEOWNERS) named under it, and
    `suggest` (one of them) put in the Owner field: that field's block id then names it
    (`owner-U…`), since Slack keeps what a block held and shows a new initial user only in
    a block it has not seen."""
    suggested: list[Block] = []
    if owners:
        suggested.append(
            context(
                f"*{esc(component, NAME_CHARS)}* is owned by {mentions(list(owners), sep=' ')}"
                " — suggested as its owner."
            )
        )
    view = View(
        type="modal",
        callback_id=ViewId.BLOCKER,
        title="Report a blocker",
        submit="File",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=BlockerField.COMPONENT,
                label="Component",
                dispatch_action=True,
                element=_component_menu(sprint, component),
            ),
            *suggested,
            InputBlock(
                block_id=BlockerField.DESCRIPTION,
                label="What is blocked",
                element=PlainTextInputElement(
                    action_id=VALUE, multiline=True, max_length=MAX_DESCRIPTION
                ),
            ),
            InputBlock(block_id=BlockerField.SEVERITY, label="Severity", element=severity_select()),
            InputBlock(
                block_id=f"{BlockerField.OWNER}-{suggest}" if suggest else BlockerField.OWNER,
                label="Owner",
                optional=True,
                element=UserSelectElement(action_id=VALUE, initial_user=suggest),
            ),
            InputBlock(
                block_id=BlockerField.TARGET,
                label="Resolution target",
                optional=True,
                hint="e.g. Day 2, 2025-11-03, EOD",
                element=PlainTextInputElement(action_id=VALUE, max_length=100),
            ),
        ],
    )
    return view.to_dict()


def resolve_form(blocker_id: int, code: str, *, resolved: int | None = None) -> dict[str, Any]:
    """The modal asking how a blocker was resolved (`resolved`: how often it had been when
    the form was opened, checked at its submission)."""
    view = View(
        type="modal",
        callback_id=ViewId.BLOCKER_RESOLVE,
        title=f"Resolve {code}",
        submit="Resolve",
        close="Cancel",
        private_metadata=json.dumps(
            {"blocker": blocker_id, **({"resolved": resolved} if resolved is not None else {})}
        ),
        blocks=[
            InputBlock(
                block_id=ResolveField.NOTE,
                label="How was it resolved?",
                element=PlainTextInputElement(
                    action_id=VALUE, multiline=True, max_length=MAX_DESCRIPTION
                ),
            )
        ],
    )
    return view.to_dict()

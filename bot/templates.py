"""Rendering of queued alerts and notices (jobs.notices.Template) into Slack messages and
e-mails: pure functions of the queued data, within Block Kit's limits whatever its size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Action
from bot.messages import clip, escape, link, plain
from jobs.milestones import role_title
from jobs.notices import Template
from jobs.numbers import pct

Message = dict[str, Any]  # {"text": ..., "blocks": [...]}
SECTION_CHARS = 2900
NAME_CHARS = 300


# User and CI text goes into mrkdwn (block text and the top-level `text`) only through
# bot.messages.escape, which shortens what it escapes to fit; mrkdwn already built is
# shortened with clip, which never cuts an entity, a mention or a link in half. Headers
# and button labels are plain_text: shortened with _short, never escaped.


def _esc(text: object, limit: int | None = None) -> str:
    return escape(str(text), limit)


def _short(text: str, limit: int) -> str:
    """Plain text (a header, a button label) shortened to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _test_name(t: dict[str, Any]) -> str:
    return f"`{_esc(t['id'], NAME_CHARS)}`"


MAX_BLOCKS = 50


def _message(text: str, blocks: list[Block]) -> Message:
    """Text and blocks within Slack's limits: past 50 blocks the tail is cut, and the
    last block says how much and where the rest is."""
    if len(blocks) > MAX_BLOCKS:
        cut = len(blocks) - (MAX_BLOCKS - 1)
        blocks = [
            *blocks[: MAX_BLOCKS - 1],
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"_{cut} more sections did not fit in one Slack message; "
                        "`/readiness`, App Home and `sprintbot export tracker` show it all._"
                    )
                ]
            ),
        ]
    return {"text": clip(text, 3000), "blocks": [b.to_dict() for b in blocks]}


def _sections(lines: list[str]) -> list[SectionBlock]:
    """Pack mrkdwn lines into as few sections as fit Slack's 3,000-character limit."""
    out: list[SectionBlock] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        line = clip(line, SECTION_CHARS)
        if chunk and size + len(line) + 1 > SECTION_CHARS:
            out.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        out.append(SectionBlock(text=MarkdownTextObject(text="\n".join(chunk))))
    return out


def _run_context(d: dict[str, Any]) -> str:
    parts = [f"branch `{_esc(d.get('branch') or 'main', 200)}`"]
    if d.get("commit"):
        parts.append(f"commit `{_esc(str(d['commit'])[:12])}`")
    if d.get("url"):
        parts.append(link(d["url"], "CI run"))
    r = d.get("readiness") or {}
    if r.get("score") is not None and _impact_line(d) is None:  # else the impact line says it
        if r.get("previous") is not None:
            change = r["score"] - r["previous"]
            parts.append(
                f"readiness {pct(r['previous'])} → {pct(r['score'])} "
                f"({pct(change, signed=True).removesuffix(' %')} pts)"
            )
        else:
            parts.append(f"readiness {pct(r['score'])}")
    return " · ".join(parts)


def _status_block(d: dict[str, Any], buttons: list[ButtonElement], *, who: str) -> Block:
    """Buttons while open; who took it, or that it is resolved, afterwards."""
    if d.get("resolved"):
        return ContextBlock(elements=[MarkdownTextObject(text=":white_check_mark: Resolved")])
    ack = d.get("acknowledged")
    if ack:
        return ContextBlock(elements=[MarkdownTextObject(text=f":eyes: <@{ack['user']}> {who}")])
    return ActionsBlock(elements=buttons)


def _ack_button(d: dict[str, Any]) -> ButtonElement:
    return ButtonElement(
        text="I'm on it", action_id=Action.ALERT_ACK, value=str(d["alert_id"]), style="primary"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- regressions -------------------------------------------------------------------------


def _signed_pts(x: float) -> str:
    """Readiness points with a real minus sign (U+2212): "+0.5 pts", "+1 pt", "0 pts"."""
    text = f"{abs(x):.2f}".rstrip("0").rstrip(".")
    unit = "pt" if text == "1" else "pts"
    if text == "0":
        return f"0 {unit}"
    sign = "\u2212" if x < 0 else "+"
    return f"{sign}{text} {unit}"


def _impact_line(d: dict[str, Any]) -> str | None:
    """What the report's regressions cost on their own, what its fixes and new failures
    did, and the net: "6 regressed (-1.2 pts), 12 fixed (+1.7 pts): net +0.5 pts
    (78.47 % → 79 %)"; None for data queued without it."""
    i = d.get("impact") or {}
    if i.get("net") is None:
        return None
    parts = []
    for kind, word, always in (
        ("regressed", "regressed", True),
        ("fixed", "fixed", False),
        ("new_failures", "", False),
    ):
        share = i.get(kind) or {}
        count = int(share.get("count") or 0)
        if not count and not always:
            continue
        label = f"{count} {word}" if word else _plural(count, "new failure")
        if share.get("points") is not None:
            label += f" ({_signed_pts(share['points'])})"
        parts.append(label)
    line = f"{', '.join(parts)}: net {_signed_pts(i['net'])}"
    if i.get("before") is not None and i.get("after") is not None:
        line += f" ({pct(i['before'])} → {pct(i['after'])})"
    return line


def regression_alert(d: dict[str, Any]) -> Message:
    count = int(d["count"])
    title = f"{_plural(count, 'test')} regressed on {d.get('branch') or 'main'}"
    if d.get("resolved"):
        title = f"Resolved: {title}"
    blocks: list[Block] = [
        HeaderBlock(
            text=_short(
                (":white_check_mark: " if d.get("resolved") else ":rotating_light: ") + title, 150
            )
        ),
        _context(_run_context(d)),
    ]
    impact = _impact_line(d)
    if impact is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Readiness:* {impact}")))
    tests = d.get("tests") or []
    if count <= len(tests):
        for t in tests:
            text = f"{_test_name(t)} — {_esc(t.get('component') or 'Unmapped', NAME_CHARS)}"
            if t.get("message"):
                text += f"\n```{_esc(t['message'], 1500)}```"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_CHARS))))
    else:
        by_component: dict[str, int] = {}
        for t in tests:
            name = t.get("component") or "Unmapped"
            by_component[name] = by_component.get(name, 0) + 1
        shown = ", ".join(f"{_esc(k, NAME_CHARS)} ({v})" for k, v in sorted(by_component.items()))
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{count} tests* went from passing to failing. "
                    "The full list is in the thread."
                    f"\nAmong the first {len(tests)}: {shown}"
                )
            )
        )
    blocks.append(
        _status_block(
            d,
            [
                _ack_button(d),
                ButtonElement(
                    text="Mute as flaky", action_id=Action.ALERT_MUTE, value=str(d["alert_id"])
                ),
            ],
            who="is on it",
        )
    )
    if not d.get("acknowledged") and not d.get("resolved"):
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Investigate within {d.get('ack_within', '1h')}; "
                        "if no one picks it up, the tech lead is pinged."
                    )
                ]
            )
        )
    summary = f"{_esc(title)}: {impact}" if impact is not None else _esc(title)
    return _message(f"{summary} ({_run_context(d)})", blocks)


def regression_list(d: dict[str, Any]) -> Message:
    start, tests = int(d["start"]), d["tests"]
    head = f"Regressed tests {start + 1}-{start + len(tests)} of {d['count']}:"
    lines = [head] + [
        f"• {_test_name(t)} — {_esc(t.get('component') or 'Unmapped', NAME_CHARS)}" for t in tests
    ]
    return _message(head, list(_sections(lines)))


def regression_email(d: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of the e-mail copy of a regression alert."""
    subject = f"[sprintbot] {_plural(int(d['count']), 'test')} regressed on {d.get('branch')}"
    if d.get("commit"):
        subject += f" ({str(d['commit'])[:12]})"
    lines = [subject.removeprefix("[sprintbot] ") + ".", ""]
    if d.get("url"):
        lines.append(f"CI run: {d['url']}")
    r = d.get("readiness") or {}
    impact = _impact_line(d)
    if impact is not None:
        lines.append(f"Readiness: {impact}")
    elif r.get("score") is not None:
        lines.append(f"Readiness: {pct(r.get('previous'))} -> {pct(r['score'])}")
    lines.append("")
    for t in d["tests"]:
        lines.append(f"- {t['id']} ({t.get('component') or 'Unmapped'})")
        for msg_line in (t.get("message") or "").splitlines()[:4]:
            lines.append(f"    {msg_line}")
    lines += ["", 'Acknowledge it in Slack with "I\'m on it".']
    return subject, "\n".join(lines)


def alert_resolved(d: dict[str, Any]) -> Message:
    text = (
        f":white_check_mark: All {d.get('count')} regressed tests pass again"
        + (f" as of commit `{_esc(str(d['commit'])[:12])}`" if d.get("commit") else "")
        + (f" ({link(d['url'], 'CI run')})" if d.get("url") else "")
        + "."
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def alert_followup(d: dict[str, Any]) -> Message:
    leads = " ".join(f"<@{u}>" for u in d.get("tech_lead") or []) or "Tech lead"
    text = (
        f":alarm_clock: No one has acknowledged this {d.get('kind', '')} alert in "
        f"{d.get('waited')}. {leads}, can you take a look or hand it to someone?"
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def alert_acked(d: dict[str, Any]) -> Message:
    text = f":eyes: <@{d['user']}> is on it."
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def tests_muted(d: dict[str, Any]) -> Message:
    text = (
        f":mute: <@{d['user']}> muted {_plural(int(d['count']), 'test')} as flaky: "
        "their failures are reported apart and no longer alert."
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


# -- readiness decline -------------------------------------------------------------------


def decline_notice(d: dict[str, Any]) -> Message:
    title = f"Readiness fell {pct(d['before'])} → {pct(d['after'])} (-{d['lost']:g} pts)"
    lines = [
        f"• *{_esc(c['name'], NAME_CHARS)}* (weight {c['weight']:g}): {pct(c['before'])} → "
        f"{pct(c['after'])}" + (f" — {_esc(c['why'], 500)}" if c.get("why") else "")
        for c in d.get("components", [])
    ] or ["No single component fell; the mix of scores did."]
    blocks: list[Block] = [
        HeaderBlock(text=_short(":chart_with_downwards_trend: " + title, 150)),
        *_sections(lines)[:40],
        _status_block(
            d,
            [
                ButtonElement(
                    text="Call emergency standup",
                    action_id=Action.EMERGENCY_STANDUP,
                    value=str(d["alert_id"]),
                    style="danger",
                )
            ],
            who="called an emergency standup",
        ),
    ]
    if not d.get("acknowledged"):
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="The tracker asks for an emergency standup within "
                        f"{d.get('within', '2h')}."
                    )
                ]
            )
        )
    return _message(title, blocks)


def emergency_standup(d: dict[str, Any]) -> Message:
    by = datetime.fromisoformat(d["by"])
    when = f"<!date^{int(by.timestamp())}^{{time}} {{date_short_pretty}}|{d['by']}>"
    text = (
        f":rotating_light: <@{d['user']}> called an *emergency standup*: readiness fell "
        f"{pct(d['before'])} → {pct(d['after'])}. Meet within {d['within']} (by {when})."
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


# -- performance -------------------------------------------------------------------------


def _figure(d: dict[str, Any], value: float) -> str:
    return f"{value:g} {d.get('unit') or ''}".strip()


def performance_alert(d: dict[str, Any]) -> Message:
    direction = "≤" if d.get("better") == "lower" else "≥"
    title = (
        f"{d['label']} degraded: {_figure(d, d['value'])} "
        f"(target {direction} {_figure(d, d['target'])}, "
        f"{d['beyond_target_percent']:g} % beyond)"
    )
    blocks: list[Block] = [
        HeaderBlock(
            text=_short(
                (":white_check_mark: Resolved: " if d.get("resolved") else ":snail: ") + title, 150
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"More than {d.get('tolerance', 10):g} % beyond target"
                    + (f" · commit `{_esc(str(d['commit'])[:12])}`" if d.get("commit") else "")
                    + f" · investigate within {d.get('ack_within', '4h')}"
                )
            ]
        ),
        _status_block(
            d,
            [_ack_button(d)],
            who="is on it",
        ),
    ]
    return _message(_esc(("Resolved: " if d.get("resolved") else "") + title), blocks)


def performance_resolved(d: dict[str, Any]) -> Message:
    text = (
        f":white_check_mark: {_esc(d['label'], NAME_CHARS)} is back within target: "
        f"{_esc(_figure(d, d['value']))} (target {_esc(_figure(d, d['target']))})."
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


# -- standups ---------------------------------------------------------------------------


def _mentions(users: list[str]) -> str:
    return ", ".join(f"<@{u}>" for u in users) or "nobody"


def standup_day(d: dict[str, Any]) -> Message:
    title = f"Standup — Day {d['sprint_day']} of {d['days']}, {d['day']}"
    blocks: list[Block] = [HeaderBlock(text=_short(title, 150))]
    if "answered" not in d:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="Answers go in this thread: `/standup` opens the form."
                )
            )
        )
        return _message(title, blocks)
    answered, expected = len(d["answered"]), d["expected"]
    lines = [f"*Answered {answered} of {expected}*"]
    if d["missing"]:
        lines.append(f"Missing: {_mentions(d['missing'])}")
    if d["away"]:
        lines.append(f"Away: {_mentions(d['away'])}")
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    highlights = [f"• :no_entry: <@{b['user']}> {_esc(b['text'], 1000)}" for b in d["blockers"]]
    highlights += [
        f"• :raising_hand: <@{h['user']}> needs help: {_esc(h['text'], 1000)}" for h in d["help"]
    ]
    if highlights:
        blocks += _sections(["*Blockers and help needed*", *highlights])[:20]
    return _message(f"{title}: answered {answered} of {expected}", blocks)


def standup_reply(d: dict[str, Any]) -> Message:
    a, m = d["answers"], d["metrics"]

    def lines(*pairs: tuple[str, Any]) -> str:
        return "\n".join(f"• {k}: {_esc(v, 1500)}" for k, v in pairs if v not in (None, "", []))

    sections = [
        (
            "Yesterday's progress",
            lines(
                ("Tests fixed", a.get("tests_fixed")),
                ("Components improved", ", ".join(a.get("components_improved") or [])),
                (
                    "Blockers resolved",
                    ", ".join(f"B-{b:03d}" for b in a.get("blockers_resolved") or []),
                ),
                ("Notes", a.get("notes")),
            ),
        ),
        (
            "Today's plan",
            lines(
                ("Target tests to fix", a.get("target_tests")),
                ("Focus areas", a.get("focus_areas")),
                ("Risk items to address", a.get("risk_items")),
            ),
        ),
        (
            "Blockers & risks",
            lines(
                (
                    "Current blockers",
                    "; ".join(f"{s} {t}" for s, t in a.get("current_blockers") or []),
                ),
                ("New risks", "; ".join(a.get("new_risks") or [])),
                ("Help needed", a.get("help_needed")),
            ),
        ),
        (
            "Action items",
            "\n".join(
                f"• {_esc(i['item'], 500)} — {_esc(i['owner'], 200)}, due {_esc(i['due'], 200)}"
                for i in a.get("action_items") or []
            ),
        ),
    ]
    text = f"*Standup from <@{d['user']}>* (Day {d['sprint_day']} of {d['days']})"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    for title, body in sections:
        if body:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=clip(f"*{title}*\n{body}", SECTION_CHARS))
                )
            )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Snapshot: {m['passed']}/{m['known']} tests passing "
                    f"({pct(m.get('pass_rate'))}), "
                    f"readiness {pct(m.get('readiness'))}, {m.get('health')}"
                    + (" · edited" if d.get("edited") else "")
                )
            ]
        )
    )
    return _message(f"Standup from <@{d['user']}>", blocks)


def _open_button() -> ButtonElement:
    return ButtonElement(
        text="Open standup", action_id=Action.STANDUP_OPEN, value="open", style="primary"
    )


def standup_prompt(d: dict[str, Any]) -> Message:
    text = f":wave: Time for today's standup — Day {d['sprint_day']} of {d['days']} ({d['day']})."
    return _message(
        text,
        [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(elements=[_open_button()])],
    )


def standup_reminder(d: dict[str, Any]) -> Message:
    text = (
        f":hourglass_flowing_sand: Your standup for {d['day']} is still open — two "
        "minutes, and the team sees where you are. `/standup skip` if you are away."
    )
    return _message(
        text,
        [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(elements=[_open_button()])],
    )


# -- blockers --------------------------------------------------------------------------

SEVERITY_EMOJI = {
    "P0": ":red_circle:",
    "P1": ":large_orange_circle:",
    "P2": ":large_yellow_circle:",
}


def blocker(d: dict[str, Any]) -> Message:
    """A blocker's message in channels.blockers: open with buttons, or resolved and struck."""
    resolved = bool(d.get("resolved_at"))
    mark = ":white_check_mark:" if resolved else SEVERITY_EMOJI.get(d["severity"], "")
    title = _esc(f"{d['code']} {d['severity']} · {d['component']}", NAME_CHARS)
    room = SECTION_CHARS - len(f"{mark} *{title}*\n")
    if resolved:
        # Struck through as one line: ~…~ does not span line breaks.
        description = "~" + _esc(" ".join(d["description"].split()), room - 2) + "~"
    else:
        description = _esc(d["description"], room)
    owner = f"<@{d['owner']}>" if d.get("owner") else "unowned"
    level = (
        f"step {d['level']} of {d['levels']}: {_esc(d['step'], NAME_CHARS)}"
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
        facts.append(MarkdownTextObject(text=f"*Resolution target*\n{_esc(d['target'], 500)}"))
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{mark} *{title}*\n{description}")),
        SectionBlock(fields=facts),
    ]
    if resolved:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Resolved by <@{d['resolved_by']}> after {d['took']}: "
                        f"{_esc(d.get('resolution') or '', 500)}"
                    )
                ]
            )
        )
    else:
        value = str(d["id"])
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Take ownership",
                        action_id=Action.BLOCKER_ACK,
                        value=value,
                        style="primary",
                    ),
                    ButtonElement(
                        text="Escalate now", action_id=Action.BLOCKER_ESCALATE, value=value
                    ),
                    ButtonElement(text="Resolve", action_id=Action.BLOCKER_RESOLVE, value=value),
                ]
            )
        )
    return _message(
        f"{'Resolved: ' if resolved else ''}{title}: {_esc(d['description'], 2000)}", blocks
    )


def blocker_step(d: dict[str, Any]) -> Message:
    if d.get("reopened_by"):
        text = f":leftwards_arrow_with_hook: *{d['code']}* reopened by <@{d['reopened_by']}>."
        return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])
    who = " ".join(
        f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in d.get("mentions") or []
    )
    by = "" if d.get("by") == "sprintbot" else f" (escalated by <@{d['by']}>)"
    text = (
        f":arrow_up: *{d['code']}* ({d['severity']}, {_esc(d['component'], NAME_CHARS)}) reached "
        f"escalation step {d['step_index']} — *{_esc(d['step_name'], NAME_CHARS)}* after "
        f"{d['age']}{by}." + (f" {who}" if who else "")
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_CHARS)))])


def blocker_resolved(d: dict[str, Any]) -> Message:
    text = (
        f":white_check_mark: *{d['code']}* resolved by <@{d['resolved_by']}> after "
        f"{d['took']}: {_esc(d.get('resolution') or '', 2000)}"
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def risk_change(d: dict[str, Any]) -> Message:
    owner = f"<@{d['owner']}>" if d.get("owner") else "no owner"
    if d.get("change") == "status":
        head = f":clipboard: *{d['code']}* {d['old']} → *{d['status']}* (by <@{d['user']}>)"
    else:
        head = f":clipboard: New risk *{d['code']}* ({d['status']}, by <@{d['user']}>)"
    text = (
        f"{head}\n{_esc(d['description'], 1500)}\nImpact {d['impact']} · "
        f"probability {d['probability']} · {owner}"
        + (f"\nMitigation: {_esc(d['mitigation'], 800)}" if d.get("mitigation") else "")
    )
    return _message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


# -- the daily report ------------------------------------------------------------------


LATE = ":hourglass: Posted late: the clock was down at the scheduled time."
HEALTH_MARK = {
    "On Track": ":large_green_circle:",
    "At Risk": ":large_yellow_circle:",
    "Critical": ":red_circle:",
}


def _pts(x: float) -> str:
    return pct(x, signed=True).removesuffix(" %")


def _headline(d: dict[str, Any], *, since: str = "since yesterday") -> SectionBlock:
    """Readiness and its change, plan and target, health, tests passing."""
    r, t = d["readiness"], d["tests"]
    change = (
        f" ({_pts(r['score'] - r['previous'])} pts {since})"
        if r.get("score") is not None and r.get("previous") is not None
        else ""
    )
    tests = (
        f"*Tests passing*\n{t['passed']:,}/{t['known']:,} ({pct(t['pass_rate'])}"
        + (f", target {pct(t['pass_rate_target'])}" if "pass_rate_target" in t else "")
        + ")"
        if t.get("known")
        else "*Tests passing*\nno test results yet"
    )
    return SectionBlock(
        fields=[
            MarkdownTextObject(text=f"*Readiness*\n{pct(r['score'])}{change}"),
            MarkdownTextObject(
                text=f"*Plan today / target*\n{pct(r['plan'])} / {pct(r['target'])}"
            ),
            MarkdownTextObject(text=f"*Health*\n{HEALTH_MARK.get(r['health'], '')} {r['health']}"),
            MarkdownTextObject(text=tests),
        ]
    )


def _why(d: dict[str, Any]) -> list[Block]:
    """Health's reason and where the plan comes from, under the headline."""
    r = d["readiness"]
    parts = []
    if r.get("health_reason"):
        parts.append(f"*{r['health']}*: {_esc(r['health_reason'])}")
    if r.get("plan_note"):
        parts.append(_esc(r["plan_note"]))
    return [_context(" · ".join(parts))] if parts else []


def _tests_line(d: dict[str, Any]) -> str:
    """The sprint's test figures by their DESIGN names, against the one failing target."""
    t = d["tests"]
    if not t.get("known") or "target_failing" not in t:
        return "*Tests*: no test results yet"
    return (
        f"*Tests*: {t['failing']:,} failing now (target {t['target_failing']:,}; "
        f"baseline {t['baseline_failing']:,}) · fixed this sprint {t['fixed']:,} · "
        f"regressions introduced {t['regressions_introduced']:,}, open "
        f"{t['regressions_open']:,} · new failures open {t['new_failures_open']:,}"
    )


def _more(shown: int, total: int, where: str) -> list[str]:
    """ "+2 more — where": a list never drops its tail silently."""
    return [f"_+{total - shown} more — {where}_"] if total > shown else []


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, SECTION_CHARS))])


def _blocker_lines(d: dict[str, Any]) -> list[str]:
    if not d["blocker_count"]:
        return ["*Open blockers*: none open"]
    return (
        [f"*Open blockers ({d['blocker_count']})*"]
        + [
            f"{SEVERITY_EMOJI.get(b['severity'], '')} *{b['code']}* {b['severity']} · "
            f"{_esc(b['component'], NAME_CHARS)} — {_esc(b['description'], 600)} "
            f"({b['age']}, step {b['level']})"
            for b in d["blockers"]
        ]
        + _more(len(d["blockers"]), d["blocker_count"], "`/blocker list` shows them all")
    )


def _benchmark_lines(d: dict[str, Any]) -> list[str]:
    bench = [b for b in d["benchmarks"] if b["value"] is not None]
    marks = {
        "met": ":white_check_mark:",
        "missed": ":large_yellow_circle:",
        "degraded": ":red_circle:",
    }
    return (
        ["*Benchmarks*"]
        + [
            f"{marks.get(b['state'], '')} {b['label']}: {b['value']:g} {b['unit']} "
            f"(target {'≤' if b['better'] == 'lower' else '≥'} {b['target']:g})"
            for b in bench
        ]
        if bench
        else []
    )


def _report_day(d: dict[str, Any]) -> str:
    return d.get("status_line") or f"Day {d['day']} of {d['days']}"


def _change_lines(label: str, items: list[dict[str, Any]], count: int) -> str:
    return (
        f"• {label}: {count}"
        + "".join(f"\n    `{_esc(c['id'], 120)}`" for c in items)
        + "".join(f"\n    {x}" for x in _more(len(items), count, "the whole list is in the thread"))
    )


def daily_report(d: dict[str, Any]) -> Message:
    r, y = d["readiness"], d["yesterday"]
    title = f"Daily report — {_report_day(d)}, {d['date']}"
    blocks: list[Block] = [HeaderBlock(text=_short(title, 150)), _headline(d), *_why(d)]
    if d.get("final"):
        blocks.append(
            _context(
                f":checkered_flag: The sprint's final daily report: it ends today, {d['end']}."
            )
        )
    if d.get("late"):
        blocks.append(_context(LATE))
    if d.get("on_demand"):
        blocks.append(_context("Posted on request with `/sprint report`."))
    lines = [
        f"*Yesterday ({y['date']})*: {y['runs']} CI run(s), {y['reports']} report(s)"
        + (
            f"; last: {y['passed']} passed, {y['failed']} failed, {y['skipped']} skipped"
            if y["reports"]
            else ""
        )
    ]
    if "regressed" in y:
        lines.append(_change_lines("Regressed", y["regressed"], y["regressed_count"]))
    lines.append(_change_lines("New failing tests", y["new_failures"], y["new_failures_count"]))
    lines.append(_change_lines("Tests fixed", y["fixed"], y["fixed_count"]))
    v = d["velocity"]
    if v["last"] is not None:
        lines.append(
            f"• Velocity: {v['last']} tests fixed yesterday, {v['average']:.1f}/day on "
            f"average (target {v['target'][0]}-{v['target'][1]})"
        )
    lines.append(_tests_line(d))
    blocks += _sections(lines)
    blocks += _sections(_blocker_lines(d))
    blocks += _sections(_risk_lines(d))
    blocks += _sections(_benchmark_lines(d))
    s = d["standups"]
    if s["expected"]:
        blocks.append(
            _context(
                f"Standups yesterday: {s['answered']} of {s['expected']}"
                + (f"; missing {_mentions(s['missing'])}" if s["missing"] else "")
            )
        )
    blocks.append(_context("The burn-down chart is in the thread."))
    return _message(f"{title}: readiness {pct(r['score'])}, {r['health']}", blocks)


def _risk_lines(d: dict[str, Any]) -> list[str]:
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
            f"• *{x['code']}* {x['status']} ({x['impact']} impact) — {_esc(x['description'], 600)}"
            for x in d["risks"]
        ]
        + _more(len(d["risks"]), open_count, "`/risk list` shows them all")
    )


def change_list(d: dict[str, Any]) -> Message:
    """The whole lists the daily report could only start: in its thread."""
    title = f"Every test that changed on {d['date']}"
    lines = [f"*{title}*"]
    for key, label in (
        ("regressed", "Regressed"),
        ("new_failures", "New failing tests"),
        ("fixed", "Tests fixed"),
    ):
        ids = d.get(key) or []
        if ids:
            lines.append(f"*{label} ({len(ids)})*")
            lines += [f"• `{_esc(x, 200)}`" for x in ids]
    blocks: list[Block] = [*_sections(lines)]
    return _message(title, blocks)


# -- the weekly report, milestones and the review --------------------------------------


def _measured(c: dict[str, Any]) -> str:
    if c["value"] is None:
        return "not measured yet"
    value = f"{c['value']:,.2f}".rstrip("0").rstrip(".") + (" %" if c["unit"] == "%" else "")
    if c.get("of") is not None:
        value += f" of {c['of']:,.0f}"
    return value


def _milestone_lines(m: dict[str, Any]) -> list[str]:
    head = (
        f"*{_esc(m['name'], NAME_CHARS)}* (day {m['day']}) — {m['met']} of "
        f"{len(m['criteria'])} criteria met"
        + (f" · review {_esc(m['review'], NAME_CHARS)}" if m.get("review") else "")
    )
    lines = [head] + [
        f"{':white_check_mark:' if c['met'] else ':x:'} {_esc(c['criterion'], NAME_CHARS)} — "
        f"measured {_measured(c)}"
        for c in m["criteria"]
    ]
    if m["signoffs"]:
        lines.append("Sign-offs: " + " · ".join(_signoff_text(x) for x in m["signoffs"]))
    return lines


def _signoff_text(x: dict[str, Any]) -> str:
    if x["user"]:
        return f":white_check_mark: {role_title(x['role'])} <@{x['user']}>"
    return f":hourglass_flowing_sand: {role_title(x['role'])}"


def _forecast_line(label: str, f: dict[str, Any], unit: str, extra: str = "") -> str:
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


def weekly_report(d: dict[str, Any]) -> Message:
    """The most decision-worthy first (forecast, milestones, risks, blockers), the long
    dashboard last: if a huge sprint overflows Slack's 50 blocks, it is the tail that is
    cut, and the message says so."""
    r = d["readiness"]
    title = f"Weekly report — week {d['week']}, {_report_day(d)}, {d['date']}"
    blocks: list[Block] = [HeaderBlock(text=_short(title, 150)), _headline(d), *_why(d)]
    if d.get("late"):
        blocks.append(_context(LATE))
    f = d["forecast"]
    tests = f["pass_rate"].get("needed_tests_per_day")
    blocks += _sections(
        [
            "*Forecast* (least squares over the sprint's days so far)",
            _forecast_line("Readiness", f["readiness"], " %"),
            _forecast_line(
                "Pass rate",
                f["pass_rate"],
                " %",
                f" (≈{tests:.0f} tests/day)" if tests is not None else "",
            ),
        ]
    )
    if d.get("completion"):
        blocks += _sections(_completion_lines(d["completion"]))
    blocks += _sections([line for m in d["milestones"] for line in _milestone_lines(m)])
    risks = ["*Risk assessment*"] + [
        f"• *{x['code']}* {x['status']} — {_esc(x['description'], 600)} (impact {x['impact']}, "
        f"probability {x['probability']}"
        + (f", owner <@{x['owner']}>" if x.get("owner") else "")
        + ")"
        + (f"\n    Mitigation: {_esc(x['mitigation'], 600)}" if x.get("mitigation") else "")
        for x in d["risk_assessment"]
    ]
    if len(risks) == 1:
        risks.append("No open risks.")
    risks += _more(
        len(d["risk_assessment"]),
        d.get("risk_assessment_count", len(d["risk_assessment"])),
        "`/risk list` shows them all",
    )
    blocks += _sections(risks)
    blocks += _sections(_blocker_lines(d))
    blocks += _sections(_benchmark_lines(d))
    dash = ["*Metrics dashboard*"]
    for g in d["dashboard"]:
        dash.append(
            f"*{_esc(g['name'], NAME_CHARS)}* ({g['weight']:g}) — {pct(g['score'])} of "
            f"{pct(g['target'])}"
        )
        dash += [
            f"    {_esc(c['name'], NAME_CHARS)} ({c['weight']:g}) — {pct(c['score'])} of "
            f"{pct(c['target'])}"
            for c in g["components"]
        ]
    dash.append(_tests_line(d))
    t = d["tests"]
    if t.get("test_files"):
        dash.append(f"Test files passing: {t['test_files_passing']} of {t['test_files']}")
    blocks += _sections(dash)
    blocks.append(_context("The burn-down chart is in the thread."))
    return _message(f"{title}: readiness {pct(r['score'])}, {r['health']}", blocks)


def _goal_lines(goals: list[dict[str, Any]]) -> list[str]:
    return [
        f"{':white_check_mark:' if g['met'] else ':x:'} {_esc(g['goal'], NAME_CHARS)}: target "
        f"{_goal_value(g, 'target')}, achieved {_goal_value(g, 'achieved')}"
        for g in goals
    ]


def _completion_lines(c: dict[str, Any]) -> list[str]:
    s = c["summary"]
    met = sum(1 for g in c["goals"] if g["met"])
    lines = [f"*Sprint completion*: {met} of {len(c['goals'])} goals met", *_goal_lines(c["goals"])]
    if s["start"] is not None and s["end"] is not None:
        lines.append(
            f"Readiness {pct(s['start'])} → {pct(s['end'])} ({_pts(s['end'] - s['start'])} pts)"
        )
    lines.append("*Next phase* (action items from the review)")
    lines += [f"• {_esc(x['text'], 1000)} — <@{x['author']}>" for x in c["next_phase"]] or [
        "• _none yet: add them with `/sprint review`_"
    ]
    return lines


def _goal_value(g: dict[str, Any], key: str) -> str:
    value = g[key]
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".") + (" %" if g["unit"] == "%" else "")


def sprint_review(d: dict[str, Any]) -> Message:
    title = f"Sprint review draft — {d['name']}"
    s = d["summary"]
    blocks: list[Block] = [
        HeaderBlock(text=_short(title, 150)),
        _context(
            f"Day {d['day']} of {d['days']}, {d['date']}"
            + (f" · requested by <@{d['requested_by']}>" if d.get("requested_by") else "")
            + (f" · goal: {_esc(d['goal'], 1000)}" if d.get("goal") else "")
        ),
    ]
    blocks += _sections(["*Sprint goals achievement*", *_goal_lines(d["goals"])])
    improvement = (
        f" ({_pts(s['end'] - s['start'])} pts)"
        if s["start"] is not None and s["end"] is not None
        else ""
    )
    blocks += _sections(
        [
            "*Metrics summary*",
            f"• Readiness: {pct(s['start'])} → {pct(s['end'])}{improvement}",
            f"• Pass rate: {pct(s['pass_rate'])}",
            f"• Tests fixed: {s['tests_fixed']:g}",
            f"• Regressions introduced: {s['regressions']} ({s['still_failing']} still open)",
        ]
    )
    if d["accomplishments"]:
        blocks += _sections(
            ["*Components at target*", ", ".join(_esc(x, NAME_CHARS) for x in d["accomplishments"])]
        )
    changes = (
        [f"*Regressions introduced during the sprint ({s['regressions']})*"]
        + [
            f"• `{_esc(t, 120)}`" + (" (still failing)" if t in d["still_failing"] else "")
            for t in d["regressions"]
        ]
        + _more(len(d["regressions"]), s["regressions"], "`GET /api/v1/sprint` counts them")
    )
    changes += (
        [f"*Tests fixed this sprint ({d['fixed_count']})*"]
        + [f"• `{_esc(t, 120)}`" for t in d["fixed"]]
        + _more(len(d["fixed"]), d["fixed_count"], "the tracker export lists the days")
    )
    blocks += _sections(changes)
    blocks += _sections(
        [f"*Blockers resolved ({d['blockers_resolved_count']})*"]
        + [
            f"• *{b['code']}* {b['severity']} · {_esc(b['component'], NAME_CHARS)} — "
            f"{_esc(b['description'], 600)} (resolved in {b['took']})"
            for b in d["blockers_resolved"]
        ]
    )
    lessons = ["*Lessons learned*"]
    for kind, heading in LESSON_HEADINGS.items():
        items = d["lessons"].get(kind) or []
        lessons.append(f"_{heading}_")
        lessons += [f"• {_esc(x['text'], 1000)} — <@{x['author']}>" for x in items] or [
            "• _none yet_"
        ]
    blocks += _sections(lessons)
    blocks.append(
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Add a lesson learned", action_id=Action.LESSON_ADD, value="lesson"
                )
            ]
        )
    )
    return _message(_esc(title), blocks)


LESSON_HEADINGS = {
    "went_well": "What went well",
    "improve": "What could be improved",
    "action": "Action items for next phase",
}


def signoff(d: dict[str, Any]) -> Message:
    """The current milestone's sign-off request, one button per role still to sign."""
    title = f"Sign-off: {d['name']}"
    blocks: list[Block] = [HeaderBlock(text=_short(title, 150))]
    blocks += _sections(_milestone_lines(d))
    waiting = [x for x in d["signoffs"] if not x["user"]]
    if waiting:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=_short(f"Sign off as {role_title(x['role'])}", 75),
                        action_id=f"{Action.SIGNOFF}:{x['role']}"[:255],
                        value=f"{d['day']}:{x['role']}",
                        style="primary",
                    )
                    for x in waiting[:25]
                ]
            )
        )
    else:
        blocks.append(_context(":tada: Every sign-off is in."))
    return _message(_esc(title), blocks)


# -- /sprint and App Home ---------------------------------------------------------------


def _day_text(d: dict[str, Any]) -> str:
    if d.get("status_line"):
        return str(d["status_line"])
    if d["day"] < 1:
        return "Before the sprint"
    if d["day"] > d["days"]:
        return "Sprint over"
    return f"Day {d['day']} of {d['days']}"


def _burndown_line(d: dict[str, Any]) -> str:
    b = d["burndown"]
    if b["failing"] is None:
        return "*Burn-down*: no test results yet"
    return (
        f"*Burn-down*: {b['failing']:,} failing now (plan for today {b['planned']:,}, "
        f"target {b['final']:,})"
        + (f" · {b['fixed']:,} fixed this sprint" if b["fixed"] is not None else "")
        + f" · {b['remaining']:,} to go"
    )


def sprint_status(d: dict[str, Any]) -> Message:
    """/sprint: day, health, readiness vs plan, burn-down, open blockers."""
    title = f"{d['name']} — {_day_text(d)}"
    blocks: list[Block] = [HeaderBlock(text=_short(title, 150)), _headline(d), *_why(d)]
    lines = [_burndown_line(d)]
    if "target_failing" in d["tests"]:
        lines.append(_tests_line(d))
    lines += _blocker_lines(d)
    blocks += _sections(lines)
    blocks.append(
        _context("`/sprint report` posts today's report · `/sprint review` · `/sprint signoff`")
    )
    r = d["readiness"]
    return _message(
        f"{_esc(title)}: readiness {pct(r['score'])} (plan {pct(r['plan'])}), {r['health']}",
        blocks,
    )


def _at_target(x: dict[str, Any]) -> str:
    met = x["score"] is not None and x["score"] >= x["target"]
    return ":white_check_mark:" if met else ":small_orange_diamond:"


def app_home(d: dict[str, Any]) -> Message:
    """The live dashboard (the seed's Key Metrics Dashboard), within a Home tab's 100 blocks."""
    title = f"{d['name']} — {_day_text(d)}"
    blocks: list[Block] = [HeaderBlock(text=_short(title, 150)), _headline(d), *_why(d)]
    blocks += _sections(
        ["*Breakdown by group*"]
        + [
            f"{_at_target(g)} {_esc(g['name'], NAME_CHARS)} ({g['weight']:g}) — "
            f"{pct(g['score'])} of {pct(g['target'])}"
            for g in d["groups"]
        ]
    )
    blocks += _sections(
        [_burndown_line(d)] + ([_tests_line(d)] if "target_failing" in d["tests"] else [])
    )
    if d.get("chart_file"):
        blocks.append(
            ImageBlock(
                slack_file={"id": d["chart_file"]},
                alt_text="Burn-down: failing tests per day against the plan",
            )
        )
    blocks += _sections(_blocker_lines(d))
    blocks += _sections(
        ["*Open risks*"]
        + [
            f"• *{x['code']}* {x['status']} ({x['impact']} impact, {x['probability']} "
            f"probability) — {_esc(x['description'], 600)}"
            for x in d["risks"]
        ]
        + _more(len(d["risks"]), d.get("risk_open_count", 0), "`/risk list` shows them all")
        if d["risks"]
        else ["*Open risks*: none open"]
    )
    s = d["standups"]
    mine = {
        "answered": "you have answered",
        "late": "you have answered",
        "away": "you are away",
        "missing": "yours is still due — `/standup`",
    }.get(s["mine"], "you are not a participant")
    blocks += _sections([f"*Today's standups*: {s['answered']} of {s['expected']}; {mine}"])
    run = d["last_run"]
    if run:
        parts = [
            f"*Last CI run* `{_esc(run['run'], NAME_CHARS)}` at "
            f"{run['at'][:16].replace('T', ' ')} UTC"
        ]
        parts.append(f"{run['passed']} passed, {run['failed']} failed, {run['skipped']} skipped")
        if run.get("commit"):
            parts.append(f"commit `{_esc(run['commit'][:12])}`")
        if run.get("url"):
            parts.append(link(run["url"], "CI run"))
        blocks += _sections([" · ".join(parts)])
    else:
        blocks += _sections(["*Last CI run*: none yet"])
    blocks.append(_context(f"Updated {d['at'][:16].replace('T', ' ')} UTC"))
    return _message(_esc(title), blocks)


SLACK: dict[Template, Callable[[dict[str, Any]], Message]] = {
    Template.REGRESSION_ALERT: regression_alert,
    Template.REGRESSION_LIST: regression_list,
    Template.ALERT_RESOLVED: alert_resolved,
    Template.ALERT_FOLLOWUP: alert_followup,
    Template.ALERT_ACKED: alert_acked,
    Template.TESTS_MUTED: tests_muted,
    Template.DECLINE_NOTICE: decline_notice,
    Template.EMERGENCY_STANDUP: emergency_standup,
    Template.PERFORMANCE_ALERT: performance_alert,
    Template.PERFORMANCE_RESOLVED: performance_resolved,
    Template.STANDUP_DAY: standup_day,
    Template.STANDUP_REPLY: standup_reply,
    Template.STANDUP_PROMPT: standup_prompt,
    Template.STANDUP_REMINDER: standup_reminder,
    Template.BLOCKER: blocker,
    Template.BLOCKER_STEP: blocker_step,
    Template.BLOCKER_RESOLVED: blocker_resolved,
    Template.RISK_CHANGE: risk_change,
    Template.DAILY_REPORT: daily_report,
    Template.CHANGE_LIST: change_list,
    Template.WEEKLY_REPORT: weekly_report,
    Template.SPRINT_REVIEW: sprint_review,
    Template.SIGNOFF: signoff,
    Template.APP_HOME: app_home,
}
EMAIL: dict[Template, Callable[[dict[str, Any]], tuple[str, str]]] = {
    Template.REGRESSION_EMAIL: regression_email,
}


def render(template: str, data: dict[str, Any]) -> Message:
    """The Slack message for a queued template."""
    return SLACK[Template(template)](data)


def render_email(template: str, data: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) for a queued e-mail template: plain text, in which no Slack mention
    or link syntax survives from user or CI text."""
    subject, body = EMAIL[Template(template)](data)
    return plain(subject), plain(body)

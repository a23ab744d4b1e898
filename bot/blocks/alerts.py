"""Alerts and their follow-ups: regressions, the readiness decline and its emergency
standup, degraded benchmarks (jobs.notices)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
)

from bot.blocks.common import (
    NAME_CHARS,
    SECTION_CHARS,
    Message,
    clip,
    code,
    code_block,
    context,
    esc,
    link,
    mention,
    mentions,
    message,
    pieces,
    plural,
    pts,
    section,
    sections,
    short,
    text_message,
)
from bot.ids import Action
from jobs.causes import CauseCount, CauseGroup
from jobs.config import is_slack_id
from jobs.messages import visible
from jobs.notices import (
    AlertContext,
    AlertFollowup,
    AlertResolved,
    AlertState,
    DeclineShown,
    EmergencyStandup,
    MutedTests,
    PerformanceAlert,
    PerformanceFields,
    PerformanceShown,
    RegressedTest,
    RegressionAlert,
    RegressionList,
    RegressionShown,
    TestRef,
    UserCount,
)
from jobs.numbers import change, pct, quantity, with_unit


def _test_name(t: TestRef) -> str:
    return code(t["id"], NAME_CHARS)


def _run_context(d: AlertContext) -> str:
    parts = [f"branch {code(d.get('branch') or 'main', 200)}"]
    if d.get("commit"):
        parts.append(f"commit {code(str(d['commit'])[:12])}")
    if d.get("url"):
        parts.append(link(d["url"], "CI run"))
    r = d.get("readiness") or {}
    score, previous = r.get("score"), r.get("previous")
    if score is not None and _impact_line(d) is None:  # else the impact line says it
        if previous is not None:
            parts.append(
                f"readiness {pct(previous)} → {pct(score)} ({pts(change(previous, score))} pts)"
            )
        else:
            parts.append(f"readiness {pct(score)}")
    return " · ".join(parts)


def _status_block(d: AlertState, buttons: list[ButtonElement], *, who: str) -> Block:
    """Buttons while open; who took it, or that it is resolved, afterwards."""
    if d.get("resolved"):
        return ContextBlock(elements=[MarkdownTextObject(text=":white_check_mark: Resolved")])
    ack = d.get("acknowledged")
    if ack:
        return ContextBlock(
            elements=[MarkdownTextObject(text=f":eyes: {mention(ack['user'])} {who}")]
        )
    return ActionsBlock(elements=buttons)


def _ack_button(d: RegressionAlert | PerformanceAlert) -> ButtonElement:
    return ButtonElement(
        text="I'm on it", action_id=Action.ALERT_ACK, value=str(d["alert_id"]), style="primary"
    )


# -- regressions -------------------------------------------------------------------------


def _signed_pts(x: float) -> str:
    """Readiness points with a real minus sign (U+2212): "+0.5 pts", "+1 pt", "0 pts"."""
    text = f"{abs(x):.2f}".rstrip("0").rstrip(".")
    unit = "pt" if text == "1" else "pts"
    if text == "0":
        return f"0 {unit}"
    sign = "\u2212" if x < 0 else "+"
    return f"{sign}{text} {unit}"


def _impact_line(d: AlertContext) -> str | None:
    """What the report's regressions cost on their own, what its fixes and new failures
    did, and the net: "6 regressed (-1.2 pts), 12 fixed (+1.7 pts): net +0.5 pts
    (78.47 % → 79 %)"; None for data queued without it."""
    i = d.get("impact")
    if i is None or i["net"] is None:
        return None
    parts = []
    for share, word, always in (
        (i["regressed"], "regressed", True),
        (i["fixed"], "fixed", False),
        (i["new_failures"], "", False),
    ):
        count = int(share["count"] or 0)
        if not count and not always:
            continue
        label = f"{count} {word}" if word else plural(count, "new failure")
        if share["points"] is not None:
            label += f" ({_signed_pts(share['points'])})"
        parts.append(label)
    line = f"{', '.join(parts)}: net {_signed_pts(i['net'])}"
    if i["before"] is not None and i["after"] is not None:
        line += f" ({pct(i['before'])} → {pct(i['after'])})"
    return line


def cause_text(c: CauseCount) -> str:
    """A cause as a message shows it: a category's name in bold, a normalised failure
    message as code."""
    if c["named"]:
        return f"*{esc(c['cause'], NAME_CHARS)}*"
    return code(c["cause"], 300)


def _cause_sections(tests: list[RegressedTest], causes: list[CauseGroup]) -> list[Block]:
    """A section per cause two or more of `tests` share: how many, which, and the first's
    failure message."""
    out: list[Block] = []
    for c in causes:
        members = [t for t in tests if t["id"] in set(c["tests"])]
        if c["count"] < 2 or len(members) < 2:
            continue
        lines = [f"*{c['count']} tests* fail with {cause_text(c)}"] + [
            f"• {_test_name(t)} — {esc(t.get('component') or 'Unmapped', NAME_CHARS)}"
            for t in members
        ]
        first = next((t.get("message") for t in members if t.get("message")), None)
        failure = [code_block(first, 800)] if first else []
        text = "\n".join(lines + failure)
        if len(text) <= SECTION_CHARS:
            out.append(section(text))
        else:  # long names: in as many sections as they take, every test named
            out += sections(lines) + [section(f) for f in failure]
    return out


def _test_sections(
    count: int, tests: list[RegressedTest], causes: list[CauseGroup] | None = None
) -> list[Block]:
    """Tests sharing a cause together, each other test with its failure message; past the
    inline limit, counts by component and the commonest causes (the full list goes in
    the thread)."""
    if count <= len(tests):
        out = _cause_sections(tests, causes or [])
        grouped = {i for b in causes or [] if b["count"] > 1 for i in b["tests"]}
        for t in tests:
            if t["id"] in grouped:
                continue
            text = f"{_test_name(t)} — {esc(t.get('component') or 'Unmapped', NAME_CHARS)}"
            if failure := t.get("message"):
                text += "\n" + code_block(failure, 1500)
            out.append(section(clip(text, SECTION_CHARS)))
        return out
    by_component = Counter(t.get("component") or "Unmapped" for t in tests)
    shown = ", ".join(f"{esc(k, NAME_CHARS)} ({v})" for k, v in sorted(by_component.items()))
    common = [
        f"\n• {plural(c['count'], 'test')} fail with {cause_text(c)}"
        for c in (causes or [])[:5]
        if c["count"] > 1
    ]
    return [
        section(
            clip(
                f"*{count} tests* went from passing to failing. The full list is in the thread."
                f"\nAmong the first {len(tests)}: {shown}" + "".join(common),
                SECTION_CHARS,
            )
        )
    ]


def _owners_sections(d: RegressionShown) -> list[Block]:
    """Who owns the regressed tests, each owner mentioned once: with the names of their
    tests when the alert lists them and they fit, else with how many tests are theirs.
    Every owner is mentioned, whatever the names' length: the mention is the page."""
    tests = d.get("tests") or []
    of_test = d.get("owned") or {}
    owned: dict[str, list[str]] = {}
    for t in tests:
        for o in of_test.get(t["id"], []):
            owned.setdefault(o, []).append(t["name"])
    for o in d.get("owners") or []:
        owned.setdefault(o, [])
    if not owned:
        return []
    inline = int(d["count"]) <= len(tests)
    unowned = [t["name"] for t in tests if not of_test.get(t["id"])]

    def listed(names: list[str], *, named: bool) -> str:
        if not inline:
            return f"{len(names)} of the first {len(tests)}" if names else "tests in the thread"
        return (
            ", ".join(code(n, NAME_CHARS) for n in names) if named else plural(len(names), "test")
        )

    for named in (True, False):
        parts = [f"{mention(o)} ({listed(names, named=named)})" for o, names in owned.items()]
        if inline and unowned:
            parts.append(f"no owner ({listed(unowned, named=named)})")
        text = "*Owners:* " + " · ".join(parts)
        if len(text) <= SECTION_CHARS:
            break
    # (So many owners that even their counts do not fit one section: cut between them.)
    return [section(p) for p in pieces(text, SECTION_CHARS)]


def regression_alert(d: RegressionShown) -> Message:
    count = int(d["count"])
    title = f"{plural(count, 'test')} regressed on {d.get('branch') or 'main'}"
    if d.get("resolved"):
        title = f"Resolved: {title}"
    mark = ":white_check_mark: " if d.get("resolved") else ":rotating_light: "
    blocks: list[Block] = [HeaderBlock(text=short(mark + title, 150)), context(_run_context(d))]
    impact = _impact_line(d)
    if impact is not None:
        blocks.append(section(f"*Readiness:* {impact}"))
    blocks += _test_sections(count, d.get("tests") or [], d.get("causes"))
    blocks += _owners_sections(d)
    mute = ButtonElement(
        text="Quarantine as flaky", action_id=Action.ALERT_MUTE, value=str(d["alert_id"])
    )
    quarantined = d.get("quarantined")
    buttons = [_ack_button(d)] if quarantined else [_ack_button(d), mute]
    blocks.append(_status_block(d, buttons, who="is on it"))
    if quarantined and not d.get("resolved"):
        blocks.append(context(f":mute: {_who(quarantined['user'])} quarantined its tests as flaky"))
    elif not d.get("acknowledged") and not d.get("resolved"):
        blocks.append(
            context(
                f"Investigate within {d.get('ack_within', '1h')}; "
                + (
                    "if no one picks it up, the owners are pinged again."
                    if d.get("owners")
                    else "if no one picks it up, the tech lead is pinged."
                )
            )
        )
    summary = f"{esc(title)}: {impact}" if impact is not None else esc(title)
    return message(f"{summary} ({_run_context(d)})", blocks)


def regression_list(d: RegressionList) -> Message:
    start, tests = int(d["start"]), d["tests"]
    head = f"Regressed tests {start + 1}-{start + len(tests)} of {d['count']}:"
    lines = [head] + [
        f"• {_test_name(t)} — {esc(t.get('component') or 'Unmapped', NAME_CHARS)}" for t in tests
    ]
    return message(head, list(sections(lines)))


def _mail_of(d: Mapping[str, Any]) -> tuple[str, list[str]]:
    """An alert e-mail's subject prefix and first line: whose alert it is (its team, of
    several, and its sprint: `jobs.notices.email` adds them; rows queued before do not)."""
    team = d.get("team")
    prefix = f"[sprintbot] {team} · " if team else "[sprintbot] "
    sprint = d.get("sprint")
    return prefix, [f"Sprint: {sprint}" + (f" (team {team})" if team else "")] if sprint else []


def regression_email(d: RegressionAlert) -> tuple[str, str]:
    """(subject, body) of the e-mail copy of a regression alert."""
    prefix, whose = _mail_of(d)
    title = f"{plural(int(d['count']), 'test')} regressed on {d.get('branch')}"
    if d.get("commit"):
        title += f" ({str(d['commit'])[:12]})"
    subject = prefix + title
    lines = [*whose, title + ".", ""]
    if d.get("url"):
        lines.append(f"CI run: {d['url']}")
    r = d.get("readiness") or {}
    impact = _impact_line(d)
    if impact is not None:
        lines.append(f"Readiness: {impact}")
    elif r.get("score") is not None:
        lines.append(f"Readiness: {pct(r.get('previous'))} -> {pct(r['score'])}")
    for c in d.get("causes") or []:
        if c["count"] > 1:
            lines.append(f"{c['count']} tests fail with: {c['cause']}")
    lines.append("")
    for t in d["tests"]:
        # (Named as the Slack alert names it: a character that draws nothing shown.)
        lines.append(f"- {visible(t['id'])} ({t.get('component') or 'Unmapped'})")
        for msg_line in (t.get("message") or "").splitlines()[:4]:
            lines.append(f"    {msg_line}")
    lines += ["", 'Acknowledge it in Slack with "I\'m on it".']
    return subject, "\n".join(lines)


def alert_resolved(d: AlertResolved) -> Message:
    text = (
        f":white_check_mark: All {d.get('count')} regressed tests pass again"
        + (f" as of commit {code(str(d['commit'])[:12])}" if d.get("commit") else "")
        + (f" ({link(d['url'], 'CI run')})" if d.get("url") else "")
        + "."
    )
    return text_message(text)


def alert_followup(d: AlertFollowup) -> Message:
    leads = (
        mentions(d.get("owners") or [], sep=" ")
        or mentions(d.get("tech_lead") or [], sep=" ")
        or "Tech lead"
    )
    text = (
        f":alarm_clock: No one has acknowledged this {d.get('kind', '')} alert in "
        f"{d.get('waited')}. {leads}, can you take a look or hand it to someone?"
    )
    return text_message(text)


def alert_acked(d: UserCount) -> Message:
    text = f":eyes: {mention(d['user'])} is on it."
    return text_message(text)


def tests_muted(d: MutedTests) -> Message:
    text = (
        f":mute: {mention(d['user'])} muted {plural(d['count'], 'test')} as flaky: "
        "their failures are reported apart and no longer alert."
    )
    if d.get("owners"):
        text += f" Owners: {mentions(d.get('owners') or [], sep=' ')}."
    return text_message(text)


# -- readiness decline -------------------------------------------------------------------


def decline_notice(d: DeclineShown) -> Message:
    title = f"Readiness fell {pct(d['before'])} → {pct(d['after'])} (-{d['lost']:g} pts)"
    lines = [
        f"• *{esc(c['name'], NAME_CHARS)}* (weight {c['weight']:g}): {pct(c['before'])} → "
        f"{pct(c['after'])}" + (f" — {esc(c['why'], 500)}" if c.get("why") else "")
        for c in d.get("components", [])
    ] or ["No single component fell; the mix of scores did."]
    blocks: list[Block] = [
        HeaderBlock(text=short(":chart_with_downwards_trend: " + title, 150)),
        *sections(lines)[:40],
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
    return message(title, blocks)


def emergency_standup(d: EmergencyStandup) -> Message:
    by = datetime.fromisoformat(d["by"])
    when = f"<!date^{int(by.timestamp())}^{{time}} {{date_short_pretty}}|{d['by']}>"
    text = (
        f":rotating_light: {mention(d['user'])} called an *emergency standup*: readiness fell "
        f"{pct(d['before'])} → {pct(d['after'])}. Meet within {d['within']} (by {when})."
    )
    return text_message(text)


# -- performance -------------------------------------------------------------------------


def _degraded(d: PerformanceFields) -> str:
    """ "API Throughput degraded: 500 req/s (target ≥ 1000 req/s, 50 % beyond)"; past a
    target of 0, by how much: "Lint Errors degraded: 12 (target ≤ 0, 12 over)"."""
    lower = d.get("better") == "lower"
    beyond = d["beyond_target_percent"]
    gap = with_unit(abs(d["value"] - d["target"]), d.get("unit"))
    past = (
        f"{quantity(beyond)} % beyond"
        if beyond is not None
        else f"{gap} {'over' if lower else 'under'}"
    )
    return (
        f"{d['label']} degraded: {with_unit(d['value'], d.get('unit'))} "
        f"(target {'≤' if lower else '≥'} {with_unit(d['target'], d.get('unit'))}, {past})"
    )


def _how_far(d: PerformanceFields) -> str:
    """What makes it degraded, under its title."""
    if d["beyond_target_percent"] is None:
        return "Any figure past a target of 0"
    return f"More than {d.get('tolerance', 10):g} % beyond target"


def performance_email(d: PerformanceAlert) -> tuple[str, str]:
    """(subject, body) of the e-mail copy of a performance alert."""
    prefix, whose = _mail_of(d)
    title = _degraded(d)
    lines = [
        *whose,
        title + ".",
        "",
        f"{_how_far(d)}; investigate within {d.get('ack_within', '4h')}.",
    ]
    if d.get("commit"):
        lines.append(f"Commit: {d['commit']}")
    lines += ["", 'Acknowledge it in Slack with "I\'m on it".']
    return prefix + title, "\n".join(lines)


def performance_alert(d: PerformanceShown) -> Message:
    title = _degraded(d)
    blocks: list[Block] = [
        HeaderBlock(
            text=short(
                (":white_check_mark: Resolved: " if d.get("resolved") else ":snail: ") + title, 150
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=_how_far(d)
                    + (f" · commit {code(str(d['commit'])[:12])}" if d.get("commit") else "")
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
    return message(esc(("Resolved: " if d.get("resolved") else "") + title), blocks)


def performance_resolved(d: PerformanceFields) -> Message:
    text = (
        f":white_check_mark: {esc(d['label'], NAME_CHARS)} is back within target: "
        f"{esc(with_unit(d['value'], d.get('unit')))} "
        f"(target {esc(with_unit(d['target'], d.get('unit')))})."
    )
    return text_message(text)


def _who(user: str) -> str:
    """Who did something: a mention, or sprintbot's own name (a test it found flaky and
    quarantined; `<@sprintbot>` is no one)."""
    return mention(user) if is_slack_id(user) else esc(user)

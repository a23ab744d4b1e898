"""Block Kit rendering as pure functions: data in, blocks out, no client calls."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from jobs.numbers import ComponentScore, GroupScore, Health, pct
from jobs.readiness import ScoreChange, Status
from jobs.risks import STATUS_EMOJI, STATUSES, code
from storage.models import Risk

ELLIPSIS = "…"
# What must never be cut in half: Slack's three entities, and a whole `<…>` sequence the
# bot wrote (a mention, a link, a date).
_ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")


def escape(text: str, limit: int | None = None) -> str:
    """User or CI text for mrkdwn and the top-level `text`, per Slack's "Escaping text":
    `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, so `<!channel>`, `<@U…>` and
    `<url|label>` show as typed and notify or link no one. With `limit`, shortened so
    that the *escaped* text fits (ending "…" when cut), never splitting an entity.

    The one function for such text: escape after shortening, never before."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out if limit is None else clip(out, limit)


_OWN_MENTION = re.compile(r"<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>")


def reply(text: str) -> str:
    """A message of the bot's own that may quote what someone typed (an error saying what
    was wrong with it), for mrkdwn: the mentions of people and user groups the bot wrote
    (`<@U…>`, `<!subteam^S…>`, e.g. who may do what) stay; every other `<…>` — a
    broadcast, a link — shows as typed. It is shown only to whoever typed it."""
    out, last = [], 0
    for m in _OWN_MENTION.finditer(text):
        out += [escape(text[last : m.start()]), m.group()]
        last = m.end()
    return "".join([*out, escape(text[last:])])


def clip(mrkdwn: str, limit: int) -> str:
    """Already-escaped mrkdwn shortened to `limit` characters, ending "…" when cut; the cut
    never falls inside an entity or a `<…>` mention or link."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    if limit < len(ELLIPSIS):
        return ""
    cut = limit - len(ELLIPSIS)
    for m in _ATOM.finditer(mrkdwn):
        if m.start() >= cut:
            break
        if m.end() > cut:
            cut = m.start()
            break
    return mrkdwn[:cut] + ELLIPSIS


def web_url(url: str | None) -> str | None:
    """`url` when it is a plain http(s) link with a host, else None: what may go in a link."""
    if not url or len(url) > 2000:
        return None
    if any(c in "<>|" or c.isspace() or unicodedata.category(c)[0] == "C" for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and host else None


def link(url: str | None, label: str, *, limit: int = 2500) -> str:
    """A mrkdwn link `<url|label>` to a URL from CI; just the label when the URL is not a
    plain http(s) link (stored before links were checked, or never valid) or when the
    link would be longer than `limit` characters (a link is never cut)."""
    safe = web_url(url)
    if safe is None:
        return escape(label)
    # No `<`, `>`, `|` or space can end the URL part early (web_url refused them);
    # `&` is written as Slack's entity, which Slack decodes in links too.
    out = f"<{safe.replace('&', '&amp;')}|{escape(label)}>"
    return out if len(out) <= limit else escape(label)


_SLACK_SEQUENCE = re.compile(r"<(?=[!@#]|[A-Za-z][A-Za-z0-9+.-]*:|[^<>\n]*\|)")


def plain(text: str) -> str:
    """Plain text (e-mail) as typed, except that Slack's `<!channel>`, `<@U…>`, `<#C…>` and
    `<url|label>` sequences are broken with a zero-width space after the `<`, so a copy
    forwarded into Slack mentions and links no one."""
    return _SLACK_SEQUENCE.sub("<\u200b", text)


HEALTH_EMOJI = {
    Health.ON_TRACK: ":large_green_circle:",
    Health.AT_RISK: ":large_yellow_circle:",
    Health.CRITICAL: ":red_circle:",
}


def _gap(score: float | None, target: float) -> str:
    if score is None:
        return "no data"
    gap = score - target
    return "on target" if gap >= 0 else f"gap {pct(gap, signed=True).removesuffix(' %')} pts"


def _leaf_line(c: ComponentScore) -> str:
    mark = (
        ":white_check_mark:"
        if c.score is not None and c.score >= c.target
        else ":small_orange_diamond:"
    )
    detail = f" · _{escape(c.detail, 300)}_" if c.detail else ""
    return (
        f"{mark} {escape(c.name, 300)} ({c.weight:g}) — *{pct(c.score)}* of {pct(c.target)}, "
        f"{_gap(c.score, c.target)}{detail}"
    )


def _group_section(g: GroupScore) -> SectionBlock:
    head = (
        f"*{escape(g.name, 300)}* · weight {g.weight:g} — *{pct(g.score)}* of {pct(g.target)}, "
        f"{_gap(g.score, g.target)}"
    )
    lines = [head, *(_leaf_line(c) for c in g.components)]
    return SectionBlock(text=MarkdownTextObject(text=clip("\n".join(lines), 3000)))


def render_readiness(status: Status, *, sprint_name: str, days: int) -> list[dict[str, Any]]:
    """The /readiness breakdown: overall score, target, gap, then every group and leaf."""
    bd = status.breakdown
    day = status.status_line or (
        f"Day {status.day} of {days}"
        if 1 <= status.day <= days
        else ("Before the sprint" if status.day < 1 else "Sprint over")
    )
    why = " · ".join(x for x in (f"{status.health}: {status.health_reason}", status.plan_note) if x)
    rate = pct(status.pass_rate) if status.known else "no test results yet"
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
                MarkdownTextObject(
                    text=f"*Tests passing*\n{status.passed}/{status.known} ({rate})" + unmapped
                ),
            ]
        ),
        ContextBlock(elements=[MarkdownTextObject(text=escape(f"{sprint_name} · {day}", 3000))]),
        ContextBlock(elements=[MarkdownTextObject(text=escape(why, 3000))]),
        DividerBlock(),
    ]
    blocks += [_group_section(g) for g in bd.groups]
    return [b.to_dict() for b in blocks[:50]]


def readiness_fallback(status: Status) -> str:
    """Plain text for notifications and clients that do not show blocks."""
    bd = status.breakdown
    return (
        f"Readiness {pct(bd.score)} (target {pct(bd.target)}, plan {pct(status.plan)}, "
        f"{status.health})"
    )


def render_score_change(change: ScoreChange) -> str:
    """The confirmation after /readiness set."""
    return (
        f":pencil2: *{escape(change.component)}*: {pct(change.old)} → *{pct(change.new)}*. "
        f"Readiness {pct(change.readiness_before)} → *{pct(change.readiness_after)}*."
    )


READINESS_USAGE = (
    "Usage: `/readiness` shows the breakdown; `/readiness set COMPONENT SCORE` sets a manual "
    "component's score (admins), e.g. `/readiness set User Guides 70`."
)


def render_risk_matrix(risks: list[Risk]) -> str:
    """`/risk list`: the register as the tracker's matrix, most urgent first."""
    if not risks:
        return "The risk register is empty. `/risk` adds one."
    order = {s: i for i, s in enumerate(STATUSES)}
    rows = sorted(risks, key=lambda r: (order.get(r.status, 9), r.id or 0))
    lines = ["*Risk Tracking Matrix*"]
    for r in rows[:40]:
        owner = f"<@{r.owner}>" if r.owner else "—"
        lines.append(
            f"{STATUS_EMOJI.get(r.status, '')} *{code(r)}* {escape(r.description, 100)} · impact "
            f"{r.impact} · probability {r.probability} · {owner} · {r.status}"
            + (f"\n      _mitigation: {escape(r.mitigation, 150)}_" if r.mitigation else "")
        )
    if len(rows) > 40:
        lines.append(f"…and {len(rows) - 40} more.")
    return clip("\n".join(lines), 3000)

"""What every renderer in bot.blocks shares: escaping user and CI text, Block Kit's limits,
sections packed to fit, mentions and the marks for health and severity."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypedDict
from urllib.parse import urlsplit

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from jobs.messages import mention, mentions, short, visible
from jobs.numbers import Health, pct

__all__ = [
    "HEALTH_EMOJI",
    "MAX_BLOCKS",
    "MENU",
    "NAME_CHARS",
    "SECTION_CHARS",
    "SEVERITY_EMOJI",
    "VALUE",
    "Message",
    "capped",
    "clip",
    "code",
    "code_block",
    "context",
    "esc",
    "escape",
    "fitted",
    "link",
    "mention",
    "mentions",
    "message",
    "more",
    "notice_view",
    "plain",
    "plural",
    "pts",
    "reply",
    "section",
    "sections",
    "short",
    "text_message",
    "web_url",
]


class Message(TypedDict):
    """A rendered message: the fallback `text` and the Block Kit `blocks` (as dicts)."""

    text: str
    blocks: list[dict[str, Any]]


# The action id of every modal input: the block id says which field it is.
VALUE = "value"

SECTION_CHARS = 2900
NAME_CHARS = 300
MAX_BLOCKS = 50
# The options a menu holds, and the groups of options (Slack's limits).
MENU = 100
ELLIPSIS = "…"

HEALTH_EMOJI: dict[str, str] = {
    Health.ON_TRACK: ":large_green_circle:",
    Health.AT_RISK: ":large_yellow_circle:",
    Health.CRITICAL: ":red_circle:",
}
SEVERITY_EMOJI: dict[str, str] = {
    "P0": ":red_circle:",
    "P1": ":large_orange_circle:",
    "P2": ":large_yellow_circle:",
}

# User and CI text goes into mrkdwn (block text and the top-level `text`) only through
# escape (or esc), which shortens what it escapes to fit; mrkdwn already built is
# shortened with clip, which never cuts an entity, a mention or a link in half. Headers
# and button labels are plain_text: shortened with short, never escaped.

# What must never be cut in half: Slack's three entities, and a whole `<…>` sequence the
# bot wrote (a mention, a link, a date).
_ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")

# Bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): one left open
# in someone's text reorders whatever follows it on the line, the bot's own words too.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def escape(text: str, limit: int | None = None) -> str:
    """User or CI text for mrkdwn and the top-level `text`, per Slack's "Escaping text":
    `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, so `<!channel>`, `<@U…>` and
    `<url|label>` show as typed and notify or link no one. Bidi embeddings, overrides and
    isolates are left out, so the text cannot turn around the bot's text after it (the
    marks LRM and RLM, which reorder nothing past themselves, stay). With `limit`,
    shortened so that the *escaped* text fits (ending "…" when cut), never splitting an
    entity.

    The one function for such text: escape after shortening, never before."""
    out = text.translate(_BIDI_CONTROLS)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return out if limit is None else clip(out, limit)


def unescape(text: str) -> str:
    """Text Slack sent escaped (a slash command's: `&`, `<` and `>`, and nothing else) as
    it was typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def esc(text: object, limit: int | None = None) -> str:
    """escape() of any value's str()."""
    return escape(str(text), limit)


def line(text: str, limit: int | None = None) -> str:
    """User text inside one line of the bot's (a list's item, a report's line): escaped as
    `escape` does, its line breaks and runs of spaces one space each. Kept, a description
    typed over two lines began a line of its own, which read as the bot's: a second
    blocker's item "• *B-002* P0 …" in `/blocker list` (found by review)."""
    return escape(" ".join(text.split()), limit)


def code(text: str, limit: int | None = None) -> str:
    """User or CI text (a test's id, a run, a commit) as an inline code span `` `text` ``,
    escaped. mrkdwn has no way to escape a backtick, and one would end the span early
    (the rest then read as the bot's formatting), so each is shown as `'`; a character
    that draws nothing is shown as its escape (`jobs.messages.visible`). With `limit`, the
    text inside the backticks is shortened to fit it."""
    return "`" + escape(visible(text.replace("`", "'")), limit) + "`"


_ZWSP = "\u200b"
# Runs of backticks in a code block's text, and one at either end (beside the fence):
# where a zero-width space goes so that no three backticks ever meet.
_FENCE = re.compile(r"(?<=`)(?=`)|\A(?=`)|(?<=`)\Z")


def code_block(text: str, limit: int) -> str:
    """User or CI text (a failure message) as a ```code block```, escaped and shortened to
    `limit` characters. A ``` in it would close the block early (the rest then read as
    the bot's own mrkdwn), so a zero-width space goes between backticks that meet: the
    text looks as it was, and only the bot's fences are fences."""
    return f"```{escape(_FENCE.sub(_ZWSP, text), limit)}```"


# A mention the bot writes (`jobs.messages.mention`): of a user, or of a user group.
OWN_MENTION = re.compile(r"<@(?P<user>[UW][A-Z0-9]+)>|<!subteam\^(?P<group>S[A-Z0-9]+)>")


def reply(text: str, typed: str = "") -> str:
    """A message of the bot's own that may quote what someone typed (`typed`: an error
    saying what was wrong with it), for mrkdwn: the mentions of people and user groups
    the bot wrote (`<@U…>`, `<!subteam^S…>`, e.g. who may do what) stay; every other
    `<…>` — a broadcast, a link, a mention as it was typed — shows as typed. (A typed
    `<@U…>` quoted back was drawn as a mention; found by review.) It is shown only to
    whoever typed it."""
    out, last = [], 0
    for m in OWN_MENTION.finditer(text):
        if m.group() in typed:
            continue
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


def pieces(mrkdwn: str, limit: int) -> list[str]:
    """Already-escaped mrkdwn in pieces of at most `limit` characters, whole: each cut at
    the last line end or space before the limit where there is one, never inside an entity
    or a `<…>` mention or link."""
    out: list[str] = []
    while len(mrkdwn) > limit:
        cut = limit
        for m in _ATOM.finditer(mrkdwn, 0, limit + 10):
            if m.start() >= cut:
                break
            if m.end() > cut:
                cut = m.start()
                break
        space = max(mrkdwn.rfind("\n", 0, cut), mrkdwn.rfind(" ", 0, cut))
        if space > limit // 2:
            cut = space + 1
        out.append(mrkdwn[:cut].rstrip())
        mrkdwn = mrkdwn[cut:]
    return [*out, mrkdwn]


def named(name: str, rest: str, limit: int = 150) -> str:
    """A header's text: a name (the sprint's, a team's) and what follows it, the name
    shortened so that the rest fits whole (a long sprint name cut "Day 3 of 14" off
    `/sprint` and App Home; found by review)."""
    return short(name, max(limit - len(rest), 1)) + short(rest, limit - 1)


def as_queued(at: str) -> str:
    """A time a message's data holds, on the team's clock it was queued in (one queued in
    UTC, before times were the team's, says so)."""
    when = datetime.fromisoformat(at)
    shown = when.strftime("%a %d %b %H:%M")
    return f"{shown} UTC" if when.utcoffset() == timedelta(0) else shown


def local_time(at: datetime, tz: tzinfo) -> str:
    """An instant as the team's surfaces show it: on the team's clock ("Thu 06 Nov 00:30").
    (A quarantine's end said in UTC beside the listing's local one gave another day for a
    team east of UTC; found by review.)"""
    return at.astimezone(tz).strftime("%a %d %b %H:%M")


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


def message(text: str, blocks: list[Block]) -> Message:
    """Text and blocks within Slack's limits: past 50 blocks the tail is cut, and the
    last block says how much and where the rest is."""
    kept = capped(blocks, "`/readiness`, App Home and `sprintbot export tracker` show it all")
    return {"text": clip(text, 3000), "blocks": [b.to_dict() for b in kept]}


def capped(blocks: list[Block], elsewhere: str) -> list[Block]:
    """At most Slack's 50 blocks: past them the tail is cut, and the last block says how
    much did not fit and where it is shown whole (`elsewhere`)."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    cut = len(blocks) - (MAX_BLOCKS - 1)
    return [
        *blocks[: MAX_BLOCKS - 1],
        context(f"_{cut} more sections did not fit in one Slack message; {elsewhere}._"),
    ]


def section(mrkdwn: str) -> SectionBlock:
    """One mrkdwn section (the caller keeps it within SECTION_CHARS)."""
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn))


def text_message(mrkdwn: str) -> Message:
    """A one-section message whose fallback text is the section's."""
    return message(mrkdwn, [section(mrkdwn)])


def sections(lines: list[str]) -> list[SectionBlock]:
    """Pack mrkdwn lines into as few sections as fit Slack's 3,000-character limit."""
    out: list[str] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        line = clip(line, SECTION_CHARS)
        if chunk and size + len(line) + 1 > SECTION_CHARS:
            out.append("\n".join(chunk))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    out.append("\n".join(chunk))
    # (A blank line between two full ones was a section of its own: Slack refuses an
    # empty text, invalid_blocks, and the message was never posted.)
    # (A chunk starting or ending at a blank line between groups shows it as a gap.)
    return [section(text.strip("\n")) for text in out if text.strip()]


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something: what a repeated submission is answered with."""
    return View(type="modal", title=title, close="Close", blocks=[section(text)]).to_dict()


def context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(mrkdwn, SECTION_CHARS))])


def team_value(value: str, team: str | None, sprint: str | None = None) -> str:
    """A button's value, with the team it acts for where several teams could be meant (a
    channel two teams use) and the sprint (its start date) whose message it is on, so that
    a click after the next sprint started still acts for it: `bot.routing` routes by them,
    `bot.routing.button_value` reads the value. Neither: the plain value, as always."""
    if not team and not sprint:
        return value
    stated = {"team": team} if team else {}
    return json.dumps({**stated, **({"sprint": sprint} if sprint else {}), "value": value})


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def fitted(head: str, rows: list[str], total: int, limit: int = 3000) -> str:
    """`head`, then as many of `rows` as fit whole in `limit` characters, then "…and N
    more." for the `total` not shown (rows left out to fit among them): a list clipped
    as a whole would end part-way through a row and lose the line saying how many more."""
    # Room kept for the last line at its longest.
    room = limit - len(f"\n…and {total} more.")
    lines, size = [head], len(head)
    for row in rows:
        shown = len(lines) - 1
        end = room if shown + 1 < total else limit  # the last of all needs no "more" line
        if size + 1 + len(row) > end:
            break
        lines.append(row)
        size += 1 + len(row)
    left = total - (len(lines) - 1)
    return "\n".join(lines + ([f"…and {left} more."] if left else []))


def more(shown: int, total: int, where: str, what: str = "") -> list[str]:
    """ "+2 more — where" ("+2 more blockers — where"): a list never drops its tail
    silently."""
    return (
        [f"_+{total - shown} more{f' {what}' if what else ''} — {where}_"] if total > shown else []
    )


def pts(x: float) -> str:
    """A change in percentage points, signed: "+1.5"."""
    return pct(x, signed=True).removesuffix(" %")


NO_TEST_RESULTS = "no test results yet"


def tests_passing(
    passed: int,
    known: int,
    pass_rate: float | None,
    *,
    target: float | None = None,
    flaky: int = 0,
    said: str = "",
) -> str:
    """The "Tests passing" figure as every surface writes it: "12/13 (92.31 %, target
    95 %) · 1 flaky" (thousands grouped; a test that passed only on a re-run is neither
    passing nor failing, so the flaky ones are said beside it), or that there is none;
    `said` after the count in a sentence ("12/13 tests passing (92.31 %)")."""
    if not known:
        return NO_TEST_RESULTS
    target_text = f", target {pct(target)}" if target is not None else ""
    return f"{passed:,}/{known:,}{said} ({pct(pass_rate)}{target_text})" + (
        f" · {flaky:,} flaky" if flaky else ""
    )


def run_counts(run: Any) -> str:
    """A CI run's tests as App Home's "Last CI run" and the daily report's "last:" say them:
    "5 passed, 0 failed, 0 skipped · 1 flaky" (a test that passed only on a re-run is in
    none of the three; left out, a run's tests did not add up; found by review)."""
    flaky = run.get("flaky") or 0
    return f"{run['passed']:,} passed, {run['failed']:,} failed, {run['skipped']:,} skipped" + (
        f" · {flaky:,} flaky" if flaky else ""
    )

"""Slack messages as terminal text: what `sprintbot demo` prints instead of posting."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

EMOJI = {
    "white_check_mark": "✔",
    "x": "✘",
    "red_circle": "●",
    "large_orange_circle": "●",
    "large_yellow_circle": "●",
    "large_green_circle": "●",
    "small_orange_diamond": "◆",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⌛",
    "rotating_light": "!",
    "warning": "!",
    "tada": "*",
}
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<[@#]([A-Z0-9]+)(?:\|[^>]*)?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_CODE = re.compile(r"\n?```(.*?)```", re.DOTALL)
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def mrkdwn(text: str) -> str:
    """Slack mrkdwn to plain text: links, mentions, emoji, bold and italics."""
    text = _LINK.sub(r"\2 (\1)", text)
    text = _MENTION.sub(r"@\1", text)
    text = _GROUP.sub(r"@\1", text)
    text = _SPECIAL.sub(r"@\1", text)
    text = _CODE.sub(
        lambda m: "\n" + "\n".join("    " + ln for ln in m.group(1).splitlines()), text
    )
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), ""), text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _indent(block: str) -> str:
    return "\n".join("    " + line for line in block.splitlines())


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return mrkdwn(str(obj.get("text", "")))
    return mrkdwn(str(obj or ""))


def to_text(message: Mapping[str, Any], *, width: int = 78) -> str:
    """A message's blocks (or its text, when it has none) as readable lines."""
    blocks = message.get("blocks") or []
    if not blocks:
        return mrkdwn(str(message.get("text", "")))
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            title = _text(b["text"])
            out += ["", title, "=" * min(len(title), width)]
        elif kind == "section":
            if b.get("text"):
                out.append(_text(b["text"]).strip())
            for f in b.get("fields") or []:
                label, _, value = _text(f).partition("\n")
                out.append(f"  {label}: {value}" if value else f"  {label}")
        elif kind == "context":
            out.append("  " + " ".join(_text(e) for e in b.get("elements") or []))
        elif kind == "divider":
            out.append("-" * width)
        elif kind == "actions":
            out.append(
                "  " + "  ".join(f"[{_text(e.get('text'))}]" for e in b.get("elements") or [])
            )
        elif kind == "image":
            out.append(f"  [image: {b.get('alt_text', '')}]")
    return "\n".join(out).strip("\n")

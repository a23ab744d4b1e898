"""Block Kit's documented limits, checked on a message or view as Slack would refuse it."""

from __future__ import annotations

import json
from typing import Any


def _text(obj: Any) -> str:
    return (obj or {}).get("text", "") if isinstance(obj, dict) else (obj or "")


def slack_limits(surface: dict[str, Any], *, view: bool = False) -> list[str]:
    """What Slack refuses in a message or view (Block Kit's documented limits)."""
    out: list[str] = []
    if view:
        for key in ("title", "submit", "close"):
            if len(_text(surface.get(key))) > 24:
                out.append(f"view {key} over 24: {len(_text(surface.get(key)))}")
        if len(surface.get("private_metadata") or "") > 3000:
            out.append("private_metadata over 3000")
    blocks = surface.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > (100 if view else 50):
        out.append(f"{len(blocks)} blocks")
    if len(surface.get("text") or "") > 40000:
        out.append("text over 40000")

    def element(e: dict[str, Any], where: str) -> None:
        if len(e.get("action_id") or "") > 255:
            out.append(f"{where}: action_id over 255")
        if e.get("type") == "button":
            if len(_text(e.get("text"))) > 75:
                out.append(f"{where}: button text {len(_text(e.get('text')))} > 75")
            if len(e.get("value") or "") > 2000:
                out.append(f"{where}: button value over 2000")
        options = list(e.get("options") or [])
        if e.get("initial_option"):
            options.append(e["initial_option"])
        options += list(e.get("initial_options") or [])
        if len(e.get("options") or []) > 100:
            out.append(f"{where}: over 100 options")
        for o in options:
            if len(_text(o.get("text"))) > 75:
                out.append(f"{where}: option text {len(_text(o.get('text')))} > 75")
            if len(o.get("value") or "") > 150:
                out.append(f"{where}: option value {len(o.get('value') or '')} > 150")
        if len(_text(e.get("placeholder"))) > 150:
            out.append(f"{where}: placeholder over 150")
        iv = e.get("initial_value")
        if isinstance(iv, str) and e.get("max_length") and len(iv) > int(e["max_length"]):
            out.append(f"{where}: initial_value {len(iv)} > max_length {e['max_length']}")

    for i, b in enumerate(blocks):
        where = f"block {i} ({b.get('type')})"
        if len(b.get("block_id") or "") > 255:
            out.append(f"{where}: block_id over 255")
        t = b.get("type")
        if t == "section":
            if len(_text(b.get("text"))) > 3000:
                out.append(f"{where}: text {len(_text(b.get('text')))} > 3000")
            fields = b.get("fields") or []
            if not fields and not _text(b.get("text")).strip():
                out.append(f"{where}: empty text")  # (Slack: at least 1 character)
            if len(fields) > 10:
                out.append(f"{where}: {len(fields)} fields")
            for f in fields:
                if len(_text(f)) > 2000:
                    out.append(f"{where}: field {len(_text(f))} > 2000")
            if b.get("accessory"):
                element(b["accessory"], where)
        elif t == "header":
            if len(_text(b.get("text"))) > 150:
                out.append(f"{where}: header {len(_text(b.get('text')))} > 150")
        elif t == "context":
            if len(b.get("elements") or []) > 10:
                out.append(f"{where}: {len(b['elements'])} elements")
            for e in b.get("elements") or []:
                if len(_text(e)) > 3000:
                    out.append(f"{where}: element text over 3000")
        elif t == "actions":
            if len(b.get("elements") or []) > 25:
                out.append(f"{where}: over 25 elements")
            for e in b.get("elements") or []:
                element(e, where)
        elif t == "input":
            if len(_text(b.get("label"))) > 2000:
                out.append(f"{where}: label over 2000")
            if len(_text(b.get("hint"))) > 2000:
                out.append(f"{where}: hint over 2000")
            if b.get("element"):
                element(b["element"], where)
    return out

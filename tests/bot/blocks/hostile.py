"""Hostile user and CI text, and the check that a message carrying it is safe and fits."""

from __future__ import annotations

from typing import Any

from tests.support.e2e import strings
from tests.support.fakeslack import block_problem

LONG = "x" * 400
FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^SX>", "<https://evil", "<@U0X>")
HOSTILE = "<!channel> <!here> <!everyone> <!subteam^SX> <https://evil|click> <@U0X> "
TRACE = "  at <module> <lambda> (<&>) Map<K,List<V>> a&&b >>= c <<&>>\n"
SMUGGLED_URL = "https://ci/1><!channel><https://evil|Re-run>"


def hostile(length: int = 1990) -> str:
    """Under the 2,000-character input limit, more than twice as long once escaped."""
    return (HOSTILE + TRACE * (length // len(TRACE) + 1))[:length]


def assert_safe(message: dict[str, Any], *, view: bool = False) -> None:
    """No raw mention or forged link anywhere; every text within Block Kit's limits."""
    for text in strings(message):
        for raw in (*FORBIDDEN, SMUGGLED_URL):
            assert raw not in text, (raw, text[:200])
    assert len(message["text"]) <= 3000
    args = {"view": {"type": "home", "blocks": message["blocks"]}} if view else message
    assert block_problem(args) is None
    for b in message["blocks"]:
        assert all(len(f["text"]) <= 2000 for f in b.get("fields") or [])
        if b["type"] == "context":
            assert all(len(e.get("text") or "") <= 3000 for e in b["elements"])

"""A blocker's description typed over several lines (the form's field is multiline) is put
as it is into one-line list items: in `/blocker list` and the daily report, its own lines
read as the bot's, e.g. a forged ":white_check_mark: No open blockers." item, and the bot's
"(owner, age, step)" lands after the last line of someone else's text (found by review).
Within one line, the text is one line too."""

from __future__ import annotations

import json

from tests.support.e2e import T0, at, blocker_form_values, posts, view_submit
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

FORGED = "*B-002* P0 · Swarm Coordination — consensus lost"
DESCRIPTION = f"OOM in eviction\n• {FORGED}"


def _lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.split("\n") if needle in line]


def test_a_multiline_description_cannot_forge_list_items(server: Server) -> None:
    at(server, T0)
    assert view_submit(server, "blocker", "U0DEV", blocker_form_values(DESCRIPTION)).text == ""
    listeners_done()
    listed = slash(server.url, "/blocker", "list", user_id="U0DEV").json()["text"]
    ok = slash(server.url, "/sprint", "report", user_id="U0TECHLEAD").json()
    assert ok["text"].startswith("Posting today's daily report"), ok
    listeners_done()
    server.runtime.sender.drain()
    report = next(p for p in posts(server) if p.args.get("channel") == "#sprint-status")
    blocks = report.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    report_text = "\n".join(
        b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b
    )
    # Only one blocker is open: no line of either answer may start like a second one.
    forged_list = [x for x in listed.split("\n") if "*B-002*" in x and "*B-001*" not in x]
    # (The typed text is in B-001's item, on its line.)
    forged_report = [x for x in report_text.split("\n") if "*B-002*" in x and "*B-001*" not in x]
    assert forged_list == [] and forged_report == [], (forged_list, forged_report)

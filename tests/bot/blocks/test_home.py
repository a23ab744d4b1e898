"""App Home by value: the live dashboard a user sees when opening the tab."""

from __future__ import annotations

from bot.blocks.home import app_home
from tests.bot.blocks.data import HOME


def test_home_shows_groups_burn_down_chart_blockers_risks_standups_and_the_last_run() -> None:
    message = app_home(HOME)
    assert message["text"] == "Sprint 4 — Day 3 of 14"
    blocks = message["blocks"]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert texts[0] == (
        "*Breakdown by group*\n:white_check_mark: Code (2) — 92 % of 90 %\n"
        ":small_orange_diamond: Docs (1) — n/a of 80 %"
    )
    chart = next(b for b in blocks if b["type"] == "image")
    assert chart["slack_file"] == {"id": "F0CHART"}
    assert "*Open risks*\n• *R-001* Active (High impact, Low probability) — Vendor late" in texts
    assert "*Today's standups*: 3 of 5; yours is still due — `/standup`" in texts
    assert texts[-1] == (
        "*Last CI run* `ci-7` at Thu 30 Oct 08:15 UTC · 1,900 passed, 100 failed, 5 skipped · "
        "commit `abcdef123456` · <https://ci/7|CI run>"
    )
    assert blocks[-1]["elements"][0]["text"] == "Updated Thu 30 Oct 09:00 UTC"


def test_home_before_any_ci_run_or_risk_says_so() -> None:
    message = app_home({**HOME, "last_run": None, "risks": [], "chart_file": None})
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]
    assert "*Open risks*: none open" in texts and "*Last CI run*: none yet" in texts
    assert not any(b["type"] == "image" for b in message["blocks"])

"""Reports by value: within Block Kit's limits whatever the sprint's size, saying when
they cut, and safe with hostile text."""

from __future__ import annotations

import copy
from typing import Any

from bot.blocks import render as render_payload
from bot.blocks.home import app_home
from bot.blocks.reports import change_list, daily_report, sprint_status, weekly_report
from jobs.messages import VERSIONS, Template
from jobs.reports import ChangeList
from tests.bot.blocks.data import STATUS
from tests.bot.blocks.hostile import HOSTILE, LONG, SMUGGLED_URL, assert_safe, hostile
from tests.support.fakeslack import block_problem


def test_real_reports_fit_and_end_with_their_footer(demo_data: dict[str, Any]) -> None:
    for render, data in (
        (daily_report, demo_data["daily"]),
        (weekly_report, demo_data["weekly"]),
    ):
        message = render(data)
        assert block_problem({"blocks": message["blocks"]}) is None
        last = message["blocks"][-1]["elements"][0]["text"]
        assert last == "The burn-down chart is in the thread."
    home = app_home(demo_data["home"])
    assert block_problem({"view": {"type": "home", "blocks": home["blocks"]}}) is None


def test_a_huge_sprint_is_cut_to_fit_and_says_so(demo_data: dict[str, Any]) -> None:
    d = dict(demo_data["weekly"])
    d["dashboard"] = [
        {
            "name": f"Group {g} {LONG}",
            "weight": 1,
            "score": 50.0,
            "target": 90.0,
            "components": [
                {"name": f"C{g}.{c} {LONG}", "weight": 1, "score": 50.0, "target": 90.0}
                for c in range(30)
            ],
        }
        for g in range(40)
    ]
    d["risk_assessment"] = [
        {
            "code": f"R-{i:03d}",
            "status": "Active",
            "impact": "High",
            "probability": "High",
            "owner": "U1",
            "mitigation": LONG,
            "description": LONG,
        }
        for i in range(10)
    ]
    message = weekly_report(d)
    assert block_problem({"blocks": message["blocks"]}) is None
    assert len(message["blocks"]) == 50
    texts = [b.get("text", {}).get("text", "") for b in message["blocks"]]
    assert any(t.startswith("*Forecast*") for t in texts)  # the decisions come first
    last = message["blocks"][-1]["elements"][0]["text"]
    assert last.endswith("`sprintbot export tracker` show it all._")
    assert "more sections did not fit in one Slack message" in last


def test_terminal_text_is_readable(demo_data: dict[str, Any]) -> None:
    from bot.terminal import mrkdwn, to_text

    assert mrkdwn("*B-001* <@U1> :red_circle: <https://ci/1|CI run> a &lt; b") == (
        "B-001 @U1 ● CI run (https://ci/1) a < b"
    )
    assert mrkdwn("`t::x`\n```AssertionError\nassert 1```") == (
        "`t::x`\n    AssertionError\n    assert 1"
    )
    text = to_text(daily_report(demo_data["daily"]))
    assert text.splitlines()[0] == "Daily report — Day 7 of 14, 2025-11-04"
    r = demo_data["daily"]["readiness"]
    assert f"  Health: ● {r['health']}" in text
    # Health never comes without its reason, nor the plan without where it comes from.
    assert f"  {r['health']}: {r['health_reason']} · {r['plan_note']}" in text


def test_reports_and_home_with_hostile_text_fit(demo_data: dict[str, Any]) -> None:
    """Blockers, risks and the last CI run as the daily and weekly reports and App Home
    show them."""
    blockers = [
        {
            "code": f"B-{i:03d}",
            "severity": "P0",
            "component": HOSTILE,
            "description": hostile(120),
            "age": "1h",
            "level": 1,
        }
        for i in range(10)
    ]
    risks = [
        {
            "code": f"R-{i:03d}",
            "status": "Active",
            "impact": "High",
            "probability": "High",
            "owner": "U1",
            "mitigation": hostile(),
            "description": hostile(),
        }
        for i in range(10)
    ]
    daily = {**demo_data["daily"], "blockers": blockers, "blocker_count": 10, "risks": risks}
    assert_safe(daily_report(daily))
    weekly = {**demo_data["weekly"], "blockers": blockers, "blocker_count": 10}
    assert_safe(weekly_report({**weekly, "risk_assessment": risks}))
    home = dict(demo_data["home"])
    home.update(blockers=blockers, blocker_count=10, risks=risks)
    home["last_run"] = {
        **(home.get("last_run") or {}),
        "run": "ci-1",
        "at": "2025-10-31T13:00:00+00:00",
        "passed": 1,
        "failed": 0,
        "skipped": 0,
        "commit": "abc",
        "url": SMUGGLED_URL,
    }
    assert_safe(app_home(home), view=True)


def test_the_change_list_names_every_test_of_each_kind_that_changed() -> None:
    message = change_list(
        ChangeList(date="2025-11-03", regressed=["t::a"], new_failures=[], fixed=["t::b", "t::c"])
    )
    assert message["text"] == "Every test that changed on 2025-11-03"
    assert [b["text"]["text"] for b in message["blocks"]] == [
        "*Every test that changed on 2025-11-03*\n*Regressed (1)*\n• `t::a`\n"
        "*Tests fixed (2)*\n• `t::b`\n• `t::c`"
    ]


def test_sprint_status_heads_with_readiness_and_lists_burn_down_tests_and_blockers() -> None:
    message = sprint_status(STATUS)
    assert message["text"] == "Sprint 4 — Day 3 of 14: readiness 81.5 % (plan 78 %), On Track"
    head, facts, why, body, foot = message["blocks"]
    assert head["text"]["text"] == "Sprint 4 — Day 3 of 14"
    assert [f["text"] for f in facts["fields"]] == [
        "*Readiness*\n81.5 % (+1.5 pts since yesterday)",
        "*Plan today / target*\n78 % / 90 %",
        "*Health*\n:large_green_circle: On Track",
        "*Tests passing*\n1,900/2,000 (95 %, target 98 %)",
    ]
    assert why["elements"][0]["text"] == "*On Track*: ahead of plan · linear plan"
    assert body["text"]["text"].splitlines() == [
        "*Burn-down*: 100 failing now (plan for today 120, target 40) · 210 fixed this sprint "
        "· 60 to go",
        "*Tests*: 100 failing now (target 40; baseline 300) · fixed this sprint 210 · "
        "regressions introduced 12, open 3 · new failures open 2",
        "*Open blockers (2)*",
        ":red_circle: *B-001* P0 · Core — CI &lt;down&gt; (2h, step 1)",
        "_+1 more — `/blocker list` shows them all_",
    ]
    assert foot["elements"][0]["text"].startswith("`/sprint report` posts today's report")


def test_a_daily_report_queued_by_the_version_before_still_renders(
    demo_data: dict[str, Any],
) -> None:
    """A report queued (the outbox) before the standups line named its day and the
    changes their first day, and sent after an upgrade: it renders as it would have (it
    failed for good with a KeyError, and the day's report was lost)."""
    old = copy.deepcopy(demo_data["daily"])
    old["standups"] = {"answered": 1, "expected": 2, "missing": ["U0DEV2"]}
    del old["yesterday"]["since"]
    payload = {"template": "daily_report", "v": VERSIONS[Template.DAILY_REPORT], "data": old}
    shown = str(render_payload(payload)["blocks"])
    assert "Standups yesterday: 1 of 2; missing <@U0DEV2>" in shown
    assert f"*Yesterday ({old['yesterday']['date']})*" in shown

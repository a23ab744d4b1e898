"""Reports stay within Block Kit's limits whatever the sprint's size, and say when they cut."""

from __future__ import annotations

from typing import Any

import pytest

from bot.demo import build
from bot.templates import app_home, daily_report, weekly_report
from jobs import reports
from jobs.config import Sprint
from storage.db import Database
from storage.migrate import upgrade
from tests.fakeslack import block_problem

LONG = "x" * 400


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory, example: Sprint) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.db"
    upgrade(url)
    db = Database.from_url(url)
    demo = build(example, db)
    now = demo.at(7, example.schedule.daily_report)
    with db.session() as s:
        data = {
            "daily": reports.daily_report(session=s, sprint=example, participants=[], now=now),
            "weekly": reports.weekly_report(session=s, sprint=example, participants=[], now=now),
            "home": reports.home(
                session=s, sprint=example, now=now, user_id="U0DEV1", participants=[]
            ),
        }
    db.dispose()
    return data


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


# -- the regression alert's readiness line ------------------------------------------------

MINUS = "\u2212"


def alert_data(**impact: Any) -> dict[str, Any]:
    return {
        "branch": "main",
        "commit": "abc123",
        "count": 6,
        "tests": [{"id": f"t::{i}", "component": "Core"} for i in range(6)],
        "alert_id": 1,
        "readiness": {"score": 79.0, "previous": 78.47},
        "impact": impact or None,
    }


def test_regression_alert_states_the_cost_apart_from_the_fixes() -> None:
    from bot.templates import regression_alert, regression_email

    d = alert_data(
        before=78.47,
        after=79.0,
        net=0.53,
        regressed={"count": 6, "points": -1.2},
        fixed={"count": 12, "points": 1.7},
        new_failures={"count": 2, "points": -0.3},
    )
    line = (
        f"6 regressed ({MINUS}1.2 pts), 12 fixed (+1.7 pts), 2 new failures ({MINUS}0.3 pts): "
        "net +0.53 pts (78.47 % → 79 %)"
    )
    message = regression_alert(d)
    assert block_problem({"blocks": message["blocks"]}) is None
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert texts[0] == f"*Readiness:* {line}"
    assert message["text"] == f"6 tests regressed on main: {line} (branch `main` · commit `abc123`)"
    _, body = regression_email(d)
    assert f"Readiness: {line}" in body.splitlines()


def test_regression_alert_line_leaves_out_kinds_with_no_tests() -> None:
    from bot.templates import regression_alert

    d = alert_data(
        before=80.0,
        after=79.0,
        net=-1.0,
        regressed={"count": 6, "points": -1.004},
        fixed={"count": 0, "points": 0.0},
        new_failures={"count": 0, "points": 0.0},
    )
    texts = [b["text"]["text"] for b in regression_alert(d)["blocks"] if b["type"] == "section"]
    assert texts[0] == f"*Readiness:* 6 regressed ({MINUS}1 pt): net {MINUS}1 pt (80 % → 79 %)"
    d["impact"]["regressed"]["points"] = 0.0  # tests outside every component
    d["impact"]["net"] = 0.001
    texts = [b["text"]["text"] for b in regression_alert(d)["blocks"] if b["type"] == "section"]
    assert texts[0].startswith("*Readiness:* 6 regressed (0 pts): net 0 pts")


def test_regression_alert_queued_before_the_impact_shows_readiness_as_it_did() -> None:
    from bot.templates import regression_alert

    message = regression_alert(alert_data())
    assert message["text"] == (
        "6 tests regressed on main (branch `main` · commit `abc123` · "
        "readiness 78.47 % → 79 % (+0.53 pts))"
    )
    assert not any("*Readiness:*" in str(b) for b in message["blocks"])

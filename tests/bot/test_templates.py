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
from tests.e2e.test_mentions import strings
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


# -- hostile text (issue 12, faults 2 and 4) ---------------------------------------------

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


def blocker_data(**extra: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "code": "B-001",
        "severity": "P0",
        "component": "Swarm Coordination",
        "description": hostile(),
        "reporter": "U0DEV",
        "owner": "U0ANA",
        "age": "2h",
        "level": 1,
        "levels": 4,
        "step": "Daily standup discussion",
        "target": HOSTILE[:100],
        **extra,
    }


def test_a_hostile_blocker_fits_and_notifies_no_one() -> None:
    """Fault 2: a 1,990-character stack trace used to grow past the section's 3,000
    characters once escaped (SlackObjectFormationError, the message never sent); fault 4:
    the raw description went into the top-level `text`."""
    from bot.templates import blocker, blocker_resolved

    message = blocker(blocker_data())
    assert_safe(message)
    assert message["text"].startswith("B-001 P0 · Swarm Coordination: &lt;!channel&gt;")
    section = message["blocks"][0]["text"]["text"]
    assert "&lt;https://evil|click&gt;" in section and section.endswith("…")
    # The bot's own mentions still work.
    assert "<@U0DEV>" in str(message["blocks"]) and "<@U0ANA>" in str(message)

    done = blocker_data(
        resolved_at="2025-10-31T15:00:00+00:00",
        resolved_by="U0ANA",
        took="2h",
        resolution=hostile(),
    )
    for message in (blocker(done), blocker_resolved(done)):
        assert_safe(message)
        assert "<@U0ANA>" in str(message)
    struck = blocker(done)["blocks"][0]["text"]["text"]
    assert struck.split("\n", 1)[1].startswith("~&lt;!channel&gt;") and struck.endswith("~")


def test_hostile_risks_standups_and_steps_fit_and_notify_no_one() -> None:
    from bot.templates import blocker_step, risk_change, standup_day, standup_reply

    risk = {
        "code": "R-001",
        "description": hostile(),
        "mitigation": hostile(),
        "impact": "High",
        "probability": "High",
        "owner": "U0DEV",
        "status": "Critical",
        "user": "U0DEV",
        "change": "created",
    }
    assert_safe(risk_change(risk))
    assert_safe(blocker_step({**blocker_data(), "step_index": 2, "step_name": HOSTILE, "by": "U1"}))
    answers = {
        "notes": hostile(),
        "focus_areas": hostile(),
        "help_needed": hostile(),
        "current_blockers": [("P0", hostile())],
        "new_risks": [hostile()],
        "action_items": [{"item": hostile(), "owner": "<@U0X>", "due": HOSTILE}],
    }
    metrics = {"passed": 1, "known": 2, "pass_rate": 50.0, "readiness": 70.0, "health": "At Risk"}
    reply = standup_reply(
        {"answers": answers, "metrics": metrics, "user": "U0DEV", "sprint_day": 3, "days": 14}
    )
    assert_safe(reply)
    day = {
        "sprint_day": 3,
        "days": 14,
        "day": "2025-10-31",
        "answered": ["U0DEV"],
        "expected": 2,
        "missing": ["U0ANA"],
        "away": [],
        "blockers": [{"user": "U0DEV", "text": hostile()}] * 5,
        "help": [{"user": "U0DEV", "text": hostile()}] * 5,
    }
    digest = standup_day(day)
    assert_safe(digest)
    assert "Missing: <@U0ANA>" in str(digest)


def test_a_smuggled_ci_link_is_no_link_and_ci_text_is_escaped() -> None:
    """Fault 4: a `url=` stored before links were checked, test names and failure messages
    from CI carry no mention or forged link into the alert, its text or its e-mail."""
    from bot.templates import alert_resolved, regression_alert, regression_list, render_email

    tests = [
        {"id": f"{HOSTILE}::t{i}", "component": HOSTILE, "message": hostile()} for i in range(3)
    ]
    d = {**alert_data(), "count": 3, "tests": tests, "url": SMUGGLED_URL}
    message = regression_alert(d)
    assert_safe(message)
    assert "CI run" in str(message) and "<https://ci/1" not in str(message)
    assert_safe(alert_resolved(d))
    assert_safe(regression_list({"start": 0, "count": 3, "tests": tests}))
    subject, body = render_email("regression_email", {**d, "branch": "main"})
    for raw in FORBIDDEN:
        assert raw not in body and raw not in subject
    # Plain text: no entities in the e-mail, the trace as it was.
    assert "&lt;" not in body and "a&&b >>= c <<&>>" in body

    good = {**d, "url": "https://ci.example.com/runs/2?a=1&b=2"}
    assert "<https://ci.example.com/runs/2?a=1&amp;b=2|CI run>" in regression_alert(good)["text"]


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

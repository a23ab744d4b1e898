"""Alerts by value: the regression alert's readiness line, hostile CI text."""

from __future__ import annotations

from typing import Any

from bot.blocks import render_email
from bot.blocks.alerts import (
    alert_acked,
    alert_followup,
    alert_resolved,
    decline_notice,
    emergency_standup,
    performance_alert,
    performance_resolved,
    regression_alert,
    regression_email,
    regression_list,
)
from bot.blocks.alerts import tests_muted as muted  # not collected as a test
from bot.blocks.common import Message
from bot.ids import Action
from jobs.notices import (
    AlertFollowup,
    AlertResolved,
    DeclineShown,
    EmergencyStandup,
    FellComponent,
    MutedTests,
    PerformanceShown,
    UserCount,
)
from tests.bot.blocks.hostile import FORBIDDEN, HOSTILE, SMUGGLED_URL, assert_safe, hostile
from tests.support.fakeslack import block_problem

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
    message = regression_alert(alert_data())
    assert message["text"] == (
        "6 tests regressed on main (branch `main` · commit `abc123` · "
        "readiness 78.47 % → 79 % (+0.53 pts))"
    )
    assert not any("*Readiness:*" in str(b) for b in message["blocks"])


def test_a_smuggled_ci_link_is_no_link_and_ci_text_is_escaped() -> None:
    """Fault 4: a `url=` stored before links were checked, test names and failure messages
    from CI carry no mention or forged link into the alert, its text or its e-mail."""
    tests = [
        {"id": f"{HOSTILE}::t{i}", "component": HOSTILE, "message": hostile()} for i in range(3)
    ]
    d = {**alert_data(), "count": 3, "tests": tests, "url": SMUGGLED_URL}
    message = regression_alert(d)
    assert_safe(message)
    assert "CI run" in str(message) and "<https://ci/1" not in str(message)
    assert_safe(alert_resolved(d))
    assert_safe(regression_list({"start": 0, "count": 3, "tests": tests}))
    subject, body = render_email({"template": "regression_email", "data": {**d, "branch": "main"}})
    for raw in FORBIDDEN:
        assert raw not in body and raw not in subject
    # Plain text: no entities in the e-mail, the trace as it was.
    assert "&lt;" not in body and "a&&b >>= c <<&>>" in body

    good = {**d, "url": "https://ci.example.com/runs/2?a=1&b=2"}
    assert "<https://ci.example.com/runs/2?a=1&amp;b=2|CI run>" in regression_alert(good)["text"]


# -- by value: what the team sees ---------------------------------------------------------


def section_texts(message: Message) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] in ("section", "header")]


def test_a_follow_up_pings_each_tech_lead_person_or_group() -> None:
    message = alert_followup(
        AlertFollowup(kind="regression", tech_lead=["U0LEAD", "S0LEADS"], waited="1h")
    )
    assert message["text"] == (
        ":alarm_clock: No one has acknowledged this regression alert in 1h. "
        "<@U0LEAD> <!subteam^S0LEADS>, can you take a look or hand it to someone?"
    )
    nobody = alert_followup(AlertFollowup(kind="performance", tech_lead=[], waited="4h"))
    assert "4h. Tech lead, can you" in nobody["text"]


def test_who_took_an_alert_and_who_muted_its_tests() -> None:
    assert alert_acked(UserCount(user="U0ANA"))["text"] == ":eyes: <@U0ANA> is on it."
    assert muted(MutedTests(user="U0ANA", count=1))["text"] == (
        ":mute: <@U0ANA> muted 1 test as flaky: their failures are reported apart and no "
        "longer alert."
    )


def test_an_alert_quarantined_by_a_person_or_by_sprintbot_says_who() -> None:
    """Its message names who quarantined its tests: a person by mention, sprintbot (a test
    it found flaky) by name: `<@sprintbot>` is no one."""
    for user, said in (("U0ANA", "<@U0ANA>"), ("sprintbot", "sprintbot")):
        d = {**alert_data(), "quarantined": {"user": user, "at": "2025-10-31T14:00:00+00:00"}}
        message = regression_alert(d)
        contexts = [
            e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]
        ]
        assert f":mute: {said} quarantined its tests as flaky" in contexts, contexts
        assert "<@sprintbot>" not in str(message["blocks"])
        buttons = [
            e["action_id"]
            for b in message["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert Action.ALERT_MUTE not in buttons, buttons


DECLINE = DeclineShown(
    before=80.0,
    after=77.5,
    lost=2.5,
    components=[
        FellComponent(name="Core <x>", before=90.0, after=80.0, weight=2.0, why="3 regressions")
    ],
    within="2h",
    alert_id=7,
)


def test_a_decline_notice_names_what_fell_and_offers_the_emergency_standup() -> None:
    message = decline_notice(DECLINE)
    assert message["text"] == "Readiness fell 80 % → 77.5 % (-2.5 pts)"
    assert section_texts(message)[1] == "• *Core &lt;x&gt;* (weight 2): 90 % → 80 % — 3 regressions"
    (button,) = message["blocks"][2]["elements"]
    assert (button["action_id"], button["value"]) == (Action.EMERGENCY_STANDUP, "7")
    assert message["blocks"][3]["elements"][0]["text"] == (
        "The tracker asks for an emergency standup within 2h."
    )
    called = decline_notice({**DECLINE, "acknowledged": {"user": "U0ANA", "at": "x"}})
    assert called["blocks"][-1]["elements"][0]["text"] == (
        ":eyes: <@U0ANA> called an emergency standup"
    )


def test_the_emergency_standup_says_who_called_it_and_by_when_in_local_time() -> None:
    message = emergency_standup(
        EmergencyStandup(**DECLINE, user="U0ANA", by="2025-11-04T11:00:00+00:00", timezone="UTC")
    )
    assert message["text"] == (
        ":rotating_light: <@U0ANA> called an *emergency standup*: readiness fell 80 % → 77.5 %. "
        "Meet within 2h (by <!date^1762254000^{time} {date_short_pretty}"
        "|2025-11-04T11:00:00+00:00>)."
    )


PERFORMANCE = PerformanceShown(
    metric="p95",
    label="p95 latency",
    value=250.0,
    target=200.0,
    unit="ms",
    better="lower",
    beyond_target_percent=25.0,
    commit="abcdef1234567890",
    tolerance=10.0,
    ack_within="4h",
    alert_id=3,
)


def test_a_performance_alert_states_value_target_and_how_far_beyond() -> None:
    message = performance_alert(PERFORMANCE)
    assert message["text"] == "p95 latency degraded: 250 ms (target ≤ 200 ms, 25 % beyond)"
    assert message["blocks"][1]["elements"][0]["text"] == (
        "More than 10 % beyond target · commit `abcdef123456` · investigate within 4h"
    )
    assert message["blocks"][2]["elements"][0]["action_id"] == Action.ALERT_ACK
    resolved = performance_alert({**PERFORMANCE, "resolved": {"value": 190.0}})
    assert resolved["text"].startswith("Resolved: p95 latency degraded")
    assert resolved["blocks"][-1]["elements"][0]["text"] == ":white_check_mark: Resolved"


def test_a_performance_alert_far_beyond_its_target_says_how_far_in_full() -> None:
    """20,000 ms against a target of 1 ms: "1.9999e+06 % beyond" (`:g`), found by review."""
    far = {**PERFORMANCE, "value": 20_000.0, "target": 1.0, "beyond_target_percent": 1_999_900.0}
    assert performance_alert(far)["text"] == (  # type: ignore[arg-type]
        "p95 latency degraded: 20,000 ms (target ≤ 1 ms, 1,999,900 % beyond)"
    )
    back = performance_resolved({**PERFORMANCE, "value": 190.0})
    assert back["text"] == (
        ":white_check_mark: p95 latency is back within target: 190 ms (target 200 ms)."
    )


def test_resolved_and_the_list_in_the_thread() -> None:
    done = alert_resolved(
        AlertResolved(count=4, commit="abcdef1234567890", url="https://ci/1", report=2)
    )
    assert done["text"] == (
        ":white_check_mark: All 4 regressed tests pass again as of commit `abcdef123456` "
        "(<https://ci/1|CI run>)."
    )
    listed = regression_list(
        {
            "start": 40,
            "count": 90,
            "tests": [{"id": "t::a", "component": None}, {"id": "t::b", "component": "Core"}],
        }
    )
    assert listed["text"] == "Regressed tests 41-42 of 90:"
    assert section_texts(listed) == [
        "Regressed tests 41-42 of 90:\n• `t::a` — Unmapped\n• `t::b` — Core"
    ]


def test_past_the_inline_limit_an_alert_counts_its_tests_by_component() -> None:
    d = {
        **alert_data(),
        "count": 30,
        "tests": [
            {"id": "t::1", "component": "Core"},
            {"id": "t::2", "component": None},
            {"id": "t::3", "component": "Core"},
        ],
    }
    texts = [b["text"]["text"] for b in regression_alert(d)["blocks"] if b["type"] == "section"]
    assert texts == [
        "*30 tests* went from passing to failing. The full list is in the thread.\n"
        "Among the first 3: Core (2), Unmapped (1)"
    ]

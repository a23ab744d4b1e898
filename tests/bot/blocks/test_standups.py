"""The daily standup by value: the day's message, an answer, the DMs and the modal."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import render
from bot.blocks.common import VALUE
from bot.blocks.standups import (
    _multi,
    render_standup_modal,
    standup_day,
    standup_prompt,
    standup_reminder,
    standup_reply,
)
from bot.ids import Action
from jobs.standups import (
    Field,
    MetricsSnapshot,
    StandupAnswers,
    StandupDayMessage,
    StandupDM,
    StandupReplyMessage,
)
from tests.bot.blocks.hostile import HOSTILE, assert_safe, hostile

METRICS: MetricsSnapshot = {
    "passed": 1700,
    "known": 2000,
    "pass_rate": 85.0,
    "readiness": 74.5,
    "plan": 76.0,
    "health": "At Risk",
}
DM: StandupDM = {"user": "U0DEV", "day": "2025-10-31", "sprint_day": 3, "days": 14}


def empty_answers(**extra: Any) -> StandupAnswers:
    answers: StandupAnswers = {
        "tests_fixed": None,
        "components_improved": [],
        "blockers_resolved": [],
        "notes": "",
        "target_tests": None,
        "focus_areas": "",
        "risk_items": "",
        "current_blockers": [],
        "new_risks": [],
        "help_needed": "",
        "action_items": [],
    }
    return {**answers, **extra}


def texts(message: dict[str, Any]) -> list[str]:
    out = []
    for b in message["blocks"]:
        if b["type"] in ("section", "header"):
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
    return out


def test_hostile_standups_fit_and_notify_no_one() -> None:
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


def test_the_days_message_invites_answers_until_the_digest() -> None:
    day: StandupDayMessage = {"day": "2025-10-31", "sprint_day": 3, "days": 14, "name": "P4"}
    message = standup_day(day)
    assert message["text"] == "Standup — Day 3 of 14, 2025-10-31"
    assert texts(message) == [
        "Standup — Day 3 of 14, 2025-10-31",
        "Answers go in this thread: `/standup` opens the form.",
    ]


def test_the_digest_counts_answers_and_lists_blockers_and_help() -> None:
    day: StandupDayMessage = {
        "day": "2025-10-31",
        "sprint_day": 3,
        "days": 14,
        "name": "P4",
        "answered": ["U0DEV"],
        "missing": ["U0ANA", "U0BO"],
        "away": [],
        "expected": 3,
        "blockers": [{"user": "U0DEV", "text": "P0: swarm deadlock"}],
        "help": [{"user": "U0DEV", "text": "a second pair of eyes"}],
    }
    message = standup_day(day)
    assert message["text"] == "Standup — Day 3 of 14, 2025-10-31: answered 1 of 3"
    assert texts(message)[1:] == [
        "*Answered 1 of 3*\nMissing: <@U0ANA>, <@U0BO>",
        "*Blockers and help needed*\n• :no_entry: <@U0DEV> P0: swarm deadlock\n"
        "• :raising_hand: <@U0DEV> needs help: a second pair of eyes",
    ]


def test_an_answer_shows_the_parts_answered_and_the_snapshot() -> None:
    reply: StandupReplyMessage = {
        "user": "U0DEV",
        "day": "2025-10-31",
        "sprint_day": 3,
        "days": 14,
        "answers": empty_answers(
            tests_fixed=4,
            blockers_resolved=[7],
            focus_areas="eviction",
            current_blockers=[["P1", "flaky login"]],
            action_items=[{"item": "Fix flaky test", "owner": "@dana", "due": "EOD"}],
        ),
        "metrics": METRICS,
        "edited": True,
    }
    message = standup_reply(reply)
    assert message["text"] == "Standup from <@U0DEV>"
    assert texts(message) == [
        "*Standup from <@U0DEV>* (Day 3 of 14)",
        "*Yesterday's progress*\n• Tests fixed: 4\n• Blockers resolved: B-007",
        "*Today's plan*\n• Focus areas: eviction",
        "*Blockers & risks*\n• Current blockers: P1 flaky login",
        "*Action items*\n• Fix flaky test — @dana, due EOD",
        "Snapshot: 1,700/2,000 tests passing (85 %), readiness 74.5 %, At Risk · edited",
    ]


def test_the_prompt_and_the_reminder_carry_the_open_button() -> None:
    for message, text in (
        (standup_prompt(DM), ":wave: Time for today's standup — Day 3 of 14 (2025-10-31)."),
        (
            standup_reminder(DM),
            ":hourglass_flowing_sand: Your standup for 2025-10-31 is still open — two "
            "minutes, and the team sees where you are. `/standup skip` if you are away.",
        ),
    ):
        assert message["text"] == text and texts(message) == [text]
        [button] = message["blocks"][1]["elements"]
        assert (button["action_id"], button["text"]["text"]) == (
            Action.STANDUP_OPEN,
            "Open standup",
        )


def test_queued_standup_messages_render_through_the_registry() -> None:
    assert render({"template": "standup_prompt", "data": DM}) == standup_prompt(DM)
    assert render({"template": "standup_reminder", "v": 1, "data": DM}) == standup_reminder(DM)


def modal(**extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "sprint_name": "P4",
        "day": "2025-10-31",
        "sprint_day": 3,
        "days": 14,
        "components": ["Memory", "Swarm"],
        "open_blockers": [(7, "B-007 OOM in eviction")],
        "metrics": METRICS,
        "carry_over": None,
        "current": None,
        **extra,
    }
    return render_standup_modal(**args)


def test_the_modal_shows_the_figures_and_asks_every_field() -> None:
    view = modal()
    assert view["callback_id"] == "standup" and view["submit"]["text"] == "Post"
    assert json.loads(view["private_metadata"]) == {"day": "2025-10-31"}
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert set(inputs) == set(Field)
    assert {b["element"]["action_id"] for b in inputs.values()} == {VALUE}
    severity = inputs[Field.BLOCKER_SEVERITY]["element"]
    assert [o["value"] for o in severity["options"]] == ["P0", "P1", "P2"]
    resolvable = inputs[Field.BLOCKERS_RESOLVED]["element"]["options"]
    assert [(o["value"], o["text"]["text"]) for o in resolvable] == [("7", "B-007 OOM in eviction")]
    facts = [f["text"] for f in view["blocks"][1]["fields"]]
    assert facts == [
        "*Tests passing*\n1,700 / 2,000",
        "*Pass rate*\n85 %",
        "*Production readiness*\n74.5 %",
        "*Health*\nAt Risk (plan 76 %)",
    ]


def test_the_modal_prefills_an_edit_and_shows_yesterdays_plan_apart() -> None:
    current = empty_answers(
        tests_fixed=4,
        blockers_resolved=[7],
        current_blockers=[["P1", "flaky login"]],
        action_items=[{"item": "Fix flaky test", "owner": "@dana", "due": "EOD"}],
    )
    view = modal(current=current, carry_over={"focus_areas": "eviction", "target_tests": 5})
    assert view["submit"]["text"] == "Update"
    carried = [b for b in view["blocks"] if b["type"] == "section" and "text" in b]
    assert carried[0]["text"]["text"] == (
        "*Carried over from your last standup*\nPlanned: eviction\nTarget tests to fix: 5"
    )
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs[Field.TESTS_FIXED]["initial_value"] == "4"
    # What it resolved is not ticked: offered, it was reopened since (ticked, resolved again).
    assert "initial_options" not in inputs[Field.BLOCKERS_RESOLVED]
    assert inputs[Field.CURRENT_BLOCKERS]["initial_value"] == "P1: flaky login"
    assert inputs[Field.ACTION_ITEMS]["initial_value"] == "Fix flaky test | @dana | EOD"
    # Yesterday's plan is shown above, not put in today's answer: the edit's focus areas
    # are today's, empty as they were left (found by review).
    assert not inputs[Field.FOCUS_AREAS].get("initial_value")


def test_the_modal_shows_yesterdays_plan_and_the_sprint_name_as_typed() -> None:
    """Yesterday's plan and the sprint's name are text like any other: escaped, and the
    plan shortened so that the target line after it stays."""
    plan = "Map<K,V> & R&D " + HOSTILE + "x" * 3000
    view = modal(sprint_name="P4 <!here>", carry_over={"focus_areas": plan, "target_tests": 5})
    carried = next(
        b["text"]["text"]
        for b in view["blocks"]
        if "Carried over" in b.get("text", {}).get("text", "")
    )
    assert carried.startswith(
        "*Carried over from your last standup*\nPlanned: Map&lt;K,V&gt; &amp;"
    )
    assert carried.endswith("…\nTarget tests to fix: 5") and len(carried) <= 3000
    assert "<!" not in carried and "<https" not in carried and "<@" not in carried
    shown = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "Metrics snapshot from live data · P4 &lt;!here&gt;" in shown


def test_the_modal_says_when_there_is_nothing_to_choose() -> None:
    view = modal(components=[], open_blockers=[])
    notes = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert "*Components improved:* none open" in notes
    assert "*Blockers resolved:* none open that you may resolve" in notes


def test_a_large_teams_digest_fits_slacks_sections() -> None:
    """`participants = "team"` in a channel of hundreds: the digest names the first of the
    missing and of those away, says how many more, and every section fits Slack's 3,000
    characters (a longer one is refused, and the day's message never shows the digest)."""
    missing = [f"U{n:010d}" for n in range(200)]
    away = [f"W{n:010d}" for n in range(180)]
    msg = standup_day(
        {
            "day": "2025-10-31",
            "sprint_day": 3,
            "days": 14,
            "answered": [],
            "missing": missing,
            "away": away,
            "expected": 200,
            "blockers": [],
            "help": [],
        }
    )
    texts = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts), [len(t) for t in texts]
    shown = "\n".join(texts)
    assert "<@U0000000149>" in shown and "<@U0000000150>" not in shown
    assert "and 50 more" in shown and "and 30 more" in shown


def test_a_long_answer_is_shown_whole_in_sections_that_fit() -> None:
    """A field holds 2,900 characters, a third more once escaped: the reply shows all of
    it, in as many sections as it takes, none over Slack's limit, no entity split."""
    notes = "<!channel> & " * 223  # 2,899 characters typed, 4,460 escaped
    metrics = {"passed": 1, "known": 2, "pass_rate": 50.0, "readiness": 70.0, "health": "At Risk"}
    reply = standup_reply(
        {
            "answers": {"notes": notes, "focus_areas": "tests"},
            "metrics": metrics,
            "user": "U0DEV",
            "sprint_day": 3,
            "days": 14,
        }
    )
    assert_safe(reply)
    texts = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts)
    shown = " ".join(texts)
    assert shown.count("&lt;!channel&gt; &amp;") == 223
    assert "…" not in shown
    assert texts[-1] == "*Today's plan*\n• Focus areas: tests"


def test_a_menu_past_its_100_options_keeps_those_chosen() -> None:
    """An answer edited after choosing the 103rd of 105 blockers: the menu keeps what was
    chosen (it would be dropped with the options past the first 100) and says how many it
    leaves out."""
    options = [(str(i), f"B-{i:03} flaky runner pool") for i in range(1, 106)]
    menu = _multi(
        Field.BLOCKERS_RESOLVED, "Blockers resolved", options, ["103"], elsewhere="see /blocker"
    ).to_dict()
    values = [o["value"] for o in menu["element"]["options"]]
    assert values == [str(i) for i in range(1, 100)] + ["103"]
    assert [o["value"] for o in menu["element"]["initial_options"]] == ["103"]
    assert menu["hint"]["text"] == "5 more are not listed here (a menu holds 100): see /blocker."

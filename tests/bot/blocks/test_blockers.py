"""The blocker log by value: a blocker's message, the notes in its thread, its two forms."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks import render
from bot.blocks.blockers import (
    blocker,
    blocker_form,
    blocker_resolved,
    blocker_step,
    render_blocker_list,
    resolve_form,
)
from bot.blocks.common import VALUE, notice_view
from bot.ids import Action
from jobs.blockers import BlockerField, BlockerMessage, ResolveField, field_errors
from jobs.config import Sprint
from tests.bot.blocks.hostile import HOSTILE, assert_safe, hostile


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


def queued(**extra: Any) -> BlockerMessage:
    """A blocker as jobs.blockers.blocker_data queues it."""
    data: BlockerMessage = {
        "id": 7,
        "code": "B-007",
        "component": "Memory",
        "description": "OOM in eviction",
        "severity": "P1",
        "reporter": "U0DEV",
        "owner": None,
        "reported_at": "2025-10-31T09:00:00+00:00",
        "now": "2025-10-31T11:00:00+00:00",
        "age": "2h",
        "target": None,
        "level": 0,
        "levels": 4,
        "step": None,
        "acknowledged_by": None,
        "resolved_by": None,
        "resolution": None,
        "resolved_at": None,
        "took": None,
    }
    return {**data, **extra}


def texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn text of a message's sections and contexts, and its fields."""
    out = []
    for b in message["blocks"]:
        if b.get("text"):
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields") or []]
        out += [e.get("text", "") for e in b.get("elements") or [] if b["type"] == "context"]
    return out


def test_a_hostile_blocker_fits_and_notifies_no_one() -> None:
    """Fault 2: a 1,990-character stack trace used to grow past the section's 3,000
    characters once escaped (SlackObjectFormationError, the message never sent); fault 4:
    the raw description went into the top-level `text`."""
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


def test_a_hostile_escalation_step_fits_and_notifies_no_one() -> None:
    assert_safe(blocker_step({**blocker_data(), "step_index": 2, "step_name": HOSTILE, "by": "U1"}))


def test_an_open_blocker_shows_its_facts_and_three_buttons() -> None:
    message = blocker(queued())
    assert message["text"] == "B-007 P1 · Memory: OOM in eviction"
    head, facts = texts(message)[0], texts(message)[1:]
    assert head == ":large_orange_circle: *B-007 P1 · Memory*\nOOM in eviction"
    assert facts == [
        "*Reported by*\n<@U0DEV>",
        "*Owner*\nunowned",
        "*Age*\n2h",
        "*Escalation*\nnot escalated yet",
    ]
    [buttons] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], e["action_id"], e["value"]) for e in buttons["elements"]] == [
        ("Take ownership", Action.BLOCKER_ACK, "7@"),  # the owner it shows: none
        ("Escalate now", Action.BLOCKER_ESCALATE, "7@0"),  # the step it shows
        ("Resolve", Action.BLOCKER_RESOLVE, "7"),
    ]


def test_an_escalated_owned_blocker_shows_its_step_owner_and_target() -> None:
    message = blocker(queued(owner="U0ANA", level=2, step="Technical lead review", target="Day 3"))
    assert texts(message)[1:] == [
        "*Reported by*\n<@U0DEV>",
        "*Owner*\n<@U0ANA>",
        "*Age*\n2h",
        "*Escalation*\nstep 2 of 4: Technical lead review",
        "*Resolution target*\nDay 3",
    ]


def test_a_blocker_at_its_last_step_offers_no_escalate_now() -> None:
    """At "step 4 of 4" the message kept "Escalate now", and every click on it was refused
    as already at the last step (found by review)."""
    message = blocker(queued(level=4, step="Executive decision"))
    assert "*Escalation*\nstep 4 of 4: Executive decision" in texts(message)
    [buttons] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in buttons["elements"]] == [
        Action.BLOCKER_ACK,
        Action.BLOCKER_RESOLVE,
    ]


def test_a_resolved_blocker_is_struck_says_who_and_has_no_buttons() -> None:
    done = queued(
        description="OOM\nin eviction",
        resolved_at="2025-10-31T15:00:00+00:00",
        resolved_by="U0ANA",
        took="6h",
        resolution="raised the limit",
    )
    message = blocker(done)
    assert message["text"] == "Resolved: B-007 P1 · Memory: OOM\nin eviction"
    assert texts(message)[0] == ":white_check_mark: *B-007 P1 · Memory*\n~OOM in eviction~"
    assert texts(message)[-1] == "Resolved by <@U0ANA> after 6h: raised the limit"
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    assert blocker_resolved(done)["text"] == (
        ":white_check_mark: *B-007* resolved by <@U0ANA> after 6h: raised the limit"
    )


def test_an_escalation_step_mentions_whom_it_notifies() -> None:
    step = {
        **queued(),
        "step_index": 2,
        "step_name": "Technical lead review",
        "after": "8h",
        "mentions": ["U0LEAD", "S0EXEC"],
        "channels": [],
        "by": "sprintbot",
    }
    assert blocker_step(step)["text"] == (
        ":arrow_up: *B-007* (P1, Memory) reached escalation step 2 — *Technical lead review* "
        "after 2h. <@U0LEAD> <!subteam^S0EXEC>"
    )
    by_hand = {**step, "by": "U0ANA", "mentions": []}
    assert blocker_step(by_hand)["text"].endswith("after 2h (escalated by <@U0ANA>).")


def test_a_reopened_blocker_says_who_reopened_it() -> None:
    message = blocker_step({**queued(), "reopened_by": "U0ANA"})
    assert message["text"] == ":leftwards_arrow_with_hook: *B-007* reopened by <@U0ANA>."
    assert texts(message) == [message["text"]]


def test_a_queued_blocker_renders_through_the_registry_with_or_without_a_version() -> None:
    data = queued()
    assert render({"template": "blocker", "v": 1, "data": data}) == blocker(data)
    assert render({"template": "blocker", "data": data}) == blocker(data)


def test_the_blocker_form_asks_for_each_field_that_field_errors_names(example: Sprint) -> None:
    view = blocker_form(example)
    assert view["callback_id"] == "blocker" and view["submit"]["text"] == "File"
    inputs = {b["block_id"]: b for b in view["blocks"]}
    assert list(inputs) == list(BlockerField)
    assert {b["element"]["action_id"] for b in inputs.values()} == {VALUE}
    assert [o["value"] for o in inputs[BlockerField.SEVERITY]["element"]["options"]] == [
        "P0",
        "P1",
        "P2",
    ]
    assert inputs[BlockerField.SEVERITY]["element"]["initial_option"]["value"] == "P1"
    components = [o["value"] for o in inputs[BlockerField.COMPONENT]["element"]["options"]]
    assert components == [c.name for c in example.components][:100]
    assert inputs[BlockerField.OWNER]["optional"] and inputs[BlockerField.TARGET]["optional"]
    errors = field_errors(
        sprint=example, component="Nope", description="", severity="P9", target="\x00"
    )
    assert set(errors) <= set(inputs)


def test_the_resolve_form_carries_the_blocker_and_asks_how() -> None:
    view = resolve_form(7, "B-007")
    assert view["callback_id"] == "blocker_resolve"
    assert view["title"]["text"] == "Resolve B-007"
    assert json.loads(view["private_metadata"]) == {"blocker": 7}
    [note] = view["blocks"]
    assert note["block_id"] == ResolveField.NOTE and note["element"]["action_id"] == VALUE
    assert note["label"]["text"] == "How was it resolved?"


def test_a_notice_view_only_says_its_text() -> None:
    view = notice_view("Report a blocker", "Already filed as B-007.")
    assert view["title"]["text"] == "Report a blocker" and "submit" not in view
    assert [b["text"]["text"] for b in view["blocks"]] == ["Already filed as B-007."]


def test_the_blocker_list_shows_each_open_blocker_on_a_line() -> None:
    rows = [
        queued(severity="P0", owner="U0ANA", level=2, age="1d 2h"),
        queued(id=8, code="B-008", component="<b>Net</b>", description="a <!channel> & b"),
    ]
    assert render_blocker_list(rows) == (
        "*2 open blockers*\n"
        "• *B-007* P0 · Memory — OOM in eviction (<@U0ANA>, 1d 2h old, step 2/4)\n"
        "• *B-008* P1 · &lt;b&gt;Net&lt;/b&gt; — a &lt;!channel&gt; &amp; b "
        "(unowned, 2h old, step 0/4)"
    )
    assert render_blocker_list(rows[:1]).startswith("*1 open blocker*\n")


def test_no_open_blockers_says_so() -> None:
    assert render_blocker_list([]) == ":white_check_mark: No open blockers."


def test_a_long_blocker_list_names_what_it_leaves_out_and_fits_one_answer() -> None:
    rows = [queued(id=n, code=f"B-{n:03d}", description="flaky") for n in range(1, 46)]
    lines = render_blocker_list(rows).splitlines()
    assert lines[0] == "*45 open blockers*" and lines[-1] == "…and 5 more."
    assert [line.split()[1] for line in lines[1:-1]] == [f"*B-{n:03d}*" for n in range(1, 41)]

    rows = [queued(id=n, code=f"B-{n:03d}", description=hostile(200)) for n in range(1, 46)]
    text = render_blocker_list(rows)  # 40 long lines: as many whole as fit one answer
    lines = text.splitlines()
    shown = [line.split()[1] for line in lines[1:-1]]
    assert len(text) <= 3000 and "<!channel>" not in text
    assert shown == [f"*B-{n:03d}*" for n in range(1, len(shown) + 1)]
    assert lines[-1] == f"…and {45 - len(shown)} more."


def test_the_blocker_form_offers_every_component_of_a_large_sprint(example: Sprint) -> None:
    """120 components more than the example's: the menu offered the first 100 (Slack's
    limit for a menu's options) and the rest could not be chosen, saying nothing (found by
    review). Past 100 the menu groups them (a group holds 100, a menu 100 groups)."""
    extra = [
        c.model_copy(update={"name": f"Service {i:03}", "group": f"Area {i // 50}"})
        for i, c in enumerate([example.components[0]] * 120)
    ]
    sprint = example.model_copy(update={"components": [*example.components, *extra]})
    element = blocker_form(sprint)["blocks"][0]["element"]
    assert "options" not in element
    groups = element["option_groups"]
    offered = [o["value"] for g in groups for o in g["options"]]
    assert offered == [c.name for c in sprint.components]
    assert all(len(g["options"]) <= 100 for g in groups) and len(groups) <= 100
    assert [g["label"]["text"] for g in groups][-3:] == ["Area 0", "Area 1", "Area 2"]

"""The review draft, a milestone's sign-off request and the lesson modal, by value."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import VALUE, Message
from bot.blocks.review import _measured, lesson_form, milestone_lines, signoff, sprint_review
from bot.ids import Action
from bot.ids import View as ViewId
from jobs.milestones import CriterionResult, MilestoneData, SignoffState
from jobs.review import LESSON_CHARS, LessonField, SprintReview

MILESTONE = MilestoneData(
    day=5,
    name="Alpha",
    review="Team review",
    met=1,
    criteria=[
        CriterionResult(
            criterion="readiness >= 80", value=82.5, of=None, unit="%", target=80, op=">=", met=True
        ),
        CriterionResult(
            criterion="passing_tests >= 100",
            value=90.0,
            of=120.0,
            unit="",
            target=100,
            op=">=",
            met=False,
        ),
        CriterionResult(
            criterion="P0 blockers == 0", value=None, of=None, unit="", target=0, op="==", met=False
        ),
    ],
    signoffs=[
        SignoffState(role="qa_lead", user="U0QA", at="2025-11-03T10:00:00+00:00"),
        SignoffState(role="product_owner", user=None, at=None),
    ],
)


def texts(message: Message) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if "text" in b]


def test_a_signoff_request_shows_each_criterion_and_a_button_per_role_still_to_sign() -> None:
    message = signoff(MILESTONE)
    assert message["text"] == "Sign-off: Alpha"
    assert texts(message)[1] == (
        "*Alpha* (day 5) — 1 of 3 criteria met · review Team review\n"
        ":white_check_mark: readiness &gt;= 80 — measured 82.5 %\n"
        ":x: passing_tests &gt;= 100 — measured 90 of 120\n"
        ":x: P0 blockers == 0 — not measured yet\n"
        "Sign-offs: :white_check_mark: QA Lead <@U0QA> · :hourglass_flowing_sand: Product Owner"
    )
    (button,) = message["blocks"][2]["elements"]
    assert button["text"]["text"] == "Sign off as Product Owner"
    assert (button["action_id"], button["value"]) == (
        f"{Action.SIGNOFF}:product_owner",
        "5:product_owner",
    )
    done = signoff({**MILESTONE, "signoffs": MILESTONE["signoffs"][:1]})
    assert done["blocks"][-1]["elements"][0]["text"] == ":tada: Every sign-off is in."


REVIEW = SprintReview(
    name="Sprint 4",
    goal="Ship <it>",
    date="2025-11-13",
    day=14,
    status_line=None,
    days=14,
    goals=[
        {
            "goal": "Production Readiness",
            "target": 90.0,
            "achieved": 91.25,
            "unit": "%",
            "met": True,
        },
        {
            "goal": "Zero Regressions Introduced",
            "target": 0,
            "achieved": 2,
            "unit": "",
            "met": False,
        },
    ],
    summary={
        "start": 70.0,
        "end": 91.25,
        "tests_fixed": 12.0,
        "regressions": 2,
        "still_failing": 1,
        "pass_rate": 95.5,
    },
    accomplishments=["Core", "UI"],
    regressions=["t::a", "t::b"],
    still_failing=["t::b"],
    fixed=["t::c"],
    fixed_count=12,
    blockers_resolved=[
        {
            "code": "B-001",
            "severity": "P0",
            "component": "Core",
            "description": "down",
            "took": "2.0 h",
        }
    ],
    blockers_resolved_count=1,
    lessons={"went_well": [{"text": "pairing", "author": "U0ANA"}], "improve": [], "action": []},
    requested_by="U0LEAD",
)


def test_the_review_draft_fills_the_seeds_template_from_what_was_recorded() -> None:
    message = sprint_review(REVIEW)
    assert message["text"] == "Sprint review draft — Sprint 4"
    assert message["blocks"][1]["elements"][0]["text"] == (
        "Day 14 of 14, 2025-11-13 · requested by <@U0LEAD> · goal: Ship &lt;it&gt;"
    )
    assert texts(message)[1:] == [
        "*Sprint goals achievement*\n"
        ":white_check_mark: Production Readiness: target 90 %, achieved 91.25 %\n"
        ":x: Zero Regressions Introduced: target 0, achieved 2",
        "*Metrics summary*\n• Readiness: 70 % → 91.25 % (+21.25 pts)\n• Pass rate: 95.5 %\n"
        "• Tests fixed: 12\n• Regressions introduced: 2 (1 still open)",
        "*Components at target*\nCore, UI",
        "*Regressions introduced during the sprint (2)*\n• `t::a`\n• `t::b` (still failing)\n"
        "*Tests fixed this sprint (12)*\n• `t::c`\n_+11 more — the tracker export lists the days_",
        "*Blockers resolved (1)*\n• *B-001* P0 · Core — down (resolved in 2.0 h)",
        "*Lessons learned*\n_What went well_\n• pairing — <@U0ANA>\n"
        "_What could be improved_\n• _none yet_\n_Action items for next phase_\n• _none yet_",
    ]
    assert message["blocks"][-1]["elements"][0]["action_id"] == Action.LESSON_ADD


def test_the_lesson_form_asks_for_kind_and_text_under_the_field_ids() -> None:
    form: dict[str, Any] = lesson_form()
    assert (form["callback_id"], form["title"]["text"]) == (ViewId.LESSON, "Lesson learned")
    kind, text = form["blocks"]
    assert (kind["block_id"], text["block_id"]) == (LessonField.KIND, LessonField.TEXT)
    assert kind["element"]["action_id"] == text["element"]["action_id"] == VALUE
    assert [o["text"]["text"] for o in kind["element"]["options"]] == [
        "What went well",
        "What could be improved",
        "Action items for next phase",
    ]
    assert text["element"]["max_length"] == LESSON_CHARS


def _bench(value: float, target: float, met: bool) -> CriterionResult:
    return CriterionResult(
        criterion="memory_peak_bytes ≤ 2,000,000",
        value=value,
        of=None,
        unit="",
        target=target,
        op="<=",
        met=met,
    )


def test_a_benchmark_is_shown_as_measured_in_full() -> None:
    """2,500,000 in full (not 2.5e+06), and 150.0004 against ≤ 150 not shown as 150 (it is
    judged unmet unrounded)."""
    assert _measured(_bench(2_500_000.0, 2_000_000, False)) == "measured 2,500,000"
    assert _measured(_bench(150.0004, 150, False)) == "measured 150.0004"


def test_a_signoff_named_by_a_person_or_group_is_a_mention() -> None:
    m = MilestoneData(
        day=5,
        name="Beta",
        review=None,
        criteria=[],
        met=0,
        signoffs=[
            SignoffState(role="S0QA", user=None, at=None),
            SignoffState(role="U0ANA", user="U0ANA", at="2025-11-04T10:00:00+00:00"),
        ],
    )
    [line] = [x for x in milestone_lines(m) if x.startswith("Sign-offs")]
    assert line == (
        "Sign-offs: :hourglass_flowing_sand: <!subteam^S0QA> · :white_check_mark: <@U0ANA>"
    )

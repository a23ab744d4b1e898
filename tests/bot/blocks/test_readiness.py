"""/readiness by value: the breakdown, its plain-text fallback and the score-change reply."""

from __future__ import annotations

from dataclasses import replace

from bot.blocks.readiness import readiness_fallback, render_readiness, render_score_change
from jobs.config import Source
from jobs.numbers import Breakdown, ComponentScore, GroupScore, Health
from jobs.readiness import ScoreChange, Status

CORE = ComponentScore(
    name="Core <x>",
    group="Code",
    weight=2.0,
    target=90.0,
    source=Source.TESTS,
    score=92.0,
    detail="46/50 tests",
)
DOCS = ComponentScore(
    name="User Guides",
    group="Code",
    weight=1.0,
    target=80.0,
    source=Source.MANUAL,
    score=60.0,
    detail="",
)
STATUS = Status(
    breakdown=Breakdown(
        score=81.33,
        target=90.0,
        groups=[
            GroupScore(name="Code", weight=1.0, score=81.33, target=90.0, components=[CORE, DOCS])
        ],
    ),
    day=3,
    plan=75.0,
    health=Health.AT_RISK,
    passed=46,
    known=50,
    unmapped=2,
    health_reason="below plan",
    plan_note="linear plan",
)


def test_the_breakdown_shows_overall_target_plan_health_and_every_leaf() -> None:
    header, facts, where, why, divider, group = render_readiness(
        STATUS, sprint_name="Sprint 4", days=14
    )
    assert header["text"]["text"] == "Readiness 81.33 % — target 90 %"
    assert [f["text"] for f in facts["fields"]] == [
        "*Overall*\n81.33 %",
        "*Target*\n90 % (gap -8.67 pts)",
        "*Plan for today*\n75 %",
        "*Health*\n:large_yellow_circle: At Risk",
        "*Tests passing*\n46/50 (92 %)\n_2 Unmapped (in no component)_",
    ]
    assert where["elements"][0]["text"] == "Sprint 4 · Day 3 of 14"
    assert why["elements"][0]["text"] == "At Risk: below plan · linear plan"
    assert divider["type"] == "divider"
    assert group["text"]["text"] == (
        "*Code* · weight 1 — *81.33 %* of 90 %, gap -8.67 pts\n"
        ":white_check_mark: Core &lt;x&gt; (2) — *92 %* of 90 %, on target · _46/50 tests_\n"
        ":small_orange_diamond: User Guides (1) — *60 %* of 80 %, gap -20 pts"
    )


def test_the_fallback_and_the_score_change_say_it_in_one_line() -> None:
    assert readiness_fallback(STATUS) == "Readiness 81.33 % (target 90 %, plan 75 %, At Risk)"
    change = ScoreChange(
        component="User Guides", old=60.0, new=70.0, readiness_before=81.33, readiness_after=84.67
    )
    assert render_score_change(change) == (
        ":pencil2: *User Guides*: 60 % → *70 %*. Readiness 81.33 % → *84.67 %*."
    )


def test_tests_passing_reads_as_the_reports_do() -> None:
    """20,000 known tests read "17000/20000" in /readiness and "17,000/20,000" in the daily
    report; none known, "0/0 (no test results yet)" against "no test results yet"."""
    many = replace(STATUS, passed=17_000, known=20_000, unmapped=0)
    facts = render_readiness(many, sprint_name="Sprint 4", days=14)[1]
    assert facts["fields"][4]["text"] == "*Tests passing*\n17,000/20,000 (85 %)"
    none = replace(STATUS, passed=0, known=0, unmapped=0)
    facts = render_readiness(none, sprint_name="Sprint 4", days=14)[1]
    assert facts["fields"][4]["text"] == "*Tests passing*\nno test results yet"

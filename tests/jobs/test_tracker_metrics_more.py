"""The tracker's benchmarks, escalation path and update history, and one test's flips and
median duration, as people read them (found by review)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.blocks.tests import render_history
from jobs import tests_history
from jobs.config import Sprint, validate_sprint
from jobs.ingest import RunInfo, ingest_junit
from jobs.tracker import tracker_markdown
from storage import queries
from storage.models import KnownTest, MetricSample
from tests.jobs.test_tracker import row, section, table
from tests.support.sprints import minimal

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)  # day 3 of the minimal sprint (from 2025-10-29)
START = datetime(2025, 10, 28, 23, tzinfo=UTC)  # its day 1's midnight in Berlin

SWARM = {
    "name": "swarm_init_time",
    "label": "Swarm Init Time",
    "unit": "s",
    "target": 1.0,
    "better": "lower",
}


def sprint(**overrides: Any) -> Sprint:
    return validate_sprint(minimal(**overrides))


def sample(session: Session, name: str, value: float, at: datetime) -> None:
    queries.add_metric_samples(
        session=session, samples=[MetricSample(name=name, value=value, at=at, received_at=at)]
    )


def markdown(session: Session, s: Sprint, now: datetime = NOW) -> str:
    return tracker_markdown(session=session, sprint=s, now=now)


# -- Code Quality Trends and Performance Benchmarks ---------------------------------------


def test_a_small_benchmarks_change_reads_with_its_unit_not_as_minus_zero(
    session: Session,
) -> None:
    """Hook Execution went from 0.0012 s to 0.0008 s: the trend read "↓ -0 s (better)"
    (rounded to three decimals)."""
    hook = {**SWARM, "name": "hook_execution", "label": "Hook Execution", "target": 0.001}
    s = sprint(metrics=[hook])
    sample(session, "hook_execution", 0.0012, NOW - timedelta(days=1))
    sample(session, "hook_execution", 0.0008, NOW - timedelta(hours=1))
    trend = row(table(section(markdown(session, s), "### Code Quality Trends")), "Hook Execution")
    assert trend[1:4] == ["0.0012 s", "0.0008 s", "↓ -0.0004 s (better)"]


def test_a_benchmarks_label_in_the_benchmarks_table_reads_as_typed(session: Session) -> None:
    """A label `p99 <lambda> __init__` was raw Markdown in Performance Benchmarks (GitHub
    dropped `<lambda>` as a tag, made `__init__` bold "init"); Code Quality Trends escaped it."""
    label = "p99 <lambda> __init__"
    s = sprint(metrics=[{**SWARM, "label": label}])
    sample(session, "swarm_init_time", 0.9, NOW - timedelta(hours=1))
    md = markdown(session, s)
    escaped = r"p99 \<lambda\> \_\_init\_\_"
    benchmarks = table(section(md, "### Performance Benchmarks"))
    assert [r[0] for r in benchmarks] == [escaped]
    assert row(table(section(md, "### Code Quality Trends")), escaped)[2] == "0.9 s"
    assert label not in md


def test_a_trend_starts_at_the_sprints_first_sample_not_the_sprint_before(
    session: Session,
) -> None:
    """The next sprint's Code Quality Trends ran from the previous sprint's first sample
    (3 s, a month before): the trend is this sprint's, and a benchmark with no sample in
    it yet says so."""
    memory = {**SWARM, "name": "memory_usage", "label": "Memory Usage", "unit": "MB"}
    s = sprint(metrics=[SWARM, {**memory, "target": 150.0}])
    sample(session, "swarm_init_time", 3.0, START - timedelta(days=30))
    sample(session, "memory_usage", 140.0, START - timedelta(days=30))
    sample(session, "swarm_init_time", 1.1, START + timedelta(hours=10))
    sample(session, "swarm_init_time", 0.9, NOW - timedelta(hours=1))
    trends = table(section(markdown(session, s), "### Code Quality Trends"))
    assert row(trends, "Swarm Init Time")[1:4] == ["1.1 s", "0.9 s", "↓ -0.2 s (better)"]
    memory_row = row(trends, "Memory Usage")
    assert memory_row[1:4] == ["no sample this sprint", "140 MB", "-"]


# -- Blocker Resolution Log ----------------------------------------------------------------


def test_the_escalation_path_keeps_its_minutes(session: Session) -> None:
    """A step after 30m read "after 0 h", one after 1h30m "after 1 h"."""
    s = sprint(
        escalation=[
            {"after": "30m", "name": "Standup", "notify": "team"},
            {"after": "1h30m", "name": "Tech lead", "notify": "tech_lead"},
            {"after": "2d", "name": "Everyone", "notify": "team"},
        ]
    )
    lines = section(markdown(session, s), "## Blocker Resolution Log")
    start = lines.index("**Escalation Path:**")
    assert lines[start + 1 : start + 4] == [
        "1. Standup (after 30m)",
        "2. Tech lead (after 1h30m)",
        "3. Everyone (after 48h)",
    ]


# -- Update History ------------------------------------------------------------------------


def test_a_past_trackers_update_history_outlives_newer_events(session: Session) -> None:
    """`sprintbot export tracker --at` day 3 listed no update once 200 newer events were
    recorded: the newest 200 were read, then those after the instant dropped."""
    s = sprint()
    then = NOW - timedelta(days=1)
    queries.audit(
        session=session, subject="risk", subject_id=1, action="opened", actor="U01", at=then
    )
    for i in range(210):
        queries.audit(
            session=session,
            subject="risk",
            subject_id=1,
            action="edited",
            actor="U02",
            at=NOW + timedelta(minutes=i + 1),
        )
    history = table(section(markdown(session, s, now=NOW), "## Update History"))
    assert [(r[1], r[2]) for r in history] == [("@U01", "#1 opened")]


# -- one test's history: flips and durations -----------------------------------------------

RUN_AT = datetime(2025, 10, 31, 9, tzinfo=UTC)


def send(session: Session, s: Sprint, run: str, hours: int, status: str, seconds: float) -> None:
    body = "<failure message='boom'>x</failure>" if status == "failed" else ""
    body = "<skipped/>" if status == "skipped" else body
    document = (
        '<testsuites><testsuite name="s"><testcase classname="a.b" name="t1" '
        f'time="{seconds}">{body}</testcase></testsuite></testsuites>'
    ).encode()
    at = RUN_AT + timedelta(hours=hours)
    ingest_junit(
        session=session,
        sprint=s,
        document=document,
        digest=hashlib.sha256(document).hexdigest(),
        info=RunInfo(run=run, at=at),
        now=at,
    )


def shown(session: Session, s: Sprint) -> tuple[tests_history.HistoryData, str]:
    found = tests_history.find(session=session, sprint=s, text="a.b::t1")
    assert isinstance(found, KnownTest)
    h = tests_history.history(session=session, sprint=s, test=found, now=NOW)
    text = "\n".join(
        b["text"]["text"] for b in render_history(h, tz=UTC)["blocks"] if b.get("text")
    )
    return h, text


def test_a_skip_between_two_passes_is_no_flip(session: Session) -> None:
    """passed → skipped → passed read "Flips (passing ⇄ failing): 2"; the flaky check never
    counted a skip. A failure after a pass still counts."""
    s = sprint()
    for i, status in enumerate(["passed", "skipped", "passed", "failed"]):
        send(session, s, f"r{i}", i, status, 1)
    h, text = shown(session, s)
    assert h["flips"] == 1
    assert "*Flips* (passing ⇄ failing, over the stored history): 1" in text


def test_the_median_beside_the_last_ten_runs_is_theirs(session: Session) -> None:
    """Ten slow runs after ten fast ones: "last 10 runs: 5.0 s → … · median 3.0 s", the
    median of all twenty."""
    s = sprint()
    for i in range(20):
        send(session, s, f"r{i}", i, "passed", 1 if i < 10 else 5)
    h, text = shown(session, s)
    assert len(h["durations"]) == 20
    assert "*Duration* (last 10 runs): " + " → ".join(["5.0 s"] * 10) + " · median 5.0 s" in text

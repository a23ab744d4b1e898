"""Slow-test regressions and the suite's time per run (jobs.durations), from reports
ingested with JUnit `time`: the factor and floor at their edges, sharded runs, tests missing
from runs, skipped tests, no durations at all; the `[durations]` table; the report's lines."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from bot.blocks import reports as blocks
from jobs import durations, reports, tests_history
from jobs.config import ConfigError, Sprint, validate_sprint
from jobs.ingest import RunInfo, ingest_junit
from tests.support.small_sprint import small
from tests.support.sprints import minimal

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)
Times = Mapping[str, float | str | None]  # a report: each test's JUnit time (None: none)


def sprint(**table: Any) -> Sprint:
    return validate_sprint(minimal(durations=table) if table else minimal())


def doc(times: Times, *, skipped: frozenset[str] | set[str] = frozenset()) -> bytes:
    """A report of the tests `tests.core.test_it::NAME` with those JUnit times."""
    cases = []
    for name, time in times.items():
        attr = "" if time is None else f' time="{time}"'
        body = "<skipped/>" if name in skipped else ""
        cases.append(
            f'<testcase classname="tests.core.test_it" name="{name}" '
            f'file="tests/core/test_it.py"{attr}>{body}</testcase>'
        )
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def send(
    session: Session,
    s: Sprint,
    document: bytes,
    run: str,
    minutes: int = 0,
    *,
    at: datetime | None = None,
) -> None:
    """A report of run `run`, at `minutes` past five hours ago, or received `at`."""
    ingest_junit(
        session=session,
        sprint=s,
        document=document,
        digest=hashlib.sha256(document).hexdigest(),
        info=RunInfo(run=run, at=at or NOW - timedelta(hours=5) + timedelta(minutes=minutes)),
        now=at or NOW,
    )


def history(session: Session, s: Sprint, runs: Sequence[Times]) -> None:
    """Each dict a run (oldest first), sent as one report."""
    for i, times in enumerate(runs):
        send(session, s, doc(times), f"r{i + 1}", i)


def slow_names(figures: durations.DurationFigures | None) -> list[tuple[str, float, float]]:
    assert figures is not None
    return [(t["name"], t["seconds"], t["median"]) for t in figures["slow"]]


def test_both_the_factor_and_the_floor_must_hold_at_their_edges(session: Session) -> None:
    s = sprint()  # defaults: 2x the median, at least 1 s, over the 10 runs before
    earlier = {
        "doubled": 1.0,  # median 1 s (1, 1, 1.5): 2 s is exactly 2x → slower
        "almost": 1.0,  # median 1 s: 1.99 s is not 2x
        "tiny": 0.002,  # 2 ms → 6 ms is 3x but under the floor
        "at_floor": 0.25,  # 0.25 s → 1 s: 4x and exactly the floor → slower
        "under_floor": 0.25,  # 0.25 s → 0.99 s: 3.96x, under the floor
    }
    third = earlier | {"doubled": 1.5}
    latest = {"doubled": 2, "almost": 1.99, "tiny": 0.006, "at_floor": 1, "under_floor": 0.99}
    history(session, s, [earlier, earlier, third, latest])
    figures = durations.figures(session=session, sprint=s)
    assert slow_names(figures) == [("doubled", 2.0, 1.0), ("at_floor", 1.0, 0.25)]
    assert figures is not None
    assert (figures["slow_count"], figures["factor"], figures["floor"]) == (2, 2.0, 1.0)
    assert [t["runs"] for t in figures["slow"]] == [3, 3]


def test_a_factor_of_three_holds_for_times_float32_cannot_keep_exactly(
    session: Session,
) -> None:
    s = sprint(slow_factor=3, slow_floor="500ms")
    history(session, s, [{"t": 1.1}, {"t": 1.1}, {"t": 1.1}, {"t": 3.3}])
    assert slow_names(durations.figures(session=session, sprint=s)) == [("t", 3.3, 1.1)]


def test_a_test_needs_three_earlier_timed_runs(session: Session) -> None:
    s = sprint()
    # "young" is new in r2 (two earlier runs), "old" has three, "gaps" is untimed in r2.
    history(
        session,
        s,
        [
            {"old": 1, "gaps": 1},
            {"old": 1, "gaps": None, "young": 1},
            {"old": 1, "gaps": 1, "young": 1},
            {"old": 5, "gaps": 5, "young": 5},
        ],
    )
    assert slow_names(durations.figures(session=session, sprint=s)) == [("old", 5.0, 1.0)]


def test_the_median_is_over_the_runs_that_hold_the_test_within_the_window(
    session: Session,
) -> None:
    s = sprint(window=4)
    runs: list[Times] = [
        {"t": 100, "u": 1},  # r1: outside the window of 4 runs before the latest
        {"t": 2, "u": 1},
        {"u": 1},  # r3 does not run t
        {"t": 4, "u": 1},
        {"t": 3, "u": 1},
        {"t": 7, "u": 3},  # latest: t against median(3, 4, 2) = 3 s, u against 1 s
    ]
    history(session, s, runs)
    # (Had r1 counted, t's median would be 3.5 s.)
    assert slow_names(durations.figures(session=session, sprint=s)) == [
        ("t", 7.0, 3.0),
        ("u", 3.0, 1.0),
    ]


def test_a_sharded_run_reads_each_test_from_the_shard_that_holds_it(session: Session) -> None:
    s = sprint()
    for i in range(3):
        send(session, s, doc({"a": 1, "b": 2}), f"r{i + 1}", i * 10)
        send(session, s, doc({"c": 3}), f"r{i + 1}", i * 10 + 1)
    # The latest run in two shards: c is 3x slower; a is in both (the newer shard decides).
    send(session, s, doc({"a": 4, "b": 2}), "r4", 30)
    send(session, s, doc({"c": 9, "a": 1}), "r4", 31)
    figures = durations.figures(session=session, sprint=s)
    assert slow_names(figures) == [("c", 9.0, 3.0)]
    assert figures is not None
    # Each test's duration from the newest shard that holds it, as the slow tests read them:
    # a 1 + b 2 + c 9 = 12 s against 6 s before (a is not counted twice).
    assert figures["suite"] == {
        "run": "r4",
        "total": 12.0,
        "median": 6.0,
        "runs": 3,
        "change": 100.0,
    }


def test_the_suite_time_against_the_median_of_the_runs_before(session: Session) -> None:
    s = sprint(window=3)
    totals = [100, 10, 12, 11, 16.5]  # r1 is outside the window: median of 10, 12, 11 = 11
    history(session, s, [{"a": t / 2, "b": t / 2} for t in totals])
    figures = durations.figures(session=session, sprint=s)
    assert figures is not None
    assert figures["suite"] == {
        "run": "r5",
        "total": 16.5,
        "median": 11.0,
        "runs": 3,
        "change": 50.0,
    }
    assert figures["slow"] == []  # 8.25 s is 1.5x the median of 5.5 s


def test_one_timed_run_shows_its_time_alone(session: Session) -> None:
    s = sprint()
    send(session, s, doc({"a": 1.5, "b": None}), "r1", 0)
    figures = durations.figures(session=session, sprint=s)
    assert figures is not None
    assert figures["suite"] == {
        "run": "r1",
        "total": 1.5,
        "median": None,
        "runs": 0,
        "change": None,
    }


def test_skipped_tests_time_says_nothing(session: Session) -> None:
    s = sprint()
    quick = doc({"was_skipped": 0.001, "skips_now": 1}, skipped={"was_skipped"})
    for i in range(3):
        send(session, s, quick, f"r{i + 1}", i)
    latest = doc({"was_skipped": 5, "skips_now": 5}, skipped={"skips_now"})
    send(session, s, latest, "r4", 3)
    # was_skipped has no timed run before (its skips are not runs); skips_now is skipped now.
    assert slow_names(durations.figures(session=session, sprint=s)) == []


def test_no_durations_at_all_shows_nothing(session: Session) -> None:
    s = sprint()
    assert durations.figures(session=session, sprint=s) is None
    history(session, s, [{"a": None, "b": None}] * 4)
    assert durations.figures(session=session, sprint=s) is None
    assert tests_history.slowest(session=session, sprint=s) == []
    assert blocks._duration_lines({"durations": None}) == []  # type: ignore[typeddict-item]
    # A report stored before durations were shown renders as it did.
    assert blocks._duration_lines({}) == []  # type: ignore[typeddict-item]


def test_the_largest_slowdowns_come_first_and_the_rest_are_counted(session: Session) -> None:
    s = sprint()
    names = [f"t{i}" for i in range(8)]
    before = dict.fromkeys(names, 1.0)
    # t0 gains 2 s, t1 3 s, … t7 9 s: the five largest are t7 … t3.
    latest = {n: 3.0 + i for i, n in enumerate(names)}
    history(session, s, [before, before, before, latest])
    figures = durations.figures(session=session, sprint=s)
    assert [n for n, _, _ in slow_names(figures)] == ["t7", "t6", "t5", "t4", "t3"]
    assert figures is not None and figures["slow_count"] == 8
    lines = blocks._duration_lines({"durations": figures})  # type: ignore[typeddict-item]
    # 3 + 4 + … + 10 = 52 s against 8 x 1 s.
    assert lines[0] == (
        "*Test time*: 52.0 s in the latest run `r4`, +550 % on the median of the "
        "3 runs before (8.0 s)"
    )
    assert lines[1] == (
        "*Slower tests (8)*: at least 2x their median over the 10 runs before, and at least 1.0 s"
    )
    assert lines[2].startswith("• `tests.core.test_it::t7` 10.0 s (10.0x, median 1.0 s) · id ")
    assert lines[-1] == "_+3 more — `/tests slow` lists the slowest_"


def test_slower_tests_name_their_owners(session: Session) -> None:
    raw = minimal(owners=[{"tests": ["tests/core/**"], "notify": ["U0CORE", "S0QA"]}])
    s = validate_sprint(raw)
    history(session, s, [{"t": 1}, {"t": 1}, {"t": 1}, {"t": 2.5}])
    figures = durations.figures(session=session, sprint=s)
    assert figures is not None
    assert figures["slow"][0]["owners"] == ["U0CORE", "S0QA"]
    [_, _, line] = blocks._duration_lines({"durations": figures})  # type: ignore[typeddict-item]
    assert "` 2.5 s (2.5x, median 1.0 s) · id " in line
    assert line.endswith(" · <@U0CORE> <!subteam^S0QA>")
    # Without owners configured: no owners key, no mention.
    figures = durations.figures(session=session, sprint=sprint())
    assert figures is not None and "owners" not in figures["slow"][0]
    [_, _, line] = blocks._duration_lines({"durations": figures})  # type: ignore[typeddict-item]
    assert "<@" not in line and "subteam" not in line


def test_the_daily_report_carries_the_figures(session: Session) -> None:
    from jobs import reports

    s = sprint()
    history(session, s, [{"t": 1}, {"t": 1}, {"t": 1}, {"t": 4}])
    data = reports.daily_report(session=session, sprint=s, participants=[], now=NOW)
    assert slow_names(data.get("durations")) == [("t", 4.0, 1.0)]


def test_slowest_reads_each_tests_latest_duration_from_the_newest_runs(session: Session) -> None:
    s = sprint()
    send(session, s, doc({"old": 50, "a": 1}), "r1", 0)
    send(session, s, doc({"a": 2}), "r2", 1)
    send(session, s, doc({"b": 3}), "r3", 2)  # a shard of r3 …
    send(session, s, doc({"a": 4}), "r3", 3)  # … and another: r3 holds a and b
    send(session, s, doc({"c": 0.5}), "r4", 4)
    # The 3 newest runs (r2 … r4): r1's "old" is out of reach; a from r3, not r2.
    slow = tests_history.slowest(session=session, sprint=s)
    assert [(t["name"], t["duration"]) for t in slow] == [("a", 4.0), ("b", 3.0), ("c", 0.5)]


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            {"slow_floor": "abc"},
            'durations.slow_floor: "abc" is not a duration; write e.g. "500ms", "1s" or "2m"',
        ),
        (
            {"slow_floor": 1},
            'durations.slow_floor: "1" is not a duration; write e.g. "500ms", "1s" or "2m"',
        ),
        ({"slow_floor": "0ms"}, "durations.slow_floor: must be more than 0s and at most 1h"),
        ({"slow_floor": "2h"}, "durations.slow_floor: must be more than 0s and at most 1h"),
        ({"slow_factor": 1}, "durations.slow_factor: Input should be greater than 1"),
        ({"window": 2}, "durations.window: Input should be greater than or equal to 3"),
        ({"window": 21}, "durations.window: Input should be less than or equal to 20"),
        ({"slow_factr": 2}, "durations.slow_factr: unknown key (check its spelling)"),
    ],
)
def test_bad_durations_tables_say_what_is_wrong(table: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate_sprint(minimal(durations=table))
    assert err.value.problems == [problem]


def test_durations_table_defaults_and_forms() -> None:
    d = sprint().durations
    assert (d.slow_factor, d.slow_floor, d.window) == (2.0, timedelta(seconds=1), 10)
    d = sprint(slow_factor=1.5, slow_floor="250ms", window=20).durations
    assert (d.slow_factor, d.slow_floor, d.window) == (1.5, timedelta(milliseconds=250), 20)
    assert sprint(slow_floor="1m30s").durations.slow_floor == timedelta(seconds=90)


def test_a_backfilled_report_times_the_runs_received_by_its_instant(session: Session) -> None:
    """`sprintbot job run daily-report --at` ("as if the clock read --at") showed every
    figure as of then, but its slow tests and suite time from a later day's run (found by
    review)."""
    s = small()  # Berlin, from 2025-10-29; the report is due at 09:00 (08:00 UTC)
    for i in range(3):  # days 1-3: `a` takes 1 s every run
        at = datetime(2025, 10, 29 + i, 18, tzinfo=UTC)
        send(session, s, doc({"a": 1.0, "b": 1.0}), f"r{i + 1}", at=at)
    slow = doc({"a": 9.0, "b": 1.0})
    send(session, s, slow, "r-day6", at=datetime(2025, 11, 3, 18, tzinfo=UTC))  # day 6
    morning4 = datetime(2025, 11, 1, 8, tzinfo=UTC)  # day 4, 09:00 Berlin: the missed report
    data = reports.daily_report(session=session, sprint=s, participants=[], now=morning4)
    d = data["durations"]
    assert data["day"] == 4 and d is not None
    # As of day 4's morning the latest timed run is r3, and nothing had slowed down.
    assert (d["suite"]["run"], d["slow"]) == ("r3", []), (d["suite"], d["slow"])

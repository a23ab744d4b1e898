"""`config check` refuses, naming the key, a sprint file it used to call valid (found by
review): true/false where a number is wanted (taken as 1/0: `days = true` was a one-day
sprint, `baseline_readiness = false` a stated 0 %), numbers that are not finite or whose
sum is not (readiness "nan %", the API's 500s), a start at the ends of the calendar (a
traceback; every figure a 500), no workdays (the clock died at start, every team's), a
schedule time with seconds (the 9:00 run posted yesterday's report) and a standup's
reminder or digest before its prompt (people reminded before they were asked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from tests.support.server import EXAMPLE

WORKDAYS = 'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
CASES = {
    "baseline-false": (
        [("baseline_readiness = 67.0", "baseline_readiness = false")],
        "targets.baseline_readiness",
    ),
    "target-true": ([("readiness = 85.0", "readiness = true")], "targets.readiness"),
    "score-false": ([("score = 70\n", "score = false\n")], "components[0].score"),
    "weight-true": ([("weight = 8\n", "weight = true\n")], "components[0].weight"),
    "tolerance-true": (
        [("perf_tolerance = 10", "perf_tolerance = true")],
        "alerts.perf_tolerance",
    ),
    "days-true": ([("days = 14", "days = true")], "sprint.days"),
    "weight-inf": ([("weight = 8\n", "weight = inf\n")], "components[0].weight"),
    "weight-1e308": ([("weight = 8\n", "weight = 1e308\n")], "components[0].weight"),
    "metric-target-nan": ([("target = 1.0\n", "target = nan\n")], "metrics[0].target"),
    "metric-target-inf": ([("target = 1.0\n", "target = inf\n")], "metrics[0].target"),
    "baseline-nan": ([("baseline = 1.2\n", "baseline = nan\n")], "metrics[0].baseline"),
    "start-9999": ([("start = 2025-10-29", "start = 9999-12-30")], "sprint.start"),
    "start-0001-tokyo": (
        [
            ("start = 2025-10-29", "start = 0001-01-01"),
            ('timezone = "America/New_York"', 'timezone = "Asia/Tokyo"'),
        ],
        "sprint.start",
    ),
    "no-workdays": ([(WORKDAYS, "workdays = []")], "sprint.workdays"),
    "workday-twice": ([(WORKDAYS, 'workdays = ["mon", "mon"]')], "sprint.workdays"),
    "report-seconds": (
        [('daily_report = "09:00"', "daily_report = 09:00:30")],
        "schedule.daily_report",
    ),
    "reminder-before-prompt": (
        [
            ('standup_reminder = "09:25"', 'standup_reminder = "08:00"'),
            ('standup_digest = "09:30"', 'standup_digest = "08:30"'),
        ],
        "standup_reminder (08:00) is before standup_prompt (09:00)",
    ),
}


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(("edits", "named"), list(CASES.values()), ids=list(CASES))
def test_config_check_refuses_the_file_naming_the_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edits: list[tuple[str, str]],
    named: str,
) -> None:
    text = EXAMPLE.read_text("utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "sprint.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["config", "check", str(path), "--at", "2025-10-31T14:00:00Z"])
    out, err = capsys.readouterr()
    assert code == 1, out[:300]
    assert err.startswith(f"{path}: 1 error"), err
    assert named in err, err
    assert "True days" not in err and "nan" not in out, err

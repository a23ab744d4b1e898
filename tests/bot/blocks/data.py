"""Hand-built report data: a small sprint on day 3, as jobs.reports would produce it."""

from __future__ import annotations

from jobs.reports import AppHome, BurndownNow, SprintStatus, Summary

SUMMARY = Summary(
    name="Sprint 4",
    day=3,
    days=14,
    date="2025-10-30",
    phase="running",
    status_line=None,
    final=False,
    end="2025-11-10",
    readiness={
        "score": 81.5,
        "previous": 80.0,
        "change": 1.5,
        "target": 90.0,
        "plan": 78.0,
        "health": "On Track",
        "health_reason": "ahead of plan",
        "plan_note": "linear plan",
        "baseline": {"stated": 70.0, "measured": 71.0},
    },
    tests={
        "passed": 1900,
        "known": 2000,
        "pass_rate": 95.0,
        "pass_rate_target": 98.0,
        "failing": 100,
        "skipped": 5,
        "target_failing": 40,
        "baseline_failing": 300,
        "fixed": 210,
        "regressions_introduced": 12,
        "regressions_open": 3,
        "new_failures_open": 2,
        "test_files_passing": 90,
        "test_files": 100,
    },
    blockers=[
        {
            "code": "B-001",
            "severity": "P0",
            "component": "Core",
            "description": "CI <down>",
            "age": "2h",
            "level": 1,
        }
    ],
    blocker_count=2,
    risks=[
        {
            "code": "R-001",
            "status": "Active",
            "impact": "High",
            "probability": "Low",
            "owner": "U0ANA",
            "mitigation": "",
            "description": "Vendor late",
        }
    ],
    risk_open_count=1,
    risk_counts={"Critical": 0, "Active": 1, "Mitigated": 0, "Resolved": 0},
    benchmarks=[],
    benchmarks_met=0,
)
BURNDOWN = BurndownNow(
    failing=100, planned=120, final=40, fixed=210, remaining=60, regressions_open=3
)
STATUS = SprintStatus(**SUMMARY, burndown=BURNDOWN)
HOME = AppHome(
    **STATUS,
    user="U0DEV1",
    groups=[
        {"name": "Code", "weight": 2.0, "score": 92.0, "target": 90.0},
        {"name": "Docs", "weight": 1.0, "score": None, "target": 80.0},
    ],
    standups={"answered": 3, "expected": 5, "missing": ["U0DEV1"], "mine": "missing"},
    last_run={
        "run": "ci-7",
        "at": "2025-10-30T08:15:00+00:00",
        "passed": 1900,
        "failed": 100,
        "skipped": 5,
        "commit": "abcdef1234567890",
        "url": "https://ci/7",
    },
    chart_file="F0CHART",
    at="2025-10-30T09:00:00+00:00",
)

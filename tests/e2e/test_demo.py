"""`sprintbot demo` as a new user runs it: no Slack, no settings, a fresh process."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from bot.demo import DEMO_DAYS, junit_runs
from jobs.config import load_sprint
from tests.conftest import EXAMPLE


def test_demo_prints_the_sprint_and_writes_chart_and_tracker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SPRINTBOT_"))}
    env.pop("DATABASE_URL", None)
    out_dir = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--out", str(out_dir)],
        env=env,
        cwd=tmp_path,  # no .env, no sprint.toml here
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert proc.stderr == ""
    # What Slack would have shown, as terminal text.
    assert "# Regression alert (#phase4-production-readiness, day 3)" in out
    assert "6 tests regressed on main" in out
    assert "API Throughput degraded: 850 req/s" in out
    assert "# /readiness — the breakdown" in out and "Core Infrastructure · weight 25" in out
    assert "Daily report — Day 7 of 14, 2025-11-04" in out
    assert "Weekly report — week 1, Day 7 of 14, 2025-11-04" in out
    assert "B-002 P1 · E2E Tests" in out  # the open blocker; B-001 was resolved on day 5
    assert "R-001 Active (High impact) — Test fixes introduce regressions" in out
    assert "<@" not in out and ":white_check_mark:" not in out  # mrkdwn made readable
    runs = list(junit_runs(load_sprint(EXAMPLE), days=DEMO_DAYS))
    passed = 2124 - runs[-1].failing
    assert f"Tests passing: {passed}/2124" in out

    # It says where it wrote, and the files are there; under 30 s on this machine.
    seconds = float(re.search(r"The demo sprint \(([\d.]+) s\)", out).group(1))  # type: ignore[union-attr]
    assert seconds < 30
    chart = out_dir / "burndown.png"
    tracker = out_dir / "tracker.md"
    assert f"burn-down chart   {chart}" in out and f"tracker document  {tracker}" in out
    # The CI runs it ingested are there to read, or to ingest again.
    assert f"CI runs (JUnit)   {out_dir / 'junit'}/day-1.xml … day-6.xml" in out
    assert (out_dir / "junit" / "day-6.xml").read_bytes() == runs[-1].xml
    png = chart.read_bytes()
    Image.open(io.BytesIO(png)).verify()
    series = json.loads(Image.open(io.BytesIO(png)).text["Description"])  # type: ignore[attr-defined]
    assert series["failing"] == {str(r.day): r.failing for r in runs}

    md = tracker.read_text(encoding="utf-8")
    assert md.startswith("# Phase 4 Production Readiness Tracker\n")
    for heading in (
        "## Executive Summary",
        "## Daily Progress Tracker",
        "## Burn-Down Chart Data",
        "## Risk Tracking Matrix",
        "## Blocker Resolution Log",
        "## Key Metrics Dashboard",
        "### Performance Benchmarks",
        "## Sprint Milestones",
        "## Update History",
    ):
        assert f"\n{heading}\n" in md, heading
    assert f"| **Passing Tests** | 1,717 / 2,124 | {passed:,} / 2,124 |" in md
    assert f"| 6 | {runs[-1].failing} | 307 |" in md  # day 6: failing against the plan
    assert (
        "| B-001 | Swarm Coordination | Leader election deadlocks under a network partition" in md
    )
    assert "| R-001 | Test fixes introduce regressions | High | Medium |" in md
    assert "- [ ] tests_fixed >= 110 — measured 108" in md
    assert "| API Throughput | 850 req/s | 850 req/s | >1,000 req/s | 🔴 degraded |" in md


def test_demo_reports_an_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--out", str(blocker / "demo")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("cannot write (Not a directory)")
    assert proc.stderr.count("\n") == 1

"""The tracker export lays sprint-file text (the sprint's name and goal, a milestone's name
and review note, an escalation step's name) on Markdown lines of its own: a line break in
that text (a TOML multi-line string, which `config check` accepts as valid) starts new
Markdown blocks in the document (headings, list items), breaking its structure (found by
review). Each is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Database
from tests.support.fakeslack import FakeSlack
from tests.support.server import BOT_TOKEN, SIGNING_SECRET

SPRINT = '''
[sprint]
name = "Phase 4\\n## Not a heading of the tracker"
goal = """
Reach 85 % readiness
# and close every P0
"""
start = 2025-10-29
days = 10
timezone = "Europe/Berlin"

[targets]
readiness = 85
pass_rate = 87

[channels]
team = "#team"
status = "#status"
blockers = "C0BLOCKERS"

[people]
participants = ["U01"]
tech_lead = ["U01"]

[[escalation]]
after = "0h"
name = """Lead review
## Escalated"""
notify = "tech_lead"

[[components]]
name = "Core"
weight = 1
target = 90
source = "manual"
score = 50

[[milestones]]
day = 3
name = "Week 1\\n# checkpoint"
review = """Friday 10:00

## the review"""
criteria = [{ metric = "readiness", op = ">=", value = 50, label = "Ready\\n- [x] signed off" }]
'''

HEADINGS = [
    "## Executive Summary",
    "## Daily Progress Tracker",
    "## Burn-Down Chart Data",
    "## Risk Tracking Matrix",
    "## Blocker Resolution Log",
    "### Open Blockers",
    "### Resolved Blockers",
    "## Key Metrics Dashboard",
    "### Production Readiness Score Breakdown",
    "### Test Coverage by Component",
    "### Code Quality Trends",
    "### Performance Benchmarks",
    "## Sprint Milestones",
    "### Forecast",
    "## Success Criteria Matrix",
    "## Update History",
]


def test_line_breaks_in_sprint_file_text_do_not_add_headings_or_items_to_the_tracker(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db: Database,
    database_url: str,
    fake_slack: FakeSlack,
    clean_env: None,
) -> None:
    """An admin writes the goal, a milestone's review note or an escalation step over
    several lines; `config check` says the file is valid. `sprintbot export tracker` then
    writes a document whose Markdown has headings and checked list items nobody wrote
    ("# and close every P0", "## Escalated", "- [x] signed off"), the title split over
    two headings. Each text should stay on its own line (line breaks as spaces, as table
    cells already do), so the document has the tracker's headings and no others."""
    path = tmp_path / "sprint.toml"
    path.write_text(SPRINT, encoding="utf-8")
    assert main(["config", "check", str(path)]) == 0  # accepted as valid
    for name, value in (
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", fake_slack.url),
        ("DATABASE_URL", database_url),
        ("SPRINTBOT_CONFIG", str(path)),
    ):
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert main(["export", "tracker", "--at", "2025-10-31T14:00:00Z"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    headings = [line for line in out.splitlines() if line.startswith("#")]
    # The title, then the tracker's own headings and one per milestone (twice).
    assert headings[0].startswith("# Phase 4") and headings[0].endswith(" Tracker"), headings
    rest = [h for h in headings[1:] if not h.startswith("### Week 1")]
    assert rest == HEADINGS, headings
    items = [line for line in out.splitlines() if line.startswith("- [")]
    assert len(items) == 1, items  # the one criterion

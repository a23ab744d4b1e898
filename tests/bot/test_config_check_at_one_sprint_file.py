"""`sprintbot config check [PATH] [--at ISO]` "prints a one-screen summary per team, with
its current and next sprint as of `--at`" (docs/cli.md). For a one-sprint file
(`[sprint]`, the README's and `sprint.example.toml`'s form) `cmd_config_check` prints
`summarize(sprint)` only: `--at` is parsed and then ignored, and nothing says whether the
sprint is running, still to come or over (found by review)."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.support.server import EXAMPLE


@pytest.mark.usefixtures("clean_env")
def test_config_check_of_a_sprint_file_says_where_the_sprint_stands_as_of_at(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An admin checks sprint.example.toml (2025-10-29 to 2025-11-11) as of a week before,
    during, and two months after the sprint: the three outputs are byte for byte the same,
    so `--at` (documented to pick the current and next sprint) tells them nothing. A team
    file's summary says "(current)", "(next)", "(ended)" and "no sprint running; ...": the
    sprint file's should say as much."""
    outputs = []
    for at in ("2025-10-20T12:00Z", "2025-11-01T12:00Z", "2026-01-01T12:00Z"):
        assert main(["config", "check", str(EXAMPLE), "--at", at]) == 0
        outputs.append(capsys.readouterr().out)
    before, during, after = outputs
    assert len({before, during, after}) == 3, "--at changes nothing in the summary"
    assert "no sprint running; the next starts on 2025-10-29" in before
    assert "no sprint running; the last ended on 2025-11-11" in after

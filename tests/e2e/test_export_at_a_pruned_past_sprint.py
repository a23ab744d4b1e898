"""`export tracker --at` was to refuse an instant [retention] no longer keeps, with the
API's own check (retention.not_kept, commit d61b7ef). For an instant of an ENDED past
sprint the CLI passes that past sprint as the sprint served now (`current`), so the
horizons are capped at the past sprint's start and nothing is ever "not kept": the CLI
prints a tracker from pruned history while GET /api/v1/sprint?at= answers 410."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from jobs import retention
from jobs.config import load_team
from jobs.numbers import utcnow
from storage.db import Database

EXAMPLE = Path("/work/main/examples/teams/platform.toml")


def team_file(tmp_path: Path) -> tuple[Path, datetime]:
    today = utcnow().date()
    past = today - timedelta(days=200)
    running = today - timedelta(days=3)
    text = EXAMPLE.read_text()
    text = text.replace("start = 2025-10-29", f"start = {past.isoformat()}")
    text = text.replace("start = 2025-11-12", f"start = {running.isoformat()}")
    text = text.replace("days = 10\n", "days = 30\n")
    text += "\n[retention]\nresults_days = 30\nmetrics_days = 30\n"
    path = tmp_path / "platform.toml"
    path.write_text(text)
    at = datetime.combine(past + timedelta(days=5), datetime.min.time()).replace(
        hour=17, tzinfo=utcnow().tzinfo
    )
    return path, at


@pytest.mark.usefixtures("clean_env")
def test_export_tracker_refuses_a_past_sprints_instant_retention_no_longer_keeps(
    monkeypatch: pytest.MonkeyPatch,
    db: Database,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, at = team_file(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(path))
    team = load_team(path)
    past, running = team.sprints
    now = utcnow()
    # The API's check (bot/web.py: current = the sprint served now, asked = the past one):
    gone = retention.not_kept(current=running, asked=past, at=at, now=now)
    assert gone is not None  # GET /api/v1/sprint?sprint=…&at=… answers 410
    try:
        code: object = main(["export", "tracker", "--at", at.isoformat()])
    except BaseException as exc:
        code = f"raised {exc!r}"
    out, err = capsys.readouterr()
    assert code in (1, 2), (code, out[:300], err[:300])
    assert "not kept" in err, err

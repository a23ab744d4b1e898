"""Doctor where it passed what the bot then refused (found by review): one channel written
two ways across team files, a database whose data no team of the files can take."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_doctor import doctor, workspace
from tests.support.fakeslack import FakeSlack, channel_id
from tests.support.server import two_teams

pytestmark = pytest.mark.usefixtures("clean_env")

from tests.e2e.test_doctor import installed  # noqa: E402,F401  (the fixture)


def test_doctor_fails_when_one_channel_is_two_teams_team_channel_by_name_and_id(
    capsys: pytest.CaptureFixture[str],
    installed: FakeSlack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """platform.toml writes its team channel "#platform", mobile.toml writes the same
    channel by its ID: `config check` cannot know, but doctor resolves both to one channel,
    and one channel may not be two teams' team channel (README: "no channel the team
    channel of two teams"); commands typed there would act for one team only."""
    teams = two_teams(tmp_path / "teams")
    mobile = teams / "mobile.toml"
    same = channel_id("#platform")
    mobile.write_text(
        mobile.read_text(encoding="utf-8").replace('team = "#mobile"', f'team = "{same}"'),
        encoding="utf-8",
    )
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(teams))
    workspace(installed, "#platform", "#sprint-status", "#critical-blockers")
    code, lines, _ = doctor(capsys)
    failed = [line for line in lines if line.startswith("✗")]
    assert code == 1, "\n".join(lines)
    [line] = [line for line in failed if "platform.toml" in line and "mobile.toml" in line]
    assert line == (
        "✗ channel written two ways: CPLATFORM (channels.team in mobile.toml) and #platform "
        "(channels.team in platform.toml) are one channel"
    )


def test_doctor_fails_where_the_bot_would_refuse_to_start_on_old_data(
    capsys: pytest.CaptureFixture[str],
    installed: FakeSlack,  # noqa: F811
    db,  # the suite's database (installed's DATABASE_URL), emptied afterwards
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A database holding data from before teams, SPRINTBOT_CONFIG a directory of two
    teams: `sprintbot web`/`clock`/`run` refuse to start ("start once with that team's file
    alone"), yet doctor prints every check passed and exits 0 — the operator who ran it
    before deploying learns of it only from a failed start."""
    from datetime import UTC, datetime

    from bot.runtime import sync_teams
    from bot.settings import StartupError
    from jobs.config import load_org
    from storage.models import Blocker

    with db.session() as session:  # filed before teams: the migration's team 1
        session.add(
            Blocker(
                component="API",
                description="filed before teams",
                severity="P1",
                reported_by="U1",
                reported_at=datetime(2025, 11, 4, tzinfo=UTC),
            )
        )
        session.commit()
    teams = two_teams(tmp_path / "teams")
    monkeypatch.setenv("SPRINTBOT_CONFIG", str(teams))
    workspace(installed, "#platform", "#mobile", "#sprint-status", "#critical-blockers")
    code, lines, _ = doctor(capsys)
    # What a starting process does with this database and these files:
    with pytest.raises(StartupError, match="from before teams"):
        sync_teams(load_org(teams), db, now=datetime(2025, 11, 4, 14, tzinfo=UTC))
    assert code == 1, "\n".join(lines)
    assert any(
        line.startswith("✗ team data: the database holds a sprint from before teams")
        for line in lines
    ), lines

"""A one-team deployment grown straight into a directory of two teams (found by review):
refused, saying how, not started with its history left behind."""

from __future__ import annotations

from pathlib import Path

from jobs.config import load_org
from jobs.teams import LegacyData, Teams
from storage.db import Database
from tests.jobs.test_team_sync import NOW, TEAMS, _seed, _seen
from tests.support.server import EXAMPLE


def test_a_one_team_database_started_on_a_directory_of_two_teams_is_not_silently_dropped(
    tmp_path: Path, db: Database
) -> None:
    """sprint.toml served for a while (its blockers, standups); the operator then moves it
    to teams/platform.toml and adds teams/mobile.toml (the README's "Several teams" shape)
    and restarts. The old team's data must either stay platform's, or the start must be
    refused saying how to hand it over (as it is for a database from before teams) — not
    a new, empty platform whose history, blockers and standups are silently gone."""
    first = tmp_path / "sprint.toml"
    first.write_text(EXAMPLE.read_text())
    teams = Teams.sync(load_org(first), db=db, now=NOW)
    _seed(db, teams)
    before = _seen(db, teams)
    assert before == (["B-001"], 1, 1)

    directory = tmp_path / "teams"
    directory.mkdir()
    (directory / "platform.toml").write_text(EXAMPLE.read_text())
    (directory / "mobile.toml").write_text((TEAMS / "mobile.toml").read_text())
    try:
        again = Teams.sync(load_org(directory), db=db, now=NOW)
    except LegacyData as exc:  # refused, saying what to do: fine
        assert str(exc).startswith('the database holds the data of team "sprint", and ')
        assert 'give that team\'s file [team] id = "sprint"' in str(exc)
        return
    platform = again.get("platform")
    assert platform is not None
    served = again.serve(platform, now=NOW)
    from sqlmodel import select

    from storage.models import Blocker

    with db.scoped(served.scope).read() as s:
        codes = [b.code for b in s.exec(select(Blocker)).all()]
    assert codes == ["B-001"], "platform's blockers vanished on adding a second team"

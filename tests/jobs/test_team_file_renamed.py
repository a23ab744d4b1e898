"""A directory of two teams whose one file is renamed (mobile.toml -> mobile-apps.toml, no
[team] id: its id is the file's stem): restarted, the team's history is silently left
behind under the old id, while the same rename with one team keeps it and a one-team
database started on a directory is refused (found by review). It is refused too, saying
how to keep the data or start the team anew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from jobs.config import load_org
from jobs.teams import LegacyData, Teams
from storage.db import Database
from storage.models import Blocker
from tests.support.server import TEAMS

NOW = datetime(2025, 11, 5, 14, 0, tzinfo=UTC)  # both teams' sprints run


def _codes(db: Database, teams: Teams, team_id: str) -> list[str]:
    team = teams.get(team_id)
    assert team is not None
    served = teams.serve(team, now=NOW)
    with db.scoped(served.scope).read() as s:
        return [b.code for b in s.exec(select(Blocker)).all()]


def _file_a_blocker(db: Database, teams: Teams, team_id: str) -> None:
    """The team's open P0 blocker: its history."""
    team = teams.get(team_id)
    assert team is not None
    with db.scoped(teams.serve(team, now=NOW).scope).session() as s:
        s.add(
            Blocker(
                component="Sync",
                description="sync loses edits",
                severity="P0",
                reported_by="U0DAVE",
                reported_at=NOW - timedelta(days=1),
            )
        )
        s.commit()


def test_renaming_one_team_file_of_two_does_not_silently_drop_its_history(
    tmp_path: Path, db: Database
) -> None:
    first = tmp_path / "teams"
    first.mkdir()
    (first / "platform.toml").write_text((TEAMS / "platform.toml").read_text())
    # mobile's file without its [team] id: the team is its file's stem, "mobile".
    mobile = (TEAMS / "mobile.toml").read_text().replace('id = "mobile"\n', "")
    (first / "mobile.toml").write_text(mobile)
    teams = Teams.sync(load_org(first), db=db, now=NOW)
    assert {t.id for t in teams.all} == {"platform", "mobile"}
    _file_a_blocker(db, teams, "mobile")
    assert _codes(db, teams, "mobile") == ["B-001"]

    # The operator renames the file (a clearer name); nothing else changes.
    (first / "mobile.toml").rename(first / "mobile-apps.toml")
    with pytest.raises(LegacyData) as refused:
        Teams.sync(load_org(first), db=db, now=NOW)
    said = str(refused.value)
    assert 'team "mobile"' in said and 'mobile-apps.toml is a new team "mobile-apps"' in said
    assert '[team] id = "mobile"' in said, said

    # As it says: the file given the old id, the team carries on with its history.
    renamed = first / "mobile-apps.toml"
    renamed.write_text('[team]\nid = "mobile"\n' + renamed.read_text().replace("[team]\n", "", 1))
    again = Teams.sync(load_org(first), db=db, now=NOW)
    assert _codes(db, again, "mobile") == ["B-001"]


def test_a_new_team_named_so_in_its_file_starts_beside_a_team_whose_file_was_removed(
    tmp_path: Path, db: Database
) -> None:
    first = tmp_path / "teams"
    first.mkdir()
    (first / "platform.toml").write_text((TEAMS / "platform.toml").read_text())
    (first / "mobile.toml").write_text((TEAMS / "mobile.toml").read_text())
    teams = Teams.sync(load_org(first), db=db, now=NOW)
    _file_a_blocker(db, teams, "mobile")
    # mobile's file goes; a team "web" comes with its id in its file: a new team, started.
    (first / "mobile.toml").unlink()
    web = (TEAMS / "mobile.toml").read_text().replace('id = "mobile"', 'id = "web"')
    (first / "web.toml").write_text(web)
    again = Teams.sync(load_org(first), db=db, now=NOW)
    assert _codes(db, again, "web") == []

"""A team's id taken from its file's name is held to the length the database keeps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs.config import ConfigError, load_org
from tests.support.server import EXAMPLE

NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)


def _org_dir(tmp_path: Path) -> Path:
    teams = tmp_path / "teams"
    teams.mkdir()
    # A descriptive file name, as people name files; no [team] id: the id is the file's name.
    stem = "platform-reliability-and-observability-squad-" + "production-readiness-" * 4
    assert len(stem) > 100 and len(stem) < 200
    (teams / f"{stem}.toml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return teams


def test_config_check_refuses_a_team_id_from_a_long_file_name(tmp_path: Path) -> None:
    """An admin names a team file after the team, e.g.
    `platform-reliability-and-observability-squad-production-readiness-….toml` (129
    characters, no `[team] id`), and runs `sprintbot config check`: it passes. The same id
    typed as `[team] id = "…"` is refused ("String should have at most 100 characters"),
    for the database keeps a team id in 100 characters (storage/models.py Team.slug): on
    PostgreSQL the bot then will not start (its team row cannot be written). The id made
    from the file's name (jobs/config.py load_team, `_slug(p.stem)`) is never held to the
    new limit of TeamInfo.id. The check should refuse it, naming the file."""
    with pytest.raises(ConfigError) as raised:
        load_org(_org_dir(tmp_path))
    assert "100" in str(raised.value), raised.value

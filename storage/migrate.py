"""Run Alembic migrations programmatically (`sprintbot db upgrade`, tests, the demo).

Alembic is imported only to migrate: a starting process checks its revision with one query
against `HEAD` (11 MB less in every process; a test holds `HEAD` to Alembic's head)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from storage.db import normalize_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0022"  # the newest revision in migrations/versions


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations, for a URL or an open connection."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation would choke on a `%` in a password.
        cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(
    url: str | None = None, *, connection: Connection | None = None, revision: str = "head"
) -> None:
    """Bring the database up to `revision` (default: the newest)."""
    from alembic import command

    command.upgrade(alembic_config(url, connection=connection), revision)


def downgrade(
    url: str | None = None, *, connection: Connection | None = None, revision: str = "base"
) -> None:
    """Step the database back to `revision`."""
    from alembic import command

    command.downgrade(alembic_config(url, connection=connection), revision)


def revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's current revision, the newest revision shipped)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None, HEAD
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return current, HEAD


def newer_than_shipped(current: str | None) -> bool:
    """Whether a database's revision is past the newest this release ships (a newer
    release migrated it; revisions are numbered "0001", "0002", …)."""
    return current is not None and current.isdigit() and current > HEAD


def behind_message(current: str | None) -> str:
    """What to do about a database not at `HEAD`: one line."""
    if newer_than_shipped(current):
        return (
            f"the database is at revision {current}, newer than this sprintbot's {HEAD}: "
            "run the release that migrated it"
        )
    return (
        f"the database is at revision {current or 'none'}, not {HEAD}: "
        "run `sprintbot db upgrade` first"
    )


def alembic_head() -> str | None:
    """The newest revision as Alembic reads the migrations (what `HEAD` must say)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()

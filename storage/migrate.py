"""Run Alembic migrations programmatically (`sprintbot db upgrade`, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from storage.db import normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations, for a URL or an open connection."""
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
    command.upgrade(alembic_config(url, connection=connection), revision)


def downgrade(
    url: str | None = None, *, connection: Connection | None = None, revision: str = "base"
) -> None:
    """Step the database back to `revision`."""
    command.downgrade(alembic_config(url, connection=connection), revision)


def revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's current revision, the newest revision shipped)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head

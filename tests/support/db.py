"""Emptying the test database between tests."""

from __future__ import annotations

from sqlalchemy import Connection, insert, text
from sqlmodel import SQLModel

from storage.db import Database
from storage.models import SprintRow, Team
from storage.scope import LEGACY

LEGACY_SEQUENCES = ("team_id_seq", "sprint_id_seq")


def legacy_rows(conn: Connection) -> None:
    """Team 1 and its sprint 1, as the migration leaves them (rows outside any scope go
    there), in a database just emptied."""
    conn.execute(insert(Team).values(id=LEGACY.team_id, slug=None, name=""))
    conn.execute(insert(SprintRow).values(id=LEGACY.sprint_id, team_id=LEGACY.team_id, name=""))
    if conn.dialect.name == "postgresql":
        for name in LEGACY_SEQUENCES:
            conn.execute(text(f"SELECT setval('{name}', 1)"))


def empty(database: Database) -> None:
    """Every table emptied, ids from 1 again (B-001, R-001), and the legacy team's rows back."""
    tables = list(reversed(SQLModel.metadata.sorted_tables))
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
        legacy_rows(conn)

"""Alembic environment: the models' metadata, and a URL or connection from the caller."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds tables there.
        render_as_batch=True,
    )
    # Rebuilding a table drops it, which SQLite refuses while its foreign keys are enforced
    # and other tables' rows point at it (a database with data): off for the migration, as
    # Alembic's batch documentation advises, then every reference checked before the commit.
    # The pragma is a no-op inside a transaction, and SQLAlchemy would begin one: it goes
    # to the driver's connection (which pysqlite leaves in autocommit, `storage.db`).
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    driver = connection.connection.driver_connection if sqlite else None
    if driver is not None:
        driver.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            if (
                driver is not None
                and connection.exec_driver_sql("PRAGMA foreign_key_check").first()
            ):
                raise RuntimeError("the migration left rows pointing at missing rows")
    finally:
        if driver is not None:
            driver.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

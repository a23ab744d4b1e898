"""known_test without foreign keys on team_id and last_report_id: a first report's tests
are copied in without a check per row

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28

PostgreSQL checks a foreign key with a query per inserted row (its referential-integrity
trigger; there is no set-wise check, COPY included): the two of known_test took ~200 of a
20k-test first report's ~600 ms there, and would take seconds of a 1M-test one. Both keys
point at rows that are never deleted (a team; a report, which retention prunes but keeps),
and only ingestion writes the columns, with its own team and the report it just inserted.
The keys of test_result, alert_id and quarantine's stay: they are written a few rows at a
time.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's foreign key on last_report_id has no name of its own (0001): batch mode names it
# this way to drop it.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s"}


def _names() -> tuple[str, str]:
    postgresql = op.get_bind().dialect.name == "postgresql"
    return "fk_known_test_team_id", (
        "known_test_last_report_id_fkey" if postgresql else "fk_known_test_last_report_id"
    )


def upgrade() -> None:
    with op.batch_alter_table("known_test", naming_convention=NAMING) as batch:
        for name in _names():
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    team, report = _names()
    with op.batch_alter_table("known_test", naming_convention=NAMING) as batch:
        batch.create_foreign_key(team, "team", ["team_id"], ["id"])
        batch.create_foreign_key(report, "test_report", ["last_report_id"], ["id"])

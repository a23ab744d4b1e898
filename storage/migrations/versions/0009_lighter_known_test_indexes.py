"""lighter known_test indexes: no index of team_id alone, alert_id's only where set

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26

Every new test paid the upkeep of two indexes that served nothing another did not: team_id
is uq_known_test_identity's leading column, and alert_id is NULL but for the few tests an
alert names (the look-ups by alert, and an alert's deletion, ask for one id: a partial
index serves them). Half a second each of a first report of 1M tests on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SET = sa.text("alert_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_known_test_team_id", table_name="known_test")
    op.drop_index("ix_known_test_alert_id", table_name="known_test")
    op.create_index(
        "ix_known_test_alert_id",
        "known_test",
        ["alert_id"],
        postgresql_where=_SET,
        sqlite_where=_SET,
    )


def downgrade() -> None:
    op.drop_index("ix_known_test_alert_id", table_name="known_test")
    op.create_index("ix_known_test_alert_id", "known_test", ["alert_id"])
    op.create_index("ix_known_test_team_id", "known_test", ["team_id"])

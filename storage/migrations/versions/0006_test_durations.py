"""test durations: every test's JUnit `time` per report, packed beside its statuses

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("test_report") as batch:
        batch.add_column(sa.Column("durations", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_report") as batch:
        batch.drop_column("durations")

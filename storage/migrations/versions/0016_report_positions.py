"""report positions: a report naming the same tests as the branch's newest one reads the
branch's state from that report (test ids, statuses and components by position) instead of
looking every test up

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("test_report") as batch:
        batch.add_column(sa.Column("identity", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("positions", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_report") as batch:
        batch.drop_column("positions")
        batch.drop_column("identity")

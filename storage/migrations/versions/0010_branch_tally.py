"""branch tally: each report keeps its branch's known tests counted per (component,
status) as the report left them, so that a CI shard need not count the whole branch

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Left empty on the reports before: the next shard counts its branch once.
    with op.batch_alter_table("test_report") as batch:
        batch.add_column(sa.Column("tally", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_report") as batch:
        batch.drop_column("tally")

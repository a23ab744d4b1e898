"""timed reports: whether a report's run time was given (`at=`, or a timestamp with a UTC
offset), so that only such runs make a later-arriving report of an older run late

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Left empty on the reports before: unknown, so none of them makes a report late.
    with op.batch_alter_table("test_report") as batch:
        batch.add_column(sa.Column("timed", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_report") as batch:
        batch.drop_column("timed")

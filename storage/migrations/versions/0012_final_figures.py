"""final figures: an ended sprint's row keeps its figures as of its end beside its outcome,
so that `GET /api/v1/sprint?sprint=NAME` gives them once retention pruned its history

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Left empty on the sprints ended before: computed from what history is left, as then.
    with op.batch_alter_table("sprint") as batch:
        batch.add_column(sa.Column("figures", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sprint") as batch:
        batch.drop_column("figures")

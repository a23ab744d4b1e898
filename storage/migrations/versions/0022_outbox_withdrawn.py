"""outbox.withdrawn: a row taken back while it was being sent (`queries.withdraw`) is not
sent again when that attempt fails and is retried, nor when its claim runs out (a resolved
blocker's escalation step was posted on the retry; found by review)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    # Rows marked while being sent and not finished since go as they would have before.
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("withdrawn")

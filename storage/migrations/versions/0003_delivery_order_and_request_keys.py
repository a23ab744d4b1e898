"""outbox lanes and claim tokens; request keys on blockers and risks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("lane", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
        batch.add_column(
            sa.Column("claim_token", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch.create_index("ix_outbox_lane", ["lane", "status"])
    for table in ("blocker", "risk"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "request_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
                )
            )
            batch.create_unique_constraint(f"uq_{table}_request_key", ["request_key"])


def downgrade() -> None:
    for table in ("risk", "blocker"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_request_key", type_="unique")
            batch.drop_column("request_key")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_lane")
        batch.drop_column("claim_token")
        batch.drop_column("lane")

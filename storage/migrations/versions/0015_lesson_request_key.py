"""lesson request keys: the lesson form submitted twice (a double click, one view id)
stores one lesson, as the blocker and risk forms do

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lesson") as batch:
        batch.add_column(sa.Column("request_key", sa.String(length=200), nullable=True))
        batch.create_unique_constraint("uq_lesson_request_key", ["team_id", "request_key"])


def downgrade() -> None:
    with op.batch_alter_table("lesson") as batch:
        batch.drop_constraint("uq_lesson_request_key", type_="unique")
        batch.drop_column("request_key")

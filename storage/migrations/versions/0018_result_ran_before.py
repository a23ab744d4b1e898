"""test_result.ran_before: where a test was skipped before a change, the status it last ran
with, so a skip is seen through (passed, skipped, failed is a regression; failed, skipped,
failed is still failing) by the reply, the figures and the reports alike

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29

The rows already stored are filled in from the history kept: the test's change that made it
skipped holds the status before the skip (none where it was first seen skipped, or where
retention deleted that change).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("test_result") as batch:
        batch.add_column(sa.Column("ran_before", sa.String(length=10), nullable=True))
    op.execute(
        "UPDATE test_result SET ran_before = ("
        " SELECT s.previous_status FROM test_result AS s"
        " WHERE s.test_id = test_result.test_id AND s.id < test_result.id"
        " AND s.status = 'skipped' ORDER BY s.id DESC LIMIT 1)"
        " WHERE previous_status = 'skipped' AND status <> 'skipped'"
    )


def downgrade() -> None:
    with op.batch_alter_table("test_result") as batch:
        batch.drop_column("ran_before")

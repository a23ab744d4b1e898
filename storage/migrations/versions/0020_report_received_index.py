"""ix_test_report_received: a branch's reports by the time they came, so that the last CI
run (App Home, the daily report) is read from the newest report down rather than by sorting
every report the branch ever received, blobs and all (found by review)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_test_report_received",
        "test_report",
        ["team_id", "branch", "received_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_test_report_received", table_name="test_report")

"""ix_test_report_newest: a branch's reports by their time, so that the newest runs (`/tests
show`, `GET /api/v1/tests/{id}`, the test durations) are read from the newest report down
rather than by grouping the team's every report by run (found by review)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_test_report_newest", "test_report", ["team_id", "branch", "at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_test_report_newest", table_name="test_report")

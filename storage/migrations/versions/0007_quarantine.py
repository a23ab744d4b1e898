"""quarantine: flaky tests set apart with who, why, when and until; replaces known_test.muted

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A test muted before quarantines had an end gets the default quarantine from the upgrade.
_MUTED_FOR = timedelta(days=14)


def upgrade() -> None:
    quarantine = op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("passes", sa.Integer(), nullable=False),
        sa.Column("last_run", sa.String(length=200), nullable=True),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("released_by", sa.String(length=50), nullable=True),
        sa.Column("release_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["test_id"], ["known_test.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_test_report_commit", "test_report", ["team_id", "branch", "commit"])
    op.create_index("ix_quarantine_team_id", "quarantine", ["team_id"])
    op.create_index("ix_quarantine_test_id", "quarantine", ["test_id"])
    op.create_index(
        "uq_quarantine_open",
        "quarantine",
        ["test_id"],
        unique=True,
        sqlite_where=sa.text("released_at IS NULL"),
        postgresql_where=sa.text("released_at IS NULL"),
    )
    known = sa.table(
        "known_test",
        sa.column("id", sa.Integer()),
        sa.column("team_id", sa.Integer()),
        sa.column("muted", sa.Boolean()),
    )
    conn = op.get_bind()
    now = datetime.now(UTC)
    muted = conn.execute(sa.select(known.c.id, known.c.team_id).where(known.c.muted)).all()
    if muted:
        op.bulk_insert(
            quarantine,
            [
                {
                    "team_id": team_id,
                    "test_id": test_id,
                    "by": "sprintbot",
                    "reason": "muted as flaky before quarantines had an end",
                    "since": now,
                    "until": now + _MUTED_FOR,
                    "passes": 0,
                }
                for test_id, team_id in muted
            ],
        )
    with op.batch_alter_table("known_test") as batch:
        batch.drop_column("muted")
        batch.add_column(sa.Column("flaky_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("flaky_why", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("known_test") as batch:
        batch.drop_column("flaky_why")
        batch.drop_column("flaky_at")
        batch.add_column(
            sa.Column("muted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    open_ = sa.text("SELECT test_id FROM quarantine WHERE released_at IS NULL")
    op.execute(
        sa.text(f"UPDATE known_test SET muted = true WHERE id IN ({open_.text})")  # noqa: S608
    )
    op.drop_index("uq_quarantine_open", table_name="quarantine")
    op.drop_index("ix_quarantine_test_id", table_name="quarantine")
    op.drop_index("ix_quarantine_team_id", table_name="quarantine")
    op.drop_table("quarantine")
    op.drop_index("ix_test_report_commit", table_name="test_report")

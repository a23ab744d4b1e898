"""teams and sprints: every row of a team's data scoped to its team (and sprint)

The data of a database from before teams existed moves into team 1 and its sprint 1, made
here with no id from a file (`slug`, `start`): the first team started adopts them
(`storage.queries.teams.sync_team`). A sprint row keeps its sprint's outcome once it
ended (`outcome`, so that pruning raw history never rewrites it) and whether its team's
file still lists it (`listed`). Blockers and risks keep their numbers (B-007 stays
B-007); uniqueness that was global becomes the team's (a report's run, a test, a standup's
day, a job's slot, an alert's key, a blocker's or risk's request key) or the sprint's (a
milestone's sign-off).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEAM_TABLES = (
    "test_report",
    "known_test",
    "metric_sample",
    "manual_score",
    "readiness_snapshot",
    "standup",
    "blocker",
    "risk",
    "event",
    "alert",
    "job_run",
    "signoff",
    "lesson",
)
SPRINT_TABLES = ("readiness_snapshot", "standup", "signoff", "lesson")
# (table, constraint, columns before, columns after)
UNIQUES = (
    ("test_report", "uq_test_report_run_digest", ["run", "digest"], ["team_id", "run", "digest"]),
    ("known_test", "uq_known_test_identity", ["branch", "key"], ["team_id", "branch", "key"]),
    ("standup", "uq_standup_user_day", ["user_id", "day"], ["team_id", "user_id", "day"]),
    ("job_run", "uq_job_run_slot", ["job", "slot"], ["team_id", "job", "slot"]),
    ("blocker", "uq_blocker_request_key", ["request_key"], ["team_id", "request_key"]),
    ("risk", "uq_risk_request_key", ["request_key"], ["team_id", "request_key"]),
    (
        "signoff",
        "uq_signoff_role",
        ["milestone_day", "role"],
        ["sprint_id", "milestone_day", "role"],
    ),
)
NUMBERED = ("blocker", "risk")
# Names for the constraints SQLite reflects without one, so that batch mode can drop them.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _alert_key_unique(dialect: str) -> str:
    return "alert_key_key" if dialect == "postgresql" else "uq_alert_key"


def upgrade() -> None:
    team = op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("synced_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    sprint = op.create_table(
        "sprint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("listed", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "start", name="uq_sprint_team_start"),
    )
    op.create_index("ix_sprint_team_id", "sprint", ["team_id"], unique=False)
    op.bulk_insert(team, [{"id": 1, "slug": None, "name": ""}])
    op.bulk_insert(
        sprint, [{"id": 1, "team_id": 1, "name": "", "start": None, "end": None, "listed": True}]
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The rows above were given their ids: the sequences go on from them.
        for table in ("team", "sprint"):
            bind.exec_driver_sql(f"SELECT setval('{table}_id_seq', 1)")

    for table in TEAM_TABLES:
        columns = ["team_id"] + (["sprint_id"] if table in SPRINT_TABLES else [])
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
            if table in NUMBERED:
                batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
        rows = sa.table(table, sa.column("id"), sa.column("number"), *map(sa.column, columns))
        op.execute(rows.update().values(dict.fromkeys(columns, 1)))
        if table in NUMBERED:
            op.execute(rows.update().values(number=rows.c.id))
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=sa.Integer(), nullable=False)
                target = column.removesuffix("_id")
                batch.create_foreign_key(f"fk_{table}_{column}", target, [column], ["id"])
                batch.create_index(f"ix_{table}_{column}", [column], unique=False)
            for t, name, _before, after in UNIQUES:
                if t == table:
                    batch.drop_constraint(name, type_="unique")
                    batch.create_unique_constraint(name, after)
            if table in NUMBERED:
                batch.create_unique_constraint(f"uq_{table}_team_number", ["team_id", "number"])
            if table == "alert":
                batch.drop_constraint(_alert_key_unique(bind.dialect.name), type_="unique")
                batch.create_unique_constraint("uq_alert_team_key", ["team_id", "key"])


def downgrade() -> None:
    """Back to one sprint: only a database holding one team's data keeps its meaning."""
    dialect = op.get_bind().dialect.name
    for table in TEAM_TABLES:
        columns = ["team_id"] + (["sprint_id"] if table in SPRINT_TABLES else [])
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            if table == "alert":
                batch.drop_constraint("uq_alert_team_key", type_="unique")
                batch.create_unique_constraint(_alert_key_unique(dialect), ["key"])
            if table in NUMBERED:
                batch.drop_constraint(f"uq_{table}_team_number", type_="unique")
                batch.drop_column("number")
            for t, name, before, _after in UNIQUES:
                if t == table:
                    batch.drop_constraint(name, type_="unique")
                    batch.create_unique_constraint(name, before)
            for column in columns:
                batch.drop_index(f"ix_{table}_{column}")
                batch.drop_constraint(f"fk_{table}_{column}", type_="foreignkey")
                batch.drop_column(column)
    op.drop_index("ix_sprint_team_id", table_name="sprint")
    op.drop_table("sprint")
    op.drop_table("team")

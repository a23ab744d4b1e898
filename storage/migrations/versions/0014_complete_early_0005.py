"""complete a database an earlier 0005 migrated: 0005 was extended after it first shipped
(event.team_id and the teams' request keys; then sprint.listed and sprint.outcome), so a
database that took the first version is stamped 0005 without them. Each is added only
where it is missing: on any other database this does nothing.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Names for the constraints SQLite reflects without one, so that batch mode can drop them
# (as 0005 names them).
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    sprint = {c["name"] for c in inspector.get_columns("sprint")}
    if not {"listed", "outcome"} <= sprint:
        with op.batch_alter_table("sprint") as batch:
            if "listed" not in sprint:
                batch.add_column(
                    sa.Column("listed", sa.Boolean(), server_default=sa.true(), nullable=False)
                )
            if "outcome" not in sprint:
                batch.add_column(sa.Column("outcome", sa.JSON(), nullable=True))
    if "team_id" not in {c["name"] for c in inspector.get_columns("event")}:
        # Every event then was the one team's (as 0005 gives every row of a table team 1).
        with op.batch_alter_table("event") as batch:
            batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        op.execute(sa.table("event", sa.column("team_id")).update().values(team_id=1))
        with op.batch_alter_table("event", naming_convention=NAMING) as batch:
            batch.alter_column("team_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key("fk_event_team_id", "team", ["team_id"], ["id"])
            batch.create_index("ix_event_team_id", ["team_id"], unique=False)
    for table in ("blocker", "risk"):
        name = f"uq_{table}_request_key"
        single = [
            u
            for u in inspector.get_unique_constraints(table)
            if u["column_names"] == ["request_key"]
        ]
        if single:  # a request key unique across teams: each team's own, as 0005 made it
            with op.batch_alter_table(table, naming_convention=NAMING) as batch:
                batch.drop_constraint(single[0]["name"] or name, type_="unique")
                batch.create_unique_constraint(name, ["team_id", "request_key"])


def downgrade() -> None:
    """Nothing to undo: what it adds, 0005 as it is now adds (and its downgrade drops)."""

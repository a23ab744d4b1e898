"""away.team_id: an absence is the team's it was given for, as a skip is (`/standup away`
typed in one team's channel silenced every team's prompt; found by review)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29

The absences already stored were every team's: each is kept for every team, so no one is
prompted who was not before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPIED = ("user_id", "start", "end", "reason", "created_at")


def upgrade() -> None:
    with op.batch_alter_table("away") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
    away = sa.table("away", sa.column("team_id"), *map(sa.column, COPIED))
    team = sa.table("team", sa.column("id"))
    first = sa.select(sa.func.min(team.c.id)).scalar_subquery()
    op.execute(away.update().values(team_id=first))
    others = sa.select(*(away.c[name] for name in COPIED), team.c.id).select_from(
        away.join(team, team.c.id != away.c.team_id)
    )
    op.execute(away.insert().from_select([*COPIED, "team_id"], others))
    with op.batch_alter_table("away") as batch:
        batch.alter_column("team_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_away_team_id", "team", ["team_id"], ["id"])
        batch.create_index("ix_away_team_id", ["team_id"], unique=False)


def downgrade() -> None:
    # Every team's absences are everyone's again: the copies of one absence, one per team,
    # are one row again (kept, each would be copied to every team on the next upgrade).
    away = sa.table("away", sa.column("id"), *map(sa.column, COPIED))
    same = (away.c.user_id, away.c.start, away.c.end, away.c.reason)
    kept = sa.select(sa.func.min(away.c.id)).group_by(*same)
    op.execute(away.delete().where(away.c.id.not_in(kept)))
    with op.batch_alter_table("away") as batch:
        batch.drop_index("ix_away_team_id")
        batch.drop_constraint("fk_away_team_id", type_="foreignkey")
        batch.drop_column("team_id")

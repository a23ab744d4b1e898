"""outbox lanes and claim tokens; request keys on blockers and risks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from storage.queries import lane_for

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
    _backfill_lanes()
    for table in ("blocker", "risk"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "request_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
                )
            )
            batch.create_unique_constraint(f"uq_{table}_request_key", ["request_key"])


_OUTBOX = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("method", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("parent_key", sa.String),
    sa.column("status", sa.String),
    sa.column("lane", sa.String),
)


def _backfill_lanes() -> None:
    """Give the rows still to deliver (pending, sending) the lane enqueue would have given
    them, so they keep their order and their lane's pace after the upgrade. A reply's lane
    is its parent's, whatever the parent's status, computed by the same rule."""
    conn = op.get_bind()
    t = _OUTBOX
    fields = (t.c.id, t.c.key, t.c.method, t.c.payload, t.c.parent_key)
    rows: dict[str, Any] = {
        r.key: r
        for r in conn.execute(
            sa.select(*fields).where(t.c.status.in_(("pending", "sending"))).order_by(t.c.id)
        )
    }
    todo = list(rows.values())
    asked: set[str] = set()
    wanted = {r.parent_key for r in todo if r.parent_key is not None} - rows.keys()
    while wanted:
        asked |= wanted
        found = []
        keys = sorted(wanted)
        for i in range(0, len(keys), 500):
            found += conn.execute(sa.select(*fields).where(t.c.key.in_(keys[i : i + 500]))).all()
        rows.update((r.key, r) for r in found)
        wanted = {r.parent_key for r in found if r.parent_key is not None} - rows.keys() - asked

    lanes: dict[str, str | None] = {}

    def lane_of(key: str, seen: frozenset[str]) -> str | None:
        if key not in lanes:
            row = rows[key]
            parent = None
            if row.parent_key in rows and row.parent_key not in seen:
                parent_row = rows[row.parent_key]
                parent_lane = lane_of(row.parent_key, seen | {key})
                parent = (parent_lane, parent_row.payload or {})
            lanes[key] = lane_for(row.method, row.payload or {}, row.parent_key, parent)
        return lanes[key]

    updates = [
        {"row_id": r.id, "new_lane": lane}
        for r in todo
        if (lane := lane_of(r.key, frozenset({r.key}))) is not None
    ]
    if updates:
        conn.execute(
            sa.update(t)
            .where(t.c.id == sa.bindparam("row_id"))
            .values(lane=sa.bindparam("new_lane")),
            updates,
        )


def downgrade() -> None:
    for table in ("risk", "blocker"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_request_key", type_="unique")
            batch.drop_column("request_key")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_lane")
        batch.drop_column("claim_token")
        batch.drop_column("lane")

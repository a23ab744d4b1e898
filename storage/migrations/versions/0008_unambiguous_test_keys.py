"""unambiguous test keys: a classname holding `::` (or ending in `:`) is hashed with a NUL

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

known_test.key hashed `classname::name`, the same text for ("a", "b::c") and ("a::b", "c"):
a report holding both could not be stored, and across reports one was taken for the other.
The tests whose classname holds `::` or ends in `:` get the key of `classname NUL name`;
every other test keeps its key. (The formula is spelled out here, as it is on the day.)
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def _rekey(separator: str) -> None:
    """Those tests' keys with `separator` between classname and name, a page of ids at a
    time (a suite of a million such tests is never read whole)."""
    bind = op.get_bind()
    known = sa.table(
        "known_test", sa.column("id"), sa.column("classname"), sa.column("name"), sa.column("key")
    )
    page = (
        sa.select(known.c.id, known.c.classname, known.c.name)
        .where(
            sa.or_(known.c.classname.contains("::"), known.c.classname.endswith(":")),
            known.c.id > sa.bindparam("after"),
        )
        .order_by(known.c.id)
        .limit(_BATCH)
    )
    update = sa.update(known).where(known.c.id == sa.bindparam("row_id"))
    after = 0
    while rows := bind.execute(page, {"after": after}).all():
        bind.execute(
            update.values(key=sa.bindparam("new_key")),
            [
                {
                    "row_id": row_id,
                    "new_key": hashlib.blake2b(
                        f"{classname}{separator}{name}".encode(), digest_size=16
                    ).hexdigest(),
                }
                for row_id, classname, name in rows
            ],
        )
        after = rows[-1][0]


def upgrade() -> None:
    _rekey("\0")


def downgrade() -> None:
    # Two tests that now read alike again cannot both keep their rows: the downgrade then
    # fails on uq_known_test_identity, and says which.
    _rekey("::")

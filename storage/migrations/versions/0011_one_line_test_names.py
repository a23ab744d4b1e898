"""one-line test names: a tab or line end inside a test's class name or name is its escape

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27

Ingestion reads a tab, newline or carriage return inside a class name or a name (`&#9;`,
`&#10;`, `&#13;`) as its escape (`\\t`, `\\n`, `\\r`), and cuts a name too long for its
column after that, ending it in a digest of the whole: a report's statuses are kept as
lines of tab-separated names. The tests stored before with such a character get the text
and the key ingestion now computes, so that the next report finds them rather than adding
them again (and the old row lingering for ever in the figures). One whose new key another
test of its branch holds already keeps its row as it was. (The formulas are spelled out
here, as they are on the day.) The downgrade leaves them as they are.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ESCAPES = str.maketrans({"\t": "\\t", "\n": "\\n", "\r": "\\r"})
_LIMITS = {"classname": 1000, "name": 2000}


def _text(value: str, limit: int) -> str:
    value = value.translate(_ESCAPES)
    if len(value) <= limit:
        return value
    digest = hashlib.blake2b(value.encode(errors="surrogatepass"), digest_size=8).hexdigest()
    return f"{value[: limit - 17]}…{digest}"


def _key(classname: str, name: str) -> str:
    ambiguous = "::" in classname or classname.endswith(":")
    prefix = classname + ("\0" if ambiguous else "::")
    return hashlib.blake2b((prefix + name).encode(), digest_size=16).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    known = sa.table(
        "known_test",
        sa.column("id"),
        sa.column("team_id"),
        sa.column("branch"),
        sa.column("classname"),
        sa.column("name"),
        sa.column("key"),
    )
    odd = sa.or_(
        *(column.contains(c) for column in (known.c.classname, known.c.name) for c in "\t\n\r")
    )
    rows = bind.execute(
        sa.select(known.c.id, known.c.team_id, known.c.branch, known.c.classname, known.c.name)
        .where(odd)
        .order_by(known.c.id)
    ).all()
    for row_id, team, branch, classname, name in rows:
        classname = _text(classname, _LIMITS["classname"])
        name = _text(name, _LIMITS["name"])
        key = _key(classname, name)
        taken = bind.execute(
            sa.select(known.c.id).where(
                known.c.team_id == team, known.c.branch == branch, known.c.key == key
            )
        ).first()
        if taken is None:
            bind.execute(
                sa.update(known)
                .where(known.c.id == row_id)
                .values(classname=classname, name=name, key=key)
            )


def downgrade() -> None:
    """The rows stay as they are: the old ingestion reads such a test's name as the report
    gives it, the new one as stored now, so either way the next report would add it anew."""

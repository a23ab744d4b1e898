"""Timestamps read back as the instants stored, in UTC, whatever text SQLite holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from storage.types import UTCDateTime

STORED = [
    # (the column's text, the instant it means)
    ("2025-10-31 13:00:00.123456", datetime(2025, 10, 31, 13, 0, 0, 123456, tzinfo=UTC)),
    ("2025-10-31 13:00:00.000000", datetime(2025, 10, 31, 13, tzinfo=UTC)),
    ("2025-10-31 13:00:00", datetime(2025, 10, 31, 13, tzinfo=UTC)),  # CURRENT_TIMESTAMP's
    ("2025-10-31T15:00:00+02:00", datetime(2025, 10, 31, 13, tzinfo=UTC)),
    ("2025-10-31 08:00:00.000000-05:00", datetime(2025, 10, 31, 13, tzinfo=UTC)),
    # As long as SQLAlchemy's own text, but with an offset (found by review: parsed with
    # "+00:00" added, they raised).
    ("2025-10-31 08:00:00.123-05", datetime(2025, 10, 31, 13, 0, 0, 123000, tzinfo=UTC)),
    ("2025-10-31 13:00:00.12345Z", datetime(2025, 10, 31, 13, 0, 0, 123450, tzinfo=UTC)),
    ("2025-10-31 18:00:00.1+0500", datetime(2025, 10, 31, 13, 0, 0, 100000, tzinfo=UTC)),
    ("2025-10-31 18:00:00 +05:00", datetime(2025, 10, 31, 13, tzinfo=UTC)),
]


def _table() -> tuple[Table, object]:
    table = Table(
        "stamped", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime)
    )
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    return table, engine


@pytest.mark.parametrize(("stored", "instant"), STORED)
def test_each_text_sqlite_may_hold_reads_as_its_instant_in_utc(
    stored: str, instant: datetime
) -> None:
    """SQLAlchemy's own text ("… 13:00:00.000000") is read as UTC in one step, the others
    as before: an offset is kept, none means UTC."""
    table, engine = _table()
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("INSERT INTO stamped (id, at) VALUES (1, :at)"), {"at": stored})
        conn.execute(text("INSERT INTO stamped (id, at) VALUES (2, NULL)"))
        read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read == [instant, None]
    assert read[0].tzinfo is UTC


def test_an_instant_written_in_any_zone_reads_back_the_same_in_utc() -> None:
    table, engine = _table()
    new_york = timezone(timedelta(hours=-4))
    written = [
        datetime(2025, 10, 31, 9, 0, 0, 1, tzinfo=new_york),
        datetime(2025, 3, 9, 6, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 11, 2, 1, 30, tzinfo=new_york),
    ]
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(table), [{"id": n, "at": at} for n, at in enumerate(written)])
        read = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    assert read == written
    assert all(at.tzinfo is UTC for at in read)

"""Column types shared by the tables and the migrations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored as UTC on every backend.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones and would hand back naive
    values, so they are normalised to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:  # noqa: ARG002  (signature fixed by SQLAlchemy)
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002  (signature fixed by SQLAlchemy)
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        """On SQLite, the text SQLAlchemy writes ("2025-10-31 13:00:00.000000", UTC) read
        as UTC in one step: parsed naive, then `replace(tzinfo=UTC)` took 1.4 µs a value
        (`replace` alone 1.1), a ninth of the figures' time at 20k tests; any other text
        (without microseconds, or with an offset, whatever its length) as before."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general

        def process(value: Any) -> datetime | None:
            if (
                type(value) is str
                and len(value) == _WRITTEN
                and value[10] == " "
                and value[19] == "."
                and value[20:].isdigit()
            ):
                return _parsed(value + "+00:00")
            return general(value)

        return process


_WRITTEN = len("2025-10-31 13:00:00.000000")  # SQLAlchemy's SQLite text of a datetime
_parsed = datetime.fromisoformat

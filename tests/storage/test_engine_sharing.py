"""The tests' engines share compiled statements (`tests.support.db.shared_compiled_statements`):
from an initialised dialect only, and only between engines of the same database and
options."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from storage.db import make_engine


def _connected_once(url: str) -> Any:
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return engine


def test_engines_of_one_database_share_once_one_has_connected(database_url: str) -> None:
    first = _connected_once(database_url)
    second = make_engine(database_url)
    other = make_engine(database_url, pool_recycle=3600)  # other options: its own
    try:
        assert second.dialect is first.dialect
        assert second._compiled_cache is first._compiled_cache
        assert other.dialect is not first.dialect
    finally:
        for engine in (first, second, other):
            engine.dispose()


def test_a_dialect_whose_initialisation_failed_is_not_shared(database_url: str) -> None:
    """`server_version_info` is the first thing `Dialect.initialize` sets: a dialect whose
    engine's first connection failed after that (or is still initialising, in another
    thread) would have handed later engines a half-initialised dialect. (Found by review.)"""
    url = database_url + ("&" if "?" in database_url else "?") + "application_name=review"
    if url.startswith("sqlite"):
        url = database_url.replace("test.db", "review.db")
    first = make_engine(url)

    def broken(*_: Any) -> None:
        raise RuntimeError("connection lost while initialising")

    first.dialect._check_max_identifier_length = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        first.connect()
    second = make_engine(url)
    try:
        assert second.dialect is not first.dialect
    finally:
        first.dispose()
        second.dispose()

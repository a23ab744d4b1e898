"""A negative benchmark figure is refused only for the unit spellings in
`jobs.ingest.NEVER_NEGATIVE`; the README promises it for any tracked metric "whose `unit` is
a duration, a size or a rate (`s`, `ms`, `MB`, `req/s`, …; anything else is a 400 that
stores nothing)". A sprint file writing `kB` (the SI kilobyte), `seconds`, `sec` or
`MB/s` got -5 taken as measured, judged "met" and scored (found by review)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from jobs.ingest import never_negative
from storage.models import MetricSample
from tests.support import httpc
from tests.support.server import EXAMPLE, INGEST_TOKEN, Server

JSON = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
MEMORY = 'name = "memory_usage"\nlabel = "Memory Usage"\nunit = "MB"'


@pytest.mark.parametrize("unit", ["kB", "seconds", "sec", "MB/s", "bytes"])
def test_a_negative_figure_in_a_duration_size_or_rate_unit_is_refused(
    make_server: Callable[..., Server], tmp_path: Path, unit: str
) -> None:
    """The team's sprint file gives memory_usage (lower is better, target 150) the unit
    `unit`; a CI script that subtracted the wrong way round posts -5. The user sees 201,
    status "met", and it counts into Resource Usage's score (1 of its 2
    benchmarks "met") and readiness. They should get a 400
    saying a figure in that unit is never below zero, with nothing stored."""
    config = tmp_path / "sprint.toml"
    text = EXAMPLE.read_text()
    assert MEMORY in text
    config.write_text(text.replace(MEMORY, MEMORY.replace('"MB"', f'"{unit}"')))
    server = make_server(SPRINTBOT_CONFIG=str(config))
    before = httpc.get(f"{server.url}/api/v1/readiness", headers=JSON, timeout=30).json()
    resp = httpc.post(
        f"{server.url}/api/v1/metrics",
        json={"metrics": {"memory_usage": -5}},
        headers=JSON,
        timeout=30,
    )
    with server.runtime.db.session() as s:
        stored = s.exec(select(func.count()).select_from(MetricSample)).one()
    after = httpc.get(f"{server.url}/api/v1/readiness", headers=JSON, timeout=30).json()
    assert (resp.status_code, stored, after["score"]) == (400, 0, before["score"]), resp.text


def test_units_that_are_never_below_zero() -> None:
    for unit in ("ms", "S", "Seconds", "kB", "KiB", "bytes", "MB/s", "req/s", "ops/sec", "rps"):
        assert never_negative(unit), unit
    assert never_negative("req / s") and never_negative("requests/min")
    # A growth (per hour, per day) may be negative; so may anything not a quantity.
    for unit in ("%", "score", "pts", "°C", "ratio", "/s", "MB/day-ish", "MB/h", "GB/day"):
        assert not never_negative(unit), unit

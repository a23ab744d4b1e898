"""How long /readiness takes to compute as the number of known tests grows.

Baseline, measured in the same run: the one GROUP BY query readiness needs, alone.
Run: .venv/bin/python -m bench.readiness [--postgres]
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from sqlalchemy import insert

from bench.common import fresh_database, median_ms, table
from jobs.config import Source, load_sprint
from jobs.readiness import current_status
from storage import queries
from storage.models import KnownTest

SIZES = (2_124, 20_000, 200_000)  # the seed's suite, then 10x and 100x
NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    sprint = load_sprint("sprint.example.toml")
    components = [c.name for c in sprint.components if c.source is Source.TESTS] + [None]
    rows = []
    for kind in kinds:
        for size in SIZES:
            with fresh_database(kind) as db:
                batch = [
                    {
                        "branch": "main",
                        "key": f"k{i}",
                        "classname": f"suite{i % 97}",
                        "name": f"test_{i}",
                        "component": components[i % len(components)],
                        "status": "passed" if i % 5 else "failed",
                        "first_seen_at": NOW,
                        "changed_at": NOW,
                    }
                    for i in range(size)
                ]
                with db.engine.begin() as conn:
                    for start in range(0, size, 10_000):
                        conn.execute(insert(KnownTest), batch[start : start + 10_000])

                def baseline(db=db) -> None:  # type: ignore[no-untyped-def]
                    with db.session() as s:
                        queries.component_test_counts(session=s)

                def full(db=db) -> None:  # type: ignore[no-untyped-def]
                    with db.session() as s:
                        current_status(session=s, sprint=sprint, now=NOW)

                b, f = median_ms(baseline), median_ms(full)
                rows.append([kind, f"{size:,}", f"{b:.1f}", f"{f:.1f}", f"{f / b:.2f}x"])
    print(
        table(
            ["database", "known tests", "GROUP BY alone (ms)", "/readiness status (ms)", "ratio"],
            rows,
        )
    )


if __name__ == "__main__":
    main()

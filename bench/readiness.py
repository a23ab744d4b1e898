"""How long a build of the figures takes as the number of known tests grows (what the
ready state saves every answer: `python -m bench.acks` times the answers).

Baseline, measured in the same run: the one GROUP BY query readiness needs, alone.
Run: .venv/bin/python -m bench.readiness [--postgres]
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bench.common import SPRINT_FILE, fill_tests, fresh_database, median_ms, table
from jobs.config import load_sprint
from jobs.readiness import current_status
from storage import queries

SIZES = (2_124, 20_000, 200_000)  # the seed's suite, then 10x and 100x
NOW = datetime(2025, 10, 31, 14, tzinfo=UTC)


def main() -> None:
    kinds = ["sqlite", "postgresql"] if "--postgres" in sys.argv else ["sqlite"]
    sprint = load_sprint(str(SPRINT_FILE))
    rows = []
    for kind in kinds:
        for size in SIZES:
            with fresh_database(kind) as db:
                fill_tests(db, size, at=NOW)

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
            ["database", "known tests", "GROUP BY alone (ms)", "figures built (ms)", "ratio"],
            rows,
        )
    )


if __name__ == "__main__":
    main()

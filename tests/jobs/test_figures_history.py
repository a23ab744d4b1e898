"""Figures after months of history: the walk starts at the first instant a figure looks at
(each test's state there folded from its later changes), and gives exactly the numbers the
walk over all history gave (pinned in tests/fixtures/history_figures.json)."""

from __future__ import annotations

import json

from storage.db import Database
from tests.support.history import GOLDEN, INSTANTS, build, figures_at


def test_every_figure_at_every_instant_is_the_full_walks(db: Database) -> None:
    sprint = build(db)
    pinned = json.loads(GOLDEN.read_text())
    got = figures_at(db, sprint)
    assert list(got) == [at.isoformat() for at in INSTANTS]
    for at, figures in got.items():
        assert figures == pinned[at], at
    # The scenario exercises what the fold must carry: tests known long before the sprint,
    # a baseline with failures, fixes, regressions, new tests and new failures in it.
    now = got[INSTANTS[-2].isoformat()]["tests"]
    assert now["baseline_failing"] and now["fixed"] and now["regressions_introduced"]
    assert now["new_failures_open"] and now["known"] > now["baseline_known"]

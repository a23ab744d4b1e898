"""A numbered list left with an empty item ("1. deadlock", then "2." on its own line)
files a blocker described "2." (and a risk "2."), as "-" did before it was fixed: the
list marker is only taken off when text follows it, and "2." holds a digit."""

from __future__ import annotations

import pytest

from jobs.config import Sprint
from jobs.standups import parse_answers


@pytest.mark.parametrize("marker", ["2.", "2)"])
def test_an_empty_numbered_item_is_no_blocker_nor_risk(example: Sprint, marker: str) -> None:
    a = parse_answers(
        {
            "current_blockers": f"1. P0: deadlock in swarm init\n{marker}",
            "blocker_severity": "P1",
            "new_risks": f"1. vendor late\n{marker}",
        },
        sprint=example,
        open_blocker_ids=set(),
    )
    assert a.current_blockers == [("P0", "deadlock in swarm init")], a.current_blockers
    assert a.new_risks == ["vendor late"], a.new_risks

"""A part of a test's name typed as written finds it on either database (found by review)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from jobs import tests_history
from jobs.config import Sprint
from tests.support.reports import NOW, ingest

DOC = (
    '<testsuite><testcase classname="tests.geo.test_cities" name="test_İstanbul_lookup"/>'
    '<testcase classname="tests.geo.test_roads" name="test_ΟΔΟΣ_parse"/></testsuite>'
).encode()


@pytest.mark.parametrize(
    ("typed", "name"),
    [("İstanbul", "test_İstanbul_lookup"), ("ΟΔΟΣ", "test_ΟΔΟΣ_parse")],
)
def test_part_of_a_name_typed_as_written_finds_the_test_on_postgresql_too(
    session: Session, example: Sprint, typed: str, name: str
) -> None:
    """`/tests show İstanbul` (part of a test's name, typed exactly as CI wrote it). On
    SQLite the test is found: both sides are lowered by Python (sprintbot registers
    Python's lower() as SQLite's). On PostgreSQL it answers 'No test on `main` has
    "İstanbul" in its name': tests_like lowers the typed text in Python ("i̇stanbul", an i
    and a combining dot; "οδος" with a final sigma) but the stored name with PostgreSQL's
    lower() ("istanbul"; "οδοσ"), so the LIKE never matches."""
    ingest(session, example, DOC, run="r1", at=NOW)
    found = tests_history.find(session=session, sprint=example, text=typed)
    assert not isinstance(found, list)
    assert found.name == name

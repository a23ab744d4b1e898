"""`/tests show|quarantine|unquarantine` by part of a name: typing a part of a test's name
exactly as it is written answers "No test on `main` has "Écran_affiche" in its name" when
the part holds a non-ASCII capital. storage.queries.tests_history.tests_like lowercases the
typed text in Python (Unicode: "é") but the stored name with SQL lower(), which on SQLite
(the default database) folds ASCII only ("É" stays), so the LIKE never matches."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from jobs import tests_history
from jobs.config import Sprint
from tests.support.reports import NOW, ingest

DOC = (
    '<testsuite><testcase classname="tests.ui.test_screen" name="test_Écran_affiche_le_menu"/>'
    '<testcase classname="tests.ui.test_screen" name="test_ÄÖÜ_Größe"/></testsuite>'
).encode()


@pytest.mark.parametrize(
    ("typed", "name"),
    [("Écran_affiche", "test_Écran_affiche_le_menu"), ("ÄÖÜ", "test_ÄÖÜ_Größe")],
)
def test_part_of_a_unicode_name_typed_as_written_finds_the_test(
    session: Session, example: Sprint, typed: str, name: str
) -> None:
    ingest(session, example, DOC, run="r1", at=NOW)
    # Observed: NoSuchTest 'No test on `main` has "Écran_affiche" in its name.'
    found = tests_history.find(session=session, sprint=example, text=typed)
    assert not isinstance(found, list)
    assert found.name == name

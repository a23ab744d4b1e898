"""New tests are stored with their files and messages exactly as the report gives them,
and their names so but for a tab or line end inside, written as its escape (`\\t`,
`\\n`, `\\r`), whatever characters they hold (PostgreSQL copies them in COPY's text
format, which escapes tabs, line ends and backslashes), and found again by the next
report."""

from __future__ import annotations

from sqlmodel import col, select

from jobs.config import Sprint
from storage.db import Database
from storage.models import KnownTest, TestResult
from tests.support.reports import receive

# As XML writes them (character references for what an attribute cannot hold as is).
ODD = ["a\\b", "tab&#9;x", "nl&#10;y", "\\N", "N", "é😀", "x\\&#9;\\n", "", " sp "]
# As the parser reads them.
READ = ["a\\b", "tab\tx", "nl\ny", "\\N", "N", "é😀", "x\\\t\\n", "", " sp "]
# In a class name or a name: a tab or line end is kept on one line, as its escape.
NAMED = [r.replace("\t", "\\t").replace("\n", "\\n") for r in READ]


def _report() -> bytes:
    cases = []
    for i, odd in enumerate(ODD):
        attrs = f'classname="c{odd}.k" name="t{odd}{i}" file="f/{odd}.py"'
        if i % 2:
            cases.append(f'<testcase {attrs}><failure message="m{odd}&#9;\\{odd}"/></testcase>')
        else:
            cases.append(f"<testcase {attrs}/>")
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def test_odd_characters_are_stored_as_given_and_found_again(db: Database, example: Sprint) -> None:
    first = receive(db, example, _report(), "r1")
    assert first["unique_tests"] == len(ODD)
    with db.read() as session:
        stored = session.exec(
            select(KnownTest.classname, KnownTest.name, KnownTest.file, KnownTest.message)
        ).all()
        results = session.exec(select(TestResult.test_id, col(TestResult.message))).all()
    expected = {
        (
            f"c{named}.k",
            f"t{named}{i}",
            f"f/{read}.py",
            f"m{read}\t\\{read}" if i % 2 else None,
        )
        for i, (read, named) in enumerate(zip(READ, NAMED, strict=True))
    }
    assert set(stored) == expected
    # A result for each new failing test, with its message.
    assert sorted(m or "" for _, m in results) == sorted(f"m{r}\t\\{r}" for r in READ[1::2])
    # The next report finds every one of them again: nothing new, nothing changed.
    again = receive(db, example, _report(), "r2")
    assert (again["new_failures"], again["regressions"], again["fixed"]) == ([], [], [])
    with db.read() as session:
        assert len(session.exec(select(KnownTest.id)).all()) == len(ODD)

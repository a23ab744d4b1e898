"""What a report does to its branch, classified without a database: the pure stage of
ingestion, on hand-written reports and hand-built branch states."""

from __future__ import annotations

from array import array

from jobs import junit
from jobs.classify import NEW, Components, Known, classify_report
from jobs.config import Sprint, validate_sprint
from jobs.junit import FAILED, PASSED, SKIPPED
from jobs.numbers import TestCounts
from tests.support.sprints import minimal

REPORT = b"""<testsuite name="s">
  <testcase classname="tests.core.test_a" name="stays_green" file="tests/core/test_a.py"/>
  <testcase classname="tests.core.test_a" name="breaks" file="tests/core/test_a.py">
    <failure message="boom"/>
  </testcase>
  <testcase classname="tests.core.test_a" name="heals" file="tests/core/test_a.py"/>
  <testcase classname="tests.core.test_a" name="brand_new" file="tests/core/test_a.py">
    <failure message="new and red"/>
  </testcase>
  <testcase classname="tests.docs.test_b" name="now_skipped" file="tests/docs/test_b.py">
    <skipped/>
  </testcase>
</testsuite>"""


def _sprint() -> Sprint:
    return validate_sprint(minimal())


def _known(components: Components, codes: list[int], *, core: int) -> Known:
    return Known(
        version=1,
        test_id=array("q", range(1, len(codes) + 1)),
        code=bytearray(codes),
        component=array("I", [core if c != NEW else 0 for c in codes]),
        file=array("i", [1 if c != NEW else 0 for c in codes]),
    )


def test_a_first_report_is_all_new_and_its_red_tests_are_new_failures() -> None:
    parsed = junit.parse(REPORT)
    components = Components(parsed, sprint=_sprint())
    result = classify_report(
        parsed, components=components, known=Known.unknown(parsed.testcases, version=1)
    )
    assert list(result.new) == [0, 1, 2, 3, 4]
    assert list(result.new_failures) == [1, 3]
    assert list(result.regressed) == list(result.fixed) == []
    assert (result.counts.passed, result.counts.failed, result.counts.skipped) == (2, 2, 1)
    assert result.before == {}
    assert result.after["Core"] == TestCounts(passed=2, total=4)
    assert (result.tally.passed, result.tally.failing, result.tally.known) == (2, 2, 5)


def test_a_repeat_tells_regressions_fixes_and_new_tests_apart() -> None:
    parsed = junit.parse(REPORT)
    components = Components(parsed, sprint=_sprint())
    core = components.id("Core")
    # stays_green passed, breaks passed, heals failed, brand_new unknown, now_skipped passed
    known = _known(components, [PASSED, PASSED, FAILED, NEW, PASSED], core=core)
    result = classify_report(parsed, components=components, known=known)
    assert list(result.regressed) == [1]
    assert list(result.fixed) == [2]
    assert list(result.new) == [3]
    assert list(result.new_failures) == [3]
    assert list(result.newly_skipped) == [4]
    assert result.still_failing == 0
    assert result.before["Core"] == TestCounts(passed=3, total=4)
    assert result.after["Core"] == TestCounts(passed=2, total=4)


def test_tests_the_report_does_not_hold_still_count_for_the_branch() -> None:
    parsed = junit.parse(REPORT)
    components = Components(parsed, sprint=_sprint())
    core = components.id("Core")
    known = Known.unknown(parsed.testcases, version=1)
    known.others[core, PASSED] = 10
    known.others[core, SKIPPED] = 1
    result = classify_report(parsed, components=components, known=known)
    assert result.before["Core"] == TestCounts(passed=10, total=11)
    assert result.after["Core"] == TestCounts(passed=12, total=15)

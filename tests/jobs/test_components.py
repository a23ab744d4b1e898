"""Components of a report's tests: the map a process keeps for a sprint's rules, so a
repeat report is mapped without globbing again, and what it may hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs import components, junit
from jobs.classify import Components
from jobs.components import ComponentMap
from jobs.config import Sprint, validate_sprint
from tests.support.sprints import minimal

REPORT = b"""<testsuite name="s">
  <testcase classname="tests.core.test_a" name="one" file="tests/core/test_a.py"/>
  <testcase classname="tests.core.test_a" name="two" file="tests/core/test_a.py"/>
  <testcase classname="tests.ui.test_b" name="three" file="tests/ui/test_b.py"/>
  <testcase classname="tests.core.test_c" name="four"/>
</testsuite>"""


def _sprint(globs: list[str]) -> Sprint:
    raw = minimal()
    raw["components"][0]["tests"] = globs
    return validate_sprint(raw)


def _mapped(sprint: Sprint) -> list[str | None]:
    found = Components(junit.parse(REPORT), sprint=sprint)
    return [found.names[number] for number in found.of]


@pytest.fixture(autouse=True)
def _cold() -> Iterator[None]:
    components.clear_shared()
    yield
    components.clear_shared()


@pytest.fixture
def globbed(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The candidates each glob is tried on, from the time the test asks for it."""
    tried: list[list[str]] = []
    glob = ComponentMap._first

    def counted(self: ComponentMap, candidates: list[str]) -> str | None:
        tried.append(candidates)
        return glob(self, candidates)

    monkeypatch.setattr(ComponentMap, "_first", counted)
    return tried


def test_a_repeat_report_is_mapped_without_globbing_again(request: pytest.FixtureRequest) -> None:
    sprint = _sprint(["tests/core/**"])
    first = _mapped(sprint)
    globbed: list[list[str]] = request.getfixturevalue("globbed")  # (from here on)
    assert _mapped(sprint) == first == ["Core", "Core", None, "Core"]
    assert globbed == []


def test_the_kept_map_follows_the_sprints_globs() -> None:
    assert _mapped(_sprint(["tests/core/**"])) == ["Core", "Core", None, "Core"]
    # The sprint file changed: its tests are mapped by the new globs, not the kept ones.
    assert _mapped(_sprint(["tests/ui/**"])) == [None, None, "Core", None]
    assert _mapped(_sprint(["tests/core/**"])) == ["Core", "Core", None, "Core"]


def test_the_kept_maps_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(components.SHARED_MAPS + 3):
        _mapped(_sprint([f"tests/area{n}/**"]))
    assert len(components._shared) == components.SHARED_MAPS
    # A kept map remembers no more pairs than allowed, within a report too (the report has
    # three (class, file) pairs); it still maps every test right, and once full the next
    # report starts a new map.
    monkeypatch.setattr(components, "SHARED_PAIRS", 2)
    sprint = _sprint(["tests/core/**"])
    kept = ComponentMap.shared(sprint)
    assert _mapped(sprint) == ["Core", "Core", None, "Core"]
    assert len(kept.known()) == 2
    assert _mapped(sprint) == ["Core", "Core", None, "Core"]
    assert ComponentMap.shared(sprint) is not kept


def test_the_map_used_last_is_kept_longest() -> None:
    # A process serving several teams in turn keeps the maps it uses, not the first made.
    first = _sprint(["tests/area0/**"])
    kept = ComponentMap.shared(first)
    for n in range(1, components.SHARED_MAPS + 2):
        ComponentMap.shared(first)  # used again between the others
        _mapped(_sprint([f"tests/area{n}/**"]))
    assert ComponentMap.shared(first) is kept
    assert len(components._shared) == components.SHARED_MAPS


def test_a_files_tests_are_globbed_once_whatever_their_classes(globbed: list[list[str]]) -> None:
    # jest-junit writes a class name per test: the file, which they share, decides once.
    cases = "".join(
        f'<testcase classname="suite {i} works" name="t" file="tests/core/a.test.ts"/>'
        for i in range(50)
    )
    parsed = junit.parse(f'<testsuite name="s">{cases}</testsuite>'.encode())
    found = Components(parsed, sprint=_sprint(["tests/core/**"]))
    assert {found.names[n] for n in found.of} == {"Core"}
    assert globbed == [["tests/core/a.test.ts"]]

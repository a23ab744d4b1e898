"""Which component a test belongs to, by the sprint file's globs."""

from __future__ import annotations

import fnmatch
import re
from typing import TypeVar

from jobs.config import Source, Sprint

# Maps kept by `shared`, and the (file, classname) pairs each remembers: a CI sends the
# same suite report after report, so a repeat report's tests are mapped without a glob.
# A full map keeps ~3.3 MB (measured: 20k pairs of a class a test), so at most ~13 MB in all.
SHARED_MAPS = 4
SHARED_PAIRS = 20_000
Rules = tuple[tuple[str, tuple[str, ...]], ...]
_K = TypeVar("_K")


def file_path(file: str | None) -> str:
    """A test file's path as compared: `\\` as `/`, without a leading `./` (a matrix of
    Linux and Windows runners names one file both ways)."""
    path = (file or "").replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


class ComponentMap:
    """Maps a test to the first component (in sprint-file order) whose globs match it.

    Globs match the test's `file` when the report gives one; when it gives none, or no glob
    matches the file, its `classname` both as written (`swarm.*`) and as a path
    (`tests.swarm.test_x` → `tests/swarm/test_x`), so path globs work for runners that only
    write dotted class names.
    """

    def __init__(self, sprint: Sprint) -> None:
        rules = [
            (name, "|".join(f"(?:{fnmatch.translate(g)})" for g in tests))
            for name, tests in rules_of(sprint)
        ]
        self._names = [name for name, _ in rules]
        # One pattern for all components, an alternative each in the sprint file's order:
        # the first alternative that matches is the first component that does, found in one
        # match per candidate instead of one per component.
        self._pattern = re.compile("|".join(f"(?P<c{i}>{p})" for i, (_, p) in enumerate(rules)))
        self._cache: dict[tuple[str | None, str], str | None] = {}
        # What a file, and a class name, alone map to: a file's tests share it (a suite of
        # one class a test, as jest-junit writes, globs its files, not each test).
        self._files: dict[str, str | None] = {}
        self._classes: dict[str, str | None] = {}
        self._bound: int | None = None  # of each, remembered at most (None: all, for its life)

    @classmethod
    def shared(cls, sprint: Sprint) -> ComponentMap:
        """This process's map for the sprint's rules (made on first use): what it has
        mapped stays known to the next report. Bounded: SHARED_MAPS maps (the least recently
        used goes) of at most SHARED_PAIRS pairs each (a map that is full starts over)."""
        rules = rules_of(sprint)
        found = _shared.pop(rules, None)
        if found is not None:
            _shared[rules] = found  # the most recently used last: the oldest go first
        if found is None or len(found._cache) >= SHARED_PAIRS:
            # (A new map rather than the old one emptied: a report mapping its tests in
            # another thread keeps the one it holds.)
            _shared.pop(rules, None)
            for oldest in list(_shared)[: max(len(_shared) - SHARED_MAPS + 1, 0)]:
                _shared.pop(oldest, None)
            found = _shared[rules] = cls(sprint)
            found._bound = SHARED_PAIRS
        return found

    def known(self) -> dict[tuple[str | None, str], str | None]:
        """The (file, classname) pairs mapped so far, and their components: read only."""
        return self._cache

    def _first(self, candidates: list[str]) -> str | None:
        """The first component (in sprint-file order) whose globs match any candidate."""
        best: int | None = None
        for candidate in candidates:
            m = self._pattern.match(candidate) if candidate and self._names else None
            if m is not None and m.lastgroup is not None:
                found = int(m.lastgroup[1:])
                best = found if best is None else min(best, found)
        return None if best is None else self._names[best]

    def __call__(self, file: str | None, classname: str) -> str | None:
        key = (file, classname)
        if key in self._cache:
            return self._cache[key]
        # The file decides when the report gives one: a dotted class name can match a
        # broader glob of an earlier component (`*.swarm.*` vs `tests/cli/swarm/**`).
        found = self._of(self._files, file, [file_path(file)]) if file else None
        if found is None:
            found = self._of(self._classes, classname, [classname, classname.replace(".", "/")])
        self._remember(self._cache, key, found)
        return found

    def _of(self, known: dict[str, str | None], text: str, candidates: list[str]) -> str | None:
        """What a file or a class name alone maps to: its `candidates` globbed once."""
        if text in known:
            return known[text]
        found = self._first(candidates)
        self._remember(known, text, found)
        return found

    def _remember(self, known: dict[_K, str | None], key: _K, found: str | None) -> None:
        # A kept map stops remembering at its bound, within a report too: a suite of one
        # class a test (jest-junit's default) held 40 MB after a 200k report otherwise.
        if self._bound is None or len(known) < self._bound:
            known[key] = found


def rules_of(sprint: Sprint) -> Rules:
    """What decides a test's component: each tests component's name and globs, in order."""
    return tuple(
        (c.name, tuple(c.tests)) for c in sprint.components if c.source is Source.TESTS and c.tests
    )


_shared: dict[Rules, ComponentMap] = {}


def clear_shared() -> None:
    """Forget the maps `ComponentMap.shared` keeps (a benchmark's cold start)."""
    _shared.clear()

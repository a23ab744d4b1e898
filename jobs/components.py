"""Which component a test belongs to, by the sprint file's globs."""

from __future__ import annotations

import fnmatch
import re

from jobs.config import Source, Sprint


class ComponentMap:
    """Maps a test to the first component (in sprint-file order) whose globs match it.

    Globs match the test's `file` when the report gives one; when it gives none, or no glob
    matches the file, its `classname` both as written (`swarm.*`) and as a path
    (`tests.swarm.test_x` → `tests/swarm/test_x`), so path globs work for runners that only
    write dotted class names.
    """

    def __init__(self, sprint: Sprint) -> None:
        rules = [
            (c.name, "|".join(f"(?:{fnmatch.translate(g)})" for g in c.tests))
            for c in sprint.components
            if c.source is Source.TESTS and c.tests
        ]
        self._names = [name for name, _ in rules]
        # One pattern for all components, an alternative each in the sprint file's order:
        # the first alternative that matches is the first component that does, found in one
        # match per candidate instead of one per component.
        self._pattern = re.compile("|".join(f"(?P<c{i}>{p})" for i, (_, p) in enumerate(rules)))
        self._cache: dict[tuple[str | None, str], str | None] = {}

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
        found = None
        for candidates in (
            [file.removeprefix("./")] if file else [],
            [classname, classname.replace(".", "/")],
        ):
            found = self._first(candidates)
            if found is not None:
                break
        self._cache[key] = found
        return found

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
        self._rules = [
            (c.name, re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in c.tests)))
            for c in sprint.components
            if c.source is Source.TESTS and c.tests
        ]
        self._cache: dict[tuple[str | None, str], str | None] = {}

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
            found = next(
                (
                    name
                    for name, pattern in self._rules
                    if any(pattern.match(c) for c in candidates if c)
                ),
                None,
            )
            if found is not None:
                break
        self._cache[key] = found
        return found

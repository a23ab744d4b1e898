"""Who owns a test: the sprint file's `[[owners]]` globs (first match wins), else its
CODEOWNERS file (GitHub's format: the last matching pattern wins) through `[codeowners]
handles`; owners are Slack user (U…) and user-group (S…) IDs."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from jobs.components import file_path
from jobs.config import Component, Sprint


@dataclass(frozen=True)
class Rule:
    """One CODEOWNERS line: its pattern, compiled, and its handles (none: unowned)."""

    line: int
    pattern: str
    regex: re.Pattern[str]
    handles: tuple[str, ...]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern as a regex over repository paths (gitignore rules, as GitHub
    applies them): `*` stays within a folder, `**` crosses folders, a pattern with a slash
    other than a trailing one is anchored at the root, else it matches at any depth; a
    pattern naming a folder owns everything under it, and a trailing `/` only that;
    `docs/*` owns the files directly in docs/, not deeper."""
    folder_only = pattern.endswith("/")
    body = pattern.strip("/") if folder_only else pattern.removeprefix("/")
    anchored = pattern.startswith("/") or "/" in body
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("/.*")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(body[i]))
            i += 1
    head = "" if anchored else "(?:.*/)?"
    if folder_only:
        tail = "/.*"
    elif body.endswith("/*") or body == "*" or body.endswith("/**"):
        tail = ""  # `docs/*`: the entries of docs/ only; `**` already reaches everything
    else:
        tail = "(?:/.*)?"  # a file, or a folder and everything under it
    return re.compile(f"{head}{''.join(out)}{tail}", re.DOTALL)


def parse_codeowners(text: str) -> list[Rule]:
    """The rules of a CODEOWNERS file, in file order: blank lines, `#` comments (also after
    a line's handles) skipped, and lines GitHub finds invalid (`!` negation, `[...]`)."""
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"(?<!\\)\s+", line)
        pattern, handles = parts[0], []
        for part in parts[1:]:
            if part.startswith("#"):
                break
            handles.append(part)
        if "[" in pattern or "!" in pattern[:1]:
            continue  # GitHub ignores character ranges and negation: the line is invalid
        rules.append(
            Rule(
                line=number,
                pattern=pattern,
                regex=_pattern_regex(pattern.replace("\\ ", " ")),
                handles=tuple(handles),
            )
        )
    return rules


def _candidates(file: str | None, classname: str) -> list[str]:
    """The paths a test may be matched by: its file, else its class name as a path (and as
    a Python module's file), else the class name as written."""
    if file:
        return [file_path(file)]
    dotted = classname.replace(".", "/")
    return [classname, dotted, f"{dotted}.py"] if "/" not in classname else [classname]


def _glob_regex(globs: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


class OwnerMap:
    """Maps a test (file, classname) to its owners' Slack IDs; built once per sprint."""

    def __init__(self, sprint: Sprint) -> None:
        self._owners = [(_glob_regex(o.tests), list(o.notify)) for o in sprint.owners]
        co = sprint.codeowners
        self._rules = parse_codeowners(co.text) if co is not None else []
        self._handles = dict(co.handles) if co is not None else {}
        # Every rule in one pattern, the last rule first: the first alternative that matches
        # a whole path is the rule that decides it, found in one match instead of one per rule.
        self._combined = re.compile(
            "|".join(
                f"(?P<r{i}>{r.regex.pattern})" for i, r in reversed(list(enumerate(self._rules)))
            ),
            re.DOTALL,
        )
        self._cache: dict[tuple[str | None, str], list[str]] = {}

    @cached_property
    def unmapped(self) -> list[str]:
        """CODEOWNERS handles with no Slack ID in `[codeowners] handles` (never mentioned)."""
        seen = dict.fromkeys(h for r in self._rules for h in r.handles)
        return [h for h in seen if h not in self._handles]

    def rule_for(self, path: str) -> Rule | None:
        """The CODEOWNERS rule that decides `path`: the last one matching it."""
        m = self._combined.fullmatch(path) if self._rules else None
        if m is None or m.lastgroup is None:
            return None
        return self._rules[int(m.lastgroup[1:])]

    def _from_globs(self, file: str | None, classname: str) -> list[str] | None:
        # As [[components]]: the file decides when the report gives one, else the class name
        # as written and as a path.
        for candidates in (
            [file_path(file)] if file else [],
            [classname, classname.replace(".", "/")],
        ):
            for pattern, notify in self._owners:
                if any(pattern.match(c) for c in candidates):
                    return notify
        return None

    def _from_codeowners(self, file: str | None, classname: str) -> list[str]:
        # The last rule matching any of the test's paths: `*` matching the class name as
        # written must not hide `/tests/swarm/` matching it as a path.
        found = [self.rule_for(path) for path in _candidates(file, classname)]
        rule = max((r for r in found if r is not None), key=lambda r: r.line, default=None)
        if rule is None:
            return []
        return list(dict.fromkeys(i for i in map(self._handles.get, rule.handles) if i))

    def __call__(self, file: str | None, classname: str) -> list[str]:
        """The test's owners: the first `[[owners]]` entry matching it, else CODEOWNERS."""
        key = (file, classname)
        if key not in self._cache:
            found = self._from_globs(file, classname)
            self._cache[key] = (
                found if found is not None else self._from_codeowners(file, classname)
            )
        return list(self._cache[key])

    def of_component(self, component: Component) -> list[str]:
        """Who owns a component: the owners of its first glob that has any, each glob read
        as a path (`tests/swarm/**` → `tests/swarm/x`)."""
        for glob in component.tests:
            path = re.sub(r"\*+|\?", "x", glob)
            found = self(path if "/" in path else None, path)
            if found:
                return found
        return []


def union(groups: Iterable[Iterable[str]]) -> list[str]:
    """Every owner of several tests once, in the order they first appear."""
    return list(dict.fromkeys(i for g in groups for i in g))

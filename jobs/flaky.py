"""Flaky across runs: a test that passed and failed on the same commit, or that changed
between passing and failing at least `[flaky] flip_rate` x `window` times over its last
`window` runs (this one included). Within one report, Surefire's re-runs and a pass beside
a failure already make a test flaky (`jobs.junit`).

Only the tests a report changed are judged (a regression, or a failing test now passing),
so the cost is a look-up per changed test, not per test of the report.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlmodel import Session

from jobs.config import Flaky
from storage.queries import quarantine as store

_FAILING = {"failed", "error"}
_FIND_AT_MOST = 32  # more tests than this: read each report's statuses whole, once


def _category(status: str | None) -> str | None:
    """Failing, or passed (a flaky test passed once too), or neither (skipped, new)."""
    if status in _FAILING:
        return "failing"
    return "passed" if status in ("passed", "flaky") else None


def _ran(status: str | None) -> str | None:
    """How a run went, for counting flips: a `flaky` run failed (a failure found flaky is
    stored so, and a report's own re-run failed first), so passed → flaky → passed is two
    flips. Read as a pass, the flips of a test failing every other run left its window as
    it slid, and its next failure was a regression again (found by review)."""
    return "failing" if status == "flaky" else _category(status)


def flip_count(changes: Iterable[tuple[str | None, str | None]]) -> int:
    """How many times a test went between passing and failing, given its changes (previous
    status, status) oldest first: a skip (or a first status) between two is stepped over,
    so passed → skipped → failed is one flip and passed → skipped → passed none (found by
    review: each step alone was none). The flaky check counts these and `/tests show`
    shows their number."""
    flips, last = 0, None
    for previous, status in changes:
        if last is None:
            last = _ran(previous)
        now = _ran(status)
        if now is None:
            continue
        if last is not None and now != last:
            flips += 1
        last = now
    return flips


def _statuses_in(blob: bytes, names: Mapping[int, tuple[str, str]]) -> dict[int, str]:
    """The status of each named test (id → (classname, name)) in a report's packed
    statuses, for those it holds."""
    text = "\n" + zlib.decompress(blob).decode()
    found: dict[int, str] = {}
    if len(names) <= _FIND_AT_MOST:
        for test_id, (classname, name) in names.items():
            end = text.find(f"\t{classname}\t{name}\n")
            if end >= 0:
                found[test_id] = text[text.rfind("\n", 0, end) + 1 : end]
        return found
    wanted = {f"{c}\t{n}": test_id for test_id, (c, n) in names.items()}
    for line in text.split("\n"):
        status, _, rest = line.partition("\t")
        hit = wanted.get(rest)
        if hit is not None:
            found[hit] = status
    return found


def judge(
    *,
    session: Session,
    config: Flaky,
    branch: str,
    commit: str | None,
    changed: Mapping[int, tuple[str, str, str]],
) -> dict[int, str]:
    """Which of the tests a report changed (test id → (classname, name, its status now))
    are flaky, each with why."""
    if not changed:
        return {}
    why: dict[int, str] = {}
    if commit:
        names = {i: (c, n) for i, (c, n, _) in changed.items()}
        for statuses in store.commit_statuses(session=session, branch=branch, commit=commit):
            if not names:
                break
            for test_id, before in _statuses_in(statuses, names).items():
                now = _category(changed[test_id][2])
                if _category(before) not in (None, now):
                    other = "passed" if now == "failing" else "failed"
                    why[test_id] = f"{other} on another run of {commit[:12]}"
                    del names[test_id]
    rest = [i for i in changed if i not in why]
    start = store.run_window_start(session=session, branch=branch, runs=config.window - 1)
    if rest and start is not None:
        changes: dict[int, list[tuple[str | None, str | None]]] = defaultdict(list)
        for test_id, status, previous in store.changes_since(
            session=session, test_ids=rest, report_id=start
        ):
            changes[test_id].append((previous, status))
        # Where each stood as the window began (a skip begun before it is stepped over
        # too: passed, skipped from before the window, failed in it is a change; found by
        # review): its last change's status, or the one before it if that is a skip.
        began = store.last_changes_before(session=session, test_ids=rest, report_id=start)
        for test_id in rest:
            last, prior = began.get(test_id, (None, None))
            stood = last if _ran(last) is not None else prior
            now = changed[test_id][2]  # and this report's change, where it is a flip
            n = flip_count([(None, stood), *changes[test_id], (None, now)])
            if n >= config.flips:
                why[test_id] = f"changed {n} times in its last {config.window} runs"
    return why

"""What CI insight costs a 20k-testcase ingest: owners and causes in the alert, every
test's JUnit time kept, flaky detection across runs (the same commit, the flip rate) and
quarantine (its tests told apart, its passing runs counted), beside the same ingest with
all of it switched off, in the same run.

Steps, each timed as the median of 5 on a fresh database (the steps before it untimed):
1. first: a first report of 20k tests (one in twelve failing) into an empty database;
2. repeat: the next commit's report, 1 % of the tests changed (half regressions);
3. re-run: the same commit again with another 1 % changed: every change is judged against
   the first run of that commit (read from its packed statuses);
4. quarantined: a repeat with 200 of the branch's tests in quarantine, as the
   quarantined tests' runs are counted toward their release.

"without" switches off, by patching in this process only: durations packing, the flaky
judge, the quarantine look-ups and counting, owners and causes in the alert, and
readiness's quarantine rule — what issue 16 added to the path. Goal: under 15 % added.

Run: .venv/bin/python -m bench.insight [--postgres] [--size 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from sqlmodel import select

from bench.common import fresh_database, table
from bench.ingest import NOW, ingest, write_report
from jobs.config import Sprint, load_sprint
from storage.db import Database
from storage.models import KnownTest, Quarantine

SPRINT = Path(__file__).resolve().parent.parent / "sprint.example.toml"
CODEOWNERS = "*  @acme/qa\n/tests/swarm/  @acme/swarm\n/tests/memory/  @bob\n"
OWNED = """
[[owners]]
tests = ["tests/cli/**"]
notify = ["U0CLI"]

[codeowners]
file = "CODEOWNERS"
handles = { "@acme/qa" = "S0QA", "@acme/swarm" = "S0SWARM", "@bob" = "U0BOB" }

[[causes]]
name = "Service unavailable"
pattern = "got 503"
"""


@contextmanager
def without_insight() -> Iterator[None]:
    """The ingest path as it was before issue 16's additions."""

    with ExitStack() as stack:
        for target, value in (
            ("jobs.ingest._pack_durations", lambda _report: None),
            ("jobs.flaky.judge", lambda **_: {}),
            ("storage.queries.quarantine.open_quarantines", lambda **_: []),
            ("storage.queries.quarantine.quarantined_states", lambda **_: []),
            ("jobs.ingest._quarantine_runs", lambda **_: None),
            ("jobs.ingest._flaky_news", lambda **_: None),
            ("jobs.notices.OwnerMap", lambda _sprint: lambda _file, _classname: []),
            ("jobs.notices.group", lambda *_: []),
        ):
            stack.enter_context(mock.patch(target, value))
        yield


def send(db: Database, sprint: Sprint, path: Path, run: str, commit: str) -> None:
    ingest(db, sprint, path, run, commit=commit)


def quarantine_some(db: Database, count: int) -> None:
    with db.session() as session:
        tests = list(session.exec(select(KnownTest).limit(count)).all())
        for t in tests:
            session.add(
                Quarantine(
                    test_id=t.id or 0,
                    by="U0QALEAD",
                    reason="bench",
                    since=NOW,
                    until=NOW + timedelta(days=14),
                )
            )
        session.commit()


def step_seconds(
    kind: str, sprint: Sprint, files: dict[str, Path], step: str
) -> tuple[float, float]:
    """One timing of `step` on a fresh database, after the steps before it: (wall seconds,
    this process's CPU seconds — steadier on a shared machine, and on SQLite all of it)."""
    first, repeat, rerun = files["first"], files["repeat"], files["rerun"]
    with fresh_database(kind) as db:
        if step == "first":
            doc, run, commit = first, "r1", "c1"
        else:
            send(db, sprint, first, "r1", "c1")
            doc, run, commit = (
                (rerun, "r1-retry", "c1") if step == "re-run" else (repeat, "r2", "c2")
            )
        if step == "quarantined":
            quarantine_some(db, 200)
        wall, cpu = time.perf_counter(), time.process_time()
        send(db, sprint, doc, run, commit)
        return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    n = args.size
    rng = random.Random(16)
    failing = set(rng.sample(range(n), n // 12))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "CODEOWNERS").write_text(CODEOWNERS)
        (Path(tmp) / "sprint.toml").write_text(SPRINT.read_text() + OWNED)
        sprint = load_sprint(str(Path(tmp) / "sprint.toml"))
        files = {name: Path(tmp, f"{name}.xml") for name in ("first", "repeat", "rerun")}
        write_report(files["first"], n, failing=failing)
        write_report(files["repeat"], n, failing=failing ^ set(rng.sample(range(n), n // 100)))
        write_report(files["rerun"], n, failing=failing ^ set(rng.sample(range(n), n // 100)))
        rows: list[list[Any]] = []
        for kind in kinds:
            for step in ("first", "repeat", "re-run", "quarantined"):
                times: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
                # Interleaved, in turns first (ABBA), so drift and warm-up hit both alike.
                for i in range(args.repeat):
                    for mode in ("without", "with") if i % 2 == 0 else ("with", "without"):
                        with without_insight() if mode == "without" else nullcontext():
                            times[mode].append(step_seconds(kind, sprint, files, step))
                row: list[Any] = [kind, step]
                for i in (0, 1):  # wall, then CPU
                    off, on = (
                        statistics.median(t[i] for t in times[k]) * 1000
                        for k in ("without", "with")
                    )
                    row += [f"{off:.0f}", f"{on:.0f}", f"{(on / off - 1) * 100:+.0f} %"]
                rows.append(row)
                print(" | ".join(rows[-1]), flush=True)
    print()
    print(f"What CI insight adds to a {n:,}-testcase ingest (median of {args.repeat}):")
    print(
        table(
            [
                "database",
                "step",
                "wall without ms",
                "wall with ms",
                "wall added",
                "CPU without ms",
                "CPU with ms",
                "CPU added",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()

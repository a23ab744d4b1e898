"""Test durations end to end: the project's recorded vitest and jest-junit runs, their JUnit
`time` scaled to a real suite's seconds, posted over HTTP as two shards per CI run; one test
five times slower in the last run; the 9:00 daily report the fake Slack receives shows the
suite's time against the runs before and names the slower test with its owner."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import AUTH, FIXTURES, at, posts, text_of
from tests.support.server import EXAMPLE, Server

SLOW = "agent command &gt; spawn prints id"  # as the vitest report spells it

OWNED = """
[[owners]]
tests = ["tests/cli/**"]
notify = ["U0CLILEAD"]
"""


def scaled(name: str, factor: float, *, slower: str | None = None) -> bytes:
    """A recorded report with every testcase's `time` times `factor` (the test named
    `slower` five times more): milliseconds of a toy suite become a real suite's seconds."""

    def scale(m: re.Match[str]) -> str:
        x = factor * (5 if slower is not None and f'name="{slower}"' in m.group(1) else 1)
        return f'{m.group(1)}time="{float(m.group(2)) * x:.6f}"'

    text = (FIXTURES / name).read_text()
    return re.sub(r'(<testcase [^>]*?)time="([^"]*)"', scale, text).encode()


def post_shard(server: Server, body: bytes, run: str, when: str) -> None:
    """One JUnit document of CI run `run`, as CI posts it (the API's ingest token)."""
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode({'run': run, 'at': when})}",
        content=body,
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text


# The daily report's test time after `timed_runs` of four runs, the last one slower.
TIMED_RUNS_TEST_TIME = (
    "*Test time*: 28.8 s in the latest run `ci-4`, +36.4 % on the median of the 3 runs "
    "before (21.1 s)"
)


def timed_runs(server: Server, times: list[str]) -> None:
    """Four runs, each in two shards (vitest, jest-junit), at ~2,000x the recorded times;
    in the last, one vitest test five times slower."""
    for i, (factor, when) in enumerate(zip([2000, 2100, 1900, 2000], times, strict=True)):
        run = f"ci-{i + 1}"
        at(server, datetime.fromisoformat(when))
        last = i == 3
        post_shard(
            server, scaled("vitest-run1.xml", factor, slower=SLOW if last else None), run, when
        )
        post_shard(server, scaled("jest-junit-run1.xml", factor), run, when)


def test_daily_report_shows_the_suite_time_and_the_slower_test(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    path = tmp_path / "sprint.toml"
    path.write_text(EXAMPLE.read_text() + OWNED)
    server = make_server(SPRINTBOT_CONFIG=str(path))
    # Three runs on Oct 30, each in two shards (vitest, jest-junit), ~2,000x the recorded
    # times; then the last run with one vitest test five times slower.
    timed_runs(server, [f"2025-10-30T{10 + i:02d}:00:00Z" for i in range(4)])
    server.runtime.sender.drain()
    sent_before = len(posts(server))

    at(server, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    [report] = posts(server)[sent_before:]
    text = text_of(report)
    # Each run's tests take 10.571316 ms as recorded (vitest 2.571316, jest 8): x2000 =
    # 21.14 s, the median of 21.14, 22.20 and 20.09 s; the last run adds 4 x 1.925 s.
    assert TIMED_RUNS_TEST_TIME in text
    assert (
        "*Slower tests (1)*: at least 2x their median over the 10 runs before, and at least 1.0 s"
    ) in text
    # 0.962512 ms x 2000 x 5 = 9.6 s against its median of 1.9 s; its owner mentioned.
    line = next(ln for ln in text.splitlines() if ln.startswith("• `tests/cli/agent/agent.test.js"))
    assert line.startswith(
        "• `tests/cli/agent/agent.test.js::agent command &gt; spawn prints id` 9.6 s "
        "(5.0x, median 1.9 s) · id "
    )
    assert line.endswith(" · <@U0CLILEAD>")

"""The first 9:00 daily report of a team that kept `[baseline]` in its sprint file (as the
example does), before CI has sent anything: no plan of failing tests yet, on the chart in
its thread and in GET /api/v1/sprint (found by review: a "Plan" climbing from 0 failing on
day 1 to the target's 276 on day 14, from the file's stated total beside the measured 0
failing; docs/definitions.md: with nothing measured "there is no plan yet")."""

from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime
from typing import Any

from PIL import Image

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import AUTH, posts, text_of
from tests.support.server import Clock, Server


def test_first_report_burndown_plan_does_not_climb_from_zero(
    make_server: Any, clock: Clock
) -> None:
    clock.at = datetime(2025, 10, 29, 13, 0, tzinfo=UTC)  # day 1, 9:00 New York, no CI yet
    server: Server = make_server()
    assert bot_clock.run_job(server.runtime, "daily-report") == "daily-report: posted"
    server.runtime.sender.drain()
    [report] = [p for p in posts(server) if p.args.get("channel") == "#sprint-status"]
    assert "*Tests*: no test results yet" in text_of(report)
    [png] = server.slack.uploads.values()
    series = json.loads(Image.open(io.BytesIO(png)).text["Description"])  # type: ignore[attr-defined]
    planned = [series["planned"][str(d)] for d in range(1, 15)]
    # A burn-down's plan never has more tests failing on a later day than on an earlier one.
    assert all(b <= a for a, b in itertools.pairwise(planned)), (planned, series["target"])

    sprint = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH).json()
    plan = [d["plan_failing"] for d in sprint["burndown"]]
    assert all(p in (None, 0) for p in plan) or all(b <= a for a, b in itertools.pairwise(plan)), (
        plan
    )

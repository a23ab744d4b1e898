"""CI delivers an older run's report after a newer run's (a slow pipeline, a retried upload):
a test the newer run already reported keeps the newer run's status — no regression, no fix,
no alert resolved, the figures unmoved — while the late report is stored as it came (its
counts, its reply). A few minutes' difference is a clock's, not a late run: by arrival.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.e2e.test_owners import owned_sprint
from tests.e2e.test_quarantine import FLIPPY, api, ask
from tests.support import httpc
from tests.support.e2e import AUTH, at, posts, text_of
from tests.support.reports import report
from tests.support.server import Server


def upload(server: Server, doc: bytes, **query: str) -> httpx.Response:
    url = f"{server.url}/api/v1/test-runs?{urlencode(query)}"
    return httpc.post(url, content=doc, headers=AUTH, timeout=30)


def figures(server: Server) -> dict[str, Any]:
    got = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH, timeout=30)
    assert got.status_code == 200, got.text
    tests: dict[str, Any] = got.json()["tests"]
    return tests


def stamped(doc: bytes, timestamp: str) -> bytes:
    return doc.replace(
        b'<testsuite name="s">', f'<testsuite name="s" timestamp="{timestamp}">'.encode()
    )


def test_an_older_run_arriving_late_changes_no_test_a_newer_run_reported(server: Server) -> None:
    newer = report({"swarm/a": "passed", "swarm/b": "passed"})
    older = report({"swarm/a": "failed", "swarm/b": "passed", "swarm/c": "failed"})
    assert upload(server, newer, run="ci-2", at="2025-10-31T12:00:00Z").status_code == 201
    before = figures(server)
    # It arrives the next day (the first report's day is the baseline's, whose tests are
    # no new failures).
    server.clock.at += timedelta(days=1)
    late = upload(server, older, run="ci-1", at="2025-10-31T09:00:00Z")
    assert late.status_code == 201, late.text
    reply = late.json()
    # The report as it came: its own counts; `c`, which no newer run reported, is new.
    assert (reply["tests"], reply["passed"], reply["failed"]) == (3, 1, 2)
    assert (reply["regressions"], reply["alert"]) == ([], None)
    assert [t["name"] for t in reply["new_failures"]] == ["c"]
    server.runtime.sender.drain()
    assert not [p for p in posts(server) if "regressed" in text_of(p)]
    after = figures(server)
    assert (after["known"], after["failing"]) == (before["known"] + 1, before["failing"] + 1)
    assert after["regressions_introduced"] == after["regressions_open"] == 0


def test_a_retry_of_an_older_run_does_not_resolve_a_newer_runs_regression(
    server: Server,
) -> None:
    green = report({"swarm/a": "passed", "swarm/b": "passed"})
    red = report({"swarm/a": "failed", "swarm/b": "passed"})
    assert upload(server, stamped(green, "2025-10-31T09:00:00Z"), run="ci-1").status_code == 201
    broke = upload(server, stamped(red, "2025-10-31T12:00:00Z"), run="ci-2").json()
    assert [t["name"] for t in broke["regressions"]] == ["a"]
    retry = upload(server, stamped(green, "2025-10-31T09:05:00Z"), run="ci-1b")
    assert retry.status_code == 201, retry.text
    assert retry.json()["fixed"] == []
    server.runtime.sender.drain()
    assert not server.slack.calls_to("chat.update")  # the alert stays open
    assert figures(server)["failing"] == 1  # the 12:00 run is the latest: `a` is broken


def test_runs_minutes_apart_count_in_the_order_they_arrive(server: Server) -> None:
    """Two runners' clocks disagree by minutes: the run that came last is the latest."""
    green = report({"swarm/a": "passed"})
    red = report({"swarm/a": "failed"})
    assert upload(server, green, run="ci-1", at="2025-10-31T12:00:00Z").status_code == 201
    late_clock = upload(server, red, run="ci-2", at="2025-10-31T11:55:00Z").json()
    assert [t["name"] for t in late_clock["regressions"]] == ["a"]
    assert figures(server)["failing"] == 1


def test_a_ci_machines_local_time_never_makes_a_report_late(server: Server) -> None:
    """Runners write their local time without an offset, taken as UTC: hours off on a
    machine away from UTC. Such a time orders nothing, either way: a report stamped so
    counts by arrival, and a run stamped after it arrived is no later run."""
    green, red = report({"swarm/a": "passed"}), report({"swarm/a": "failed"})
    at(server, datetime(2025, 10, 31, 17, 0, tzinfo=UTC))
    assert upload(server, green, run="ci-1", at="2025-10-31T17:00:00Z").status_code == 201
    # A runner in New York writes 12:05 for 17:05 UTC: five hours "before" ci-1.
    at(server, datetime(2025, 10, 31, 17, 5, tzinfo=UTC))
    behind = upload(server, stamped(red, "2025-10-31T12:05:00"), run="ci-2").json()
    assert [t["name"] for t in behind["regressions"]] == ["a"]
    # One in Berlin writes 19:10 for 18:10 UTC: an hour after it arrived.
    at(server, datetime(2025, 10, 31, 18, 10, tzinfo=UTC))
    ahead = upload(server, stamped(green, "2025-10-31T19:10:00"), run="ci-3").json()
    assert [t["name"] for t in ahead["fixed"]] == ["a"]
    # A run given its time at 18:20 UTC is not "late" against the Berlin stamp.
    at(server, datetime(2025, 10, 31, 18, 20, tzinfo=UTC))
    after = upload(server, red, run="ci-4", at="2025-10-31T18:20:00Z").json()
    assert [t["name"] for t in after["regressions"]] == ["a"]
    assert figures(server)["failing"] == 1


def test_late_passes_do_not_release_a_quarantine_the_latest_run_failed(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """A quarantined test leaves after `release_after` passing runs in a row (here 2): the
    latest run failed it, so two late reports of older runs passing it release nothing."""
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(Path(owned_sprint(tmp_path)).read_text() + FLIPPY)
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    green, red = report({"swarm/a": "passed"}), report({"swarm/a": "failed"})
    at(server, datetime(2025, 10, 31, 10, 0, tzinfo=UTC))
    assert upload(server, green, run="ci-1", at="2025-10-31T10:00:00Z").status_code == 201
    assert ask(server, "quarantine tests.swarm.test_it::a for 2d because races")
    at(server, datetime(2025, 10, 31, 12, 30, tzinfo=UTC))
    assert upload(server, red, run="ci-4", at="2025-10-31T12:30:00Z").status_code == 201
    for run, when in (("ci-2", "11:00"), ("ci-3", "11:05")):
        assert upload(server, green, run=run, at=f"2025-10-31T{when}:00Z").status_code == 201
    held = api(server, "/api/v1/quarantine").json()["tests"]
    assert [(t["name"], t["passes"]) for t in held] == [("a", 0)]


def test_a_run_stamped_with_local_time_is_no_later_run_however_near(server: Server) -> None:
    """A Berlin runner's suite starts at 11:00 UTC, writes "12:00" (no offset) and posts at
    11:55: a run given its time, 11:45, that posts after it is not late against it."""
    green, red = report({"swarm/a": "passed"}), report({"swarm/a": "failed"})
    at(server, datetime(2025, 10, 31, 10, 0, tzinfo=UTC))
    assert upload(server, green, run="ci-0", at="2025-10-31T10:00:00Z").status_code == 201
    at(server, datetime(2025, 10, 31, 11, 55, tzinfo=UTC))
    assert upload(server, stamped(green, "2025-10-31T12:00:00"), run="ci-1").status_code == 201
    at(server, datetime(2025, 10, 31, 11, 58, tzinfo=UTC))
    got = upload(server, red, run="ci-2", at="2025-10-31T11:45:00Z").json()
    assert [t["name"] for t in got["regressions"]] == ["a"]
    assert figures(server)["failing"] == 1

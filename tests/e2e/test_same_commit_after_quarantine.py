"""A test whose quarantine has ended fails again on a CI re-run of the same commit it failed
on while quarantined: sprintbot calls it flaky, "passed on another run of <commit>", and
raises no regression alert — though it never passed on that commit (it failed both times;
its first failure was only *stored* as `flaky` because it was quarantined then; found by
review). Each report keeps its statuses as it gave them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bot import clock as bot_clock
from tests.e2e.test_ingest import TWO_COMPONENTS
from tests.support import httpc
from tests.support.e2e import AUTH, posts, text_of
from tests.support.reports import report
from tests.support.server import Server
from tests.support.slack import slash

PASSING = {f"core/t{i}": "passed" for i in range(4)} | {"cli/t0": "passed", "cli/t1": "passed"}
T3 = "tests.core.test_it::t3"


def send(server: Server, statuses: dict[str, str], *, run: str, commit: str) -> dict[str, Any]:
    server.clock.at += timedelta(minutes=10)
    at = server.clock.at.isoformat().replace("+00:00", "Z")
    query = urlencode({"run": run, "commit": commit, "at": at})
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?{query}", content=report(statuses), headers=AUTH, timeout=30
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


def test_a_test_failing_twice_on_one_commit_is_not_said_to_have_passed_on_it(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """The lead quarantines t3 for 1h; CI run ci-2 of commit c2 fails it (stored flaky, as a
    quarantined failure is). The hour passes, the clock releases it ("their failures alert
    again"), and CI re-runs commit c2: t3 fails again. The team sees a flaky notice saying
    t3 "passed on another run of c2" and no regression alert; it should get a regression
    alert (t3 failed on every run of c2; one change, no flakiness)."""
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(TWO_COMPONENTS)
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    send(server, PASSING, run="ci-1", commit="c1")
    resp = slash(
        server.url, "/tests", f"quarantine {T3} for 1h because investigating", user_id="U0TECHLEAD"
    )
    assert resp.status_code == 200 and "Quarantined" in resp.text, resp.text

    first = send(server, PASSING | {"core/t3": "failed"}, run="ci-2", commit="c2")
    assert (first["regressions"], first["alert"]) == ([], None)  # quarantined: apart

    server.clock.at += timedelta(hours=1)
    assert bot_clock.run_job(server.runtime, "quarantine-expiry").endswith("1 tests released")

    again = send(server, PASSING | {"core/t3": "failed"}, run="ci-2-retry", commit="c2")
    server.runtime.sender.drain()
    said = "\n".join(text_of(p) for p in posts(server))
    assert "passed on another run of c2" not in said, said
    assert [r["id"] for r in again["regressions"]] == [T3], again["flaky_found"]
    assert again["alert"] is not None

"""Flaky tests as a managed list, end to end: recorded pytest runs re-run on the same commit
and flipping across commits, posted to the HTTP API; the flaky notice, its Quarantine
button, `/tests quarantine|unquarantine|quarantined`, `GET /api/v1/quarantine`, release by
expiry and by passing runs, and how readiness counts quarantined tests — as the fake Slack
and the API show them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot import clock as bot_clock
from bot.blocks.common import local_time
from jobs.storable import MESSAGE
from tests.e2e.test_ingest import TWO_COMPONENTS, send_statuses
from tests.e2e.test_owners import owned_sprint
from tests.support import httpc
from tests.support.e2e import AUTH, click, post_report, posts, responses, text_of
from tests.support.server import Server
from tests.support.slack import slash

SWARM = "tests.swarm.test_coordination"
FAILING = [  # the five tests pytest-xunit1-run2.xml fails, in the report's order
    "tests.cli.agent.test_agent_cmd::test_list_json",
    "tests.memory.test_store::test_snapshot",
    f"{SWARM}::test_leader_election",
    f"{SWARM}::test_scale_out[64]",
    f"{SWARM}::test_consensus_under_partition",
]


NEW_YORK = ZoneInfo("America/New_York")


def local_days_on(at: datetime, days: int) -> datetime:
    """`days` calendar days on New York's clock after `at` (a quarantine's end)."""
    return (at.astimezone(NEW_YORK) + timedelta(days=days)).astimezone(UTC)


def on_the_clock(at: datetime) -> str:
    """A quarantine's end as the example team's surfaces say it: on its clock."""
    return local_time(at, NEW_YORK)


def api(server: Server, path: str) -> httpx.Response:
    return httpc.get(
        f"{server.url}{path}", headers={"Authorization": AUTH["Authorization"]}, timeout=30
    )


def ask(server: Server, text: str, user: str = "U0QALEAD") -> str:
    resp = slash(server.url, "/tests", text, user_id=user)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["response_type"] == "ephemeral"
    return text_of_answer(body)


def text_of_answer(body: dict[str, Any]) -> str:
    from tests.support.e2e import blocks_text

    return blocks_text(body.get("blocks") or []) or str(body["text"])


def test_a_failing_rerun_of_the_same_commit_is_flaky_and_one_click_quarantines_it(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = make_server(SPRINTBOT_CONFIG=str(owned_sprint(tmp_path)))
    assert post_report(server, "pytest-xunit1-run1.xml", run="ci-1", commit="abc123").status_code
    # CI re-runs the same commit and five tests fail: not a regression.
    rerun = post_report(server, "pytest-xunit1-run2.xml", run="ci-1-retry", commit="abc123")
    reply = rerun.json()
    assert (reply["regressions"], reply["alert"]) == ([], None)
    assert sorted(t["id"] for t in reply["flaky"]) == sorted(FAILING)
    assert {t["why"] for t in reply["flaky_found"]} == {"passed on another run of abc123"}

    server.runtime.sender.drain()
    assert not any("regressed on main" in text_of(p) for p in posts(server))
    [notice] = [p for p in posts(server) if "found flaky" in text_of(p)]
    text = text_of(notice)
    assert notice.args["channel"] == "#phase4-production-readiness"
    assert text.startswith(":warning: 5 tests found flaky: reported apart, not as regressions.")
    assert f"`{SWARM}::test_leader_election` (id " in text
    assert "— passed on another run of abc123" in text
    assert "Owners: <@U0ALICE> <@U0BOB> <@U0SWARMLEAD>." in text
    [button] = [e for b in notice.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Quarantine for 14d"

    # Found flaky once, told once: the same failure on a third run says nothing new.
    told = len(posts(server))
    again = post_report(server, "pytest-xunit1-run2.xml", run="ci-1-retry-2", commit="abc123")
    assert again.json()["regressions"] == []
    server.runtime.sender.drain()
    assert len(posts(server)) == told

    # The button is for leads; a developer is told who may, and nothing is quarantined.
    click(server, button["action_id"], button["value"], user="U0DEV")
    assert "can quarantine tests" in responses(server, 1)[-1].args["text"]
    assert api(server, "/api/v1/quarantine").json()["tests"] == []

    click(server, button["action_id"], button["value"], user="U0QALEAD")
    until = local_days_on(server.clock.at, 14)
    assert responses(server, 2)[-1].args["text"] == (
        f"Quarantined 5 tests until {on_the_clock(until)}."
    )
    server.runtime.sender.drain()
    said = text_of(posts(server)[-1])
    assert said.startswith(f":mute: <@U0QALEAD> quarantined 5 tests until {on_the_clock(until)}")
    assert "Owners: <@U0ALICE> <@U0BOB> <@U0SWARMLEAD>." in said
    # The tech lead answers the same notice a moment later: told it is done, and nothing
    # is extended or announced again, as the alert's button (it acted on every click,
    # found by review).
    server.clock.at += timedelta(minutes=5)
    click(server, button["action_id"], button["value"], user="U0TECHLEAD")
    assert responses(server, 3)[-1].args["text"] == (
        "The notice's tests are quarantined already, by <@U0QALEAD>: `/tests quarantined` "
        "lists them."
    )
    server.runtime.sender.drain()
    assert sum(text_of(p).startswith(":mute:") for p in posts(server)) == 1

    # CI asks which tests to skip: JSON, or one name a line.
    listed = api(server, "/api/v1/quarantine").json()
    assert listed["branch"] == "main"
    assert sorted(f"{t['classname']}::{t['name']}" for t in listed["tests"]) == sorted(FAILING)
    first = listed["tests"][0]
    assert (first["by"], first["reason"]) == ("U0QALEAD", "found flaky")
    assert first["until"] == until.isoformat()
    text_list = api(server, "/api/v1/quarantine?format=text")
    assert text_list.headers["content-type"].startswith("text/plain")
    assert sorted(text_list.text.splitlines()) == sorted(FAILING)
    bad = api(server, "/api/v1/quarantine?format=xml")
    assert bad.status_code == 400 and "format=text" in bad.json()["error"]
    assert api(server, "/api/v1/quarantine").status_code == 200
    assert httpc.get(f"{server.url}/api/v1/quarantine", timeout=30).status_code == 401

    # The sprint's figures count them, and every surface reads one readiness (the kept
    # figures are refreshed by a quarantine as by any write); /tests show and /tests
    # quarantined say so.
    figures = api(server, "/api/v1/sprint").json()
    assert figures["tests"]["quarantined"] == 5
    assert figures["readiness"]["score"] == api(server, "/api/v1/readiness").json()["score"]
    now = quote(server.clock.at.isoformat())
    walked = api(server, f"/api/v1/sprint?at={now}").json()
    assert walked["readiness"]["score"] == figures["readiness"]["score"]
    shown = ask(server, f"show {SWARM}::test_leader_election")
    assert "*Quarantined* by <@U0QALEAD>" in shown and ": found flaky" in shown
    assert "*Found flaky* " in shown and "passed on another run of abc123" in shown
    listing = ask(server, "quarantined", user="U0DEV")
    assert listing.startswith("*5 tests in quarantine on `main`:*")
    sprint_answer = slash(server.url, "/sprint", user_id="U0DEV").json()
    assert "· 5 quarantined" in text_of_answer(sprint_answer)
    assert bot_clock.run_job(server.runtime, "daily-report").endswith("posted")
    server.runtime.sender.drain()
    [daily] = [p for p in posts(server) if "· 5 quarantined" in text_of(p)]
    assert daily.args["channel"] != "#phase4-production-readiness"  # the status channel

    # A quarantined test failing again never alerts.
    post_report(server, "pytest-xunit1-run1.xml", run="ci-2", commit="def456")
    later = post_report(server, "pytest-xunit1-run2.xml", run="ci-3", commit="fed654").json()
    assert (later["regressions"], later["alert"], len(later["flaky"])) == ([], None, 5)


FLIPPY = """
[flaky]
window = 6
flip_rate = 0.5
release_after = 2
"""


def test_a_test_that_keeps_flipping_is_flaky_and_passing_runs_release_it(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text((Path(owned_sprint(tmp_path)).read_text()) + FLIPPY)
    server = make_server(SPRINTBOT_CONFIG=str(sprint))
    runs = iter(range(1, 100))

    def send(fixture: str) -> dict[str, Any]:
        n = next(runs)
        resp = post_report(server, fixture, run=f"ci-{n}", commit=f"c{n:03}")
        assert resp.status_code == 201, resp.text
        reply: dict[str, Any] = resp.json()
        return reply

    # window 6, flip_rate 0.5: three changes over the last six runs make a test flaky.
    send("pytest-xunit1-run1.xml")
    assert len(send("pytest-xunit1-run2.xml")["regressions"]) == 5  # 1 change: a regression
    assert len(send("pytest-xunit1-run1.xml")["fixed"]) == 5  # 2
    third = send("pytest-xunit1-run2.xml")  # 3 changes: flaky, not a regression
    assert (third["regressions"], third["alert"]) == ([], None)
    assert {t["why"] for t in third["flaky_found"]} == {"changed 3 times in its last 6 runs"}

    # Quarantine one of them by hand, for 2 days, with a reason.
    answer = ask(server, f"quarantine {SWARM}::test_leader_election for 2d because races")
    until = local_days_on(server.clock.at, 2)
    assert answer == (
        f"Quarantined `{SWARM}::test_leader_election` until {on_the_clock(until)}: its "
        "failures are reported apart and never alert."
    )
    # Two passing runs in a row release it (release_after = 2), with a notice to its owner.
    send("pytest-xunit1-run1.xml")
    assert api(server, "/api/v1/quarantine").json()["tests"][0]["passes"] == 1
    send("pytest-xunit1-run1.xml")
    assert api(server, "/api/v1/quarantine").json()["tests"] == []
    server.runtime.sender.drain()
    released = text_of(posts(server)[-1])
    assert released.startswith(
        ":sunrise: 1 test left quarantine (it passed 2 runs in a row): their failures alert again."
    )
    assert "Owners: <@U0SWARMLEAD>." in released


def test_quarantine_by_hand_expires_and_is_refused_when_asked_wrong(server: Server) -> None:
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1", commit="aaa111")
    post_report(server, "pytest-xunit1-run2.xml", run="ci-2", commit="bbb222")

    # Asked wrong: each answer says how to ask, and nothing is quarantined.
    for text, says in (
        ("quarantine", "Say which test: `/tests quarantine 42 for 7d because"),
        ("quarantine test_leader_election for 400d", "between 1h and 365d"),
        ("quarantine test_leader_election for soon", '"soon" is not a time'),
        ("quarantine test_scale_out", '"test_scale_out" matches 3 tests'),
        ("quarantine test_nothing_like_it", 'has "test_nothing_like_it" in its name'),
        ("unquarantine test_leader_election", "is not in quarantine"),
    ):
        assert says in ask(server, text), text
    assert "can quarantine tests" in ask(server, "quarantine test_leader_election", user="U0DEV")
    assert api(server, "/api/v1/quarantine").json()["tests"] == []

    assert ask(server, "quarantine test_leader_election").startswith("Quarantined ")
    # Asked again: the quarantine ends at the new time, not doubled (the time may come
    # last); here sooner than the 14 days before, which it does not call extended.
    until = local_days_on(server.clock.at, 1)
    assert ask(server, "quarantine test_leader_election because it races for 1d").startswith(
        f"The quarantine of `{SWARM}::test_leader_election` now ends {on_the_clock(until)}"
    )
    assert api(server, "/api/v1/quarantine").json()["tests"][0]["reason"] == "it races"
    assert len(api(server, "/api/v1/quarantine").json()["tests"]) == 1

    # By hand out, and in again; then its time runs out: the clock lets it go.
    assert ask(server, "unquarantine test_leader_election").endswith(
        "left quarantine: its failures alert again."
    )
    server.runtime.sender.drain()
    said = [text_of(p) for p in posts(server)]
    assert any(":sunrise: 1 test left quarantine (released by hand)" in t for t in said)
    # Back in readiness, failing: readiness fell, and the team is told as for any fall.
    assert said[-1].startswith("Readiness fell ")
    ask(server, "quarantine test_leader_election for 2h")
    assert bot_clock.run_job(server.runtime, "quarantine-expiry") == (
        "quarantine-expiry: 0 tests released"
    )
    server.clock.at += timedelta(hours=2)
    assert bot_clock.run_job(server.runtime, "quarantine-expiry") == (
        "quarantine-expiry: 1 tests released"
    )
    assert any(
        text_of(p).startswith(":sunrise: 1 test left quarantine (its time is up)")
        for p in posts(server)[-2:]
    )
    assert api(server, "/api/v1/quarantine").json()["tests"] == []


JEST = (
    b'<testsuite timestamp="2025-10-31T12:00:00Z">'
    b'<testcase classname="LoginForm" name="renders the menu for admins">'
    b'<failure message="boom"/></testcase></testsuite>'
)


def test_a_test_named_with_for_in_it_is_quarantined_by_its_name(server: Server) -> None:
    """Jest and vitest name tests in sentences: " for admins" was read as the quarantine's
    length, and "admins" refused as a time (found by review)."""
    post = httpc.post(
        f"{server.url}/api/v1/test-runs?run=j1&at=2025-10-31T12:00:00Z",
        content=JEST,
        headers={**AUTH, "Content-Type": "application/xml"},
        timeout=30,
    )
    assert post.status_code == 201, post.text
    name = "`LoginForm::renders the menu for admins`"
    assert ask(server, "quarantine renders the menu for admins").startswith(f"Quarantined {name}")
    until = local_days_on(server.clock.at, 2)
    assert ask(server, "quarantine renders the menu for admins for 2d because flaky").startswith(
        f"The quarantine of {name} now ends {on_the_clock(until)}"
    )
    assert '"soon" is not a time' in ask(server, "quarantine renders the menu for soon")


def test_a_quarantine_reason_is_refused_where_it_cannot_be_kept_whole(server: Server) -> None:
    """Every form refuses a NUL byte (PostgreSQL cannot store one) and says how long text
    may be; the quarantine's reason was stored with the NUL, and cut at 500 characters
    without a word (found by review)."""
    post_report(server, "pytest-xunit1-run2.xml", run="ci-2", commit="bbb222")
    said = ask(server, "quarantine test_leader_election because races\x00 on CI")
    assert said == MESSAGE
    long = ("races with the cache warmer " * 25).strip()
    said = ask(server, f"quarantine test_leader_election because {long}")
    assert said == f"Keep the reason under 500 characters (this one has {len(long)}).", said
    assert api(server, "/api/v1/quarantine").json()["tests"] == []


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # Core 3 of 4 pass (t3 fails) and t3 is quarantined; CLI 2 of 2; Docs 50 (manual).
        # exclude: Core 3/3 = 100 → (2·100 + 1·100 + 1·50) / 4 = 87.5
        ("exclude", 87.5),
        # failing: Core 3/4 = 75 → (2·75 + 100 + 50) / 4 = 75.0
        ("failing", 75.0),
    ],
)
def test_readiness_leaves_quarantined_tests_out_or_counts_them_failing(
    make_server: Callable[..., Server], tmp_path: Path, mode: str, expected: float
) -> None:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(TWO_COMPONENTS + f'\n[flaky]\nreadiness = "{mode}"\n')
    server = make_server(SPRINTBOT_CONFIG=str(sprint))

    def send(run: str, statuses: dict[str, str]) -> dict[str, Any]:
        return send_statuses(server, statuses, run)

    passing = {f"core/t{i}": "passed" for i in range(4)} | {"cli/t0": "passed", "cli/t1": "passed"}
    send("ci-1", passing)
    # Before: Core 3/4 = 75 → (2·75 + 100 + 50) / 4 = 75.0, either way.
    assert send("ci-2", passing | {"core/t3": "failed"})["readiness"]["score"] == 75.0
    ask(server, "quarantine tests.core.test_it::t3", user="U0TECHLEAD")
    # Every surface reads the same figure, and the next report keeps it.
    assert api(server, "/api/v1/readiness").json()["score"] == expected
    figures = api(server, "/api/v1/sprint").json()
    assert figures["readiness"]["score"] == expected
    assert figures["tests"]["quarantined"] == 1
    assert figures["tests"]["failing"] == 1  # the test still fails: only readiness differs
    assert send("ci-3", passing | {"core/t3": "failed"})["readiness"]["score"] == expected


@pytest.mark.parametrize("runner", ["jest-junit", "vitest"])
def test_recorded_js_runs_rerun_on_one_commit_are_flaky_and_a_later_break_alerts(
    server: Server, runner: str
) -> None:
    """jest's and vitest's recorded runs: run 2 (three failures) re-run on run 1's commit
    is flaky; on a commit of its own the same failures are regressions."""
    assert post_report(server, f"{runner}-run1.xml", run="a-1", commit="aaa").status_code == 201
    rerun = post_report(server, f"{runner}-run2.xml", run="a-2", commit="aaa").json()
    assert (rerun["regressions"], rerun["alert"], len(rerun["flaky_found"])) == ([], None, 3)
    # Green again, then red on a new commit: three flips in a window of 20 is not enough to
    # call it flaky, so a genuine break of the next commit still alerts.
    post_report(server, f"{runner}-run3.xml", run="b-1", commit="bbb")
    broke = post_report(server, f"{runner}-run2.xml", run="c-1", commit="ccc").json()
    assert len(broke["regressions"]) == 3 and broke["alert"] is not None


def test_a_ci_job_re_run_under_the_same_run_id_is_flaky_too(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    """GitHub keeps a workflow's run id across its attempts: the second attempt's report,
    on the same commit, failing where the first passed, is flaky, not a regression."""
    server = make_server(SPRINTBOT_CONFIG=str(owned_sprint(tmp_path)))
    assert post_report(server, "pytest-xunit1-run1.xml", run="101", commit="abc123").status_code
    attempt = post_report(server, "pytest-xunit1-run2.xml", run="101", commit="abc123")
    assert attempt.status_code == 201
    reply = attempt.json()
    assert (reply["regressions"], reply["alert"]) == ([], None)
    assert sorted(t["id"] for t in reply["flaky_found"]) == sorted(FAILING)

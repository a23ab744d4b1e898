"""/tests and GET /api/v1/tests/{id} end to end: recorded pytest runs in through the API,
signed slash commands in, the answers in the acknowledgement."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support import httpc
from tests.support.e2e import AUTH, blocks_text, post_report
from tests.support.server import Server, two_teams
from tests.support.slack import post_signed, slash

SWARM = "tests.swarm.test_coordination"


def three_runs(server: Server) -> None:
    for n, commit in ((1, "aaa111"), (2, "bbb222"), (3, "ccc333")):
        resp = post_report(
            server,
            f"pytest-xunit1-run{n}.xml",
            run=f"ci-{n}",
            commit=commit,
            url=f"https://ci.example.com/runs/{n}",
            at=f"2025-10-31T1{n}:00:00Z",
        )
        assert resp.status_code == 201, resp.text


def answer(server: Server, text: str) -> tuple[dict[str, Any], str]:
    resp = slash(server.url, "/tests", text)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    assert body["response_type"] == "ephemeral"
    return body, blocks_text(body.get("blocks") or []) or body["text"]


def timed(durations: dict[str, float]) -> bytes:
    cases = "".join(
        f'<testcase classname="tests.perf.test_io" name="{name}" time="{seconds}"/>'
        for name, seconds in durations.items()
    )
    return f'<testsuite name="perf">{cases}</testsuite>'.encode()


def test_show_gives_the_timeline_streak_and_flips(server: Server) -> None:
    three_runs(server)

    body, text = answer(server, "show test_scale_out[64]")
    assert body["blocks"][0]["text"]["text"] == f"{SWARM}::test_scale_out[64]"
    assert ":x: *failed* now on `main`" in text
    # Passed on aaa111, failed since bbb222: the streak's first failure, with its CI link.
    assert "*First failure of this streak:* " in text
    assert "(`bbb222`, <https://ci.example.com/runs/2|CI run>)" in text
    assert "*Flips* (passing ⇄ failing, over the stored history): 1" in text
    timeline = text[text.index("*Timeline*") :].splitlines()
    assert timeline[0] == "*Timeline* (newest last, 3 reports):"
    assert [line.split(" · ")[0] for line in timeline[1:]] == [
        ":white_check_mark: passed",
        ":x: failed",
        ":x: failed",
    ]
    assert "`aaa111` · <https://ci.example.com/runs/1|ci-1> · 0 ms" in timeline[1]
    assert "`ccc333` · <https://ci.example.com/runs/3|ci-3>" in timeline[3]
    assert "*Duration* (last 3 runs): 0 ms → 0 ms → 0 ms · median 0 ms" in text

    _, flaky = answer(server, f"show {SWARM}::test_leader_election")
    assert ":white_check_mark: *passed* now" in flaky
    assert "*Flips* (passing ⇄ failing, over the stored history): 2" in flaky
    assert "*Passed since:* " in flaky and "`ccc333`" in flaky
    assert "*Owners:* none matches this test" in flaky

    # The example sprint file's [[owners]]: tests/security/** belong to U0SECURITY.
    _, owned = answer(server, "show test_admin_can_write")
    assert "*Owners:* <@U0SECURITY>" in owned


def test_part_of_a_name_lists_the_matches_with_their_ids(server: Server) -> None:
    three_runs(server)
    _, text = answer(server, "show scale_out")
    assert text.startswith('3 tests match "scale_out"; `/tests show ID` shows one:')
    lines = text.splitlines()[1:]
    assert [line.split("`")[1] for line in lines] == [
        f"{SWARM}::test_scale_out[2]",
        f"{SWARM}::test_scale_out[64]",
        f"{SWARM}::test_scale_out[8]",
    ]
    test_id = lines[1].split(" · ")[0].removeprefix("• ")
    _, one = answer(server, f"show {test_id}")
    assert f"test id {test_id}" in one and "*First failure of this streak:*" in one


def test_bad_input_says_how_to_ask(server: Server) -> None:
    three_runs(server)
    _, usage = answer(server, "")
    assert usage.startswith("Usage: `/tests show ID-or-name`")
    _, unknown = answer(server, "shwo x")
    assert 'Unknown option "shwo"' in unknown and "`/tests slow`" in unknown
    _, missing = answer(server, "show")
    assert "Say which test: `/tests show 42`" in missing
    _, none = answer(server, "show no_such_test")
    assert 'No test on `main` has "no_such_test" in its name.' in none
    _, no_id = answer(server, "show 999999")
    assert "No test has the id 999999 on `main`." in no_id


def test_slow_lists_the_slowest_by_latest_duration(server: Server) -> None:
    _, empty = answer(server, "slow")
    assert "No report on `main` timed its tests yet" in empty
    for run, durations in (
        ("p-1", {"test_read": 0.5, "test_write": 9.0, "test_sync": 75.0}),
        ("p-2", {"test_read": 12.25, "test_write": 3.0, "test_sync": 61.0}),
    ):
        resp = httpc.post(
            f"{server.url}/api/v1/test-runs?run={run}&at=2025-10-31T13:00:00Z",
            content=timed(durations),
            headers=AUTH,
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
    _, text = answer(server, "slow")
    lines = text.splitlines()
    assert lines[0] == "*Slowest tests on `main`* (their latest duration):"
    assert [line.split(" · ")[:2] for line in lines[1:4]] == [
        ["1. 1 min 1 s", "`tests.perf.test_io::test_sync`"],
        ["2. 12.2 s", "`tests.perf.test_io::test_read`"],
        ["3. 3.0 s", "`tests.perf.test_io::test_write`"],
    ]
    test_id = lines[2].rsplit("id ", 1)[1]
    _, read = answer(server, f"show {test_id}")
    assert "*Duration* (last 2 runs): 500 ms → 12.2 s · median 6.4 s" in read


def test_api_gives_the_history_as_json(server: Server) -> None:
    three_runs(server)
    _, listing = answer(server, "show scale_out[64]")
    test_id = int(listing.split("test id ")[1].split(" ")[0])
    resp = httpc.get(f"{server.url}/api/v1/tests/{test_id}", headers=AUTH, timeout=30)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert (data["id"], data["classname"], data["name"]) == (
        test_id,
        SWARM,
        "test_scale_out[64]",
    )
    assert (data["status"], data["flips"], data["branch"]) == ("failed", 1, "main")
    assert [(r["status"], r["commit"], r["url"]) for r in data["runs"]] == [
        ("passed", "aaa111", "https://ci.example.com/runs/1"),
        ("failed", "bbb222", "https://ci.example.com/runs/2"),
        ("failed", "ccc333", "https://ci.example.com/runs/3"),
    ]
    assert data["first_failure"]["commit"] == "bbb222"
    assert data["first_failure"]["at"].startswith("2025-10-31T12:00:00")
    assert data["durations"] == [0.0, 0.0, 0.0]
    assert data["owners"] == []  # the example sprint file's [[owners]] name no swarm owner

    missing = httpc.get(f"{server.url}/api/v1/tests/999999", headers=AUTH, timeout=30)
    assert missing.status_code == 404
    assert missing.json() == {"error": "no test 999999 on branch main"}
    word = httpc.get(f"{server.url}/api/v1/tests/leader", headers=AUTH, timeout=30)
    assert word.status_code == 400 and "not a test id" in word.json()["error"]
    anonymous = httpc.get(f"{server.url}/api/v1/tests/{test_id}", timeout=30)
    assert anonymous.status_code == 401


def in_channel(server: Server, team: str, text: str) -> str:
    """`/tests` typed in the team's channel by one of its people."""
    body = urlencode(
        {
            "team_id": "T1",
            "channel_id": f"C0{team.upper()}",
            "channel_name": team,
            "user_id": {"platform": "U0ALICE", "mobile": "U0DAVE"}[team],
            "command": "/tests",
            "text": text,
            "api_app_id": "A1",
            "response_url": server.slack.response_url("action"),
            "trigger_id": "1.2.3",
        }
    )
    resp = post_signed(server.url, body)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return blocks_text(out.get("blocks") or []) or str(out["text"])


def test_each_team_sees_its_own_tests(
    make_server: Callable[..., Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLATFORM_INGEST_TOKEN", "platform-ci-token")
    org = make_server(SPRINTBOT_CONFIG=str(two_teams(tmp_path / "teams")))
    org.clock.at = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
    posted = httpc.post(
        f"{org.url}/api/v1/test-runs?team=platform&run=ci-1&at=2025-11-04T13:00:00Z",
        content=timed({"test_sync": 2.5}),
        headers=AUTH,
        timeout=30,
    )
    assert posted.status_code == 201, posted.text

    platform = in_channel(org, "platform", "show test_sync")
    assert "tests.perf.test_io::test_sync" in platform and "2.5 s" in platform
    mobile = in_channel(org, "mobile", "show test_sync")
    assert 'No test on `main` has "test_sync" in its name.' in mobile
    assert "No report on `main` timed its tests yet" in in_channel(org, "mobile", "slow")

    test_id = re.search(r"test id (\d+)", platform).group(1)  # type: ignore[union-attr]
    url = f"{org.url}/api/v1/tests/{test_id}"
    assert httpc.get(f"{url}?team=platform", headers=AUTH, timeout=30).status_code == 200
    assert httpc.get(f"{url}?team=mobile", headers=AUTH, timeout=30).status_code == 404
    assert httpc.get(url, headers=AUTH, timeout=30).status_code == 400  # which team?


def test_odd_and_very_long_names_each_stay_a_test_of_their_own(server: Server) -> None:
    """A name holding a newline (`&#10;`), and two names alike in their first 2,000
    characters: each test keeps its own status and duration, as /tests and the reply say."""
    stem = "test_param[" + "x" * 2100
    doc = (
        '<testsuite name="odd">'
        '<testcase classname="tests.perf.test_io" name="test_odd&#10;name" time="100.0"/>'
        '<testcase classname="tests.perf.test_io" name="test_plain" time="1.5"/>'
        '<testcase classname="tests.perf.test_io" name="test_last" time="7.0"/>'
        f'<testcase classname="tests.perf.test_io" name="{stem}-a]" time="0.25"/>'
        f'<testcase classname="tests.perf.test_io" name="{stem}-b]" time="0.25">'
        '<failure message="boom"/></testcase>'
        "</testsuite>"
    ).encode()
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?run=odd-1&at=2025-10-31T13:00:00Z",
        content=doc,
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    reply = resp.json()
    assert (reply["unique_tests"], reply["failed"], reply["flaky_count"]) == (5, 1, 0)
    _, text = answer(server, "slow")
    assert [line.split(" · ")[:2] for line in text.splitlines()[1:4]] == [
        ["1. 1 min 40 s", "`tests.perf.test_io::test_odd\\nname`"],
        ["2. 7.0 s", "`tests.perf.test_io::test_last`"],
        ["3. 1.5 s", "`tests.perf.test_io::test_plain`"],
    ]
    _, plain = answer(server, "show test_plain")
    assert "*Duration* (last 1 run): 1.5 s · median 1.5 s" in plain, plain

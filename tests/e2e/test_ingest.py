"""CI results in, alerts out: recorded real pytest runs through the HTTP API, the fake Slack
receiving the alerts, the buttons clicked as Slack would send them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot import clock as bot_clock
from bot.blocks.common import local_time
from tests.support import httpc
from tests.support.e2e import AUTH, _alert_id, click, post_report, posts, responses, text_of
from tests.support.server import Server
from tests.support.slack import slash

SWARM = "tests.swarm.test_coordination"


def ids(refs: list[dict[str, Any]]) -> list[str]:
    return sorted(r["id"] for r in refs)


def test_passing_run_then_regressions_then_partial_fix(server: Server) -> None:
    first = post_report(server, "pytest-xunit1-run1.xml", run="ci-1", commit="aaa111")
    assert first.status_code == 201, first.text
    one = first.json()
    assert (one["tests"], one["passed"], one["failed"], one["regressions"]) == (13, 13, 0, [])
    assert one["readiness"]["previous"] is None
    server.runtime.sender.drain()
    assert posts(server) == []  # a clean first run alerts no one

    second = post_report(
        server,
        "pytest-xunit1-run2.xml",
        run="ci-2",
        commit="bbb222",
        url="https://ci.example.com/runs/2",
    )
    assert second.status_code == 201, second.text
    two = second.json()
    assert ids(two["regressions"]) == [
        "tests.cli.agent.test_agent_cmd::test_list_json",
        "tests.memory.test_store::test_snapshot",
        f"{SWARM}::test_consensus_under_partition",
        f"{SWARM}::test_leader_election",
        f"{SWARM}::test_scale_out[64]",
    ]
    by_id = {r["id"]: r for r in two["regressions"]}
    assert by_id[f"{SWARM}::test_leader_election"] == {
        "id": f"{SWARM}::test_leader_election",
        "classname": SWARM,
        "name": "test_leader_election",
        "file": "tests/swarm/test_coordination.py",
        "component": "Swarm Coordination",
    }
    assert by_id["tests.cli.agent.test_agent_cmd::test_list_json"]["component"] == "Agent Commands"
    assert ids(two["newly_skipped"]) == ["tests.memory.test_store::test_eviction"]
    assert (two["failed"], two["errors"], two["skipped"]) == (4, 1, 1)
    assert two["readiness"]["score"] < two["readiness"]["previous"]

    server.runtime.sender.drain()
    alert, decline = posts(server)
    assert alert.args["channel"] == "#phase4-production-readiness"
    alert_text = text_of(alert)
    assert ":rotating_light: 5 tests regressed on main" in alert_text
    assert (
        "commit `bbb222`" in alert_text and "<https://ci.example.com/runs/2|CI run>" in alert_text
    )
    assert f"`{SWARM}::test_leader_election` — Swarm Coordination" in alert_text
    assert "leader election timed out after 3 rounds" in alert_text  # the failure message
    assert "shared memory segment still mapped at teardown" in alert_text
    buttons = [e for b in alert.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["text"]["text"], b["action_id"]) for b in buttons] == [
        ("I'm on it", "alert_ack"),
        ("Quarantine as flaky", "alert_mute"),
    ]
    decline_text = text_of(decline)
    assert decline_text.startswith(
        f"Readiness fell {fmt(two['readiness']['previous'])} → {fmt(two['readiness']['score'])}"
    )
    assert "*Swarm Coordination* (weight 8): 100 % → 50 % — 3 regressions" in decline_text
    assert "*Agent Commands* (weight 7): 100 % → 50 % — 1 regression" in decline_text
    assert "Call emergency standup" in decline_text

    # The same document again for the same run: a replay, nothing stored, no second alert.
    replay = post_report(
        server,
        "pytest-xunit1-run2.xml",
        run="ci-2",
        commit="bbb222",
        url="https://ci.example.com/runs/2",
    )
    assert (replay.status_code, replay.json()) == (200, two)
    server.runtime.sender.drain()
    assert len(posts(server)) == 2

    third = post_report(server, "pytest-xunit1-run3.xml", run="ci-3", commit="ccc333")
    three = third.json()
    assert ids(three["fixed"]) == [
        "tests.cli.agent.test_agent_cmd::test_list_json",
        "tests.memory.test_store::test_snapshot",
        f"{SWARM}::test_consensus_under_partition",
        f"{SWARM}::test_leader_election",
    ]
    assert ids(three["regressions"]) == [
        "tests.security.authz.test_roles::test_reader_cannot_write"
    ]
    assert three["still_failing"] == 1  # test_scale_out[64]
    server.runtime.sender.drain()
    new_alert = posts(server)[2]
    assert ":rotating_light: 1 test regressed on main" in text_of(new_alert)
    assert "— Authorization" in text_of(new_alert)
    # The first alert still has a failing test: not resolved yet.
    assert server.slack.calls_to("chat.update") == []

    # Everything passes again: both alerts say so in their threads and are marked resolved.
    fourth = post_report(server, "pytest-xunit1-run1.xml", run="ci-4", commit="ddd444")
    assert len(fourth.json()["fixed"]) == 2
    server.runtime.sender.drain()
    replies = [c for c in posts(server) if c.args.get("thread_ts")]
    assert [(c.args["thread_ts"], text_of(c).split(" as of")[0]) for c in replies] == [
        (alert_ts(server, 0), ":white_check_mark: All 5 regressed tests pass again"),
        (alert_ts(server, 2), ":white_check_mark: All 1 regressed tests pass again"),
    ]
    updates = server.slack.calls_to("chat.update")
    assert len(updates) == 2
    assert all("Resolved: " in text_of(u) for u in updates)
    assert all(not any(b["type"] == "actions" for b in u.args["blocks"]) for u in updates)


def fmt(x: float) -> str:
    from jobs.numbers import pct

    return pct(x)


def alert_ts(server: Server, index: int) -> str:
    # The fake answers each post with a ts; find the one it gave the index-th post.
    from sqlmodel import select

    from storage.models import OutboxMessage

    with server.runtime.db.session() as s:
        rows = s.exec(
            select(OutboxMessage)
            .where(OutboxMessage.method == "chat.postMessage", OutboxMessage.status == "sent")
            .order_by(OutboxMessage.sent_at, OutboxMessage.id)
        ).all()
    top_level = [r for r in rows if r.parent_key is None]
    return str(top_level[index].result["ts"])


def test_ack_button_and_follow_up(server: Server) -> None:
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1")
    second = post_report(server, "pytest-xunit1-run2.xml", run="ci-2").json()
    server.runtime.sender.drain()
    alert_id = str(_alert_id(server, second["alert"]))

    # Nobody acknowledges within regression_ack (1h): the follow-up pings the tech lead.
    server.clock.at += timedelta(minutes=59)
    assert bot_clock.run_job(server.runtime, "alert-followup") == (
        "alert-followup: 0 alerts followed up"
    )
    server.clock.at += timedelta(minutes=2)
    assert bot_clock.run_job(server.runtime, "alert-followup") == (
        "alert-followup: 1 alerts followed up"
    )
    followup = posts(server)[-1]
    assert followup.args["thread_ts"] == alert_ts(server, 0)
    assert "<@U0TECHLEAD>, can you take a look" in text_of(followup)
    # Only once.
    assert bot_clock.run_job(server.runtime, "alert-followup").endswith(": 0 alerts followed up")

    resp = click(server, "alert_ack", alert_id, user="U0DEV")
    assert resp.status_code == 200
    server.runtime.sender.drain()
    update = server.slack.calls_to("chat.update")[-1]
    assert ":eyes: <@U0DEV> is on it" in text_of(update)
    assert not any(b["type"] == "actions" for b in update.args["blocks"])
    assert text_of(posts(server)[-1]) == ":eyes: <@U0DEV> is on it.\n:eyes: <@U0DEV> is on it."
    # A second click tells the clicker who has it, privately.
    click(server, "alert_ack", alert_id, user="U0OTHER")
    refused = responses(server, 1)[-1]
    assert refused.args["text"] == "<@U0DEV> is already on it."
    assert refused.args["response_type"] == "ephemeral"


def test_quarantine_as_flaky_stops_alerts(server: Server) -> None:
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1")
    second = post_report(server, "pytest-xunit1-run2.xml", run="ci-2").json()
    # Quarantine hides regressions: the tech lead, the QA lead or an admin may.
    click(server, "alert_mute", str(_alert_id(server, second["alert"])), user="U0QALEAD")
    until = server.clock.at + timedelta(days=14, hours=1)  # 14 days on the team's clock
    assert responses(server, 1)[-1].args["text"] == (
        f"Quarantined 5 tests until {local_time(until, ZoneInfo('America/New_York'))}."
    )
    post_report(server, "pytest-xunit1-run1.xml", run="ci-3")
    again = post_report(server, "pytest-xunit1-run2.xml", run="ci-4").json()
    assert again["regressions"] == []
    assert len(again["flaky"]) == 5
    assert again["alert"] is None


def test_emergency_standup_button(server: Server) -> None:
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1")
    post_report(server, "pytest-xunit1-run2.xml", run="ci-2")
    server.runtime.sender.drain()
    decline = posts(server)[1]
    button = next(
        e for b in decline.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    assert click(server, button["action_id"], button["value"], user="U0QALEAD").status_code == 200
    server.runtime.sender.drain()
    call = posts(server)[-1]
    assert call.args["channel"] == "#phase4-production-readiness"
    assert text_of(call).startswith(":rotating_light: <@U0QALEAD> called an *emergency standup*")
    assert "Meet within 2h" in text_of(call)
    assert "<@U0QALEAD> called an emergency standup" in text_of(
        server.slack.calls_to("chat.update")[-1]
    )


def test_no_emergency_standup_is_called_for_an_ended_sprint(server: Server) -> None:
    """A decline notice scrolled back to and clicked after the end called the team to meet
    within 2h for a sprint that is over, while /standup said none runs (found by review)."""
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1")
    post_report(server, "pytest-xunit1-run2.xml", run="ci-2")
    server.runtime.sender.drain()
    button = next(
        e for b in posts(server)[1].args["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    told = len(posts(server))
    server.clock.at = datetime(2025, 11, 13, 15, tzinfo=UTC)  # the last day was 2025-11-11
    assert click(server, button["action_id"], button["value"], user="U0QALEAD").status_code == 200
    assert responses(server, 1)[-1].args["text"] == (
        "No sprint running; the last ended on 2025-11-11"
    )
    server.runtime.sender.drain()
    assert len(posts(server)) == told


def test_other_branches_are_classified_but_do_not_alert(server: Server) -> None:
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1")
    post_report(server, "pytest-xunit1-run1.xml", run="f-1", branch="feature/login")
    reply = post_report(server, "pytest-xunit1-run2.xml", run="f-2", branch="feature/login").json()
    assert len(reply["regressions"]) == 5
    assert reply["alert"] is None
    assert reply["readiness"]["score"] == reply["readiness"]["previous"]
    server.runtime.sender.drain()
    assert posts(server) == []
    readiness = httpc.get(
        f"{server.url}/api/v1/readiness", headers={"Authorization": AUTH["Authorization"]}
    ).json()
    assert readiness["tests"] == {
        "passed": 13,
        "known": 13,
        "pass_rate": 100.0,
        "unmapped": 0,
        "flaky": 0,
    }


# -- what a report's regressions cost on their own ---------------------------------------

TWO_COMPONENTS = """
[sprint]
name = "Alert cost"
start = 2025-10-29
days = 14
timezone = "UTC"

[targets]
readiness = 90
pass_rate = 90

[channels]
team = "#team"
status = "#status"
blockers = "#blockers"

[people]
admins = ["U0TECHLEAD"]

[[components]]
name = "Core"
weight = 2
target = 90
source = "tests"
tests = ["tests/core/**"]

[[components]]
name = "CLI"
weight = 1
target = 90
source = "tests"
tests = ["tests/cli/**"]

[[components]]
name = "Docs"
weight = 1
target = 100
source = "manual"
score = 50
"""


def junit_xml(statuses: dict[str, str]) -> bytes:
    """A JUnit report of `area/test_n` → "passed" or "failed", one file per area."""
    cases = []
    for test, status in statuses.items():
        area, name = test.split("/")
        body = '<failure message="boom">assert False</failure>' if status == "failed" else ""
        cases.append(
            f'<testcase classname="tests.{area}.test_it" name="{name}" '
            f'file="tests/{area}/test_it.py">{body}</testcase>'
        )
    return f'<testsuite name="s">{"".join(cases)}</testsuite>'.encode()


def send_statuses(server: Server, statuses: dict[str, str], run: str) -> dict[str, Any]:
    """`statuses` as a JUnit report of CI run `run`, posted; the reply (201)."""
    resp = httpc.post(
        f"{server.url}/api/v1/test-runs?run={run}&at=2025-10-31T13:00:00Z",
        content=junit_xml(statuses),
        headers=AUTH,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    reply: dict[str, Any] = resp.json()
    return reply


def test_alert_states_what_regressions_cost_apart_from_the_fixes(
    make_server: Callable[..., Server], tmp_path: Path
) -> None:
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(TWO_COMPONENTS)
    server = make_server(SPRINTBOT_CONFIG=str(sprint))

    def send(statuses: dict[str, str], run: str) -> dict[str, Any]:
        return send_statuses(server, statuses, run)

    # Core: 6 of 10 pass; CLI: 6 of 6 pass; Docs (manual) set to 70.
    core = {f"core/t{i}": "passed" if i < 6 else "failed" for i in range(10)}
    cli = {f"cli/t{i}": "passed" for i in range(6)}
    send(core | cli, "ci-1")
    ack = slash(server.url, "/readiness", "set Docs 70")
    assert ack.status_code == 200, ack.text

    # The next day (the first report's was the baseline's), one report: Core's 4 failing
    # tests fixed, 2 CLI tests regressed, 1 new CLI test failing.
    server.clock.at += timedelta(days=1)
    after = {f"core/t{i}": "passed" for i in range(10)} | cli
    after |= {"cli/t0": "failed", "cli/t1": "failed", "cli/t6": "failed"}
    reply = send(after, "ci-2")
    assert ids(reply["regressions"]) == ["tests.cli.test_it::t0", "tests.cli.test_it::t1"]
    assert len(reply["fixed"]) == 4
    assert ids(reply["new_failures"]) == ["tests.cli.test_it::t6"]

    # By hand: readiness = (2·Core + 1·CLI + 1·Docs) / 4, each a pass rate in %.
    def readiness(core_rate: float, cli_rate: float) -> float:
        return (2 * core_rate + cli_rate + 70) / 4

    before = readiness(60, 100)  # 72.5
    regressed_alone = readiness(60, 100 * 4 / 6) - before  # CLI 4/6: -8.33
    fixed_alone = readiness(100, 100) - before  # Core 10/10: +20
    new_alone = readiness(60, 100 * 6 / 7) - before  # CLI 6/7: -3.57
    now = readiness(100, 100 * 4 / 7)  # 81.79
    assert regressed_alone < 0 < now - before  # the point: a rise, yet the breakage has a cost
    assert reply["impact"] == {
        "before": round(before, 2),
        "after": round(now, 2),
        "net": round(now - before, 2),
        "regressed": {"count": 2, "points": round(regressed_alone, 2)},
        "fixed": {"count": 4, "points": round(fixed_alone, 2)},
        "new_failures": {"count": 1, "points": round(new_alone, 2)},
    }
    assert reply["readiness"] == {"score": round(now, 2), "previous": round(before, 2)}

    server.runtime.sender.drain()
    [alert] = [c for c in posts(server) if "regressed on main" in c.args.get("text", "")]
    assert alert.args["channel"] == "#team"
    line = (
        "2 regressed (\u22128.33 pts), 4 fixed (+20 pts), 1 new failure (\u22123.57 pts): "
        "net +9.29 pts (72.5 % → 81.79 %)"
    )
    text = text_of(alert)
    assert f"*Readiness:* {line}" in text  # the message's own line
    assert alert.args["text"].startswith(f"2 tests regressed on main: {line} (branch `main`")
    assert "readiness 72.5 %" not in text  # no bare "readiness before → after" beside it


def test_no_readiness_decline_notice_once_the_sprint_has_ended(server: Server) -> None:
    """Three days after the sprint ended CI reports regressions: the team got "Readiness
    fell 80 % → 67.17 %" and a call for an emergency standup, while every surface at that
    instant shows the ended sprint's final 80 %."""
    server.clock.at = datetime(2025, 11, 10, 20, tzinfo=UTC)  # day 13
    post_report(server, "pytest-xunit1-run1.xml", run="d13", at="2025-11-10T20:00:00Z")
    server.runtime.sender.drain()
    before = len(posts(server))
    server.clock.at = datetime(2025, 11, 14, 15, tzinfo=UTC)  # 3 days after the end
    reply = post_report(
        server, "pytest-xunit1-run2.xml", run="after", commit="bbb", at="2025-11-14T15:00:00Z"
    ).json()
    assert len(reply["regressions"]) == 5  # still alerted: the branch broke
    server.runtime.sender.drain()
    api = httpc.get(f"{server.url}/api/v1/sprint", headers=AUTH).json()
    assert api["sprint"]["status"] == "ended" and api["readiness"]["score"] == 80.0
    after = [text_of(c) for c in posts(server)[before:]]
    assert not [t for t in after if "Readiness fell" in t or "emergency standup" in t], after

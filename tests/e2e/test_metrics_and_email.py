"""Benchmarks in, performance alerts out; e-mail copies over a real SMTP server; big alerts."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.support import httpc
from tests.support.e2e import FIXTURES, post_report, posts, text_of
from tests.support.server import EXAMPLE, INGEST_TOKEN, Server

JSON = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}


def post_metrics(server: Server, body: dict[str, Any]) -> httpx.Response:
    return httpc.post(f"{server.url}/api/v1/metrics", json=body, headers=JSON, timeout=30)


def test_metrics_status_alert_and_recovery(server: Server) -> None:
    resp = post_metrics(
        server,
        {
            "commit": "abc123",
            "metrics": {
                "api_throughput": 850,
                "memory_usage": 149,
                "cli_response_time": 0.32,
                "flux_capacitance": 1.21,
            },
        },
    )
    assert resp.status_code == 201, resp.text
    m = resp.json()["metrics"]
    assert m["api_throughput"] == {
        "value": 850.0,
        "target": 1000.0,
        "unit": "req/s",
        "better": "higher",
        "status": "degraded",
        "beyond_target_percent": 15.0,
    }
    assert (m["memory_usage"]["status"], m["cli_response_time"]["status"]) == ("met", "missed")
    assert m["flux_capacitance"] == {"value": 1.21, "status": "untracked"}
    server.runtime.sender.drain()
    alert = posts(server)[0]
    assert alert.args["channel"] == "#phase4-production-readiness"
    assert text_of(alert).startswith(
        "API Throughput degraded: 850 req/s (target ≥ 1,000 req/s, 15 % beyond)"
    )
    assert "commit `abc123`" in text_of(alert)

    # Still degraded: no second alert. Then back within target: resolved in the thread.
    post_metrics(server, {"metrics": {"api_throughput": 870}})
    server.runtime.sender.drain()
    assert len([p for p in posts(server) if "degraded" in text_of(p)]) == 1
    post_metrics(server, {"metrics": {"api_throughput": 1010}})
    server.runtime.sender.drain()
    resolved = [p for p in posts(server) if p.args.get("thread_ts")]
    assert [text_of(p) for p in resolved] == [
        ":white_check_mark: API Throughput is back within target: 1,010 req/s (target 1,000 req/s)."
        "\n:white_check_mark: API Throughput is back within target: 1,010 req/s "
        "(target 1,000 req/s)."
    ]
    update = server.slack.calls_to("chat.update")[-1]
    assert text_of(update).startswith("Resolved: API Throughput degraded: 850 req/s")


def test_a_figure_measured_before_the_latest_moves_no_alert(server: Server) -> None:
    """CI posts an older run's benchmark after a newer one (its `at` earlier): the figures
    keep the latest measurement, and so does the alert; the reply says it was superseded."""
    now = server.runtime.now()
    degraded = post_metrics(server, {"at": now.isoformat(), "metrics": {"api_throughput": 850}})
    assert degraded.json()["metrics"]["api_throughput"]["status"] == "degraded"
    hour_before = (now - timedelta(hours=1)).isoformat()
    late = post_metrics(server, {"at": hour_before, "metrics": {"api_throughput": 1010}})
    assert late.status_code == 201
    shown = late.json()["metrics"]["api_throughput"]
    assert (shown["status"], shown["superseded_by"]) == (
        "met",
        {"value": 850.0, "at": now.isoformat(), "status": "degraded"},
    )
    server.runtime.sender.drain()
    assert not [p for p in posts(server) if p.args.get("thread_ts")]  # not "back within target"
    assert not server.slack.calls_to("chat.update")
    sprint = httpc.get(f"{server.url}/api/v1/sprint", headers=JSON, timeout=30).json()
    [bench] = [b for b in sprint["benchmarks"]["items"] if b["name"] == "api_throughput"]
    assert (bench["value"], bench["state"]) == (850.0, "degraded")


def test_metrics_components_score_from_benchmarks(server: Server) -> None:
    before = httpc.get(f"{server.url}/api/v1/readiness", headers=JSON).json()
    assert before["score"] == 71.55
    post_metrics(
        server,
        {"metrics": {"api_throughput": 1200, "swarm_init_time": 0.9, "agent_spawn_time": 0.4}},
    )
    after = httpc.get(f"{server.url}/api/v1/readiness", headers=JSON).json()
    scal = next(c for g in after["groups"] for c in g["components"] if c["name"] == "Scalability")
    assert (scal["score"], scal["detail"]) == (100.0, "3/3 benchmarks met")
    assert after["score"] == pytest.approx(71.55 + 5 * (100 - 65) / 100)


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Any]]]:
    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_regression_alert_is_emailed(
    make_server: Callable[..., Server], tmp_path: Path, smtp: tuple[int, list[Any]]
) -> None:
    port, received = smtp
    sprint = tmp_path / "sprint.toml"
    sprint.write_text(
        EXAMPLE.read_text().replace("email_to = []", 'email_to = ["leads@example.com"]')
    )
    server = make_server(
        SPRINTBOT_CONFIG=str(sprint),
        SPRINTBOT_SMTP_URL=f"smtp://127.0.0.1:{port}?from=bot@example.com",
    )
    post_report(server, "pytest-xunit1-run1.xml", run="ci-1")
    post_report(server, "pytest-xunit1-run2.xml", run="ci-2", commit="bbb222")
    result = server.runtime.sender.drain()
    assert result.failed == 0
    [envelope] = received
    assert envelope.rcpt_tos == ["leads@example.com"]
    assert envelope.mail_from == "bot@example.com"
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == "[sprintbot] 5 tests regressed on main (bbb222)"
    body = mail.get_payload(decode=True).decode()
    assert "- tests.swarm.test_coordination::test_leader_election (Swarm Coordination)" in body
    assert "leader election timed out after 3 rounds" in body


def test_many_regressions_collapse_into_a_count_and_a_threaded_list(server: Server) -> None:
    passing = "".join(f'<testcase classname="tests.swarm.t" name="test_{i}" />' for i in range(95))
    failing = "".join(
        f'<testcase classname="tests.swarm.t" name="test_{i}"><failure message="boom {i}"/>'
        "</testcase>"
        for i in range(95)
    )
    headers = {**JSON, "Content-Type": "application/xml"}
    for run, cases in (("1", passing), ("2", failing)):
        httpc.post(
            f"{server.url}/api/v1/test-runs?run={run}",
            headers=headers,
            content=f"<testsuite>{cases}</testsuite>".encode(),
        )
    server.runtime.sender.drain()
    alert = posts(server)[0]
    thread = [p for p in posts(server) if p.args.get("thread_ts")]
    assert len(alert.args["blocks"]) <= 50
    assert "*95 tests* went from passing to failing. The full list is in the thread." in (
        text_of(alert)
    )
    assert [text_of(t).splitlines()[0] for t in thread] == [
        "Regressed tests 1-40 of 95:",
        "Regressed tests 41-80 of 95:",
        "Regressed tests 81-95 of 95:",
    ]
    listed = "\n".join(text_of(t) for t in thread)
    assert all(f"`tests.swarm.t::test_{i}`" in listed for i in range(95))
    for t in thread:
        assert all(len(b["text"]["text"]) <= 3000 for b in t.args["blocks"])


def test_shards_of_one_run_change_only_their_tests(server: Server) -> None:
    headers = {**JSON, "Content-Type": "application/xml"}

    def send(run: str, cases: str) -> dict[str, Any]:
        resp = httpc.post(
            f"{server.url}/api/v1/test-runs?run={run}",
            headers=headers,
            content=f"<testsuites><testsuite>{cases}</testsuite></testsuites>".encode(),
        )
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    send("r1", '<testcase classname="a" name="x"/><testcase classname="b" name="y"/>')
    # Shard 1 of run r2 holds only `a`; shard 2 only `b`.
    one = send("r2", '<testcase classname="a" name="x"><failure message="f"/></testcase>')
    two = send("r2", '<testcase classname="b" name="y"/>')
    assert [r["id"] for r in one["regressions"]] == ["a::x"]
    assert (two["regressions"], two["fixed"], two["still_failing"]) == ([], [], 0)
    status = httpc.get(f"{server.url}/api/v1/readiness", headers=JSON).json()["tests"]
    assert (status["passed"], status["known"]) == (1, 2)


def test_cli_ingest(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: Server,
    database_url: str,
) -> None:
    import json

    from bot.cli import main

    for name, value in (("DATABASE_URL", database_url), ("SPRINTBOT_CONFIG", str(EXAMPLE))):
        monkeypatch.setenv(name, value)
    code = main(
        [
            "ingest",
            "junit",
            str(FIXTURES / "vitest-run1.xml"),
            "--run",
            "v1",
            "--commit",
            "abc",
            "--at",
            "2025-10-31T12:00:00Z",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    reply = json.loads(out)
    assert (reply["tests"], reply["passed"], reply["skipped"]) == (6, 5, 1)
    assert main(["ingest", "junit", str(FIXTURES / "vitest-run1.xml"), "--run", "v1"]) == 0
    assert json.loads(capsys.readouterr().out)["replay"] is True
    bad = FIXTURES.parent / "sample" / "conftest.py"
    assert main(["ingest", "junit", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(f"{bad}: malformed XML at line 1")
    metrics = FIXTURES.parent / "metrics.json"
    assert main(["ingest", "metrics", str(metrics)]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["memory_usage"]["status"] == "missed"

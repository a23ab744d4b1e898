"""Acknowledgements from ready state, end to end: /readiness, /sprint and the API answer
from the figures kept ready, computed once per change; a CI result, from this process or
another, is in the next answer; an error before or after the acknowledgement reaches the
user."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import web
from jobs import figures
from jobs.readiness import set_manual_score
from tests.support import httpc
from tests.support.e2e import FIXTURES, post_report, responses
from tests.support.server import EXAMPLE, INGEST_TOKEN, Clock, Server
from tests.support.slack import slash

ROOT = Path(__file__).resolve().parents[2]


def known(server: Server) -> int:
    answer = httpc.get(
        f"{server.url}/api/v1/sprint",
        headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200
    count: int = answer.json()["tests"]["known"]
    return count


def test_answers_come_from_one_build_until_a_report_changes_them(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    computed: list[Any] = []
    real = figures.compute

    def counting(**kwargs: Any) -> figures.Figures:
        # (Not the warm-up a process runs before its first build, on a branch of no tests:
        # whether this test's is the first depends on which tests ran before in it.)
        if kwargs["sprint"].sprint.branch == "main":
            computed.append(kwargs["at"])
        return real(**kwargs)

    monkeypatch.setattr(figures, "compute", counting)
    answers = [slash(server.url, "/readiness").json() for _ in range(5)]
    assert all(a == answers[0] for a in answers)
    assert slash(server.url, "/sprint").json()["response_type"] == "ephemeral"
    assert known(server) == 0
    assert len(computed) == 1  # five answers, /sprint and the API: one computation

    assert post_report(server, "pytest-xunit2-run1.xml", run="r1").status_code == 201
    assert known(server) > 0  # the report is in the very next answer
    after = slash(server.url, "/readiness").json()
    assert after != answers[0]
    assert len(computed) == 2


def test_a_report_ingested_by_another_process_is_in_the_next_answers(
    make_server: Callable[..., Server], clock: Clock, database_url: str, tmp_path: Path
) -> None:
    # The CLI stamps the report with the real time: the server's clock reads a day later,
    # in a sprint running then (an ended sprint's figures are its final ones).
    clock.at = datetime.now(UTC) + timedelta(days=1)
    running = tmp_path / "sprint.toml"
    start = (clock.at - timedelta(days=3)).date().isoformat()
    running.write_text(EXAMPLE.read_text().replace("start = 2025-10-29", f"start = {start}"))
    server = make_server(SPRINTBOT_CONFIG=str(running))
    assert known(server) == 0
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SPRINTBOT_CONFIG": str(running),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "ingest",
            "junit",
            str(FIXTURES / "pytest-xunit2-run1.xml"),
            "--run",
            "cli-1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 5  # another process's write is seen within max_lag
    while (count := known(server)) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count > 0


def test_an_error_before_the_ack_is_answered_in_it_and_after_it_by_respond(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.listeners.commands import sprint as sprint_command

    def broken(**_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(sprint_command.reports, "sprint_status", broken)
    before = slash(server.url, "/sprint").json()
    assert before["response_type"] == "ephemeral"
    assert "something went wrong on sprintbot's side" in before["text"]

    monkeypatch.setattr(sprint_command.reports, "post_daily_report", broken)
    started = time.monotonic()
    acked = slash(server.url, "/sprint", "report", response_url=server.slack.response_url("action"))
    assert time.monotonic() - started < 3
    assert "Posting today's daily report" in acked.json()["text"]
    (late,) = responses(server, 1)
    assert "something went wrong on sprintbot's side" in late.args["text"]
    assert late.args["response_type"] == "ephemeral"


def test_an_answer_taken_on_the_event_loop_is_handed_to_a_thread_when_the_figures_move(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault (found by review): /readiness is answered on the event loop once its figures
    # are found fresh. A commit landing between that check and the answer made the answer
    # read the database and build the figures anew (0.3 to 2 s for a big team) on the loop,
    # holding up every other request to the process meanwhile.
    assert slash(server.url, "/readiness").status_code == 200  # built: fresh from now on
    app = server.runtime.contexts.for_team(server.runtime.teams.first)
    real_compute, real_fresh = figures.compute, web.Routes.fresh
    commits: list[str] = []

    def slow_compute(**kwargs: Any) -> figures.Figures:
        time.sleep(0.5)  # a big team's figures (/healthz's answer takes milliseconds)
        return real_compute(**kwargs)

    def fresh_then_a_commit(routes: web.Routes) -> bool:
        found = real_fresh(routes)
        if found and not commits:  # someone's `/readiness set` commits right after
            monkeypatch.setattr(figures, "compute", slow_compute)
            with app.write() as session:
                set_manual_score(
                    session=session,
                    sprint=app.sprint,
                    component="User Guides",
                    score=90,
                    user_id="U0TECHLEAD",
                    now=app.now(),
                )
            commits.append("User Guides 90")
        return found

    monkeypatch.setattr(web.Routes, "fresh", fresh_then_a_commit)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(slash, server.url, "/readiness")
        deadline = time.monotonic() + 20  # (a commit that failed: fail, not hang)
        while not commits:
            assert time.monotonic() < deadline, "the commit between check and answer failed"
            time.sleep(0.01)
        health = httpc.get(f"{server.url}/healthz", timeout=10)
        assert health.status_code == 200
        assert not answer.done()  # answered meanwhile, not after the build
        breakdown = answer.result(timeout=20)
    assert breakdown.status_code == 200
    assert "User Guides" in breakdown.text and "90" in breakdown.text

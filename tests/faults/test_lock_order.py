"""Clicks and jobs that change the same rows at the same moment, on PostgreSQL (SQLite's one
writer serialises them): each takes its rows in one order (the row's own lock first), so
neither is killed as a deadlock and whoever comes second is told what happened. A row held
from outside the app lines the requests up; it adds no order of its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text as sql
from sqlmodel import select

from bot import clock as bot_clock
from jobs import quarantine as quarantine_job
from storage.db import make_engine
from storage.models import Alert, Blocker
from tests.e2e.test_alert_lifecycle import alert_row, metrics, regression
from tests.e2e.test_quarantine import ask
from tests.support.e2e import T0, at, click, post_report, text_of
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults


def _postgres(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("row locks order concurrent writers on PostgreSQL only")


def _held_then_released(
    url: str, table: str, row: int, waiters: int, run: list[Callable[[], Any]]
) -> list[Any]:
    """Hold `table` row `row` FOR UPDATE from outside the app, start `run` in threads, wait
    until `waiters` of them wait on that lock, then let go; their results."""
    engine = make_engine(url)
    out: list[Any] = []
    threads = [threading.Thread(target=lambda f=f: out.append(f())) for f in run]
    try:
        with engine.connect() as holder:
            tx = holder.begin()
            held = f"SELECT id FROM {table} WHERE id = {int(row)} FOR UPDATE"  # noqa: S608 (a test table name)
            holder.execute(sql(held))
            for t in threads:
                t.start()
            deadline = time.monotonic() + 10
            with engine.connect() as watch:
                while time.monotonic() < deadline:
                    waiting = watch.execute(
                        sql(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()"
                        )
                    ).scalar()
                    watch.rollback()
                    if waiting == waiters:
                        break
                    time.sleep(0.02)
            assert waiting == waiters, waiting
            tx.rollback()
        for t in threads:
            t.join(30)
    finally:
        engine.dispose()
    return out


def test_quarantine_click_and_a_ci_report_at_once_both_go_through(
    server: Server, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two of the alert's five tests were quarantined by hand. The QA lead presses
    "Quarantine as flaky" while CI posts the run where all five pass again. The click locks
    the alert row first and then touches the quarantine rows (extending the two); the ingest
    updates the quarantine rows first (their pass count, `count_run`) and then the alert
    row (resolving it). Opposite orders: PostgreSQL kills one of them as a deadlock. The
    sleep only widens the window between the click's two steps."""
    _postgres(database_url)
    alert = regression(server)
    for name in ("test_leader_election", "test_list_json"):
        assert ask(server, f"quarantine {name}").startswith("Quarantined ")
    server.runtime.sender.drain()

    original = quarantine_job.quarantine

    def slow(**kw: Any) -> Any:
        time.sleep(2.0)  # the click holds the alert row meanwhile
        return original(**kw)

    monkeypatch.setattr(quarantine_job, "quarantine", slow)
    codes: list[int] = []

    def ci() -> None:
        time.sleep(0.5)
        codes.append(
            post_report(
                server, "pytest-xunit1-run1.xml", run="ci-3", at="2025-10-31T13:30:00Z"
            ).status_code
        )

    t = threading.Thread(target=ci)
    t.start()
    click(server, "alert_mute", alert, user="U0QALEAD")
    listeners_done()
    t.join(60)
    told = [r.args["text"] for r in server.slack.calls_to("response/action")]
    assert codes == [201], (codes, told)
    assert told and told[-1].startswith(("Quarantined", "Extended")), (codes, told)


def test_call_emergency_standup_clicked_by_two_at_once_has_one_caller(
    server: Server, database_url: str
) -> None:
    """Ana and Ben press "Call emergency standup" on the same decline notice at the same
    moment. As with "I'm on it", one should call it and the other be told "<@…> already
    called the emergency standup." `call_emergency_standup` reads the alert without its
    row lock: neither is told anything, the call posted in the channel names one of them
    and the alert row records the other as the caller."""
    _postgres(database_url)
    ok = {"cli_response_time": 0.2, "task_orchestration": 1.0, "hook_execution": 0.01}
    assert metrics(server, ok) == 201
    server.clock.at += timedelta(minutes=5)
    assert metrics(server, {"cli_response_time": 0.5}) == 201
    server.runtime.sender.drain()
    with server.runtime.db.session() as s:
        [decline] = s.exec(select(Alert).where(Alert.kind == "decline")).all()
    alert_id = decline.id
    _held_then_released(
        database_url,
        "alert",
        alert_id,
        2,
        [
            lambda: click(server, "emergency_standup", str(alert_id), user="U0ANA"),
            lambda: click(server, "emergency_standup", str(alert_id), user="U0BEN"),
        ],
    )
    listeners_done()
    server.runtime.sender.drain()
    told = [r.args["text"] for r in server.slack.calls_to("response/action")]
    caller = alert_row(server, str(alert_id)).acknowledged_by
    called = [
        text_of(p) for p in server.slack.calls_to("chat.postMessage") if "mergency" in text_of(p)
    ]
    assert len(told) == 1 and told[0] == f"<@{caller}> already called the emergency standup.", (
        told,
        caller,
        [c[:120] for c in called],
    )


# -- lock order: Escalate now (row lock, then the step's outbox key) against the clock -----


def _waiting(engine: Any) -> int:
    with engine.connect() as watch:
        return int(
            watch.execute(
                sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar()
            or 0
        )


def _until(engine: Any, count: int) -> None:
    deadline = time.monotonic() + 10
    while _waiting(engine) != count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting(engine) == count


def test_escalate_now_at_the_moment_the_clock_escalates_both_go_through(
    server: Server, database_url: str
) -> None:
    """B-001's 8 h step falls due; the tech lead presses "Escalate now" (on the message
    showing step 1) as the blocker-escalation job runs. The job queues the step's message
    (outbox key `…:step:1`) and then updates the blocker row; the click now locks the
    blocker row first and then queues the same key. Opposite orders: PostgreSQL aborts one
    as a deadlock. (An outside lock on the row only lines the two up; it adds no order.)"""
    _postgres(database_url)
    at(server, T0)
    slash(server.url, "/blocker", "P1 Swarm Coordination: deadlock", user_id="U0DEV")
    server.runtime.sender.drain()
    at(server, T0 + timedelta(hours=8, minutes=1))
    engine = make_engine(database_url)
    job: list[str] = []
    errors: list[BaseException] = []

    def clock_job() -> None:
        try:
            job.append(bot_clock.run_job(server.runtime, "blocker-escalation"))
        except BaseException as exc:
            errors.append(exc)

    clicker = threading.Thread(
        target=lambda: click(server, "blocker_escalate", "1@1", user="U0TECHLEAD")
    )
    ticker = threading.Thread(target=clock_job)
    try:
        with engine.connect() as holder:
            tx = holder.begin()
            holder.execute(sql("SELECT id FROM blocker WHERE id = 1 FOR UPDATE"))
            clicker.start()
            _until(engine, 1)  # the click waits for the row
            ticker.start()
            _until(engine, 2)  # the job has queued its step and waits to update the row
            tx.rollback()
        clicker.join(30)
        ticker.join(30)
    finally:
        engine.dispose()
    listeners_done()
    told = [r.args["text"] for r in server.slack.calls_to("response/action")]
    with server.runtime.db.session() as s:
        level = s.exec(select(Blocker)).one().escalation_level
    assert not errors and not any("went wrong" in t for t in told), (errors, job, told)
    assert level == 2, level

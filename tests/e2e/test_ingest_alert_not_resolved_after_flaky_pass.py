"""A regression alert whose only test passes again is never resolved when the test came
back through a flaky run (failed, then passed on a rerun in the next report), and the
tech lead keeps being pinged about it.

README "Send CI results": "When every test of an alert passes again, the thread says so
and the message is marked resolved." Here the test `a` regresses (alert), the next CI run
shows it flaky (Surefire <flakyFailure>: failed, passed on rerun), and every run after
that passes it cleanly: the alert stays open and `alert-followup` pings the tech lead.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from bot import clock as bot_clock
from tests.support import httpc
from tests.support.e2e import AUTH, posts, text_of
from tests.support.reports import report
from tests.support.server import Server


def upload(server: Server, doc: bytes, **query: str) -> dict:
    got = httpc.post(
        f"{server.url}/api/v1/test-runs?{urlencode(query)}", content=doc, headers=AUTH, timeout=30
    )
    assert got.status_code == 201, got.text
    return got.json()


def test_alert_resolves_when_its_test_passes_after_a_flaky_run(server: Server) -> None:
    upload(server, report({"swarm/a": "passed", "swarm/b": "passed"}), run="r1", commit="c1")
    broke = upload(
        server, report({"swarm/a": "failed", "swarm/b": "passed"}), run="r2", commit="c2"
    )
    assert broke["alert"] is not None  # the regression alert is raised
    # The next run: `a` failed once and passed on Surefire's rerun (flaky).
    upload(server, report({"swarm/a": "flaky", "swarm/b": "passed"}), run="r3", commit="c3")
    # Then it passes, plainly, run after run.
    upload(server, report({"swarm/a": "passed", "swarm/b": "passed"}), run="r4", commit="c4")
    upload(server, report({"swarm/a": "passed", "swarm/b": "passed"}), run="r5", commit="c5")
    server.runtime.sender.drain()

    said = [text_of(p) for p in posts(server)] + [
        text_of(c) for c in server.slack.calls_to("chat.update")
    ]
    assert any("pass again" in s for s in said), (
        "every test of the alert passes again, but nothing said so / the alert was not resolved"
    )

    # And, resolved, nobody is pinged about it an hour later.
    server.clock.at += timedelta(hours=1, minutes=1)
    assert bot_clock.run_job(server.runtime, "alert-followup").endswith(": 0 alerts followed up")

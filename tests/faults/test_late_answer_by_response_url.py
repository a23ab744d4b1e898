"""A command acknowledged empty because the database was busy answers later by the request's
response_url. If that one POST meets a transient Slack error (503), the answer is gone: the
user who filed the blocker never learns it was filed (nor its code), though Slack showed no
error and response_url accepts several posts for 30 minutes."""

from __future__ import annotations

import pytest

from tests.faults.test_slow_database import writes_held
from tests.support.listeners import listeners_done
from tests.support.server import Server
from tests.support.slack import slash

pytestmark = pytest.mark.faults  # the ack deadline (writes_held shortens it while it holds)


def test_late_command_answer_survives_one_503_of_response_url(server: Server) -> None:
    server.slack.fail("response/blocker", status=503, error="service_unavailable")
    with writes_held(server, "blocker"):
        ack = slash(
            server.url,
            "/blocker",
            "P0 Swarm Coordination: deadlock under partition",
            response_url=server.slack.response_url("blocker"),
        )
    assert ack.status_code == 200 and ack.text == ""  # acknowledged empty: answer follows
    listeners_done()
    calls = server.slack.calls_to("response/blocker")
    assert calls, "no late answer attempted at all"
    assert "B-001 filed" in calls[0].args.get("text", "")  # the answer, met by the 503
    # The answer must reach the user: tried again after Slack's transient 503.
    delivered = [c for c in calls[1:] if "B-001 filed" in c.args.get("text", "")]
    assert delivered, f"answer lost after one 503 ({len(calls)} attempt(s))"


def test_quarantine_click_answer_survives_one_503_of_response_url(server: Server) -> None:
    """The alert's Quarantine click: stored, acknowledged, then 'Quarantined N tests until …'
    by respond - one POST; a 503 loses it."""
    from sqlmodel import select

    from storage.models import Alert
    from tests.support.e2e import click, post_report

    assert post_report(server, "pytest-xunit2-run1.xml", run="r1").status_code == 201
    assert (
        post_report(
            server, "pytest-xunit2-run2.xml", run="r2", at="2025-10-31T14:00:00Z"
        ).status_code
        == 201
    )
    with server.runtime.db.read() as s:
        alerts = s.exec(select(Alert)).all()
    regression = [a for a in alerts if a.key.startswith("regression")]
    assert regression, [a.key for a in alerts]
    server.slack.fail("response/action", status=503, error="service_unavailable")
    got = click(server, "alert_mute", str(regression[0].id), user="U0TECHLEAD")
    assert got.status_code == 200
    listeners_done()
    calls = server.slack.calls_to("response/action")
    assert calls and "uarantine" in calls[0].args.get("text", "")  # the answer, met by the 503
    delivered = [c for c in calls[1:] if "uarantine" in c.args.get("text", "")]
    assert delivered, f"answer lost after one 503 ({len(calls)} attempt(s))"

"""Alerts and notices as queued data: each key queued once, the values each message shows,
acknowledgement, follow-ups once past their window, the decline notice and its standup."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.blocks import SLACK, UPGRADES, alerts, render
from jobs import notices, quarantine
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.messages import VERSIONS, Template
from jobs.notices import AlertContext, AlertResolved, RegressedTest
from jobs.standups import STANDUP_PROMPT, StandupDM
from storage import queries
from storage.models import Alert, OutboxMessage, TestReport
from tests.support.outbox import keys, queued

T0 = datetime(2025, 10, 31, 14, 0, tzinfo=UTC)


def a_report(session: Session) -> int:
    report = TestReport(run="r1", at=T0, received_at=T0, digest="0" * 64)
    session.add(report)
    session.flush()
    assert report.id is not None
    return report.id


def regressions(n: int) -> list[RegressedTest]:
    return [
        {
            "id": f"tests.swarm.test_{i}::t",
            "classname": f"tests.swarm.test_{i}",
            "name": "t",
            "file": f"tests/swarm/test_{i}.py",
            "component": "Swarm Coordination",
        }
        for i in range(n)
    ]


def context(report_id: int) -> AlertContext:
    return {
        "commit": "abc123",
        "branch": "main",
        "url": None,
        "run": "r1",
        "report": report_id,
        "readiness": {"score": 70.0, "previous": 71.0},
    }


def alert_for(session: Session, sprint: Sprint, n: int = 1) -> Alert:
    report_id = a_report(session)
    return notices.regression_alert(
        session=session,
        sprint=sprint,
        report_id=report_id,
        tests=regressions(n),
        context=context(report_id),
        now=T0,
    )


def test_a_key_is_queued_once_with_the_first_data(session: Session) -> None:
    def post(day: int) -> bool:
        data: StandupDM = {"user": "U01", "day": "2025-10-31", "sprint_day": day, "days": 14}
        return notices.post(
            session=session,
            key="notice:slot:1",
            spec=STANDUP_PROMPT,
            data=data,
            now=T0,
            channel="#team",
        )

    assert [post(3), post(4)] == [True, False]
    assert keys(session, "notice:") == ["notice:slot:1"]
    assert queued(session, "notice:slot:1")["sprint_day"] == 3


def test_a_regression_alert_names_ten_tests_and_threads_the_rest(
    session: Session, example: Sprint
) -> None:
    alert = alert_for(session, example, 45)
    key = alert.key
    data = queued(session, key)
    assert (data["count"], len(data["tests"]), data["ack_within"]) == (45, 10, "1h")
    assert (data["alert_id"], data["run"]) == (alert.id, "r1")
    assert alert.payload == data  # what later updates of the message start from
    # 40 tests per reply: two replies, in the alert's thread.
    assert keys(session, f"{key}:list:") == [f"{key}:list:0", f"{key}:list:1"]
    assert [len(queued(session, k)["tests"]) for k in keys(session, f"{key}:list:")] == [40, 5]
    assert queued(session, f"{key}:list:1")["start"] == 40
    # No one to e-mail in the example.
    assert keys(session, f"{key}:email") == []


def test_an_alert_with_few_tests_has_no_list_and_is_mailed_in_full(
    session: Session, example: Sprint
) -> None:
    mailed = example.model_copy(
        update={"alerts": example.alerts.model_copy(update={"email_to": ["qa@example.com"]})}
    )
    alert = alert_for(session, mailed, 3)
    assert keys(session, f"{alert.key}:list:") == []
    row = session.exec(select(OutboxMessage).where(OutboxMessage.key == f"{alert.key}:email")).one()
    assert (row.method, row.payload["to"]) == ("email.send", ["qa@example.com"])
    assert len(row.payload["data"]["tests"]) == 3


def test_acknowledging_records_who_once(session: Session, example: Sprint) -> None:
    alert = alert_for(session, example)
    assert alert.id is not None
    at = T0 + timedelta(minutes=5)
    notices.acknowledge(session=session, alert_id=alert.id, user_id="U0ANA", now=at)
    assert (alert.acknowledged_by, alert.acknowledged_at) == ("U0ANA", at)
    update = queued(session, f"{alert.key}:ack")
    assert update["acknowledged"] == {"user": "U0ANA", "at": at.isoformat()}
    assert update["count"] == 1  # the rest of the message stays as it was
    assert queued(session, f"{alert.key}:ack:reply") == {"user": "U0ANA"}
    with pytest.raises(SprintError, match=r"<@U0ANA> is already on it\."):
        notices.acknowledge(session=session, alert_id=alert.id, user_id="U0BEN", now=at)
    # An acknowledged alert is not followed up.
    later = T0 + timedelta(hours=2)
    assert notices.follow_up(session=session, sprint=example, now=later) == 0


def test_an_unacknowledged_alert_is_followed_up_once_after_its_window(
    session: Session, example: Sprint
) -> None:
    alert = alert_for(session, example)
    window = example.alerts.regression_ack
    # Not delivered yet (Slack down): not followed up, however long it waits.
    assert notices.follow_up(session=session, sprint=example, now=T0 + 2 * window) == 0
    # Delivered at once: its window counts from then.
    message = queries.outbox_message(session=session, key=alert.key)
    assert message is not None
    message.sent_at = T0
    assert (
        notices.follow_up(session=session, sprint=example, now=T0 + window - timedelta(seconds=1))
        == 0
    )
    assert notices.follow_up(session=session, sprint=example, now=T0 + window) == 1
    assert notices.follow_up(session=session, sprint=example, now=T0 + 2 * window) == 0
    assert queued(session, f"{alert.key}:followup") == {
        "kind": "regression",
        "tech_lead": ["U0TECHLEAD"],
        "waited": "1h",
    }
    assert alert.followed_up_at == T0 + window


def test_a_resolved_alert_says_so_in_its_thread_and_message(
    session: Session, example: Sprint
) -> None:
    alert = alert_for(session, example)
    at = T0 + timedelta(hours=3)
    fixed: AlertResolved = {"count": 1, "commit": "def456", "url": None, "report": 2}
    notices.resolve_alert(
        session=session, alert=alert, reply=notices.ALERT_RESOLVED, data=fixed, now=at
    )
    assert alert.resolved_at == at
    assert queued(session, f"{alert.key}:resolved") == fixed
    assert queued(session, f"{alert.key}:resolved:update")["resolved"] == fixed
    # Resolved alerts are not followed up either.
    assert notices.follow_up(session=session, sprint=example, now=at) == 0


def breakdown(swarm: float, memory: float, score: float) -> dict[str, Any]:
    components = [
        {"name": "Swarm Coordination", "score": swarm, "weight": 8, "detail": "tests"},
        {"name": "Memory Management", "score": memory, "weight": 8, "detail": "tests"},
    ]
    return {"score": score, "groups": [{"name": "Core", "components": components}]}


def test_a_decline_names_what_fell_and_why(session: Session, example: Sprint) -> None:
    def notice(before: dict[str, Any], after: dict[str, Any], snapshot: int) -> Alert | None:
        return notices.decline_notice(
            session=session,
            sprint=example,
            snapshot_id=snapshot,
            before=before,
            after=after,
            causes={"Swarm Coordination": "3 regressions"},
            now=T0,
        )

    # Not lower (within rounding): no notice.
    assert notice(breakdown(80, 70, 75.0), breakdown(80, 70, 74.996), 1) is None
    alert = notice(breakdown(80, 70, 75.0), breakdown(74, 72, 73.0), 2)
    assert alert is not None
    data = queued(session, "decline:2")
    assert (data["before"], data["after"], data["lost"], data["within"]) == (75.0, 73.0, 2.0, "2h")
    assert data["components"] == [
        {
            "name": "Swarm Coordination",
            "before": 80,
            "after": 74,
            "weight": 8,
            "why": "3 regressions",
        }
    ]
    assert data["alert_id"] == alert.id


def test_a_decline_loses_what_its_scores_differ_by_as_shown(
    session: Session, example: Sprint
) -> None:
    notices.decline_notice(
        session=session,
        sprint=example,
        snapshot_id=3,
        before=breakdown(80, 70, 75.004),
        after=breakdown(74, 72, 72.996),
        causes={},
        now=T0,
    )
    data = queued(session, "decline:3")
    # "Readiness fell 75 % → 73 % (-2 pts)", not "(-2.01 pts)" (found by review).
    assert (data["before"], data["after"], data["lost"]) == (75.004, 72.996, 2.0)


def decline_for(session: Session, sprint: Sprint, snapshot_id: int) -> Alert:
    """A decline notice from 75 to 70, no cause given."""
    alert = notices.decline_notice(
        session=session,
        sprint=sprint,
        snapshot_id=snapshot_id,
        before=breakdown(80, 70, 75.0),
        after=breakdown(70, 70, 70.0),
        causes={},
        now=T0,
    )
    assert alert is not None
    return alert


def test_the_emergency_standup_is_called_once_with_its_deadline(
    session: Session, example: Sprint
) -> None:
    alert = decline_for(session, example, 3)
    assert alert.id is not None
    called = T0 + timedelta(minutes=10)
    notices.call_emergency_standup(
        session=session, sprint=example, alert_id=alert.id, user_id="U0TECHLEAD", now=called
    )
    data = queued(session, f"{alert.key}:standup")
    assert (data["user"], data["by"], data["within"], data["timezone"]) == (
        "U0TECHLEAD",
        (called + timedelta(hours=2)).isoformat(),
        "2h",
        "America/New_York",
    )
    assert data["components"][0]["why"] == "tests"  # no cause given: the component's detail
    with pytest.raises(SprintError, match="already called the emergency standup"):
        notices.call_emergency_standup(
            session=session, sprint=example, alert_id=alert.id, user_id="U0QALEAD", now=called
        )
    # A decline notice is not a regression alert: nothing to quarantine.
    with pytest.raises(SprintError, match="no longer exists"):
        quarantine.quarantine_alert(
            session=session, sprint=example, alert_id=alert.id, user_id="U0QALEAD", now=called
        )


def row(session: Session, key: str) -> OutboxMessage:
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def test_an_alert_raised_before_a_version_bump_is_updated_in_its_stored_version(
    session: Session, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy between raising an alert and taking it: the update carries the version its
    data was stored in, so the outbox upgrades it (or fails it with the reason)."""
    alert = alert_for(session, example)  # raised by a sprintbot writing v1
    assert alert.id is not None
    monkeypatch.setitem(VERSIONS, Template.REGRESSION_ALERT, 2)
    monkeypatch.setitem(SLACK, Template.REGRESSION_ALERT, (2, alerts.regression_alert))
    # A stand-in for a change of shape: v2 spells the commit in capitals.
    monkeypatch.setitem(
        UPGRADES, (Template.REGRESSION_ALERT, 1), lambda d: {**d, "commit": d["commit"].upper()}
    )
    at = T0 + timedelta(minutes=5)
    notices.acknowledge(session=session, alert_id=alert.id, user_id="U0ANA", now=at)
    update = row(session, f"{alert.key}:ack").payload
    assert (update["template"], update["v"]) == ("regression_alert", 1)
    shown = json.dumps(render(update)["blocks"])
    assert "commit `ABC123`" in shown
    assert "U0ANA" in shown


def test_an_alert_keeps_the_version_it_was_raised_in(
    session: Session, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(VERSIONS, Template.REGRESSION_ALERT, 2)
    alert = alert_for(session, example)
    assert alert.id is not None
    assert alert.payload["v"] == 2
    assert row(session, alert.key).payload["v"] == 2
    assert "v" not in queued(session, alert.key)  # the message's data is as before
    monkeypatch.setitem(VERSIONS, Template.REGRESSION_ALERT, 3)
    notices.acknowledge(session=session, alert_id=alert.id, user_id="U0ANA", now=T0)
    assert row(session, f"{alert.key}:ack").payload["v"] == 2


def test_the_emergency_standup_goes_out_in_its_notice_s_stored_version(
    session: Session, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert = decline_for(session, example, 4)
    assert alert.id is not None
    monkeypatch.setitem(VERSIONS, Template.DECLINE_NOTICE, 2)
    monkeypatch.setitem(VERSIONS, Template.EMERGENCY_STANDUP, 2)
    notices.call_emergency_standup(
        session=session, sprint=example, alert_id=alert.id, user_id="U0TECHLEAD", now=T0
    )
    assert row(session, f"{alert.key}:standup").payload["v"] == 1
    assert row(session, f"{alert.key}:ack").payload["v"] == 1

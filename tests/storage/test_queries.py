"""Queries that feed readiness and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from storage import queries
from storage.models import KnownTest, MetricSample, OutboxStatus, TestStatus

T0 = datetime(2025, 10, 30, 13, 0, tzinfo=UTC)


def _test(name: str, component: str | None, status: TestStatus) -> KnownTest:
    return KnownTest(
        key=name,
        classname="c",
        name=name,
        component=component,
        status=status,
        first_seen_at=T0,
        changed_at=T0,
    )


def test_component_counts_and_totals(session: Session) -> None:
    session.add_all(
        [
            _test("a", "Core", TestStatus.PASSED),
            _test("b", "Core", TestStatus.FAILED),
            _test("c", "Core", TestStatus.PASSED),
            _test("d", "Docs", TestStatus.SKIPPED),
            _test("e", None, TestStatus.PASSED),
        ]
    )
    session.flush()
    assert queries.component_test_counts(session=session) == {
        "Core": (2, 3),
        "Docs": (0, 1),
        None: (1, 1),
    }
    assert queries.component_test_counts(session=session, branch="release") == {}


def test_latest_manual_score_wins(session: Session) -> None:
    for score, minutes in ((50, 0), (70, 5)):
        queries.add_manual_score(
            session=session,
            component="User Guides",
            score=score,
            previous=None,
            user_id="U1",
            at=T0 + timedelta(minutes=minutes),
        )
    queries.add_manual_score(
        session=session, component="API Documentation", score=90, previous=None, user_id="U1", at=T0
    )
    assert queries.latest_manual_scores(session=session) == {
        "User Guides": 70,
        "API Documentation": 90,
    }


def test_latest_metric_is_by_measurement_time(session: Session) -> None:
    session.add_all(
        [
            MetricSample(
                name="memory_usage", value=140, at=T0 + timedelta(hours=1), received_at=T0
            ),
            # Arrives later but was measured earlier (a backfill): not the latest.
            MetricSample(
                name="memory_usage", value=190, at=T0, received_at=T0 + timedelta(hours=2)
            ),
            MetricSample(name="api_throughput", value=900, at=T0, received_at=T0),
        ]
    )
    session.flush()
    assert queries.latest_metric_values(session=session) == {
        "memory_usage": 140,
        "api_throughput": 900,
    }


def test_enqueue_is_idempotent_per_key(session: Session) -> None:
    first = queries.enqueue(
        session=session,
        key="daily-report:2025-10-30",
        method="chat.postMessage",
        payload={"channel": "#s", "text": "a"},
        now=T0,
    )
    again = queries.enqueue(
        session=session,
        key="daily-report:2025-10-30",
        method="chat.postMessage",
        payload={"channel": "#s", "text": "b"},
        now=T0,
    )
    assert first is not None and again is None
    assert queries.outbox_counts(session=session) == {"pending": 1}


def test_claim_takes_due_rows_once(session: Session) -> None:
    queries.enqueue(session=session, key="k1", method="chat.postMessage", payload={}, now=T0)
    queries.enqueue(
        session=session,
        key="k2",
        method="chat.postMessage",
        payload={},
        now=T0 + timedelta(hours=1),
    )
    claimed = queries.claim_due(session=session, now=T0, lease=timedelta(minutes=5))
    assert [m.key for m in claimed] == ["k1"]
    assert claimed[0].status == OutboxStatus.SENDING and claimed[0].attempts == 1
    # Claimed and within its lease: nobody else gets it.
    assert (
        queries.claim_due(
            session=session, now=T0 + timedelta(minutes=1), lease=timedelta(minutes=5)
        )
        == []
    )
    # The sender died: after the lease it is due again.
    again = queries.claim_due(
        session=session, now=T0 + timedelta(minutes=10), lease=timedelta(minutes=5)
    )
    assert [m.key for m in again] == ["k1"]
    assert again[0].attempts == 2

"""Retention: old raw history goes, every figure of the sprint stays exactly the same, and
bad `[retention]` values are refused with one line each."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.cli import main
from jobs import ingest, retention
from jobs.config import Sprint
from jobs.ingest import RunInfo, receive_junit
from storage import queries
from storage.db import Database
from storage.models import (
    Alert,
    Away,
    KnownTest,
    MetricSample,
    OutboxMessage,
    OutboxStatus,
    ReadinessSnapshot,
    SprintRow,
    Standup,
    Team,
    TestReport,
    TestResult,
)
from storage.scope import LEGACY, Scope
from tests.support.history import (
    GOLDEN,
    HORIZON,
    INSTANTS,
    KEPT,
    NOW,
    SPRINT,
    build,
    figures_at,
    sprint,
)
from tests.support.reports import NOW as RECEIVED
from tests.support.reports import report

# Three days back, but never into the margin before the sprint's start, as every horizon:
# the running sprint's test time, `/tests show` and the same-commit flaky verdict read them.
KEEP_FROM = datetime(2025, 10, 27, 4, 0, tzinfo=UTC)  # 2025-10-29 00:00 EDT minus 2 days
STATUSES_HORIZON = min(NOW - timedelta(days=3), KEEP_FROM)


def test_horizons_never_reach_into_the_sprint() -> None:
    s = sprint()
    assert s.retention is not None
    h = retention.horizons(sprint=s, policy=s.retention, now=NOW)
    assert (h.results, h.metrics, h.statuses) == (HORIZON, HORIZON, STATUSES_HORIZON)
    assert str(h.standups) == "2025-10-23"
    # A year later the sprint's start minus the margin bounds every horizon, the packed
    # statuses' too.
    later = retention.horizons(sprint=s, policy=s.retention, now=NOW + timedelta(days=365))
    assert later.results == later.metrics == later.statuses == KEEP_FROM
    assert str(later.standups) == "2025-10-27"


def test_the_margin_is_counted_in_local_days_across_a_dst_change(example: Sprint) -> None:
    """Day 1 on the Monday after New York's clocks went back: a margin of one day keeps
    all of Sunday, its first hour too (25 hours), which day 1's "yesterday" reads."""
    info = example.sprint.model_copy(update={"start": date(2025, 11, 3)})
    assert example.retention is not None
    days = ("results_days", "metrics_days", "standups_days", "margin_days")
    policy = example.retention.model_copy(update=dict.fromkeys(days, 1))
    s = example.model_copy(update={"sprint": info, "retention": policy})
    day0 = datetime(2025, 11, 2, 4, 0, tzinfo=UTC)  # Sunday 00:00 EDT
    h = retention.horizons(sprint=s, policy=policy, now=datetime(2025, 11, 3, 8, 30, tzinfo=UTC))
    assert h.results == h.metrics == day0
    assert str(h.standups) == "2025-11-02"


def test_pruning_keeps_every_figure_and_deletes_old_history(db: Database) -> None:
    s = build(db)
    golden = json.loads(GOLDEN.read_text())
    pinned = {at.isoformat(): golden[at.isoformat()] for at in KEPT}
    assert len(KEPT) == len(INSTANTS) - 1
    assert figures_at(db, s, KEPT) == pinned

    with db.read() as session:
        reports_before = len(session.exec(select(TestReport.id)).all())
        old_results = session.exec(
            select(TestResult.id)
            .join(TestReport, col(TestReport.id) == col(TestResult.report_id))
            .where(col(TestReport.received_at) < HORIZON)
        ).all()
    assert old_results

    summary = retention.run_all(db=db, sprint=s, now=NOW, batch=7)  # many small batches
    assert summary.startswith("pruned ") and "status changes" in summary, summary
    assert figures_at(db, s, KEPT) == pinned

    with db.read() as session:
        reports = session.exec(select(TestReport)).all()
        results = session.exec(
            select(TestReport.received_at).join(
                TestResult, col(TestResult.report_id) == col(TestReport.id)
            )
        ).all()
        samples = session.exec(select(MetricSample).order_by(col(MetricSample.at))).all()
        snapshots = session.exec(select(ReadinessSnapshot.at)).all()
        standups = session.exec(select(Standup.day)).all()
    # Status changes before the horizon are gone; the sprint's are all there.
    assert results and min(results) >= HORIZON
    # Reports: the packed statuses go first; old ones keep their row and counts (the record
    # that their document came), not their lists of tests.
    assert len(reports) == reports_before
    for r in reports:
        assert (r.statuses is None) == (r.received_at < STATUSES_HORIZON), r.run
        if r.received_at < HORIZON:
            assert r.reply["pruned"] is True and r.reply["regressions"] == []
            assert r.reply["tests"] == r.tests
    # Benchmarks: each metric's first sample and its latest before the horizon stay.
    old = [m for m in samples if m.received_at < HORIZON]
    assert [m.at for m in old] == [samples[0].at, max(m.at for m in old)]
    assert len(samples) > len(old)
    assert snapshots and min(snapshots) >= HORIZON
    assert sorted(str(d) for d in standups) == ["2025-10-30"]

    # Idempotent: a second run finds nothing more.
    assert retention.run_all(db=db, sprint=s, now=NOW).startswith("pruned nothing")
    assert figures_at(db, s, KEPT) == pinned


def test_days_away_are_kept_they_are_a_persons_in_every_team(db: Database, example: Sprint) -> None:
    """A person's days away hold in each of their teams, and not every team prunes (or
    prunes as soon): one team's retention deletes none of them (a few rows a year)."""
    s = example
    with db.session() as session:
        old = datetime(2025, 3, 1, tzinfo=UTC)
        session.add(
            Away(user_id="U0DEV", start=date(2025, 3, 3), end=date(2025, 3, 7), created_at=old)
        )
        session.commit()
    retention.run_all(db=db, sprint=s, now=NOW)
    with db.read() as session:
        assert [str(a.end) for a in session.exec(select(Away)).all()] == ["2025-03-07"]


def test_without_a_retention_table_everything_is_kept(db: Database) -> None:
    s = sprint().model_copy(update={"retention": None})
    assert retention.run_all(db=db, sprint=s, now=NOW) == (
        "no [retention] in the sprint file: all history is kept"
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("results_days = 0", "retention.results_days: 0 days is out of range: write 1 to 36500"),
        (
            'statuses_days = "2w"',
            'retention.statuses_days: "2w" is not a number of days; write a whole number, e.g. 90',
        ),
        (
            "metrics_days = 1.5",
            "retention.metrics_days: 1.5 is not a number of days; write a whole number, e.g. 90",
        ),
        ("margin_days = -1", "retention.margin_days: -1 days is out of range: write 0 to 36500"),
        # (a morning's refresh of App Home reads back the last week's)
        ("outbox_days = 6", "retention.outbox_days: 6 days is out of range: write 7 to 36500"),
        ("keep = 3", "retention.keep: unknown key (check its spelling)"),
    ],
)
def test_config_check_refuses_bad_retention_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str, error: str
) -> None:
    path = tmp_path / "sprint.toml"
    start, end = SPRINT.index("[retention]"), SPRINT.index("[[metrics]]")
    path.write_text(f"{SPRINT[:start]}[retention]\n{line}\n\n{SPRINT[end:]}")
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == f"{path}: 1 error\n  {error}\n"


def test_delivered_messages_lose_their_contents_not_their_keys(db: Database) -> None:
    """What sent and refused messages said goes after `outbox_days`, each team's by its own
    run; their keys and results stay, so none is sent twice and threads find their parent."""
    s = sprint()
    assert s.retention is not None and s.retention.outbox_days == 30
    with db.session() as session:
        session.add(Team(id=2, slug="mobile", name="Mobile"))
        session.flush()
        session.add(SprintRow(id=3, team_id=2, name="M1", start=date(2025, 10, 29)))
        session.commit()
    teams = {"core": db.scoped(LEGACY), "mobile": db.scoped(Scope(team_id=2, sprint_id=3))}
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=29)
    rows = [  # (key, queued at, outcome)
        ("daily-report:2025-10-01", old, OutboxStatus.SENT),
        ("risk:1:created", old, OutboxStatus.FAILED),
        ("standup:2025-10-01:U0DEV", old, OutboxStatus.PENDING),  # Slack down for a month
        ("sprint-review:draft@2025-09-17", old, OutboxStatus.SENT),  # a lesson redraws it
        ("daily-report:2025-10-04", recent, OutboxStatus.SENT),
    ]
    payload = {"channel": "#status", "text": "Day 3 of 14", "blocks": [{"type": "divider"}]}
    for team in teams.values():
        with team.session() as session:
            for key, when, outcome in rows:
                row = queries.enqueue(
                    session=session, key=key, method="chat.postMessage", payload=payload, now=when
                )
                assert row is not None and row.id is not None
                queries.finish_message(
                    session=session,
                    message_id=row.id,
                    status=outcome,
                    now=when,
                    result={"channel": "C0STATUS", "ts": "1.000100"},
                    error="channel_not_found" if outcome is OutboxStatus.FAILED else None,
                )
            session.commit()

    # A message sent before migration 0003 gave lanes: its channel is only in its payload.
    with db.session() as session:
        session.add(
            OutboxMessage(
                key="blocker:7",
                method="chat.postMessage",
                payload={"channel": "#blockers", "template": "blocker"},
                status=OutboxStatus.SENT,
                created_at=old,
                next_attempt_at=old,
                sent_at=old,
                result={"channel": "C0BLOCKERS", "ts": "1.000200"},
                lane=None,
            )
        )
        session.commit()

    def contents() -> dict[str, tuple[dict[str, Any], str, dict[str, Any]]]:
        with db.read() as session:
            found = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
            return {m.key: (m.payload, str(m.status), m.result) for m in found}

    before = contents()
    assert retention.run_all(db=teams["core"], sprint=s, now=NOW) == (
        "pruned 2 delivered messages' contents (before 2025-10-03)"  # (its own horizon)
    )
    after = contents()
    emptied = {"daily-report:2025-10-01", "risk:1:created"}
    for key, (was, status, result) in before.items():
        # The first team's keys have no prefix; the other team's rows wait for its own run.
        now_payload = {} if key in emptied else was
        assert after[key] == (now_payload, status, result), key
    # The message without a lane keeps its payload: an update of it, queued now, still
    # goes in its channel's lane (behind that channel's older messages, at its pace).
    assert after["blocker:7"][0]["channel"] == "#blockers"
    with teams["core"].session() as session:
        update = queries.enqueue(
            session=session,
            key="blocker:7:update:resolved",
            method="chat.update",
            payload={"template": "blocker"},
            now=NOW,
            parent_key="blocker:7",
        )
        assert update is not None and update.lane == "#blockers"
        session.rollback()
    # The key stays taken: the same message is never queued (so never sent) again.
    with teams["core"].session() as session:
        again = queries.enqueue(
            session=session,
            key="daily-report:2025-10-01",
            method="chat.postMessage",
            payload=payload,
            now=NOW,
        )
        assert again is None
    # The other team's run empties its own.
    assert retention.run_all(db=teams["mobile"], sprint=s, now=NOW).startswith(
        "pruned 2 delivered messages' contents"
    )
    assert {k for k, (p, _, _) in contents().items() if p == {}} == emptied | {
        f"t2:{k}" for k in emptied
    }
    assert retention.run_all(db=teams["core"], sprint=s, now=NOW).startswith("pruned nothing")


def post(db: Database, sprint: Sprint, doc: bytes, run: str, now: datetime) -> dict[str, Any]:
    digest = hashlib.sha256(doc).hexdigest()
    info = RunInfo(run=run, at=now)
    return receive_junit(
        db=db, sprint=sprint, document=doc, digest=digest, info=info, now=now
    ).reply


def test_a_document_posted_again_after_retention_is_still_a_replay(
    db: Database, example: Sprint
) -> None:
    """CI uploads an old run's artifact again (a retried step, a backfill): it is the same
    document for the same run, so it is a replay however old, with the first reply as
    retention left it — stored once, never alerted on, never classified again."""
    red = report({"api/a": "failed"})
    first = post(db, example, red, "ci-1001", datetime(2025, 6, 1, 12, tzinfo=UTC))
    post(db, example, report({"api/a": "passed"}), "ci-1002", datetime(2025, 6, 2, 12, tzinfo=UTC))
    retention.run_all(db=db, sprint=example, now=NOW)

    again = receive_junit(
        db=db,
        sprint=example,
        document=red,
        digest=hashlib.sha256(red).hexdigest(),
        info=RunInfo(run="ci-1001", at=NOW),
        now=NOW,
    )
    assert not again.created  # 200, not 201
    assert again.reply["report"] == first["report"]
    assert again.reply["pruned"] is True and again.reply["new_failures"] == []
    assert again.reply["failed"] == first["failed"] == 1
    with db.read() as session:
        assert session.exec(select(TestReport.run).order_by(col(TestReport.id))).all() == [
            "ci-1001",
            "ci-1002",
        ]
        assert session.exec(select(Alert.key)).all() == []
        assert [str(s) for s in session.exec(select(KnownTest.status)).all()] == ["passed"]


def test_a_branchs_newest_report_stays_however_old(
    db: Database, example: Sprint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest report is the branch's version: were it deleted, SQLite would give its id
    to the next report, and a report read before both and written after them would find
    the same version and not read the branch again (a regression alerted twice)."""
    green = report({"api/a": "passed", "api/b": "passed"})
    post(db, example, green, "r1", datetime(2025, 9, 1, 12, tzinfo=UTC))
    # Changes nothing, so nothing refers to it: old enough, it would go.
    post(db, example, green + b" ", "r2", datetime(2025, 9, 2, 12, tzinfo=UTC))
    red = report({"api/a": "failed", "api/b": "passed"})
    classify = ingest._Plan.classify
    versions: list[int] = []

    def classify_then_others(self: ingest._Plan, *, session: Session) -> None:
        classify(self, session=session)
        versions.append(self.version)
        if len(versions) == 1:  # other processes meanwhile: retention, another CI job
            retention.run_all(db=db, sprint=example, now=datetime(2026, 6, 1, tzinfo=UTC))
            with db.read() as session:
                assert sorted(session.exec(select(TestReport.id)).all()) == [1, 2]  # none deleted
            other = post(db, example, red, "rB", RECEIVED)
            assert (other["report"], [r["name"] for r in other["regressions"]]) == (3, ["a"])

    monkeypatch.setattr(ingest._Plan, "classify", classify_then_others)
    late = post(db, example, red + b" ", "rA", RECEIVED)
    # As if one after the other: read again under the lock, `a` already failing.
    assert versions == [2, 2, 3]
    assert late["regressions"] == []
    with db.read() as session:
        alerts = session.exec(select(Alert.key)).all()
        changes = session.exec(select(TestResult.status, TestResult.previous_status)).all()
    assert alerts == ["regression:3"]
    assert sorted(changes) == [("failed", "passed")]


def test_figures_are_kept_from_the_second_local_day_after_the_horizon(example: Sprint) -> None:
    """An instant's figures read from the start of its previous local day: the first day
    whose instants retention keeps whole is the second that began after the horizon."""
    assert example.retention is not None
    info = example.sprint.model_copy(update={"start": date(2026, 3, 16)})

    def kept(**days: int) -> tuple[date, str] | None:
        policy = example.retention.model_copy(update={"margin_days": 1, **days})  # type: ignore[union-attr]
        s = example.model_copy(update={"sprint": info, "retention": policy})
        return retention.kept_from(sprint=s, now=datetime(2026, 3, 20, 9, tzinfo=UTC))

    # 30 days before: 2026-02-18 04:00 in New York; that day began before it.
    assert kept(results_days=30) == (date(2026, 2, 20), "results_days = 30")
    assert kept(results_days=30, metrics_days=10) == (date(2026, 3, 12), "metrics_days = 10")
    # However long ago, never into the margin before the sprint.
    assert kept(results_days=1, metrics_days=1) == (date(2026, 3, 16), "margin_days = 1")
    assert (
        retention.kept_from(sprint=example.model_copy(update={"retention": None}), now=NOW) is None
    )

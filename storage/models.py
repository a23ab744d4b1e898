"""SQLModel tables. Every timestamp is timezone-aware and stored as UTC."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from storage.scope import SprintScoped, TeamScoped, current_team
from storage.types import UTCDateTime


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _text(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_type=Text, nullable=nullable)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TestStatus(StrEnum):
    __test__ = False  # not a pytest class

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    FLAKY = "flaky"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Taken back before it went: what it said stopped being so while it waited (a reminder
    # to someone who has answered since, a blocker's next step after its resolution).
    WITHDRAWN = "withdrawn"


class Team(SQLModel, table=True):
    """A team of SPRINTBOT_CONFIG, kept in step with its file at start (`storage.queries.teams`).
    `slug` is the file's team id; the team the migration made for the data held before teams
    existed has none until the first team started adopts it."""

    __tablename__ = "team"

    id: int | None = Field(default=None, primary_key=True)
    slug: str | None = Field(default=None, max_length=100, unique=True)
    name: str = Field(default="", max_length=200)
    synced_at: datetime | None = _ts(nullable=True)


class SprintRow(SQLModel, table=True):
    """One of a team's sprints, known by its start date (or, when its start was corrected,
    its name); the sprint the migration made for the data held before teams existed has
    none until its team's first sprint adopts it. A sprint its file no longer lists keeps
    its row (and its rows), not `listed`. `outcome` and `figures`: an ended sprint's outcome
    and its final figures (those of the Definitions as of its end), kept the first time
    they are computed after the sprint ended (`jobs.history`), so that pruning raw history
    (`jobs.retention`) never changes them."""

    __tablename__ = "sprint"
    __table_args__ = (UniqueConstraint("team_id", "start", name="uq_sprint_team_start"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str = Field(default="", max_length=200)
    start: date | None = None
    end: date | None = None
    listed: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    outcome: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    figures: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class TestReport(TeamScoped, table=True):
    """One JUnit document received for a CI run (a run may send several shards)."""

    __test__ = False  # not a pytest class

    __tablename__ = "test_report"
    __table_args__ = (
        UniqueConstraint("team_id", "run", "digest", name="uq_test_report_run_digest"),
        # A commit's other runs, read when a report's changes are judged flaky.
        Index("ix_test_report_commit", "team_id", "branch", "commit"),
        # The last run received (App Home, the daily report): from the newest report down.
        Index("ix_test_report_received", "team_id", "branch", "received_at", "id"),
        # The newest runs by their time (`/tests show`, durations): from the newest down.
        Index("ix_test_report_newest", "team_id", "branch", "at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run: str = Field(max_length=200, index=True)
    commit: str | None = Field(default=None, max_length=100)
    branch: str = Field(default="main", max_length=200, index=True)
    url: str | None = Field(default=None, max_length=2000)
    at: datetime = _ts(index=True)
    received_at: datetime = _ts()
    digest: str = Field(max_length=64)
    tests: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    # Every test's status in this report, packed; rows in test_result hold only changes.
    statuses: bytes | None = Field(default=None, sa_type=LargeBinary)
    # Every test's JUnit `time` in the order of `statuses`: float32 seconds (NaN: none), zlib.
    durations: bytes | None = Field(default=None, sa_type=LargeBinary)
    reply: dict[str, Any] = _json()
    # The branch's known tests as this report left them: [[component, status, count], …]
    # (None where the report did not read the whole branch's counts: a shard of another
    # branch than the tracked one, or a report from before migration 0010).
    tally: list[list[Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Whether `at` was given (`at=`, or a timestamp with a UTC offset) rather than now or a
    # CI machine's local time: only then does the run order other reports (None: before
    # migration 0013, unknown).
    timed: bool | None = None
    # Which tests the report holds, in order (`junit.Report.identity`), and, on the branch's
    # newest report only, where they stand once it was written: each position's known test
    # id, status and component (`jobs.ingest.pack_positions`). A report naming the same
    # tests reads the branch from it instead of looking every test up (None: not kept).
    identity: str | None = Field(default=None, max_length=32)
    positions: bytes | None = Field(default=None, sa_type=LargeBinary)


class KnownTest(TeamScoped, table=True):
    """Every test seen on a branch, with its latest status.

    Only ingestion writes a test's status, component and file, and never deletes a row: the
    branch's newest report's `TestReport.positions` hold them as it left them, and the next
    report naming the same tests reads them from there. Whatever else comes to write them
    must drop the branch's positions (`storage.ingest.drop_positions`)."""

    __tablename__ = "known_test"
    # Readiness and ingestion read a branch's tests whole, so no index on status or
    # component: each would slow every insert and serve no query better than a scan.
    __table_args__ = (
        UniqueConstraint("team_id", "branch", "key", name="uq_known_test_identity"),
        # Only the tests an alert names: a new test (no alert) costs this index nothing.
        Index(
            "ix_known_test_alert_id",
            "alert_id",
            postgresql_where=text("alert_id IS NOT NULL"),
            sqlite_where=text("alert_id IS NOT NULL"),
        ),
    )

    # No index of its own: the identity's leading column serves a team's look-ups (a second
    # index cost every insert its upkeep, half a second for a first report of 1M tests).
    # No foreign key either, nor on last_report_id: PostgreSQL checks one with a query per
    # row, a third of a first report's ingestion (migration 0017); only ingestion writes
    # them, with its team and the report it just inserted, and neither row is ever deleted.
    team_id: int = Field(default_factory=current_team)
    id: int | None = Field(default=None, primary_key=True)
    branch: str = Field(default="main", max_length=200)
    # A fixed-size digest of the name (`queries.test_key`): names can be longer than an
    # index allows.
    key: str = Field(max_length=32)
    classname: str = Field(max_length=1000)
    name: str = Field(max_length=2000)
    file: str | None = Field(default=None, max_length=1000)
    component: str | None = Field(default=None, max_length=200)
    status: TestStatus = Field(sa_type=String(10))
    message: str | None = _text()
    first_seen_at: datetime = _ts()
    changed_at: datetime = _ts()
    last_report_id: int | None = None  # (the report that last wrote the row: see team_id)
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    # When sprintbot found it flaky across runs, and why (its notice is sent once).
    flaky_at: datetime | None = _ts(nullable=True)
    flaky_why: str | None = Field(default=None, max_length=200)


class Quarantine(TeamScoped, table=True):
    """A test set apart as flaky: its failures never alert, and readiness counts it as
    `[flaky] readiness` says, from `since` until `until` or its release, whichever is first.
    Released rows stay as the test's record (who, why, how it ended)."""

    __tablename__ = "quarantine"
    __table_args__ = (
        # At most one open quarantine a test.
        Index(
            "uq_quarantine_open",
            "test_id",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    test_id: int = Field(foreign_key="known_test.id", index=True)
    by: str = Field(max_length=50)  # a Slack user id, or "sprintbot" when found flaky
    reason: str = Field(max_length=500)
    since: datetime = _ts()
    until: datetime = _ts()
    passes: int = 0  # runs passed in a row while quarantined
    last_run: str | None = Field(default=None, max_length=200)  # the run counted last
    released_at: datetime | None = _ts(nullable=True)
    released_by: str | None = Field(default=None, max_length=50)
    release_reason: str | None = Field(default=None, max_length=200)


class TestResult(SQLModel, table=True):
    """A test whose status a report changed (or first reported)."""

    __test__ = False  # not a pytest class

    __tablename__ = "test_result"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="test_report.id", index=True)
    test_id: int = Field(foreign_key="known_test.id", index=True)
    status: TestStatus = Field(sa_type=String(10))
    previous_status: TestStatus | None = Field(default=None, sa_type=String(10))
    # Where `previous_status` is skipped: the status the test last ran with before the skip
    # (None: it had not run, as far as the history kept says). A skip is seen through: the
    # change is judged from this one (`numbers.change_kind`).
    ran_before: TestStatus | None = Field(default=None, sa_type=String(10))
    message: str | None = _text()


class MetricSample(TeamScoped, table=True):
    """One benchmark figure sent by CI."""

    __tablename__ = "metric_sample"
    __table_args__ = (Index("ix_metric_sample_name_at", "name", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    value: float
    at: datetime = _ts()
    commit: str | None = Field(default=None, max_length=100)
    received_at: datetime = _ts()


class ManualScore(TeamScoped, table=True):
    """A score set by hand for a manual component; the latest per component counts."""

    __tablename__ = "manual_score"
    __table_args__ = (Index("ix_manual_score_component_at", "component", "set_at"),)

    id: int | None = Field(default=None, primary_key=True)
    component: str = Field(max_length=200)
    score: float
    previous: float | None = None
    set_by: str = Field(max_length=50)
    set_at: datetime = _ts()
    note: str | None = _text()


class ReadinessSnapshot(SprintScoped, table=True):
    """Readiness as computed after something changed it."""

    __tablename__ = "readiness_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    score: float | None = None
    cause: str = Field(max_length=200)
    breakdown: dict[str, Any] = _json()


class Standup(SprintScoped, table=True):
    """One person's standup answer (or skip) for one sprint day (a local date)."""

    __tablename__ = "standup"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "day", name="uq_standup_user_day"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=50)
    day: date = Field(index=True)
    sprint_day: int
    skipped: bool = False
    reason: str | None = _text()  # why skipped
    yesterday: str | None = _text()
    today: str | None = _text()
    blockers: str | None = _text()
    action_items: str | None = _text()
    answers: dict[str, Any] = _json()  # every field of the modal, as submitted
    metrics: dict[str, Any] = _json()  # the metrics snapshot shown when answering
    edits: int = 0
    channel: str | None = Field(default=None, max_length=50)
    ts: str | None = Field(default=None, max_length=50)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Away(TeamScoped, table=True):
    """A person away for a span of local dates (inclusive): not prompted, not missing, by
    the team it was given for."""

    __tablename__ = "away"
    __table_args__ = (Index("ix_away_user_span", "user_id", "start", "end"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=50)
    start: date
    end: date
    reason: str | None = _text()
    created_at: datetime = _ts()


class Blocker(TeamScoped, table=True):
    """An entry of the blocker log; it climbs the escalation path until resolved."""

    __tablename__ = "blocker"
    __table_args__ = (
        Index("ix_blocker_open", "resolved_at", "severity"),
        UniqueConstraint("team_id", "number", name="uq_blocker_team_number"),
        UniqueConstraint("team_id", "request_key", name="uq_blocker_request_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Its number within its team (B-007), given when it is first flushed.
    number: int | None = None
    component: str = Field(max_length=200)
    description: str = Field(sa_type=Text)
    severity: str = Field(max_length=2)
    owner: str | None = Field(default=None, max_length=50)
    reported_by: str = Field(max_length=50)
    reported_at: datetime = _ts()
    acknowledged_by: str | None = Field(default=None, max_length=50)
    acknowledged_at: datetime | None = _ts(nullable=True)
    escalation_level: int = 0
    escalated_at: datetime | None = _ts(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=50)
    resolved_at: datetime | None = _ts(nullable=True)
    resolution: str | None = _text()
    target: str | None = Field(default=None, max_length=100)  # "Day 2", a date, "EOD"
    risk_id: int | None = Field(default=None, foreign_key="risk.id")
    channel: str | None = Field(default=None, max_length=50)
    ts: str | None = Field(default=None, max_length=50)
    # What filed it (a modal's view id, a command's fingerprint): a second submission of
    # the same request finds this row instead of filing another (the team's: the same
    # command sent to two teams files a blocker in each).
    request_key: str | None = Field(default=None, max_length=200)

    @property
    def code(self) -> str:
        return f"B-{self.number or self.id or 0:03d}"


class Event(TeamScoped, table=True):
    """Audit trail: every state change of a blocker or risk (of the team's), with who and
    when."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_subject", "subject", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=20)  # "blocker" | "risk"
    subject_id: int
    action: str = Field(max_length=30)  # created, acknowledged, escalated, resolved, ...
    actor: str = Field(max_length=50)
    at: datetime = _ts()
    detail: dict[str, Any] = _json()


class Risk(TeamScoped, table=True):
    """An entry of the risk matrix."""

    __tablename__ = "risk"
    __table_args__ = (
        UniqueConstraint("team_id", "number", name="uq_risk_team_number"),
        UniqueConstraint("team_id", "request_key", name="uq_risk_request_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: int | None = None  # its number within its team
    description: str = Field(sa_type=Text)
    impact: str = Field(max_length=10)
    probability: str = Field(max_length=10)
    mitigation: str | None = _text()
    owner: str | None = Field(default=None, max_length=50)
    status: str = Field(default="Active", max_length=20)  # Critical|Active|Mitigated|Resolved
    created_by: str = Field(max_length=50)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    request_key: str | None = Field(default=None, max_length=200)

    @property
    def code(self) -> str:
        return f"R-{self.number or self.id or 0:03d}"


class Alert(TeamScoped, table=True):
    """A regression, performance or decline alert, and who acknowledged it."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_open", "kind", "subject", "resolved_at"),
        UniqueConstraint("team_id", "key", name="uq_alert_team_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    # The outbox key of the alert's message; replies and updates hang off it.
    key: str = Field(max_length=200)
    subject: str | None = Field(default=None, max_length=200)  # e.g. the metric's name
    report_id: int | None = Field(default=None, foreign_key="test_report.id")
    created_at: datetime = _ts()
    payload: dict[str, Any] = _json()
    acknowledged_by: str | None = Field(default=None, max_length=50)
    acknowledged_at: datetime | None = _ts(nullable=True)
    followed_up_at: datetime | None = _ts(nullable=True)
    resolved_at: datetime | None = _ts(nullable=True)


class OutboxMessage(SQLModel, table=True):
    """A Web API call to Slack, written before it is made; `key` is never delivered twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_lane", "lane", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    method: str = Field(max_length=100)
    payload: dict[str, Any] = _json()
    # Another message's key whose result supplies this one's thread_ts (or channel+ts).
    parent_key: str | None = Field(default=None, max_length=300)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(10))
    attempts: int = 0
    created_at: datetime = _ts()
    next_attempt_at: datetime = _ts()
    claimed_at: datetime | None = _ts(nullable=True)
    sent_at: datetime | None = _ts(nullable=True)
    last_error: str | None = _text()
    result: dict[str, Any] = _json()
    # Delivery order: rows of one lane (a channel, a user's DM or Home, e-mail) are sent
    # oldest first; a row waits behind an older undelivered row of its lane.
    lane: str | None = Field(default=None, max_length=300)
    # The claimant's token: only the sender holding it may finish the row.
    claim_token: str | None = Field(default=None, max_length=40)
    # Taken back while it was being sent (`queries.withdraw`): not sent again, whatever
    # became of that attempt; it ends `withdrawn` unless the attempt went through.
    withdrawn: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class JobRun(TeamScoped, table=True):
    """A scheduled job's run for one slot (a local date): at most one per (job, slot), so a
    restart, a second clock or a manual run never repeats it."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("team_id", "job", "slot", name="uq_job_run_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=50)
    slot: str = Field(max_length=50)
    started_at: datetime = _ts()
    result: str | None = _text()


class Signoff(SprintScoped, table=True):
    """A milestone's sign-off by one of the roles its `signoffs` names: one per role."""

    __tablename__ = "signoff"
    __table_args__ = (
        UniqueConstraint("sprint_id", "milestone_day", "role", name="uq_signoff_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    milestone_day: int
    role: str = Field(max_length=50)
    user_id: str = Field(max_length=50)
    at: datetime = _ts()


class Lesson(SprintScoped, table=True):
    """A lesson learned for the sprint review: went well, could improve, or an action."""

    __tablename__ = "lesson"
    __table_args__ = (UniqueConstraint("team_id", "request_key", name="uq_lesson_request_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    text: str = Field(sa_type=Text)
    author: str = Field(max_length=50)
    at: datetime = _ts()
    # The form's view id: Slack delivers a double click on Submit twice with one view id.
    request_key: str | None = Field(default=None, max_length=200)


class ReadyState(SQLModel, table=True):
    """A computed state that acknowledgements read instead of recomputing from history (the
    sprint's figures): every commit that changes what it is computed from bumps
    `generation`; whoever rebuilds it stores the build with the generation it was built
    from, so every process sees the same state and knows when it is stale."""

    __tablename__ = "ready_state"

    name: str = Field(primary_key=True, max_length=50)
    generation: int = 0
    built: int | None = None  # the generation the payload was built from
    built_at: datetime | None = _ts(nullable=True)
    # The payload holds until then with no write (the next local midnight, a P0's next hour).
    valid_until: datetime | None = _ts(nullable=True)
    # What the payload was built with (the sprint file and the code); another is rebuilt.
    fingerprint: str | None = Field(default=None, max_length=64)
    payload: bytes | None = Field(default=None, sa_type=LargeBinary)


def _number(session: Session, _context: Any, _instances: Any) -> None:
    """Give each new blocker and risk the next number of its team (B-001, R-001 per team)."""
    given: dict[tuple[type[Any], int], int] = {}
    for obj in session.new:
        if not isinstance(obj, (Blocker, Risk)) or obj.number is not None:
            continue
        table = type(obj)
        slot = (table, obj.team_id)
        if slot not in given:
            with session.no_autoflush:
                # One filing at a time per team: two transactions would both read the same
                # highest number. The team's row is locked until the commit (PostgreSQL;
                # SQLite's writes are one at a time already); NO KEY UPDATE, so that rows
                # inserted meanwhile that point at the team do not wait for it.
                session.execute(
                    select(col(Team.id))
                    .where(col(Team.id) == obj.team_id)
                    .with_for_update(key_share=True)
                )
                found = session.execute(
                    select(func.max(table.number)).where(
                        table.team_id == obj.team_id  # type: ignore[arg-type]
                    )
                ).scalar()
                given[slot] = int(found or 0)
        given[slot] += 1
        obj.number = given[slot]


event.listen(Session, "before_flush", _number)

"""The blocker log as a domain: codes, the escalation path in elapsed time (DST included),
who may resolve, and what the queued messages show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from jobs import blockers
from jobs.config import Escalation, Sprint
from jobs.errors import SprintError
from jobs.permissions import NotAllowed
from storage.models import Blocker, Event
from tests.support import factories
from tests.support.outbox import keys, queued

T0 = datetime(2025, 10, 31, 13, 0, tzinfo=UTC)  # day 3 of the example sprint, 9:00 in New York
GROUPS = {"S0EXECUTIVES": {"U0CEO"}, "#phase4-production-readiness": {"U0ANA", "U0BEN"}}


def directory(entry: str) -> set[str]:
    """Who is in a user group or channel, as Slack would say."""
    return GROUPS.get(entry, set())


def file(session: Session, sprint: Sprint, *, at: datetime = T0, text: str = "deadlock") -> Blocker:
    return factories.blocker(
        session,
        sprint,
        component="swarm coordination",
        description=f"  {text}  ",
        severity="p0",
        reporter="U0DEV",
        now=at,
    )


def events(session: Session, blocker: Blocker) -> list[tuple[str, str]]:
    rows = session.exec(
        select(Event)
        .where(Event.subject == "blocker", Event.subject_id == blocker.id)
        .order_by(col(Event.id))
    )
    return [(e.action, e.actor) for e in rows.all()]


def test_a_filed_blocker_gets_the_next_code_and_its_first_step_at_once(
    session: Session, example: Sprint
) -> None:
    first = file(session, example)
    second = file(session, example, text="lost heartbeat")
    assert first.id is not None
    assert (first.code, second.code) == (f"B-{first.id:03d}", f"B-{first.id + 1:03d}")
    # Normalised as the form and the command would: the component's own name, upper case.
    assert (first.component, first.severity, first.description) == (
        "Swarm Coordination",
        "P0",
        "deadlock",
    )
    # Step 1 ("after 0h") fired as it was filed, and the unsent message already shows it.
    assert first.escalation_level == 1
    data = queued(session, blockers.message_key(first))
    assert (data["code"], data["level"], data["levels"], data["step"]) == (
        first.code,
        1,
        4,
        "Daily standup discussion",
    )
    step = queued(session, f"{blockers.message_key(first)}:step:0")
    assert (step["step_name"], step["channels"], step["by"]) == (
        "Daily standup discussion",
        ["#phase4-production-readiness"],
        "sprintbot",
    )
    # The team channel gets the step too, not only the blocker's thread.
    team = queued(session, f"{blockers.message_key(first)}:step:0:#phase4-production-readiness")
    assert team["step_index"] == 1
    assert events(session, first) == [("created", "U0DEV"), ("escalated", "sprintbot")]


def test_steps_fire_once_each_at_their_elapsed_time(session: Session, example: Sprint) -> None:
    b = file(session, example)

    def run(hours: float) -> int:
        return blockers.escalate_due(
            session=session, sprint=example, now=T0 + timedelta(hours=hours)
        )

    assert [run(7.99), run(8), run(8.5), run(49), run(60)] == [0, 1, 0, 2, 0]
    assert b.escalation_level == 4
    assert b.escalated_at == T0 + timedelta(hours=49)
    lead = queued(session, f"{blockers.message_key(b)}:step:1")
    assert (lead["step_name"], lead["mentions"], lead["after"]) == (
        "Technical lead review",
        ["U0TECHLEAD"],
        "8h",
    )
    execs = queued(session, f"{blockers.message_key(b)}:step:3")
    assert execs["mentions"] == ["S0EXECUTIVES"]
    # The blocker's own message is updated to the level reached by each run that fired.
    at = {2: T0 + timedelta(hours=8), 4: T0 + timedelta(hours=49)}
    level = {n: f"{blockers.message_key(b)}:update:level:{n}:{at[n].isoformat()}" for n in at}
    assert keys(session, f"{blockers.message_key(b)}:update:") == [level[2], level[4]]
    assert queued(session, level[4])["step"] == "Executive decision"


def test_steps_count_elapsed_hours_across_the_end_of_daylight_saving(
    session: Session, example: Sprint
) -> None:
    # New York leaves daylight saving at 2:00 on 2 November 2025: a blocker filed at 22:00
    # the evening before reaches its 8 h step at 5:00 by the wall clock, not 6:00.
    zone = ZoneInfo(example.sprint.timezone)
    filed = datetime(2025, 11, 1, 22, 0, tzinfo=zone)
    b = file(session, example, at=filed.astimezone(UTC))
    due = filed.astimezone(UTC) + timedelta(hours=8)
    assert due.astimezone(zone).strftime("%H:%M %Z") == "05:00 EST"
    early = due - timedelta(minutes=1)
    assert blockers.escalate_due(session=session, sprint=example, now=early) == 0
    assert blockers.escalate_due(session=session, sprint=example, now=due) == 1
    assert b.escalation_level == 2
    step = queued(session, f"{blockers.message_key(b)}:step:1")
    assert (step["age"], step["now"]) == ("8h", due.isoformat())


def test_resolution_by_someone_not_allowed_is_refused(session: Session, example: Sprint) -> None:
    b = file(session, example)
    assert b.id is not None
    with pytest.raises(NotAllowed) as refused:
        blockers.resolve(
            session=session, sprint=example, blocker_id=b.id, user_id="U0OTHER", note="x", now=T0
        )
    assert str(refused.value) == (
        f"Only {b.code}'s owner, its reporter, the tech lead or an admin can resolve it."
    )
    assert b.resolved_at is None
    assert keys(session, f"{blockers.message_key(b)}:resolved") == []

    # Once the path reaches the executives, a member of their group may.
    blockers.escalate_due(session=session, sprint=example, now=T0 + timedelta(hours=48))
    done = blockers.resolve(
        session=session,
        sprint=example,
        blocker_id=b.id,
        user_id="U0CEO",
        note=" split the lock ",
        now=T0 + timedelta(hours=60),
        directory=directory,
    )
    assert (done.resolved_by, done.resolution) == ("U0CEO", "split the lock")
    note = queued(session, f"{blockers.message_key(b)}:resolved")
    assert (note["resolved_by"], note["took"], note["resolution"]) == (
        "U0CEO",
        "60h",
        "split the lock",
    )
    with pytest.raises(SprintError, match=f"{b.code} was already resolved by <@U0CEO>"):
        blockers.resolve(
            session=session, sprint=example, blocker_id=b.id, user_id="U0DEV", note="x", now=T0
        )


def test_a_resolution_needs_a_note(session: Session, example: Sprint) -> None:
    b = file(session, example)
    assert b.id is not None
    with pytest.raises(SprintError, match=f"Say how {b.code} was resolved"):
        blockers.resolve(
            session=session, sprint=example, blocker_id=b.id, user_id="U0DEV", note=" ", now=T0
        )
    assert b.resolved_at is None


def test_reopened_and_resolved_again_gets_a_note_of_its_own(
    session: Session, example: Sprint
) -> None:
    b = file(session, example)
    assert b.id is not None
    later = T0 + timedelta(hours=1)

    def resolve(note: str, at: datetime) -> None:
        blockers.resolve(
            session=session,
            sprint=example,
            blocker_id=b.id or 0,
            user_id="U0DEV",
            note=note,
            now=at,
        )

    resolve("first fix", later)
    blockers.reopen(session=session, sprint=example, blocker_id=b.id, user_id="U0DEV", now=later)
    assert (b.resolved_at, b.resolved_by, b.resolution) == (None, None, None)
    resolve("second fix", later + timedelta(hours=1))
    key = blockers.message_key(b)
    assert queued(session, f"{key}:resolved")["resolution"] == "first fix"
    assert queued(session, f"{key}:resolved:2")["resolution"] == "second fix"
    assert [a for a, _ in events(session, b)][-3:] == ["resolved", "reopened", "resolved"]


def test_taking_ownership_and_escalating_now(session: Session, example: Sprint) -> None:
    b = file(session, example)
    assert b.id is not None
    blockers.take_ownership(
        session=session, sprint=example, blocker_id=b.id, user_id="U0ANA", now=T0
    )
    # Owned by Ana: Ben may not take it over; the tech lead may.
    with pytest.raises(NotAllowed, match="belongs to <@U0ANA>"):
        blockers.take_ownership(
            session=session, sprint=example, blocker_id=b.id, user_id="U0BEN", now=T0
        )
    blockers.take_ownership(
        session=session, sprint=example, blocker_id=b.id, user_id="U0TECHLEAD", now=T0
    )
    assert (b.owner, b.acknowledged_by) == ("U0TECHLEAD", "U0TECHLEAD")

    # Escalating is for the team: a stranger is refused, a member of the channel may.
    with pytest.raises(NotAllowed, match=f"Only someone on the team can escalate {b.code}"):
        blockers.escalate_now(
            session=session, sprint=example, blocker_id=b.id, user_id="U0STRANGER", now=T0
        )
    blockers.escalate_now(
        session=session,
        sprint=example,
        blocker_id=b.id,
        user_id="U0ANA",
        now=T0,
        directory=directory,
    )
    assert b.escalation_level == 2
    assert queued(session, f"{blockers.message_key(b)}:step:1")["by"] == "U0ANA"
    # The clock does not fire the step again when its time comes.
    later = T0 + timedelta(hours=8)
    assert blockers.escalate_due(session=session, sprint=example, now=later) == 0


def test_the_same_request_files_once(session: Session, example: Sprint) -> None:
    key = blockers.command_key(
        user_id="U0DEV", component="Swarm Coordination", description="deadlock", severity="P0"
    )

    def again() -> Blocker:
        return factories.blocker(
            session,
            example,
            component="Swarm Coordination",
            reporter="U0DEV",
            now=T0,
            request_key=key,
        )

    b = again()
    with pytest.raises(blockers.AlreadyFiled) as second:
        again()
    assert second.value.blocker.id == b.id
    # Nothing new recorded or queued by the second submission.
    assert session.exec(select(Blocker).where(Blocker.request_key == key)).all() == [b]
    assert keys(session, f"{blockers.message_key(b)}:step:0") == [
        f"{blockers.message_key(b)}:step:0",
        f"{blockers.message_key(b)}:step:0:#phase4-production-readiness",
    ]


def test_a_step_to_the_participants_of_a_team_channel_posts_in_that_channel(
    example: Sprint,
) -> None:
    """`notify = "participants"` with `participants = "team"`: the participants are the team
    channel's people, so the step posts there (it posted with no one called; found by
    review). Listed by ID, they are mentioned."""
    step = Escalation.model_construct(after=timedelta(0), name="Team", notify="participants")
    assert example.people.get("participants") == "team"
    assert blockers.targets(example, step) == ([example.channels.team], [])
    listed = example.model_copy(update={"people": {**example.people, "participants": ["U1"]}})
    assert blockers.targets(listed, step) == ([], ["U1"])

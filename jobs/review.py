"""The sprint review draft (the seed's "Sprint Review Template"), filled from what was
recorded, and the lessons learned the team adds to it."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import NotRequired, TypedDict, cast

from sqlmodel import Session

from jobs import figures, milestones, numbers, storable
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.messages import Spec, Template
from jobs.notices import post
from storage import queries
from storage.models import Lesson, OutboxMessage
from storage.queries.outbox import own_key
from storage.scope import team_of

LISTED = 15
LESSON_CHARS = 1000
REVIEW_KEY = "sprint-review:"


class LessonKind(StrEnum):
    WENT_WELL = "went_well"
    IMPROVE = "improve"
    ACTION = "action"


class LessonField(StrEnum):
    """The lesson modal's fields (its block ids)."""

    KIND = "kind"
    TEXT = "text"


LESSON_TITLES = {
    LessonKind.WENT_WELL: "What went well",
    LessonKind.IMPROVE: "What could be improved",
    LessonKind.ACTION: "Action items for next phase",
}


class Goal(TypedDict):
    goal: str
    target: float | None
    achieved: float | None
    unit: str
    met: bool


class ReviewSummary(TypedDict):
    start: float | None
    end: float | None
    tests_fixed: float | None
    regressions: int
    still_failing: int
    pass_rate: float | None


class ResolvedBlocker(TypedDict):
    code: str
    severity: str
    component: str
    description: str
    took: str


class PreviousSprint(TypedDict):
    """The sprint before, as the review compares with it (`jobs.history.SprintOutcome`)."""

    name: str
    readiness_end: float | None
    tests_fixed: int | None  # None: it knew no test (no CI)
    regressions_introduced: int | None
    blockers_resolved: int  # resolved during its days


class LessonItem(TypedDict):
    text: str
    author: str


class SprintReview(TypedDict):
    """The review draft (Template.SPRINT_REVIEW)."""

    name: str
    goal: str | None
    date: str
    day: int
    status_line: str | None
    days: int
    goals: list[Goal]
    summary: ReviewSummary
    accomplishments: list[str]
    regressions: list[str]
    still_failing: list[str]
    fixed: list[str]
    fixed_count: int
    blockers_resolved: list[ResolvedBlocker]
    blockers_resolved_count: int
    lessons: dict[str, list[LessonItem]]  # by LessonKind
    requested_by: NotRequired[str | None]
    previous: NotRequired[PreviousSprint | None]  # the team's sprint before, if any
    team: NotRequired[str | None]  # with several teams: whose review its button adds to
    sprint: NotRequired[str | None]  # its sprint's start: its lessons are that sprint's
    titled: NotRequired[str | None]  # the team its title names, in a channel teams share


SPRINT_REVIEW: Spec[SprintReview] = Spec(Template.SPRINT_REVIEW)


def _tests_fixed_target(fig: figures.Figures) -> float | None:
    """The fixes that reach the one failing target from the baseline."""
    t = fig.tests
    return float(max(t.baseline_failing - t.target_failing, 0)) if t.known else None


def _hours(delta_seconds: float) -> str:
    hours = delta_seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _goal(
    name: str, target: float | None, achieved: float | None, unit: str, *, counted: bool = False
) -> Goal:
    met = target is not None and numbers.reached(achieved, target, counted=counted)
    return {"goal": name, "target": target, "achieved": achieved, "unit": unit, "met": met}


def goals(sprint: Sprint, m: milestones.Measures) -> list[Goal]:
    """The seed's four sprint goals, each against what was achieved."""
    fig, v = m.figures, m.values
    return [
        _goal("Production Readiness", sprint.targets.readiness, fig.score, "%"),
        _goal("Test Pass Rate", sprint.targets.pass_rate, v["pass_rate"], "%", counted=True),
        _goal("Tests Fixed", _tests_fixed_target(fig), v["tests_fixed"], ""),
        {  # (not met before anything was measured, as no criterion is; found by review)
            "goal": "Zero Regressions Introduced",
            "target": 0,
            "achieved": v["regressions_introduced"],
            "unit": "",
            "met": v["regressions_introduced"] == 0,
        },
    ]


def resolved_in(*, session: Session, sprint: Sprint, at: datetime) -> list[queries.Resolution]:
    """The team's blockers resolved in the sprint, up to `at`: a team's blockers carry over
    from sprint to sprint, and each counts in the sprint it was resolved in — after the
    team's sprint before ended (any time, for its first sprint), in the order resolved."""
    before = [
        r.end
        for r in queries.sprint_rows(session=session, team_id=team_of(session))
        if r.start is not None and r.end is not None and r.start < sprint.sprint.start
    ]
    after = figures.day_start(sprint.sprint, max(before) + timedelta(days=1)) if before else None
    return [
        r for r in queries.resolutions_at(session=session, at=at) if after is None or r.at >= after
    ]


def _resolved(sprint: Sprint, resolutions: list[queries.Resolution]) -> list[ResolvedBlocker]:
    """The draft's resolved blockers, their codes as its channel shows them ("platform
    B-001" where another team reads it too; found by review)."""
    return [
        ResolvedBlocker(
            code=sprint.shown_code(r.blocker.code, sprint.channels.status),
            severity=r.blocker.severity,
            component=r.blocker.component,
            description=r.blocker.description[:120],
            took=_hours((r.at - r.blocker.reported_at).total_seconds()),
        )
        for r in resolutions[:LISTED]
    ]


def sprint_review(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    measures: milestones.Measures | None = None,
    previous: PreviousSprint | None = None,
) -> SprintReview:
    """The review draft as of `now` (once the sprint ended, as of its end, as its
    figures); `previous`: the team's sprint before, compared with."""
    m = measures or milestones.measure(session=session, sprint=sprint, now=now)
    fig, v = m.figures, m.values
    at = figures.final_at(sprint.sprint, now)
    resolved = resolved_in(session=session, sprint=sprint, at=at)
    lessons = queries.lessons(session=session)
    return {
        "team": sprint.shown_team,
        "sprint": sprint.sprint.start.isoformat(),
        "titled": sprint.shown_team if sprint.shared(sprint.channels.status) else None,
        "name": sprint.sprint.name,
        "goal": sprint.sprint.goal,
        "date": fig.today.isoformat(),
        "day": fig.day,
        "status_line": fig.status_line(),
        "days": sprint.sprint.days,
        "goals": goals(sprint, m),
        "summary": {
            "start": fig.baseline_measured,
            "end": fig.score,
            "tests_fixed": v["tests_fixed"],
            "regressions": fig.tests.regressions_introduced,
            "still_failing": fig.tests.regressions_open,
            "pass_rate": v["pass_rate"],
        },
        "accomplishments": [
            c.name for c in fig.breakdown.components if numbers.reached(c.score, c.target)
        ],
        "regressions": m.regressions[:LISTED],
        "still_failing": m.still_failing[:LISTED],
        "fixed": m.fixed[:LISTED],
        "fixed_count": len(m.fixed),
        "blockers_resolved": _resolved(sprint, resolved),
        "blockers_resolved_count": len(resolved),
        "lessons": _lessons(lessons),
        "previous": previous,
    }


def _lessons(lessons: list[Lesson]) -> dict[str, list[LessonItem]]:
    """The lessons by kind, as the draft lists them."""
    return {
        str(kind): [{"text": x.text, "author": x.author} for x in lessons if x.kind == kind]
        for kind in LessonKind
    }


def post_review(
    *,
    session: Session,
    sprint: Sprint,
    now: datetime,
    user_id: str,
    previous: PreviousSprint | None = None,
) -> str:
    """Queue the review draft to channels.status; returns its outbox key."""
    # The key ends with its sprint's start: a lesson added later updates its sprint's draft.
    key = f"{REVIEW_KEY}{now.strftime('%Y%m%dT%H%M%S.%f')}{_of_sprint(sprint)}"
    data = sprint_review(session=session, sprint=sprint, now=now, previous=previous)
    data["requested_by"] = user_id
    post(
        session=session,
        key=key,
        spec=SPRINT_REVIEW,
        data=data,
        now=now,
        channel=sprint.channels.status,
    )
    return key


def parse_lesson(kind: str | None, text: str | None) -> tuple[LessonKind, str]:
    """Validate the modal's fields; SprintError names what is wrong."""
    try:
        lesson_kind = LessonKind(kind or "")
    except ValueError:
        raise SprintError("Choose what kind of lesson this is.") from None
    body = (text or "").strip()
    if storable.blank(body):
        raise SprintError("Write the lesson.")
    if len(body) > LESSON_CHARS:
        raise SprintError(f"Keep it under {LESSON_CHARS} characters.")
    return lesson_kind, body


def _of_sprint(sprint: Sprint) -> str:
    return f"@{sprint.sprint.start.isoformat()}"


def _sprint_drafts(*, session: Session, sprint: Sprint) -> list[OutboxMessage]:
    """The review drafts of `sprint`, newest first (another sprint's may be newer: the next
    sprint's draft is posted while lessons of the one before still come in)."""
    found = queries.keyed_messages(
        session=session, key_prefix=REVIEW_KEY, key_suffix=_of_sprint(sprint)
    )
    if found:
        return found
    # A draft posted before its key named its sprint: the newest, if it is this sprint's.
    newest = queries.latest_message(session=session, key_prefix=REVIEW_KEY)
    if newest is not None and newest.payload.get("data", {}).get("name") == sprint.sprint.name:
        return [newest]
    return []


def add_lesson(
    *,
    session: Session,
    sprint: Sprint,
    kind: LessonKind,
    text: str,
    author: str,
    now: datetime,
    request_key: str | None = None,
) -> Lesson:
    """Store a lesson, then refresh the sprint's review drafts in place: the newest with the
    figures as of `now`, older ones (and an ended sprint's) keeping theirs, for the draft a
    lesson is added from may be any (only the newest showed it, found by review). A form
    sent again (`request_key`: its view id) stores and refreshes nothing more."""
    lesson = Lesson(kind=str(kind), text=text, author=author, at=now, request_key=request_key)
    stored = queries.add_lesson(session=session, lesson=lesson)
    if stored is not lesson:
        return stored
    lessons = _lessons(queries.lessons(session=session))
    ended = figures.phase(sprint.sprint, now) is figures.Phase.ENDED
    for n, review in enumerate(_sprint_drafts(session=session, sprint=sprint)):
        shown = review.payload.get("data", {})
        if (n or ended) and shown:
            # Its figures as it showed them (an ended sprint's: retention may have pruned
            # the history they came from): only its lessons change.
            data = cast(SprintReview, {**shown, "lessons": lessons})
        else:
            data = sprint_review(
                session=session, sprint=sprint, now=now, previous=shown.get("previous")
            )
            data["requested_by"] = shown.get("requested_by")
        draft = own_key(session=session, row=review)  # the key without the team's prefix
        post(
            session=session,
            key=f"lesson:{lesson.id}:{draft}",
            spec=SPRINT_REVIEW,
            data=data,
            now=now,
            parent_key=draft,
            update=True,
        )
    return lesson

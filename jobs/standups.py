"""The daily standup (the seed's Daily Standup Template): answers, skips and absences,
the day's thread, the prompt/reminder/digest jobs, and who took part.

Every date here is the sprint's local date; an answer after local midnight counts for the
new day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from sqlmodel import Session

from jobs import blockers, figures, numbers, risks, storable
from jobs.config import SEVERITIES, WEEKDAYS, Sprint, SprintInfo
from jobs.errors import FieldErrors, SprintError
from jobs.figures import Figures
from jobs.messages import Spec, Template
from jobs.notices import live_key, post, post_live, queued_data, unused_key
from jobs.permissions import Directory, no_directory
from jobs.readiness import Status
from storage import queries
from storage.models import Away, Blocker, Standup

MAX_FIELD = 2900  # a Slack section holds 3,000 characters
# A severity is a word of its own: "P2P sync …" and "P95 latency …" are blockers' words.
# "P0: …", "[P0] …", "(P0) …", "P0 — …" (an em dash too, and parentheses: "(P0)" was filed
# at the default severity; found by review).
# (Brackets in pairs: "(P0 and P1 tiers down)" is a blocker's words.)
_SEVERITY_LINE = re.compile(
    r"^\s*(?:\[(P[0-2])\]|\((P[0-2])\)|(P[0-2]))(?!\w)\s*[:\-\u2013\u2014]?\s*(.*)$",
    re.IGNORECASE,
)
_OTHER_SEVERITY = re.compile(r"^\s*(?:\[P\d\]|\(P\d\)|P\d)(?!\w)", re.IGNORECASE)  # "P7: …"
# What people type for "nothing" in a list field: no item (a "None" typed under Current
# blockers filed and escalated a P1 blocker "None"; so did "None today", "Not blocked",
# "No blockers from my side"; found by reviews): a word for none, then in this order only
# what there is none of, and whose or when — nothing else ("No rollback plan", "Not all
# risks identified for this sprint" are items).
_NONE_OF = r"(?:blockers?|blocking|blocked|risks?|issues?|problems?|concerns?|impediments?|help)"
_WHOSE = r"(?:me|us|my (?:side|end|part)|our (?:side|end|part)|the team)"
_WHEN = (
    r"(?:now|today|the day|this (?:sprint|week|time|moment)|the (?:sprint|week|moment|time being))"
)
_NOTHING = re.compile(
    r"^(?:none|nothing|no|nope|nil|n/?a|-|not)"
    r"(?: (?:new|open|current|known|other|more|real|major|big))*"
    rf"(?: {_NONE_OF})?(?: (?:or |and )?{_NONE_OF})?"
    r"(?: (?:needed|identified|blocking))?"
    rf"(?: (?:for|from|on|at|in) (?:{_WHOSE}|{_WHEN})| {_WHOSE}| {_WHEN}| to report| so far"
    r"| yet| currently| right now| at the moment| at this time| at present| at all"
    r"| either| all good| thanks| thank you)*$"
)
# A list marker a line may start with ("- P0: …", "• …", "2. …"): formatting, not the text.
# (Or nothing: "2." left empty at a list's end is no item; found by review.)
_BULLET = re.compile(r"^(?:[-*\u2022\u2023\u25e6]|\d{1,3}[.)])(?:\s+|$)")
_DUE = re.compile(r"^(\d{4}-\d{2}-\d{2}|day \d{1,3}|today|tomorrow|eod|eow)$", re.IGNORECASE)


def _a_day(due: str) -> bool:
    """Whether a due date of the form 2025-11-03 is a day there is (not 2025-02-30)."""
    if not due[:1].isdigit():
        return True
    try:
        date.fromisoformat(due)
    except ValueError:
        return False
    return True


def _outside(due: str, info: SprintInfo) -> str | None:
    """Why a due day is none of the sprint's (None: it may be): "day N" past its days, a
    date before it starts (day 99 of 14, and a date a year back, were stored; found by
    review). A date after its end may be: work goes on."""
    lowered = due.lower()
    if lowered.startswith("day "):
        n = int(lowered[4:])
        return None if 1 <= n <= info.days else f"the sprint has days 1-{info.days}"
    if due[:1].isdigit() and date.fromisoformat(due) < info.start:
        return f"that is before the sprint starts ({info.start})"
    return None


class Field(StrEnum):
    """Block ids of the standup modal: the keys of a submission's values."""

    TESTS_FIXED = "tests_fixed"
    COMPONENTS_IMPROVED = "components_improved"
    BLOCKERS_RESOLVED = "blockers_resolved"
    NOTES = "notes"
    TARGET_TESTS = "target_tests"
    FOCUS_AREAS = "focus_areas"
    RISK_ITEMS = "risk_items"
    CURRENT_BLOCKERS = "current_blockers"
    BLOCKER_SEVERITY = "blocker_severity"
    NEW_RISKS = "new_risks"
    HELP_NEEDED = "help_needed"
    ACTION_ITEMS = "action_items"


class Participation(StrEnum):
    ANSWERED = "answered"
    LATE = "late"
    AWAY = "away"
    MISSING = "missing"


class InvalidAnswers(FieldErrors):
    """What is wrong with the standup modal's answers, by Field (shown under each field)."""


class ActionItem(TypedDict):
    item: str
    owner: str
    due: str


class StandupAnswers(TypedDict):
    """Every field of the modal as stored and shown; a blocker is [severity, text]."""

    tests_fixed: int | None
    components_improved: list[str]
    blockers_resolved: list[int]
    notes: str
    target_tests: int | None
    focus_areas: str
    risk_items: str
    current_blockers: list[list[str]]
    new_risks: list[str]
    help_needed: str
    action_items: list[ActionItem]


class MetricsSnapshot(TypedDict):
    """The live figures as of an answer."""

    passed: int
    known: int
    pass_rate: float | None
    readiness: float | None
    plan: float | None
    health: str
    health_reason: NotRequired[str]  # (an answer kept before it was: none)
    flaky: NotRequired[int]  # passed only on a re-run (an answer kept before it was: none)


class StandupNote(TypedDict):
    """A blocker or a call for help from someone's answer, in the day's message."""

    user: str
    text: str


# The day's message shows this many blockers and calls for help (each at most 1,000
# characters), and says how many more there are: all of them are in its thread.
HIGHLIGHTS = 20


class StandupDayMessage(TypedDict):
    """Template.STANDUP_DAY: the day's parent message; participation once the digest ran."""

    day: str
    sprint_day: int
    days: int
    name: str
    answered: NotRequired[list[str]]
    missing: NotRequired[list[str]]
    away: NotRequired[list[str]]
    expected: NotRequired[int]
    blockers: NotRequired[list[StandupNote]]  # the first HIGHLIGHTS of the day's
    help: NotRequired[list[StandupNote]]  # the first HIGHLIGHTS of the day's
    # How many there were in all (messages queued before these were counted lack them).
    blockers_total: NotRequired[int]
    help_total: NotRequired[int]


class StandupReplyMessage(TypedDict):
    """Template.STANDUP_REPLY: someone's answer in the day's thread."""

    user: str
    day: str
    sprint_day: int
    days: int
    answers: StandupAnswers
    metrics: MetricsSnapshot
    edited: bool
    resolved: NotRequired[list[str]]  # the codes of the blockers it resolved (B-001)


class StandupDM(TypedDict):
    """Template.STANDUP_PROMPT and STANDUP_REMINDER: a DM with the "Open standup" button."""

    user: str
    day: str
    sprint_day: int
    days: int
    # With several teams, the team's id: said in the DM, and its button opens that team's
    # standup (someone in several teams gets one prompt from each).
    team: NotRequired[str]


STANDUP_DAY: Spec[StandupDayMessage] = Spec(Template.STANDUP_DAY)
STANDUP_REPLY: Spec[StandupReplyMessage] = Spec(Template.STANDUP_REPLY)
STANDUP_PROMPT: Spec[StandupDM] = Spec(Template.STANDUP_PROMPT)
STANDUP_REMINDER: Spec[StandupDM] = Spec(Template.STANDUP_REMINDER)


@dataclass
class Answers:
    tests_fixed: int | None = None
    components_improved: list[str] = field(default_factory=list)
    blockers_resolved: list[int] = field(default_factory=list)
    notes: str = ""
    target_tests: int | None = None
    focus_areas: str = ""
    risk_items: str = ""
    current_blockers: list[tuple[str, str]] = field(default_factory=list)  # (severity, text)
    # Those whose severity was typed ("P0: …"), not the default: only they change an open
    # blocker's (a line with none lowered a P0 to P1; found by review).
    severity_given: set[str] = field(default_factory=set)
    new_risks: list[str] = field(default_factory=list)
    help_needed: str = ""
    action_items: list[ActionItem] = field(default_factory=list)

    def as_dict(self) -> StandupAnswers:
        return {
            "tests_fixed": self.tests_fixed,
            "components_improved": self.components_improved,
            "blockers_resolved": self.blockers_resolved,
            "notes": self.notes,
            "target_tests": self.target_tests,
            "focus_areas": self.focus_areas,
            "risk_items": self.risk_items,
            "current_blockers": [list(b) for b in self.current_blockers],
            "new_risks": self.new_risks,
            "help_needed": self.help_needed,
            "action_items": self.action_items,
        }


def blockers_field(current: Iterable[Sequence[str]]) -> str:
    """An answer's blockers as kept and pre-filled for an edit: "P1: text", one a line."""
    return "\n".join(f"{s}: {t}" for s, t in current)


def action_items_field(items: Iterable[ActionItem]) -> str:
    """An answer's action items as kept and pre-filled for an edit: "item | owner | due"."""
    return "\n".join(f"{i['item']} | {i['owner']} | {i['due']}" for i in items)


def _fits_again(shown: str, how: str, name: str, errors: dict[str, str]) -> None:
    """A field error where an answer, written again as an edit pre-fills it (`how`), is
    longer than the field holds: the form could not open to edit it, or not be sent back
    unchanged. Counted when the answer is taken, so that every answer taken can be."""
    if len(shown) > MAX_FIELD and name not in errors:
        errors[name] = (
            f"Kept as {how}, this is {len(shown)} characters, over the {MAX_FIELD} the field "
            f"holds when you edit it: shorten it by {len(shown) - MAX_FIELD}."
        )


def _count(raw: Any, name: str, errors: dict[str, str]) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > 100_000:  # (not "²")
        errors[name] = "Give a whole number of tests, e.g. 12."
        return None
    return int(text)


def _text(raw: Any, name: str, errors: dict[str, str]) -> str:
    text = str(raw or "").strip()
    if storable.blank(text):
        return ""  # (invisible characters only: nothing answered)
    if len(text) > MAX_FIELD:
        errors[name] = f"Keep it under {MAX_FIELD} characters (this is {len(text)})."
    elif why := storable.problem(text):
        errors[name] = why
    return text


def _lines_fit(lines: list[str], kind: str, limit: int, name: str, errors: dict[str, str]) -> None:
    """A field error where one of `lines` is longer than the `kind` it becomes holds."""
    longest = max(map(len, lines), default=0)
    if longest > limit and name not in errors:
        errors[name] = (
            f"Each line becomes a {kind}: keep each under {limit} characters (one is {longest})."
        )


def _nothing(text: str) -> bool:
    """Whether typed text says there is nothing ("None", "n/a.", "No blockers")."""
    said = " ".join(re.sub(r"[.,;:!]+", " ", text.lower()).split())
    return _NOTHING.match(said) is not None


def _items(text: str) -> Iterator[str]:
    """The items of a list typed in a field, one a line, bullets taken off; a line without
    a letter or a digit ("-", "•" left at the end of a list), or saying there is nothing
    ("None", "n/a"), is none."""
    for raw in text.splitlines():
        line = _BULLET.sub("", raw.strip(), count=1)
        if any(c.isalnum() for c in line) and not _nothing(line):
            yield line


def _blocker_line(line: str, default: str) -> tuple[str, str] | str:
    """A typed blocker's line (its bullet taken off) as (severity, text), the severity
    `default` where it names none; or what is wrong with it."""
    m = _SEVERITY_LINE.match(line)
    named = next((g for g in m.groups()[:3] if g), "") if m else ""
    if m and named.upper() in SEVERITIES:
        text = m.group(4).strip()
        if not any(c.isalnum() for c in text):  # "P0:" or "P0" left unfinished
            return (
                f'"{line[:40]}": say what is blocked after the severity, e.g. '
                '"P1: flaky login test".'
            )
        return named.upper(), text
    if _OTHER_SEVERITY.match(line):
        return f'"{line[:40]}": severity must be P0, P1 or P2, e.g. "P1: flaky login test".'
    return default if default in SEVERITIES else "P1", line


def parse_answers(values: dict[str, Any], *, sprint: Sprint, open_blocker_ids: set[int]) -> Answers:
    """Validate the modal's values; InvalidAnswers with a message per bad field. Blockers
    marked resolved that are no longer open (resolved meanwhile) are left out."""
    errors: dict[str, str] = {}
    a = Answers()
    a.tests_fixed = _count(values.get(Field.TESTS_FIXED), Field.TESTS_FIXED, errors)
    a.target_tests = _count(values.get(Field.TARGET_TESTS), Field.TARGET_TESTS, errors)
    names = {c.name for c in sprint.components}
    a.components_improved = [c for c in values.get(Field.COMPONENTS_IMPROVED) or [] if c in names]
    a.blockers_resolved = [
        int(b)
        for b in values.get(Field.BLOCKERS_RESOLVED) or []
        if numbers.row_id(str(b)) in open_blocker_ids
    ]
    a.notes = _text(values.get(Field.NOTES), Field.NOTES, errors)
    a.focus_areas = _text(values.get(Field.FOCUS_AREAS), Field.FOCUS_AREAS, errors)
    a.risk_items = _text(values.get(Field.RISK_ITEMS), Field.RISK_ITEMS, errors)
    helped = _text(values.get(Field.HELP_NEEDED), Field.HELP_NEEDED, errors)
    a.help_needed = "" if _nothing(helped) else helped  # ("None" is no call for help)
    default = str(values.get(Field.BLOCKER_SEVERITY) or "P1").upper()
    blockers_text = _text(values.get(Field.CURRENT_BLOCKERS), Field.CURRENT_BLOCKERS, errors)
    for line in _items(blockers_text):
        read = _blocker_line(line, default)
        if isinstance(read, str):
            errors[Field.CURRENT_BLOCKERS] = read
        else:
            a.current_blockers.append(read)
            # (Typed on the line: the form's select opens at P1, and Slack sends it as
            # chosen, so a line with none lowered a P0; found by review.)
            if _SEVERITY_LINE.match(line):
                a.severity_given.add(read[1])
    risks_text = _text(values.get(Field.NEW_RISKS), Field.NEW_RISKS, errors)
    a.new_risks = list(_items(risks_text))
    # Each line becomes a blocker or a risk, whose own forms hold so much.
    _lines_fit(
        [t for _, t in a.current_blockers],
        "blocker",
        blockers.MAX_DESCRIPTION,
        Field.CURRENT_BLOCKERS,
        errors,
    )
    _lines_fit(a.new_risks, "risk", risks.MAX_TEXT, Field.NEW_RISKS, errors)
    _fits_again(
        blockers_field(a.current_blockers),
        'a line each starting with its severity ("P1: …")',
        Field.CURRENT_BLOCKERS,
        errors,
    )
    items_text = _text(values.get(Field.ACTION_ITEMS), Field.ACTION_ITEMS, errors)
    for n, line in enumerate((x for x in items_text.splitlines() if x.strip()), start=1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not all(parts):
            errors[Field.ACTION_ITEMS] = (
                f"Line {n} needs three parts: item | owner | due, e.g. "
                '"Fix flaky swarm test | @dana | 2025-11-03".'
            )
            break
        item, owner, due = parts
        if not _DUE.match(due) or not _a_day(due):
            errors[Field.ACTION_ITEMS] = (
                f'Line {n}: due "{due}" is not a date; give one as 2025-11-03, "day 9", '
                '"today", "tomorrow", "EOD" or "EOW".'
            )
            break
        if (why := _outside(due, sprint.sprint)) is not None:
            errors[Field.ACTION_ITEMS] = f'Line {n}: due "{due}": {why}.'
            break
        a.action_items.append({"item": item, "owner": owner, "due": due})
    _fits_again(
        action_items_field(a.action_items),
        '"item | owner | due" a line',
        Field.ACTION_ITEMS,
        errors,
    )
    if errors:
        raise InvalidAnswers(errors)
    return a


# -- days, participants, absences ----------------------------------------------------------


def no_sprint_running(sprint: Sprint, now: datetime) -> str:
    """Why no standup is taken at `now`, when `sprint` (the team's served one) is not
    running: between sprints it is the next, after the team's last it is that one."""
    if figures.phase(sprint.sprint, now) is figures.Phase.ENDED:
        return f"No sprint running; the last ended on {sprint.sprint.end.isoformat()}"
    return f"No sprint running; the next starts on {sprint.sprint.start.isoformat()}"


def standup_day(sprint: Sprint, now: datetime) -> date:
    """The local date an answer given at `now` counts for."""
    return numbers.local_date(sprint.sprint, now)


def is_workday(sprint: Sprint, day: date) -> bool:
    return WEEKDAYS[day.weekday()] in sprint.sprint.workdays


def expected_on(sprint: Sprint, day: date) -> bool:
    """Whether a standup is asked for on a local date: a workday of the sprint."""
    info = sprint.sprint
    return info.start <= day <= info.end and is_workday(sprint, day)


def last_workday(sprint: Sprint, before: date) -> date | None:
    """The latest of the team's workdays in the week before `before`, in this sprint or
    the one before it (None: no workday in the week)."""
    for back in range(1, 8):
        day = before - timedelta(days=back)
        if is_workday(sprint, day):
            return day
    return None


def last_standup_day(sprint: Sprint, before: date) -> date | None:
    """The latest local date before `before` a standup was asked for (None: none yet): the
    last workday, within the sprint."""
    info = sprint.sprint
    day = last_workday(sprint, min(before, info.end + timedelta(days=1)))
    return day if day is not None and day >= info.start else None


def day_key(day: date) -> str:
    """The outbox key of the day's standup message in the team channel."""
    return f"standup-day:{day.isoformat()}"


def _ensure_day_message(*, session: Session, sprint: Sprint, day: date, now: datetime) -> str:
    """Queue the day's parent message ("Standup — Day N of M, <date>") if not yet queued;
    its key. Refused by Slack for good (the team channel private and the bot not invited
    yet), it is queued again once asked for after that, so the day's answers posted under
    it are not all lost with it (found by review)."""
    return post_live(
        session=session,
        key=day_key(day),
        spec=STANDUP_DAY,
        data=lambda: day_summary(session=session, sprint=sprint, day=day, participants=None),
        now=now,
        channel=sprint.channels.team,
    )


def is_away(session: Session, user_id: str, day: date) -> bool:
    return user_id in queries.away_on(session=session, day=day)


# -- answering -----------------------------------------------------------------------------


def metrics_snapshot(fig: Figures) -> MetricsSnapshot:
    """The live figures the modal shows read-only, and the answer keeps."""
    status = Status.of(fig)
    return {
        "passed": status.passed,
        "known": status.known,
        "pass_rate": status.pass_rate,
        "readiness": status.breakdown.score,
        "plan": status.plan,
        "health": str(status.health),
        "health_reason": status.health_reason,
        "flaky": status.flaky,
    }


def submit(
    *,
    session: Session,
    sprint: Sprint,
    user_id: str,
    answers: Answers,
    now: datetime,
    directory: Directory = no_directory,
    fig: Figures | None = None,
    day: date | None = None,
) -> Standup:
    """Store (or replace) the answer of `day` — the day its form was opened for (today
    without one): yesterday's where a form opened before local midnight is sent after it —
    and post it in the day's thread, or update the post. The answer keeps the figures as
    of `now` (`fig`, else computed).

    Blockers marked resolved are resolved as their Resolve button would: NotAllowed (and
    nothing stored) when the user may not resolve one of them."""
    day = answer_day(sprint, now, day)
    existing = _own_row(session=session, user_id=user_id, day=day)
    # An answer after a skip the same day is the first answer: the skip was never posted.
    answered = existing is not None and not existing.skipped
    # What the answer held before this edit (read before it is stored over).
    before = dict(existing.answers) if existing is not None and answered else {}
    # (Before it is compared with what is stored: stored with its blocker's severity, the
    # same answer again read as an edit; found by review.)
    held = _held_severities(session=session, user_id=user_id, answers=answers, before=before)
    to_resolve = list(answers.blockers_resolved)
    if existing is not None and answered:
        # An edit still lists the blockers this answer resolved before (no longer offered),
        # and resolves only what it newly ticks: one reopened since stays open (a form
        # opened before the reopen still had it ticked; found by review).
        earlier = [int(b) for b in existing.answers.get("blockers_resolved") or []]
        answers.blockers_resolved = list(dict.fromkeys([*earlier, *to_resolve]))
        to_resolve = [b for b in to_resolve if b not in earlier]
        if existing.answers == dict(answers.as_dict()):
            # The same answer again (Submit pressed again after Slack's timeout): nothing
            # was edited (it counted an edit, and its post read "edited"; found by review).
            return existing
    snapshot = metrics_snapshot(fig or figures.compute(session=session, sprint=sprint, at=now))
    row = _day_row(existing, sprint=sprint, user_id=user_id, day=day, now=now)
    _store_answer(
        session=session, row=row, answers=answers, snapshot=snapshot, now=now, edit=answered
    )
    _record_typed(
        session=session,
        sprint=sprint,
        user_id=user_id,
        answers=answers,
        before=before,
        now=now,
        held=held,
    )
    for blocker_id in to_resolve:
        if blockers.get(session=session, blocker_id=blocker_id).resolved_at is not None:
            continue  # resolved meanwhile, by someone else
        blockers.resolve(
            session=session,
            sprint=sprint,
            blocker_id=blocker_id,
            user_id=user_id,
            note=f"marked resolved in the Day {row.sprint_day} standup",
            now=now,
            directory=directory,
            via="standup",
        )
    _post_answer(
        session=session,
        sprint=sprint,
        row=row,
        answers=answers.as_dict(),
        metrics=snapshot,
        now=now,
        first=not answered,
    )
    # A first answer counts again; an edit may add or drop a blocker or a call for help,
    # which the day's message lists (it kept the answer as first given; found by review).
    _after_digest(session=session, sprint=sprint, day=row.day, now=now)
    _withdraw_dms(session=session, day=row.day, user=user_id)
    return row


def counted_on(*, session: Session, day: date) -> list[str] | None:
    """The people the day's digest counted (answered, missing or away); None where it has
    not run (or retention emptied what it said). The day's later counts are among them: a
    member who joined the channel since was not in that day's standup."""
    data = queued_data(session=session, key=f"standup-digest:{day.isoformat()}")
    if "missing" not in data:
        return None
    return [*data.get("answered", []), *data.get("missing", []), *data.get("away", [])]


def lock_day(*, session: Session, day: date) -> None:
    """The day's count taken by one writer at a time: the digest and the answers after it
    each count what the one before committed. (On PostgreSQL two answers at once each
    counted without the other, and the day's message kept whichever update came last.)"""
    queries.lock_named(session=session, name=f"standup-day:{day.isoformat()}")


def _after_digest(*, session: Session, sprint: Sprint, day: date, now: datetime) -> None:
    """An answer (first or edited) or a skip after the day's digest ran: the day's message
    counted and listed again, among the people the digest counted (it kept listing them as
    missing; found by review)."""
    lock_day(session=session, day=day)
    people = counted_on(session=session, day=day)
    if people is None:
        return
    post(
        session=session,
        # (Keyed by the time alone, a second answer at the same instant was not counted.)
        key=unused_key(session=session, key=f"standup-digest:{day.isoformat()}:{now.isoformat()}"),
        spec=STANDUP_DAY,
        data=day_summary(session=session, sprint=sprint, day=day, participants=people),
        now=now,
        parent_key=_ensure_day_message(session=session, sprint=sprint, day=day, now=now),
        update=True,
    )


def last_evening(sprint: Sprint, now: datetime, day: date | None) -> bool:
    """Whether a form opened for `day` and sent at `now` is one of yesterday, a day of the
    sprint: opened before local midnight, it counts for that day (`answer_day`)."""
    yesterday = standup_day(sprint, now) - timedelta(days=1)
    return day == yesterday and sprint.sprint.start <= yesterday <= sprint.sprint.end


def answer_day(sprint: Sprint, now: datetime, day: date | None) -> date:
    """The local date an answer sent at `now` from a form opened for `day` counts for:
    that day if it is today or yesterday within the sprint (a form opened before local
    midnight, sent after: the sprint's last day's too, once the next began), else today;
    SprintError for a form of an earlier day."""
    today = standup_day(sprint, now)
    if day is None or day >= today:
        return today
    if last_evening(sprint, now, day):
        return day
    raise SprintError(
        f"This form was for {day.isoformat()}, which has passed: copy what you wrote, "
        "close it and open `/standup` again for today's."
    )


def _own_row(*, session: Session, user_id: str, day: date) -> Standup | None:
    """`user_id`'s standup row of `day`, read under their lock for that day: two answers
    sent at once (a double click on Submit) are taken one after the other, the second
    finding the first (on PostgreSQL both read none and the second broke the unique index:
    "Nothing was saved"; found by review)."""
    queries.lock_named(session=session, name=f"standup:{user_id}:{day.isoformat()}")
    return queries.standup_for(session=session, user_id=user_id, day=day)


def _day_row(
    existing: Standup | None, *, sprint: Sprint, user_id: str, day: date, now: datetime
) -> Standup:
    """`existing`, or a new row for `user_id`'s standup on `day`; of that sprint day."""
    row = existing or Standup(
        user_id=user_id, day=day, sprint_day=0, created_at=now, updated_at=now
    )
    row.sprint_day = (day - sprint.sprint.start).days + 1
    return row


def _store_answer(
    *,
    session: Session,
    row: Standup,
    answers: Answers,
    snapshot: MetricsSnapshot,
    now: datetime,
    edit: bool,
) -> None:
    """Keep the answer on its row: every field as given, and the columns the digest reads.
    Not an `edit` (a first answer, or one after a skip): answered now, never edited."""
    if not edit:
        row.created_at, row.edits = now, 0
    row.skipped, row.reason = False, None
    # The JSON columns are typed dict[str, Any]; a TypedDict is not one to mypy.
    row.answers = dict(answers.as_dict())
    row.metrics = dict(snapshot)
    row.yesterday = answers.notes or None
    row.today = answers.focus_areas or None
    row.blockers = blockers_field(answers.current_blockers) or None
    row.action_items = action_items_field(answers.action_items) or None
    row.updated_at = now
    if edit:
        row.edits += 1
    queries.save_standup(session=session, standup=row)


def _filed_as(before: Mapping[str, Any]) -> dict[str, str]:
    """The blockers an earlier release kept with their bullets: by the text their line reads
    as today, the description they were filed under ("- P1: x" kept, "x" read; found by
    review: an edit filed them again, or left their severity as the bullet had hidden it)."""
    filed: dict[str, str] = {}
    for severity, text in before.get("current_blockers") or []:
        for line in _items(str(text)):
            read = _blocker_line(line, str(severity))
            if not isinstance(read, str) and read[1] != text:
                filed[read[1]] = str(text)
    return filed


def _held_severities(
    *, session: Session, user_id: str, answers: Answers, before: Mapping[str, Any]
) -> dict[str, Blocker | None]:
    """A typed blocker with no severity of its own that is an open blocker of the user's
    takes that blocker's, as the answer is stored and shown (it showed the form's default,
    "P1", beside the P0 card; found by review). Each such line's open blocker (or None),
    for `_record_typed`."""
    kept_as = _filed_as(before)
    held: dict[str, Blocker | None] = {}
    for n, (severity, text) in enumerate(answers.current_blockers):
        if text in answers.severity_given:
            continue
        found = held[text] = queries.open_blocker_like(
            session=session, description=kept_as.get(text) or text, reported_by=user_id
        )
        if found is not None and found.severity != severity:
            answers.current_blockers[n] = (found.severity, text)
    return held


def _record_typed(
    *,
    session: Session,
    sprint: Sprint,
    user_id: str,
    answers: Answers,
    before: Mapping[str, Any],
    now: datetime,
    held: Mapping[str, Blocker | None],
) -> None:
    """Blockers and risks typed in an answer become real ones, once: an edit files only
    the lines its answer did not have `before` (a blocker filed by it and resolved since
    is not filed again), and none like one open (`held`: the open ones of the lines with
    no severity, looked up already)."""
    filed = {(str(s), str(t)) for s, t in before.get("current_blockers") or []}
    kept_as = _filed_as(before)
    for severity, text in answers.current_blockers:
        if (severity, text) in filed:
            continue
        filed_as = kept_as.get(text)
        like = (
            held[text]
            if text in held
            else queries.open_blocker_like(
                session=session, description=filed_as or text, reported_by=user_id
            )
        )
        if like is not None:
            # The same blocker at another severity: the blocker's, changed (an edit from
            # P2 to P0 was dropped without a word; found by review) where one was given.
            if text not in answers.severity_given:
                continue
            blockers.change_severity(
                session=session,
                sprint=sprint,
                blocker=like,
                severity=severity,
                user_id=user_id,
                now=now,
            )
            continue
        if filed_as is not None:  # filed by this answer, and resolved since: not again
            continue
        blocker = queries.add_blocker(
            session=session,
            blocker=Blocker(
                component=_component_in(sprint, text),
                description=text,
                severity=severity,
                reported_by=user_id,
                reported_at=now,
                owner=user_id,
            ),
        )
        blockers.announce(session=session, sprint=sprint, blocker=blocker, now=now)
    raised = {*(before.get("new_risks") or ()), *_items("\n".join(before.get("new_risks") or ()))}
    for text in answers.new_risks:
        if text in raised:
            continue
        if queries.risk_like(session=session, description=text, created_by=user_id):
            continue
        # As the risk form adds one: in the register's history and announced.
        risks.create(
            session=session,
            sprint=sprint,
            fields=risks.RiskFields(
                description=text,
                impact="Medium",
                probability="Medium",
                mitigation="",
                owner=user_id,
                status="Active",
            ),
            user_id=user_id,
            now=now,
        )


def _post_answer(
    *,
    session: Session,
    sprint: Sprint,
    row: Standup,
    answers: StandupAnswers,
    metrics: MetricsSnapshot,
    now: datetime,
    first: bool,
) -> None:
    """Post the answer in the day's thread, or (an edit) update the post."""
    parent = _ensure_day_message(session=session, sprint=sprint, day=row.day, now=now)
    data: StandupReplyMessage = {
        "user": row.user_id,
        "day": row.day.isoformat(),
        "sprint_day": row.sprint_day,
        "days": sprint.sprint.days,
        "answers": answers,
        "metrics": metrics,
        "edited": row.edits > 0,
    }
    if ids := answers.get("blockers_resolved"):
        codes = queries.blocker_codes(session=session, ids=ids)
        data["resolved"] = [codes.get(int(i), f"B-{int(i):03d}") for i in ids]
    # The first answer is a reply in the day's thread; each edit updates that reply. A
    # reply Slack refused for good (with the day's message, the bot not in the channel
    # then) is posted anew by the next edit, under the day's message as queued again: an
    # update of it failed too, however often one edited (found by review).
    reply_key, queued = live_key(
        session=session, key=f"standup:{row.user_id}:{row.day.isoformat()}"
    )
    edit = queued and not first
    post(
        session=session,
        key=f"{reply_key}:edit:{row.edits}" if edit else reply_key,
        spec=STANDUP_REPLY,
        data=data,
        now=now,
        parent_key=reply_key if edit else parent,
        update=edit,
    )
    session.flush()


def _component_in(sprint: Sprint, text: str) -> str:
    """The component a blocker line names ("Swarm Coordination: deadlock"), else General."""
    lowered = text.lower()
    for c in sprint.components:
        if c.name.lower() in lowered:
            return c.name
    return "General"


MAX_REASON = 500


def _check_reason(reason: str) -> None:
    """A skip's or an absence's reason: refused past MAX_REASON characters (it was cut
    without a word; found by review)."""
    if len(reason) > MAX_REASON:
        raise SprintError(
            f"Keep the reason under {MAX_REASON} characters (it has {len(reason):,})."
        )
    storable.check(reason)


def skip(*, session: Session, sprint: Sprint, user_id: str, reason: str, now: datetime) -> date:
    """Mark today as away for `user_id` (not prompted, not missing)."""
    _check_reason(reason)
    day = standup_day(sprint, now)
    existing = _own_row(session=session, user_id=user_id, day=day)
    if existing is not None and not existing.skipped:
        raise SprintError(
            "You already answered today's standup; `/standup` edits it. Skipping would hide it."
        )
    row = _day_row(existing, sprint=sprint, user_id=user_id, day=day, now=now)
    row.skipped, row.reason, row.updated_at = True, reason or None, now
    queries.save_standup(session=session, standup=row)
    if existing is None:
        _after_digest(session=session, sprint=sprint, day=day, now=now)
    _withdraw_dms(session=session, day=day, user=user_id)
    return day


def parse_day(text: str, *, sprint: Sprint, today: date) -> date:
    """ "2025-11-03", "today", "tomorrow" or "day 9" → a local date; SprintError otherwise."""
    t = text.strip().lower()
    if t == "today":
        return today
    if t == "tomorrow":
        return today + timedelta(days=1)
    m = re.match(r"^day\s*(\d{1,3})$", t)
    if m:
        day, days = int(m.group(1)), sprint.sprint.days
        if not 1 <= day <= days:
            raise SprintError(f"day {day}: the sprint has days 1-{days}.")
        return numbers.day_date(sprint.sprint, day)
    try:
        return date.fromisoformat(t)
    except ValueError:
        raise SprintError(
            f'"{text}" is not a day; use 2025-11-03, "today", "tomorrow" or "day 9".'
        ) from None


def away(
    *,
    session: Session,
    user_id: str,
    start: date,
    end: date,
    reason: str,
    now: datetime,
    sprint: Sprint | None = None,
) -> Away:
    """Record an absence (inclusive dates). Where it covers today, or days gone, whose
    digest ran already, each day's message counts the person away (it kept listing them as
    missing beside the next report's count; found by review), as a late answer or a skip
    does."""
    if end < start:
        raise SprintError(f"The absence ends ({end}) before it starts ({start}).")
    if (end - start).days > 366:
        raise SprintError("An absence longer than a year is surely a typo.")
    if sprint is not None and end < sprint.sprint.start:
        # (A day 0 typed as a date, or a year's typo, was taken and the days meant were
        # still prompted; found by review.)
        info = sprint.sprint
        raise SprintError(
            f"The absence ends ({end}) before the sprint starts ({info.start}): give its "
            f'days, e.g. "day 3", "tomorrow" or a date from {info.start} to {info.end}.'
        )
    _check_reason(reason)
    row = queries.add_away(
        session=session,
        away=Away(user_id=user_id, start=start, end=end, reason=reason or None, created_at=now),
    )
    if sprint is None:
        return row
    today = standup_day(sprint, now)
    day = max(start, sprint.sprint.start)
    while day <= min(end, today, sprint.sprint.end):
        _after_digest(session=session, sprint=sprint, day=day, now=now)
        day += timedelta(days=1)
    if start <= today <= end:
        _withdraw_dms(session=session, day=today, user=user_id)
    return row


# -- participation and the scheduled jobs ------------------------------------------------


def participation(
    *, session: Session, sprint: Sprint, day: date, participants: list[str]
) -> dict[str, Participation]:
    """Each participant's standup state for a local date. Late = answered after the digest."""
    answers = {s.user_id: s for s in queries.standups_on(session=session, day=day)}
    away_ids = queries.away_on(session=session, day=day)
    digest_at = numbers.local_instant(sprint.sprint, day, sprint.schedule.standup_digest)
    out = {}
    for user in participants:
        row = answers.get(user)
        # An answer counts, whatever absence is marked for the day after it.
        if row is not None and not row.skipped:
            late = row.created_at > digest_at
            out[user] = Participation.LATE if late else Participation.ANSWERED
        elif user in away_ids or row is not None:
            out[user] = Participation.AWAY
        else:
            out[user] = Participation.MISSING
    return out


def day_summary(
    *, session: Session, sprint: Sprint, day: date, participants: list[str] | None
) -> StandupDayMessage:
    """Data of the day's standup message: participation and blocker/help highlights."""
    sprint_day = (day - sprint.sprint.start).days + 1
    data: StandupDayMessage = {
        "day": day.isoformat(),
        "sprint_day": sprint_day,
        "days": sprint.sprint.days,
        "name": sprint.sprint.name,
    }
    if participants is None:
        return data
    states = participation(session=session, sprint=sprint, day=day, participants=participants)
    rows = queries.standups_on(session=session, day=day)
    data["answered"] = sorted(
        u for u, s in states.items() if s in (Participation.ANSWERED, Participation.LATE)
    )
    data["missing"] = sorted(u for u, s in states.items() if s is Participation.MISSING)
    data["away"] = sorted(u for u, s in states.items() if s is Participation.AWAY)
    data["expected"] = sum(1 for s in states.values() if s is not Participation.AWAY)
    blockers = [
        StandupNote(user=r.user_id, text=line)
        for r in rows
        if r.blockers
        for line in r.blockers.splitlines()
    ]
    calls = [
        StandupNote(user=r.user_id, text=r.answers["help_needed"])
        for r in rows
        if r.answers.get("help_needed")
    ]
    data["blockers"], data["blockers_total"] = blockers[:HIGHLIGHTS], len(blockers)
    data["help"], data["help_total"] = calls[:HIGHLIGHTS], len(calls)
    return data


def prompt(*, session: Session, sprint: Sprint, participants: list[str], now: datetime) -> int:
    """DM each participant (not away) the "Open standup" button, once per day."""
    day = standup_day(sprint, now)
    if not is_workday(sprint, day):
        return 0
    _ensure_day_message(session=session, sprint=sprint, day=day, now=now)
    away_ids = queries.away_on(session=session, day=day)
    answered = {s.user_id for s in queries.standups_on(session=session, day=day)}
    sent = 0
    for user in participants:
        if user in away_ids or user in answered:
            continue
        sent += _dm(session, sprint, STANDUP_PROMPT, day, user, now)
    session.flush()
    return sent


def _dm(
    session: Session, sprint: Sprint, spec: Spec[StandupDM], day: date, user: str, now: datetime
) -> bool:
    """Queue a standup DM to `user`, once per day and template; whether it is new."""
    data: StandupDM = {
        "user": user,
        "day": day.isoformat(),
        "sprint_day": (day - sprint.sprint.start).days + 1,
        "days": sprint.sprint.days,
    }
    if sprint.shown_team:
        data["team"] = sprint.shown_team
    return post(
        session=session,
        key=_dm_key(spec, day, user),
        spec=spec,
        data=data,
        now=now,
        channel=user,
    )


def prompts_key(day: date) -> str:
    """What the keys of a day's standup prompts start with (the clock times the reminder
    and the digest from when they went)."""
    return _dm_key(STANDUP_PROMPT, day, "")


def _dm_key(spec: Spec[StandupDM], day: date, user: str) -> str:
    return f"{str(spec.template).replace('_', '-')}:{day.isoformat()}:{user}"


def _withdraw_dms(*, session: Session, day: date, user: str) -> None:
    """The day's prompt and reminder to `user` taken back where they still wait to go:
    they have answered, skipped or are away (queued while Slack was down, a reminder told
    them after their answer that their standup was still open; found by review)."""
    keys = [_dm_key(spec, day, user) for spec in (STANDUP_PROMPT, STANDUP_REMINDER)]
    queries.withdraw(session=session, keys=keys)


def remind(*, session: Session, sprint: Sprint, participants: list[str], now: datetime) -> int:
    """DM those who have neither answered nor are away, once per day."""
    day = standup_day(sprint, now)
    if not is_workday(sprint, day):
        return 0
    states = participation(session=session, sprint=sprint, day=day, participants=participants)
    sent = 0
    for user, state in states.items():
        if state is not Participation.MISSING:
            continue
        sent += _dm(session, sprint, STANDUP_REMINDER, day, user, now)
    session.flush()
    return sent


def digest(*, session: Session, sprint: Sprint, participants: list[str], now: datetime) -> bool:
    """Update the day's standup message with participation and highlights, once per day."""
    day = standup_day(sprint, now)
    if not is_workday(sprint, day):
        return False
    lock_day(session=session, day=day)
    parent = _ensure_day_message(session=session, sprint=sprint, day=day, now=now)
    data = day_summary(session=session, sprint=sprint, day=day, participants=participants)
    added = post(
        session=session,
        key=f"standup-digest:{day.isoformat()}",
        spec=STANDUP_DAY,
        data=data,
        now=now,
        parent_key=parent,
        update=True,
    )
    session.flush()
    return added

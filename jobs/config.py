"""The sprint file (TOML): its schema as pydantic models, loading and cross-checks."""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections import Counter
from collections.abc import Hashable, Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The years any time sprintbot takes lies in (a sprint's days, a CI run's, `--at`): near the
# ends of `datetime`'s range, converting a time to another zone overflows.
FIRST_YEAR, LAST_YEAR = 1900, 9000
CHANNEL_KEYS = ("team", "status", "blockers")
# Roles every sprint file may name; [people] may add more (e.g. `security`).
STANDARD_ROLES = ("participants", "tech_lead", "qa_lead", "product_owner", "executives", "admins")
# Names a milestone criterion's `metric` may take (DESIGN.md, "Definitions").
SPRINT_METRICS = (
    "readiness",
    "pass_rate",
    "passing_tests",
    "failing_tests",
    "tests_fixed",
    "regressions_introduced",  # distinct tests with a passed → failed/error during the sprint
    "regressions_open",  # tests failing now that passed at some time during the sprint
    "regressions",  # the older name of regressions_open, still accepted in sprint files
    "test_files_passing",
    "benchmarks_met",
)

# Accepted for files written before the new name; not offered in messages.
_LEGACY_METRICS = ("regressions",)
PLAN_ANCHORS = ("measured", "stated")

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def is_slack_id(value: str) -> bool:
    """Whether `value` names a person (`U…`, `W…`) or a user group (`S…`) by Slack ID."""
    return _SLACK_ID.fullmatch(value) is not None


def is_user_id(value: str) -> bool:
    """Whether `value` names a person (`U…`, `W…`) by Slack ID."""
    return is_slack_id(value) and not value.startswith("S")


_CHANNEL = re.compile(r"^(?:[CGD][A-Z0-9]{2,}|#[a-z0-9][a-z0-9_.-]{0,79})$")

# Blocker severities, most urgent first.
SEVERITIES = ("P0", "P1", "P2")
# The longest component name: what Slack shows of an option in a list (75 characters),
# and the blocker and standup forms list the components. A longer name would be cut there
# (two names alike in their first 75 characters looking the same) and, past the 150 an
# option's value holds, keep both forms from opening at all; refused in the file instead,
# where whoever writes it is told at `sprintbot config check`.
COMPONENT_NAME_CHARS = 75
TEAM_ID_CHARS = 100  # a team's id, as the database keeps it (its name: 200)


class ConfigError(Exception):
    """The sprint file cannot be used; `problems` lists every error with its key path."""

    def __init__(self, path: str, problems: list[str], *, unreadable: bool = False) -> None:
        self.path = path
        self.problems = problems
        self.unreadable = unreadable  # the file itself could not be read or parsed
        super().__init__(f"{path}: " + "; ".join(problems))


class Hours(timedelta):
    """A duration written with hours, minutes or seconds ("48h", "1d12h"): that much time
    elapsed, where one written in days and weeks alone may count calendar days on the
    team's clock (a quarantine's end: "48h" across a change of daylight saving ran 49
    hours, read as 2 days; found by review)."""


def parse_duration(text: str) -> timedelta:
    """`"30m"`, `"4h"`, `"2d"`, `"1h30m"` → timedelta (`Hours` where hours, minutes or
    seconds are written); ValueError otherwise."""
    m = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m or not any(m.groups()):
        raise ValueError(f'"{text}" is not a duration; write e.g. "30m", "4h" or "2d"')
    w, d, h, mi, s = (int(g or 0) for g in m.groups())
    kind = Hours if m.group(3) or m.group(4) or m.group(5) else timedelta
    try:
        return kind(weeks=w, days=d, hours=h, minutes=mi, seconds=s)
    except OverflowError:  # (not a ValueError: a traceback, or "went wrong"; found by review)
        raise ValueError(f'"{text}" is longer than any duration can be') from None


def format_duration(delta: timedelta) -> str:
    """The inverse of parse_duration, for messages."""
    total = int(delta.total_seconds())
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return "".join(parts) or "0h"


def _duration(v: Any) -> timedelta:
    if isinstance(v, timedelta):
        return v
    return parse_duration(v)


def _clock_time(v: Any) -> time:
    if isinstance(v, time):
        if v.second or v.microsecond or v.tzinfo is not None:
            # The clock runs its jobs at whole minutes of the sprint's zone: 09:00:30 ran at
            # 09:00 and was taken for the evening's late run of the day before.
            raise ValueError(f'{v.isoformat()} is not a whole minute; write e.g. "09:00"')
        return v
    if isinstance(v, str) and re.fullmatch(r"^\d{1,2}:\d{2}$", v):
        hh, mm = (int(x) for x in v.split(":"))
        if hh < 24 and mm < 60:
            return time(hh, mm)
    raise ValueError(f'"{v}" is not a time of day; write e.g. "09:00"')


Duration = Annotated[timedelta, BeforeValidator(_duration)]
ClockTime = Annotated[time, BeforeValidator(_clock_time)]
# Numbers as the file writes them: true or false is not 1 or 0 (pydantic's lax mode takes
# them so: `days = true` was a one-day sprint), nor is a string a number; an integer is a
# float's. No infinity or NaN either (`_Model`).
Number = Annotated[float, Strict()]
Whole = Annotated[int, Strict()]
Percent = Annotated[Number, Field(ge=0, le=100)]


def _check_ids(values: list[str]) -> list[str]:
    for v in values:
        if not _SLACK_ID.fullmatch(v):
            raise ValueError(f'"{v}" is not a Slack user (U…) or user-group (S…) ID')
    return values


H = TypeVar("H", bound=Hashable)


def _repeated(values: Iterable[H]) -> H | None:
    """The first of `values` given more than once, if any."""
    return next((v for v, count in Counter(values).items() if count > 1), None)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Source(StrEnum):
    TESTS = "tests"
    MANUAL = "manual"
    METRICS = "metrics"


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class SprintInfo(_Model):
    # (At most 200, as the database keeps it: a longer one stopped the bot starting on
    # PostgreSQL, blaming DATABASE_URL; found by review.)
    name: str = Field(min_length=1, max_length=200)
    goal: str = ""
    start: date
    days: Whole = Field(ge=1, le=366)
    timezone: str = "UTC"
    workdays: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    branch: str = "main"  # the tracked branch: its tests make readiness and alerts

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f'unknown timezone "{v}"; use an IANA name such as "Europe/Berlin"'
            ) from None
        return v

    @field_validator("workdays")
    @classmethod
    def _workdays(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"unknown weekday {bad[0]!r}; use {', '.join(WEEKDAYS)}")
        if not v:
            raise ValueError(
                f"names no day; list the days the team works, of {', '.join(WEEKDAYS)}"
            )
        if (twice := _repeated(v)) is not None:
            raise ValueError(f"{twice!r} is given twice")
        return v

    @field_validator("start")
    @classmethod
    def _start(cls, v: date) -> date:
        if not FIRST_YEAR <= v.year <= LAST_YEAR - 2:
            raise ValueError(
                f"{v} is not a plausible start; a sprint starts in {FIRST_YEAR}-{LAST_YEAR - 2}"
            )
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)


class Targets(_Model):
    readiness: Percent
    pass_rate: Percent
    baseline_readiness: Percent | None = None


class Plan(_Model):
    readiness: list[Percent] | None = None
    passing: list[Annotated[Whole, Field(ge=0)]] | None = None
    # "measured": the plan's shape, rescaled so that day 1 is the measured baseline and the
    # last day the target; "stated": the file's numbers as they are.
    anchor: Literal["measured", "stated"] = "measured"

    @field_validator("anchor", mode="before")
    @classmethod
    def _anchor(cls, v: Any) -> Any:
        if v not in PLAN_ANCHORS:
            raise ValueError(
                f'{_show(v)} is not an anchor; use "measured" (the default: rescale the plan '
                'from the measured baseline to the target) or "stated" (keep its numbers as '
                "written)"
            )
        return v

    @field_validator("readiness", "passing")
    @classmethod
    def _one_per_day(cls, v: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
        days = (info.context or {}).get("days")
        if v is not None and isinstance(days, int) and len(v) != days:
            raise ValueError(f"has {len(v)} entries but the sprint has {days} days (one per day)")
        return v


class Channels(_Model):
    team: str
    status: str
    blockers: str

    @field_validator("team", "status", "blockers")
    @classmethod
    def _channel(cls, v: str) -> str:
        if not _CHANNEL.fullmatch(v):
            raise ValueError(f'"{v}" is not a channel ID (C…) or name ("#sprint-status")')
        return v


class Schedule(_Model):
    daily_report: ClockTime = time(9, 0)
    standup_prompt: ClockTime = time(9, 0)
    standup_reminder: ClockTime = time(9, 25)
    standup_digest: ClockTime = time(9, 30)
    weekly_report_days: list[Whole] = Field(default_factory=list)

    @field_validator("weekly_report_days")
    @classmethod
    def _days(cls, v: list[int], info: ValidationInfo) -> list[int]:
        _check_days(v, info)
        return v

    @model_validator(mode="before")
    @classmethod
    def _follow_the_prompt(cls, data: Any) -> Any:
        """A reminder or digest the file leaves out follows its prompt (25 and 30 minutes
        after, as the defaults do 09:00), the reminder not after a given digest, the digest
        not before a given reminder (found by review: `standup_prompt = "10:00"` alone was
        refused over a 09:25 it never wrote)."""
        if not isinstance(data, dict):
            return data
        try:
            prompt = _clock_time(data.get("standup_prompt", time(9, 0)))
            reminder = _clock_time(data.get("standup_reminder", _after(prompt, 25)))
            digest = _clock_time(data.get("standup_digest", _after(prompt, 30)))
        except ValueError:
            return data  # (the field itself says what is wrong)
        follows: dict[str, time] = {}
        if "standup_reminder" not in data:
            follows["standup_reminder"] = reminder = min(reminder, digest)
        if "standup_digest" not in data:
            follows["standup_digest"] = max(digest, reminder)
        return {**data, **follows}

    @model_validator(mode="after")
    def _in_order(self) -> Schedule:
        """The standup's prompt, then its reminder, then its digest: a reminder before the
        prompt nagged people not yet asked, and answers after the digest counted late."""
        steps = ("standup_prompt", "standup_reminder", "standup_digest")
        for before, after in itertools.pairwise(steps):
            if getattr(self, after) < getattr(self, before):
                raise ValueError(
                    f"{after} ({getattr(self, after):%H:%M}) is before {before} "
                    f"({getattr(self, before):%H:%M}); a standup is prompted, then "
                    "reminded, then digested"
                )
        return self


def _after(at: time, minutes: int) -> time:
    """`minutes` after a time of day, at the latest 23:59 (the same day)."""
    later = datetime.combine(date.min, at) + timedelta(minutes=minutes)
    return later.time() if later.date() == date.min else time(23, 59)


class Alerts(_Model):
    perf_tolerance: Annotated[Number, Field(ge=0)] = 10
    regression_ack: Duration = timedelta(hours=1)
    performance_ack: Duration = timedelta(hours=4)
    decline_ack: Duration = timedelta(hours=2)
    email_to: list[str] = Field(default_factory=list)

    @field_validator("email_to")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for addr in v:
            if not re.fullmatch(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", addr):
                raise ValueError(f'"{addr}" is not an e-mail address')
        return v


def _check_days(days: list[int], info: ValidationInfo) -> None:
    limit = (info.context or {}).get("days")
    for d in days:
        if d < 1 or (isinstance(limit, int) and d > limit):
            raise ValueError(f"day {d} is out of range: the sprint has days 1-{limit}")


def _check_notify(value: str | list[str], info: ValidationInfo) -> None:
    ctx = info.context or {}
    roles: set[str] = ctx.get("roles", set())
    names = [value] if isinstance(value, str) else value
    for n in names:
        if n in CHANNEL_KEYS or n in roles or _SLACK_ID.fullmatch(n) or _CHANNEL.fullmatch(n):
            continue
        known = ", ".join(sorted(set(CHANNEL_KEYS) | roles))
        raise ValueError(f'unknown role "{n}"; use a channel key or role ({known}) or Slack IDs')


class Escalation(_Model):
    after: Duration
    name: str = Field(min_length=1)
    notify: str | list[str]

    @field_validator("notify")
    @classmethod
    def _notify(cls, v: str | list[str], info: ValidationInfo) -> str | list[str]:
        _check_notify(v, info)
        return v


class Metric(_Model):
    # (At most 100: its alert's key holds it, within the database's 200; a longer one was a
    # 500 on PostgreSQL; found by review.)
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=100)]
    label: str = ""
    unit: str = ""
    target: Number
    better: Better
    baseline: Number | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class Component(_Model):
    name: str = Field(min_length=1)
    group: str = ""
    weight: Annotated[Number, Field(gt=0, le=1_000_000)]  # (their sum stays a number)
    target: Percent
    source: Source
    tests: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    # Starting score: the manual score until /readiness set, and the score of a tests or
    # metrics component until its first data arrives.
    score: Percent | None = None
    priority: str = ""

    @model_validator(mode="after")
    def _source_needs(self) -> Component:
        if self.source is Source.TESTS and not self.tests:
            raise ValueError('source = "tests" needs `tests`: globs on file path or classname')
        if self.source is Source.METRICS and not self.metrics:
            raise ValueError('source = "metrics" needs `metrics`: names from [[metrics]]')
        if self.source is Source.MANUAL and self.score is None:
            raise ValueError('source = "manual" needs a starting `score`')
        return self

    @field_validator("name")
    @classmethod
    def _short_name(cls, v: str) -> str:
        if len(v) > COMPONENT_NAME_CHARS:
            raise ValueError(
                f"{len(v)} characters; keep a component's name to {COMPONENT_NAME_CHARS}, what "
                "Slack shows of it in the blocker and standup forms"
            )
        return v

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, v: list[str], info: ValidationInfo) -> list[str]:
        known: set[str] | None = (info.context or {}).get("metrics")
        for m in v:
            if known is not None and m not in known:
                raise ValueError(f'unknown metric "{m}"; [[metrics]] defines {_names(known)}')
        return v

    @property
    def group_name(self) -> str:
        return self.group or self.name


class Criterion(_Model):
    metric: str | None = None
    component: str | None = None
    blockers: Literal["P0", "P1", "P2", "P0+P1"] | None = None
    benchmark: str | None = None
    op: Literal[">=", ">", "<=", "<", "==", "!="]
    value: Number
    label: str = ""

    @model_validator(mode="after")
    def _one_subject(self) -> Criterion:
        subjects = [x for x in (self.metric, self.component, self.blockers, self.benchmark) if x]
        if len(subjects) != 1:
            raise ValueError("name exactly one of metric, component, blockers, benchmark")
        return self

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: str | None) -> str | None:
        if v is not None and v not in SPRINT_METRICS:
            offered = [m for m in SPRINT_METRICS if m not in _LEGACY_METRICS]
            raise ValueError(f'unknown metric "{v}"; use one of {", ".join(offered)}')
        return v

    @field_validator("component")
    @classmethod
    def _component(cls, v: str | None, info: ValidationInfo) -> str | None:
        ctx = info.context or {}
        leaves: set[str] | None = ctx.get("components")
        groups: set[str] = ctx.get("groups") or set()
        if v is not None and leaves is not None and v not in leaves | groups:
            raise ValueError(
                f'unknown component "{v}"; name a component ({_names(leaves)}) '
                f"or a group ({_names(groups - leaves)})"
            )
        return v

    @field_validator("benchmark")
    @classmethod
    def _benchmark(cls, v: str | None, info: ValidationInfo) -> str | None:
        known: set[str] | None = (info.context or {}).get("metrics")
        if v is not None and known is not None and v not in known:
            raise ValueError(f'unknown benchmark "{v}"; [[metrics]] defines {_names(known)}')
        return v


class Milestone(_Model):
    day: Whole
    name: str = Field(min_length=1)
    criteria: list[Criterion] = Field(default_factory=list)
    signoffs: list[str] = Field(default_factory=list)
    review: str = ""

    @field_validator("day")
    @classmethod
    def _day(cls, v: int, info: ValidationInfo) -> int:
        _check_days([v], info)
        return v

    @field_validator("signoffs")
    @classmethod
    def _signoffs(cls, v: list[str], info: ValidationInfo) -> list[str]:
        # A role or a person signs, never a channel: `signoffs = ["team"]` was accepted,
        # and its button refused everyone, so the milestone could never be signed (found
        # by review).
        roles: set[str] = (info.context or {}).get("roles", set())
        for role in v:
            if role not in roles and not _SLACK_ID.fullmatch(role):
                known = ", ".join(sorted(roles))
                raise ValueError(
                    f'"{role}" cannot sign off: name a role ({known}) or Slack user IDs'
                )
        twice = sorted({role for role in v if v.count(role) > 1})
        if twice:
            # (Its request's buttons would share an action_id, which Slack refuses.)
            raise ValueError(f'"{twice[0]}" is named twice; name each role once')
        return v


class CauseCategory(_Model):
    """A `[[causes]]` entry: failures whose message matches `pattern` (a Python regular
    expression, searched anywhere in the message) are grouped under `name`."""

    name: str = Field(min_length=1, max_length=80)
    pattern: str = Field(min_length=1, max_length=1000)

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return v

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)  # re caches compiled patterns


class Flaky(_Model):
    """`[flaky]`: when a test counts as flaky across runs, and what quarantine means.

    A test is flaky when it passed and failed on the same commit, or when its last `window`
    runs hold at least `flip_rate` x `window` changes between passing and failing (a young
    test is judged over the same `window`, so a short history never makes it flaky alone).
    A quarantined test never alerts; it leaves quarantine when `quarantine_for` is up or
    after passing `release_after` runs in a row, and counts in readiness as `readiness`
    says: left out (`exclude`) or as failing (`failing`)."""

    window: Annotated[Whole, Field(ge=2, le=200)] = 20
    flip_rate: Annotated[Number, Field(gt=0, le=1)] = 0.2
    quarantine_for: Duration = timedelta(days=14)
    release_after: Annotated[Whole, Field(ge=0, le=1000)] = 10  # 0: only expiry releases
    readiness: Literal["exclude", "failing"] = "exclude"
    auto_quarantine: bool = False  # quarantine a test as soon as it is found flaky

    @field_validator("quarantine_for")
    @classmethod
    def _quarantine_for(cls, v: timedelta) -> timedelta:
        if not timedelta(hours=1) <= v <= timedelta(days=365):
            raise ValueError("must be between 1h and 365d")
        return v

    @property
    def flips(self) -> int:
        """The changes within the window that make a test flaky."""
        return math.ceil(self.flip_rate * self.window - 1e-9)

    @model_validator(mode="after")
    def _two_changes_at_least(self) -> Flaky:
        if self.flips < 2:
            raise ValueError(
                f"flip_rate x window is {self.flip_rate * self.window:g} changes: make it at "
                "least 2 (one change is a regression or a fix, not flakiness)"
            )
        return self


def _short_duration(v: Any) -> timedelta:
    """A duration as parse_duration reads it, or in milliseconds ("500ms")."""
    if isinstance(v, timedelta):
        return v
    m = re.fullmatch(r"\s*(\d+)ms\s*", v) if isinstance(v, str) else None
    if m:
        return timedelta(milliseconds=int(m.group(1)))
    try:
        return parse_duration(v)
    except ValueError:
        raise ValueError(f'"{v}" is not a duration; write e.g. "500ms", "1s" or "2m"') from None


class Durations(_Model):
    """`[durations]`: when the daily report calls a test slower than it was. Its latest
    duration must be at least `slow_factor` times its median over the `window` timed runs
    before it, and at least `slow_floor` (so a 2 ms test taking 6 ms is never news); the
    suite's total time is compared with the median of the same runs' totals."""

    slow_factor: Annotated[Number, Field(gt=1, le=1000)] = 2.0
    slow_floor: Annotated[timedelta, BeforeValidator(_short_duration)] = timedelta(seconds=1)
    # Each run read adds ~10-15 ms per 20,000 tests to the daily report: 20 at most.
    window: Annotated[Whole, Field(ge=3, le=20)] = 10

    @field_validator("slow_floor")
    @classmethod
    def _floor(cls, v: timedelta) -> timedelta:
        if not timedelta(0) < v <= timedelta(hours=1):
            raise ValueError("must be more than 0s and at most 1h")
        return v


class TestArea(_Model):
    """A row of the tracker's "Test Coverage by Component" table, as the team stated it."""

    name: str
    total: Annotated[Whole, Field(ge=0)]
    passing: Annotated[Whole, Field(ge=0)]
    failing: Annotated[Whole, Field(ge=0)]
    coverage: Percent | None = None
    target: Percent | None = None


class Baseline(_Model):
    """What the tracker stated at sprint start; checked against its own parts."""

    total_tests: Annotated[Whole, Field(ge=0)] | None = None
    passing_tests: Annotated[Whole, Field(ge=0)] | None = None
    failing_tests: Annotated[Whole, Field(ge=0)] | None = None
    test_files: Annotated[Whole, Field(ge=0)] | None = None
    test_files_passing: Annotated[Whole, Field(ge=0)] | None = None
    areas: list[TestArea] = Field(default_factory=list)


class Owners(_Model):
    """An `[[owners]]` entry: tests matching `tests` (globs as in [[components]]) belong to
    `notify` (Slack users or user groups); the first entry that matches a test wins."""

    tests: list[str] = Field(min_length=1)
    notify: list[str] = Field(min_length=1)

    @field_validator("notify")
    @classmethod
    def _notify(cls, v: list[str]) -> list[str]:
        return _check_ids(v)


class Codeowners(_Model):
    """`[codeowners]`: a CODEOWNERS file (GitHub's format; a relative `file` is read from the
    sprint file's folder) and the Slack user or user group of each of its handles."""

    file: str = Field(min_length=1)
    handles: dict[str, str] = Field(default_factory=dict)
    _text: str = PrivateAttr(default="")  # the file's text, read by validate_sprint

    @field_validator("handles")
    @classmethod
    def _handles(cls, v: dict[str, str]) -> dict[str, str]:
        for handle, slack_id in v.items():
            if not re.fullmatch(r"^@[\w.-]+(?:/[\w.-]+)?$|^[^@\s]+@[^@\s]+$", handle):
                raise ValueError(
                    f'"{handle}" is not a CODEOWNERS handle; write "@user", "@org/team" '
                    "or an e-mail address"
                )
            if not _SLACK_ID.fullmatch(slack_id):
                raise ValueError(
                    f'"{handle}": "{slack_id}" is not a Slack user (U…) or user-group (S…) ID'
                )
        return v

    @property
    def text(self) -> str:
        return self._text


def _read_codeowners(sprint: Sprint, path: str) -> list[str]:
    """Read the CODEOWNERS file `[codeowners] file` names into the sprint; its problems."""
    if sprint.codeowners is None:
        return []
    where = Path(path).parent / sprint.codeowners.file
    try:
        sprint.codeowners._text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [
            f"codeowners.file: {where} not found "
            "(a relative path is read from the sprint file's folder)"
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return [f"codeowners.file: cannot read {where}: {exc}"]
    return []


# The fewest days a [retention] key may say, where not one: the margin may be none; a
# delivered message's contents are kept at least as long as a morning's refresh of App Home
# reads them back (`jobs.reports.HOME_REFRESH_DAYS`).
_LEAST_DAYS = {"margin_days": 0, "outbox_days": 7}


def _days_field(v: Any, info: ValidationInfo) -> int:
    """A whole number of days within its key's bounds, or a one-line reason."""
    low = _LEAST_DAYS.get(info.field_name or "", 1)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{_show(v)} is not a number of days; write a whole number, e.g. 90")
    if not low <= v <= 36_500:
        raise ValueError(f"{v} days is out of range: write {low} to 36500")
    return v


class Retention(_Model):
    """How long raw history is kept ([retention]; absent: everything is kept for ever).

    The daily `retention` job deletes what is older than each horizon, but never anything
    from `margin_days` (at least one) before the sprint's start on; a test's pruned status
    changes fold into its state, so every figure as of an instant whose previous local day
    began after the horizon (the whole sprint's, its baseline included) stays exactly what
    it was. A past sprint's figures read its history from its start: once that is past the
    horizon, `?at=` in it is refused.
    """

    results_days: Whole = 90  # test status changes, readiness snapshots, reports' lists of tests
    statuses_days: Whole = 14  # each report's packed statuses (a full copy per run): first to go
    metrics_days: Whole = 90  # benchmark samples (each metric's latest before it is kept)
    standups_days: Whole = 180  # standup answers and skips (days away stay: a person's)
    # What delivered (or refused) outbox messages said; their keys stay, so none is ever
    # sent twice. Serves no figure, so the margin does not hold it back.
    outbox_days: Whole = 30
    margin_days: Whole = 7  # kept before the sprint's start whatever the horizons say

    _days = field_validator(
        "results_days",
        "statuses_days",
        "metrics_days",
        "standups_days",
        "outbox_days",
        "margin_days",
        mode="before",
    )(_days_field)


class Sprint(_Model):
    """A whole sprint file. Field order matters: later sections are checked against earlier."""

    sprint: SprintInfo
    targets: Targets
    plan: Plan = Plan()
    channels: Channels
    people: dict[str, list[str] | str] = Field(default_factory=dict)
    schedule: Schedule = Schedule()
    alerts: Alerts = Alerts()
    escalation: list[Escalation] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    components: list[Component] = Field(min_length=1)
    owners: list[Owners] = Field(default_factory=list)  # who owns which tests
    codeowners: Codeowners | None = None
    milestones: list[Milestone] = Field(default_factory=list)
    baseline: Baseline = Baseline()
    retention: Retention | None = None
    causes: list[CauseCategory] = Field(default_factory=list)  # first match names a failure
    flaky: Flaky = Flaky()
    durations: Durations = Durations()  # slow-test regressions, the suite's time

    @field_validator("people")
    @classmethod
    def _people(cls, v: dict[str, list[str] | str]) -> dict[str, list[str] | str]:
        for role, ids in v.items():
            if isinstance(ids, str):
                if role != "participants" or ids != "team":
                    raise ValueError(
                        f'{role}: write a list of IDs (only participants may be "team")'
                    )
            else:
                try:
                    _check_ids(ids)
                except ValueError as exc:
                    raise ValueError(f"{role}: {exc}") from None
        return v

    @field_validator("escalation")
    @classmethod
    def _escalation_order(cls, v: list[Escalation]) -> list[Escalation]:
        afters = [e.after for e in v]
        if afters != sorted(afters):
            raise ValueError("steps must be listed in order of `after`")
        return v

    @field_validator("metrics", "causes")
    @classmethod
    def _unique_names(
        cls, v: list[Metric] | list[CauseCategory], info: ValidationInfo
    ) -> list[Metric] | list[CauseCategory]:
        dup = _repeated(x.name for x in v)
        if dup is not None:
            what = {"metrics": "metric", "causes": "cause"}[str(info.field_name)]
            raise ValueError(f'duplicate {what} "{dup}"')
        return v

    @field_validator("milestones")
    @classmethod
    def _unique_milestones(cls, v: list[Milestone]) -> list[Milestone]:
        dup = _repeated(m.day for m in v)
        if dup is not None:
            raise ValueError(f"two milestones on day {dup}")
        return v

    # -- lookups -------------------------------------------------------------------------
    def component(self, name: str) -> Component | None:
        """The component called `name`, case-insensitively."""
        for c in self.components:
            if c.name.lower() == name.strip().lower():
                return c
        return None

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    @property
    def tested(self) -> bool:
        """Whether some component is scored from tests (else CI counts toward nothing)."""
        return any(c.source is Source.TESTS for c in self.components)

    def role(self, name: str) -> list[str]:
        """IDs for a role; [] when the role is unset or is "team". A person or user group
        named by ID where a role may be (a milestone's `signoffs`) is that ID."""
        if name not in self.people and is_slack_id(name):
            return [name]
        v = self.people.get(name, [])
        return [] if isinstance(v, str) else list(v)

    def channel(self, key: str) -> str:
        value: str = getattr(self.channels, key)
        return value

    # Set by load_org when it reads several teams: the sprint's team id, and the channels
    # of this sprint's file that another team's file names too.
    _team: str | None = PrivateAttr(default=None)
    _shared: frozenset[str] = PrivateAttr(default=frozenset())

    @property
    def shown_team(self) -> str | None:
        """The team's id where SPRINTBOT_CONFIG names several teams (a DM from the bot then
        says which team it is for); None for one team, whose messages stay as they were."""
        return self._team

    def shared(self, *channels: str) -> bool:
        """Whether another team's people read one of `channels` too (a channel two teams
        use, a DM), where SPRINTBOT_CONFIG names several teams."""
        return bool(self._team) and any(
            c in self._shared or c.startswith(("U", "W")) for c in channels
        )

    def shown_code(self, code: str, *channels: str) -> str:
        """A blocker or risk code as shown in `channels`: with the team ("platform B-001")
        where another team's people read too (`shared`), else as is."""
        return f"{self._team} {code}" if self.shared(*channels) else code

    @property
    def groups(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.components:
            seen.setdefault(c.group_name, None)
        return list(seen)


def _names(known: set[str]) -> str:
    return ", ".join(sorted(known)) or "none"


def _show(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v)


def _context(raw: dict[str, Any]) -> dict[str, Any]:
    """Names from the raw file that later sections may refer to (read leniently here;
    the models check each section properly)."""

    def names(key: str) -> set[str] | None:
        items = raw.get(key)
        if not isinstance(items, list):
            return None
        return {i["name"] for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)}

    def groups() -> set[str]:
        items = raw.get("components")
        if not isinstance(items, list):
            return set()
        return {
            i["group"]
            for i in items
            if isinstance(i, dict) and isinstance(i.get("group"), str) and i["group"]
        }

    sprint = raw.get("sprint") if isinstance(raw.get("sprint"), dict) else {}
    days = sprint.get("days") if isinstance(sprint, dict) else None
    people = raw.get("people") if isinstance(raw.get("people"), dict) else {}
    return {
        "days": days if type(days) is int and days >= 1 else None,
        "roles": set(STANDARD_ROLES) | set(people or {}),
        "metrics": names("metrics"),
        "components": names("components"),  # leaves
        "groups": groups(),  # their `group`s (a leaf without one is its own group)
    }


def _duplicate_components(raw: dict[str, Any]) -> list[str]:
    items = raw.get("components")
    if not isinstance(items, list):
        return []
    seen: dict[str, int] = {}
    problems = []
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        key = name.strip().lower()
        if key in seen:
            problems.append(
                f'components[{i}].name: duplicate component "{name}" '
                f"(first at components[{seen[key]}])"
            )
        else:
            seen[key] = i
    return problems


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after[_duration()]", "function-before[_duration()]"):
            continue
        elif not part.startswith(("function-", "list[", "str", "int", "float")):
            out += f".{part}" if out else part
    return out or "(file)"


def _messages(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        problems.append(f"{_loc(err['loc'])}: {msg}")
    # A union such as `str | list[str]` reports once per branch; keep the first of each path.
    unique: dict[str, str] = {}
    for p in problems:
        unique.setdefault(p.split(": ", 1)[0], p)
    return list(unique.values())


def validate_sprint(raw: dict[str, Any], *, path: str = "sprint file") -> Sprint:
    """Validate a parsed sprint file; raise ConfigError listing every problem found."""
    problems = _duplicate_components(raw)
    sprint: Sprint | None = None
    try:
        sprint = Sprint.model_validate(raw, context=_context(raw))
    except ValidationError as exc:
        problems += _messages(exc)
    if sprint is not None:
        problems += _read_codeowners(sprint, path)
    if problems or sprint is None:
        raise ConfigError(path, problems)
    return sprint


def load_sprint(path: str | Path) -> Sprint:
    """Read and validate the sprint file at `path`."""
    p = Path(path)
    return validate_sprint(_read_toml(p), path=str(p))


# -- teams and sprints (DESIGN.md, "Teams and sprints") -----------------------------------

_TEAM_ID = r"^[a-z0-9][a-z0-9-]*$"
# A [[sprints]] entry's keys that make its [sprint] table, and those that are its own tables.
_ENTRY_KEYS = ("name", "goal", "start", "days")
_ENTRY_TABLES = ("targets", "plan", "milestones", "baseline")
# [team] keys every sprint of the team takes into its [sprint] table.
_TEAM_SPRINT_KEYS = ("timezone", "workdays", "branch")


class TeamInfo(_Model):
    """A team file's [team] table; in a one-sprint file only `id` and `name` are allowed."""

    id: str | None = Field(default=None, max_length=TEAM_ID_CHARS)  # (as the database keeps them)
    name: str = Field(default="", max_length=200)
    timezone: str = "UTC"
    workdays: list[str] | None = None
    branch: str | None = None
    # The environment variable holding this team's own API token (CI of one team).
    ingest_token_env: str | None = None

    @field_validator("ingest_token_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"^[A-Za-z_][A-Za-z0-9_]*$", v):
            raise ValueError(f'"{v}" is not an environment variable name, e.g. PLATFORM_TOKEN')
        return v

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(_TEAM_ID, v):
            raise ValueError(f'"{v}" is not a team id; use lowercase letters, digits and dashes')
        return v


class _TeamTable(_Model):
    team: TeamInfo = TeamInfo()


class Team(_Model):
    """One team and its sprints (by start date); each sprint is a whole `Sprint`, the team's
    tables repeated in each, so the rest of the code keeps taking a `Sprint`."""

    id: str
    name: str
    path: str
    sprints: list[Sprint] = Field(min_length=1)
    single: bool = False  # a one-sprint file ([sprint]), as every file was before teams
    ingest_token_env: str | None = None  # [team] ingest_token_env: its own API token's variable
    id_given: bool = False  # the id is its file's [team] id, not the file's name

    @property
    def tz(self) -> ZoneInfo:
        return self.sprints[0].sprint.tz

    @property
    def channels(self) -> Channels:
        return self.sprints[0].channels


class Org(_Model):
    """Every team SPRINTBOT_CONFIG names: one for a file, one per `*.toml` for a directory."""

    path: str
    teams: list[Team] = Field(min_length=1)


def team_today(team: Team, *, now: datetime) -> date:
    """The team's local calendar date at the aware instant `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(team.tz).date()


def sprint_at(team: Team, *, now: datetime) -> Sprint | None:
    """The team's sprint whose days contain today in the team's zone; None between sprints."""
    today = team_today(team, now=now)
    return next((s for s in team.sprints if s.sprint.start <= today <= s.sprint.end), None)


def next_sprint(team: Team, *, now: datetime) -> Sprint | None:
    """The team's first sprint starting after today (its zone), if any."""
    today = team_today(team, now=now)
    return next((s for s in team.sprints if s.sprint.start > today), None)


def sprint_to_serve(team: Team, *, now: datetime) -> Sprint:
    """The sprint a process serves from its start: the current one; between sprints the next
    (whose phase says when it starts), after the last one that one (whose phase says it ended)."""
    return sprint_at(team, now=now) or next_sprint(team, now=now) or team.sprints[-1]


def _slug(stem: str) -> str:
    """A team id from a file name: `Sprint File.toml` → `sprint-file`."""
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "team"


def _read_toml(p: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            str(p), ["file not found (set SPRINTBOT_CONFIG)"], unreadable=True
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), [f"cannot read: {exc}"], unreadable=True) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(p), [f"not valid TOML: {exc}"], unreadable=True) from None


def _team_info(raw: dict[str, Any], *, path: str, one_sprint: bool) -> TeamInfo:
    table = raw.get("team", {})
    problems = []
    if one_sprint and isinstance(table, dict):
        # A one-sprint file keeps its zone, workdays and branch in [sprint], as it always has
        # (its team's own API token is the team's).
        problems += [
            f"team.{key}: unknown key (a file with [sprint] keeps it in [sprint])"
            for key in table
            if key not in ("id", "name", "ingest_token_env")
        ]
    try:
        info = _TeamTable.model_validate({"team": table}).team
    except ValidationError as exc:
        problems += _messages(exc)
    if problems:
        raise ConfigError(path, problems)
    return info


def _sprint_raw(raw: dict[str, Any], info: TeamInfo, entry: dict[str, Any]) -> dict[str, Any]:
    """One [[sprints]] entry with its team's tables, as a one-sprint file would hold them."""
    shared = {k: v for k, v in raw.items() if k not in ("team", "sprints")}
    team_keys = info.model_dump(include=set(_TEAM_SPRINT_KEYS), exclude_none=True)
    sprint = {k: entry[k] for k in _ENTRY_KEYS if k in entry} | team_keys
    return shared | {"sprint": sprint} | {k: entry[k] for k in _ENTRY_TABLES if k in entry}


def _entry_problem(problem: str, index: int) -> str:
    """A problem found in a composed sprint, named by where it is in the team file."""
    loc, _, msg = problem.partition(": ")
    head = re.split(r"[.\[]", loc, maxsplit=1)[0]
    if loc.startswith(tuple(f"sprint.{k}" for k in _TEAM_SPRINT_KEYS)):
        return f"team.{loc.removeprefix('sprint.')}: {msg}"
    if head == "sprint":
        return f"sprints[{index}]{loc.removeprefix('sprint')}: {msg}"
    if head in _ENTRY_TABLES:
        return f"sprints[{index}].{loc}: {msg}"
    return problem  # a team table: the same problem in every sprint, reported once


def _team_sprints(raw: dict[str, Any], info: TeamInfo, *, path: str) -> list[Sprint]:
    entries = raw.get("sprints")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(path, ["sprints: list at least one sprint ([[sprints]])"])
    problems = [f"{key}: belongs in each [[sprints]] entry" for key in _ENTRY_TABLES if key in raw]
    sprints = []
    shared: dict[str, list[int]] = {}  # a team table's problem: the sprints it is one in
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"sprints[{i}]: write a table ([[sprints]])")
            continue
        allowed = _ENTRY_KEYS + _ENTRY_TABLES
        problems += [
            f"sprints[{i}].{k}: unknown key (check its spelling)" for k in entry if k not in allowed
        ]
        try:
            sprints.append(validate_sprint(_sprint_raw(raw, info, entry), path=path))
        except ConfigError as exc:
            for problem in exc.problems:
                shown = _entry_problem(problem, i)
                if shown == problem:
                    shared.setdefault(problem, []).append(i)
                else:
                    problems.append(shown)
    for problem, at in shared.items():
        # Reported once; named by the sprints it is a problem in where not all (a day
        # out of range of the shorter sprint only; found by review).
        if len(at) < len(entries):
            which = ", ".join(f'sprints[{i}] "{entries[i].get("name", "")}"' for i in at)
            problem = f"{problem} (in {which})"
        problems.append(problem)
    problems += _sprint_clashes(sprints) if len(sprints) == len(entries) else []
    if problems:
        raise ConfigError(path, list(dict.fromkeys(problems)))
    return sprints


def _sprint_clashes(sprints: list[Sprint]) -> list[str]:
    """Sprint names repeated within a team, and sprints whose days overlap."""
    problems = []
    seen: dict[str, int] = {}
    for i, s in enumerate(sprints):
        first = seen.setdefault(s.sprint.name.strip().lower(), i)
        if first != i:
            problems.append(
                f'sprints[{i}].name: duplicate sprint "{s.sprint.name}" (first at sprints[{first}])'
            )
    for i, a in enumerate(sprints):
        for j, b in enumerate(sprints[i + 1 :], start=i + 1):
            since, until = max(a.sprint.start, b.sprint.start), min(a.sprint.end, b.sprint.end)
            if since <= until:
                problems.append(
                    f'sprints[{j}].start: sprints[{i}] "{a.sprint.name}" ({a.sprint.start} to '
                    f'{a.sprint.end}) and sprints[{j}] "{b.sprint.name}" ({b.sprint.start} to '
                    f"{b.sprint.end}) overlap on {since} to {until}"
                )
    return problems


def load_team(path: str | Path) -> Team:
    """Read and validate one team file: a one-sprint file (`[sprint]`, as always) or a team
    file (`[team]` and `[[sprints]]`)."""
    p = Path(path)
    raw = _read_toml(p)
    one_sprint = "sprints" not in raw and ("sprint" in raw or "team" not in raw)
    if "sprint" in raw and "sprints" in raw:
        raise ConfigError(str(p), ["sprint: give [sprint] (one sprint) or [[sprints]], not both"])
    if isinstance(raw.get("sprint"), list):
        raise ConfigError(
            str(p), ["sprint: a team's sprints are [[sprints]] (one sprint alone is [sprint])"]
        )
    info = _team_info(raw, path=str(p), one_sprint=one_sprint)
    if one_sprint:
        own = {k: v for k, v in raw.items() if k != "team"}
        sprints = [validate_sprint(own, path=str(p))]
    else:
        sprints = sorted(_team_sprints(raw, info, path=str(p)), key=lambda s: s.sprint.start)
    team_id = info.id or _slug(p.stem)
    if len(team_id) > TEAM_ID_CHARS:  # (from the file's name: as a typed one is; found by review)
        raise ConfigError(
            str(p),
            [
                f"team: the id from the file's name has {len(team_id)} characters; keep it to "
                f"{TEAM_ID_CHARS} (a shorter file name, or [team] id)"
            ],
        )
    return Team(
        id=team_id,
        name=info.name or team_id,
        path=str(p),
        sprints=sprints,
        single=one_sprint,
        ingest_token_env=info.ingest_token_env,
        id_given=info.id is not None,
    )


def load_org(path: str | Path) -> Org:
    """Read SPRINTBOT_CONFIG: one team file, or a directory of them (`*.toml`), checked
    together; a problem in a directory names its file."""
    p = Path(path)
    if not p.is_dir():
        return Org(path=str(p), teams=[load_team(p)])
    # As the shell's `*.toml` lists them: no hidden files (an editor's lock link, macOS's
    # `._` copies: every process refused to start over files `ls` does not show; found by
    # review), and files only (a link to one is one).
    files = sorted(f for f in p.glob("*.toml") if not f.name.startswith(".") and f.is_file())
    if not files:
        raise ConfigError(str(p), ["no team files (*.toml) in this directory"], unreadable=True)
    teams, problems = [], []
    for f in files:
        try:
            teams.append(load_team(f))
        except ConfigError as exc:
            problems += [f"{f.name}: {problem}" for problem in exc.problems]
    problems += _team_clashes(teams)
    if problems:
        raise ConfigError(str(p), problems)
    _mark_shared(teams)
    return Org(path=str(p), teams=teams)


def _mark_shared(teams: list[Team]) -> None:
    """Tell each sprint of several teams its team and the channels it shares (shown_code)."""
    if len(teams) < 2:
        return
    users: dict[str, set[str]] = {}
    for t in teams:
        for s in t.sprints:
            for channel in _posts_to(s):
                users.setdefault(channel, set()).add(t.id)
    for t in teams:
        for s in t.sprints:
            s._team = t.id
            s._shared = frozenset(c for c in _posts_to(s) if len(users[c]) > 1)


def _posts_to(sprint: Sprint) -> set[str]:
    """The channels a sprint posts in: its three, and those its escalation steps notify
    (two teams' steps calling one leads' channel showed two "B-001" there, neither saying
    whose; found by review)."""
    steps = (
        n
        for step in sprint.escalation
        for n in ([step.notify] if isinstance(step.notify, str) else step.notify)
    )
    return set(sprint.channels.model_dump().values()) | {
        n for n in steps if n not in CHANNEL_KEYS and _CHANNEL.fullmatch(n)
    }


def _team_clashes(teams: list[Team]) -> list[str]:
    """Team ids used twice, and a channel that is two teams' team channel."""
    problems = []
    ids: dict[str, Team] = {}
    channels: dict[str, Team] = {}
    for t in teams:
        name = Path(t.path).name
        first = ids.setdefault(t.id, t)
        if first is not t:
            problems.append(
                f'{name}: team.id: "{t.id}" is already the id of {Path(first.path).name}'
            )
        owner = channels.setdefault(t.channels.team, t)
        if owner is not t:
            problems.append(
                f'{name}: channels.team: "{t.channels.team}" is already the team channel of '
                f'team "{owner.id}" ({Path(owner.path).name})'
            )
    return problems

"""Quarantine: flaky tests set apart, with who, why, since when and until when.

A quarantined test's failures never alert (ingestion reports them as flaky) and readiness
counts it as `[flaky] readiness` says (`adjusted`). It leaves quarantine when its time is
up (`release_expired`, a clock job), after passing `[flaky] release_after` runs in a row
(`count_runs`, at ingestion), or by hand (`/tests unquarantine`); each release is
announced to the team, naming the test's owners. Released rows stay as the test's record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal, NotRequired, TypedDict

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from jobs import notices
from jobs.config import Hours, Sprint, format_duration, parse_duration
from jobs.errors import SprintError
from jobs.messages import Spec, Template
from jobs.owners import OwnerMap, union
from jobs.readiness import record_readiness
from storage import queries
from storage.models import KnownTest, Quarantine, TestStatus
from storage.queries import quarantine as store
from storage.queries._common import insert_unless_taken

BY_SPRINTBOT = "sprintbot"  # `by` of a quarantine sprintbot started (a test found flaky)
TIME_UP = "its time is up"  # the release reason of a quarantine past its `until`
SHOWN = 10  # the tests a notice names; the rest are counted

_FAILING = {TestStatus.FAILED, TestStatus.ERROR}


class QuarantineError(SprintError):
    """A quarantine asked for that cannot be; the message says how to ask."""


class ShownTest(TypedDict):
    id: int
    name: str  # classname::name
    why: NotRequired[str]  # why it is flaky, where sprintbot found it so


class QuarantineChange(TypedDict):
    """Tests put in or let out of quarantine (`quarantine_change`)."""

    action: Literal["quarantined", "extended", "moved", "released"]  # moved: to sooner
    by: str  # a Slack user id, or BY_SPRINTBOT
    reason: str  # why quarantined, or why released
    until: NotRequired[str]  # ISO instant; when quarantined
    tests: list[ShownTest]  # the first SHOWN
    count: int
    owners: list[str]


class FlakyFound(TypedDict):
    """Tests found flaky and not quarantined (`flaky_found`): their failures did not alert."""

    tests: list[ShownTest]  # the first SHOWN
    count: int
    test_ids: list[int]  # every one, for the Quarantine button
    quarantine_for: str
    owners: list[str]
    # The report that found them: a button whose value cannot hold every id names it, and
    # the click reads the ids from this notice (missing from notices queued before).
    report: NotRequired[int]


QUARANTINE_CHANGE: Spec[QuarantineChange] = Spec(Template.QUARANTINE_CHANGE)
FLAKY_FOUND: Spec[FlakyFound] = Spec(Template.FLAKY_FOUND)


class Listed(TypedDict):
    """A quarantined test, as `GET /api/v1/quarantine` and `/tests quarantined` list it."""

    id: int
    classname: str
    name: str
    by: str
    reason: str
    since: str
    until: str
    passes: int
    owners: list[str]


def full_name(test: KnownTest) -> str:
    return f"{test.classname}::{test.name}"


def shown(tests: Sequence[KnownTest], why: Mapping[int, str] | None = None) -> list[ShownTest]:
    shown: list[ShownTest] = []
    for t in tests[:SHOWN]:
        item: ShownTest = {"id": t.id or 0, "name": full_name(t)}
        if why and t.id in why:
            item["why"] = why[t.id or 0]
        shown.append(item)
    return shown


def owners_of(sprint: Sprint, tests: Iterable[KnownTest]) -> list[str]:
    """Every owner of these tests once, in id order (`[[owners]]`, else CODEOWNERS)."""
    if not sprint.owners and sprint.codeowners is None:
        return []
    owner_map = OwnerMap(sprint)
    return sorted(union(owner_map(t.file, t.classname) for t in tests))


def period_text(delta: timedelta) -> str:
    """A quarantine's length as people write it: `14d`, `36h`."""
    if delta.days and not delta.seconds and not isinstance(delta, Hours):
        return f"{delta.days}d"  # ("48h" stays hours: it lasts 48 of them; found by review)
    return format_duration(delta)


def parse_period(text: str, sprint: Sprint) -> timedelta:
    """`for 7d`, `7d`, or nothing (the sprint's `[flaky] quarantine_for`)."""
    text = text.strip().removeprefix("for ").strip()
    if not text:
        return sprint.flaky.quarantine_for
    try:
        period = parse_duration(text)
    except ValueError:
        raise QuarantineError(
            f'"{text}" is not a time: write e.g. `for 7d` or `for 12h` (at most 365d).'
        ) from None
    if not timedelta(hours=1) <= period <= timedelta(days=365):
        raise QuarantineError("A quarantine lasts between 1h and 365d: e.g. `for 7d`.")
    return period


@dataclass(frozen=True)
class Quarantined:
    """What a quarantine request did."""

    added: int  # tests newly quarantined
    extended: int  # tests already quarantined, now until the new time
    until: datetime
    kept: int = 0  # tests already quarantined and left as they were (`keep_held`)


UNSAID = "flaky"  # a quarantine's reason where none was given


def ends(now: datetime, period: timedelta, tz: tzinfo) -> datetime:
    """When a quarantine of `period` from `now` ends: days are calendar days on the team's
    clock (14d from 10:00 ends at 10:00, over a change of daylight saving too: it ran to
    09:00; found by review), a time written in hours (`Hours`: "48h") that many hours."""
    if isinstance(period, Hours) or period % timedelta(days=1):
        return now + period
    return (now.astimezone(tz) + period).astimezone(UTC)


def quarantine(
    *,
    session: Session,
    sprint: Sprint,
    tests: Sequence[KnownTest],
    by: str,
    reason: str | None,
    now: datetime,
    period: timedelta | None = None,
    why: Mapping[int, str] | None = None,
    parent_key: str | None = None,
    snapshot: bool = True,
    keep_held: bool = False,
) -> Quarantined:
    """Quarantine these tests until `now + period` (default `[flaky] quarantine_for`); a
    test already quarantined gets the new end — or, with `keep_held` (a button: nobody
    chose an end), stays as it was (a lead's 60 days for a known bug were cut to the
    button's 14, its reason replaced; found by review). `reason` None: none was given, so
    a held test keeps its own (a lead's "infra bug INFRA-12" became "flaky" when the end
    was moved; found by review) and a new one's is "flaky". Announced in the team's channel, or
    in the thread of `parent_key` (the alert whose button asked). Readiness is snapshot
    anew (`snapshot`; ingestion snapshots once for all it did)."""
    if not tests:
        raise QuarantineError("No test to quarantine.")
    until = ends(now, period or sprint.flaky.quarantine_for, sprint.sprint.tz)
    given = reason
    reason = UNSAID if given is None else given
    already = kept = sooner = 0
    moved: list[KnownTest] = []
    for test in tests:
        row = Quarantine(test_id=test.id or 0, by=by, reason=reason, since=now, until=until)
        # One open quarantine a test (a unique index): a concurrent request may have made
        # it since we looked; then it is given the new end like any held one.
        if insert_unless_taken(session, row):
            moved.append(test)
            continue
        held_rows = store.open_quarantines(session=session, test_ids=[test.id or 0])
        # One past its end that the clock has yet to release holds nothing (found by
        # review): it ends at its end, as the clock would say, and a new one begins now.
        # (Given the new end instead, it ran on through the time between, and the figures
        # of that time, asked again, changed.)
        if held_rows and all(held.until <= now for held, _ in held_rows):
            for held, _ in held_rows:
                held.released_at, held.released_by = held.until, BY_SPRINTBOT
                held.release_reason = TIME_UP
                session.add(held)
            session.flush()
            again = Quarantine(test_id=test.id or 0, by=by, reason=reason, since=now, until=until)
            if insert_unless_taken(session, again):
                moved.append(test)
                continue
            held_rows = store.open_quarantines(session=session, test_ids=[test.id or 0])
        if keep_held and any(held.until > now for held, _ in held_rows):
            kept += 1
            continue
        for held, _ in held_rows:
            sooner += until < held.until
            held.until, held.by = until, by
            if given is not None:
                held.reason = given
            reason = held.reason  # (the one the notice says)
            session.add(held)
        moved.append(test)
        already += 1
    session.flush()
    added = len(tests) - already - kept
    if not moved:
        return Quarantined(added=0, extended=0, until=until, kept=kept)
    ids = [t.id or 0 for t in moved]
    _alerts_say(session=session, tests=moved, by=by, now=now)
    _announce(
        session=session,
        sprint=sprint,
        key=f"quarantine:{ids[0]}:{len(ids)}:{by}:{now.isoformat()}",
        change={
            # (Asked again for less time, the end is moved, not "extended"; found by review.)
            "action": "quarantined" if added else "moved" if sooner else "extended",
            "by": by,
            "reason": reason,
            "until": until.astimezone(sprint.sprint.tz).isoformat(),  # (on the team's clock)
            "tests": shown(moved, why),
            "count": len(moved),
            "owners": owners_of(sprint, moved),
        },
        now=now,
        parent_key=parent_key,
        snapshot=snapshot,
    )
    return Quarantined(added=added, extended=already, until=until, kept=kept)


def release(
    *,
    session: Session,
    sprint: Sprint,
    held: Sequence[tuple[Quarantine, KnownTest]],
    by: str,
    reason: str,
    now: datetime,
    snapshot: bool = True,
) -> int:
    """Let these quarantines end now, announcing it; how many. A released test is judged
    afresh: its next flaky failure is told again (`flaky_at` cleared)."""
    if not held:
        return 0
    for q, t in held:
        q.released_at, q.released_by, q.release_reason = now, by, reason
        t.flaky_at = t.flaky_why = None
        session.add_all([q, t])
    session.flush()
    tests = [t for _, t in held]
    _alerts_say(session=session, tests=tests, by=by, now=now)
    _announce(
        session=session,
        sprint=sprint,
        key=f"quarantine:{held[0][0].id}:{len(held)}:released:{now.isoformat()}",
        change={
            "action": "released",
            "by": by,
            "reason": reason,
            "tests": shown(tests),
            "count": len(tests),
            "owners": owners_of(sprint, tests),
        },
        now=now,
        snapshot=snapshot,
    )
    return len(held)


def _alerts_say(*, session: Session, tests: Sequence[KnownTest], by: str, now: datetime) -> None:
    """The open alerts holding any of `tests` say whether their tests are quarantined, as
    they now are (`alerts_say`), `by` having quarantined or let them out."""
    alert_ids = {t.alert_id for t in tests if t.alert_id is not None}
    alerts_say(session=session, alert_ids=alert_ids, now=now, by=by)


def alerts_say(
    *, session: Session, alert_ids: Iterable[int], now: datetime, by: str | None = None
) -> None:
    """Each open alert of `alert_ids` says whether its tests are quarantined, as they now
    are: every one it holds (by `by`, else by whoever quarantined them), or not. Once one
    was out, the message still said "quarantined" with no button; quarantined again by a
    command, or holding only quarantined tests once the others passed again, it offered
    the button, which only refused (found by review)."""
    for alert_id in sorted(alert_ids):
        alert = queries.alert_by_id(session=session, alert_id=alert_id)
        if alert is None or alert.resolved_at is not None:
            continue
        whole = queries.quarantined_whole(session=session, alert_id=alert_id, at=now)
        if whole == ("quarantined" in alert.payload):
            continue
        who = by
        if whole and who is None:  # (each alert's own: whoever quarantined its tests)
            tests = queries.alert_tests(session=session, alert_id=alert_id)
            held = store.open_quarantines(session=session, test_ids=[t.id or 0 for t in tests])
            who = held[0][0].by if held else BY_SPRINTBOT
        notices.update_alert_message(
            session=session,
            alert=alert,
            change={"quarantined": {"user": who or BY_SPRINTBOT, "at": now.isoformat()}}
            if whole
            else {},
            drop=() if whole else ("quarantined",),
            suffix=f"{'quarantined' if whole else 'released'}:{now:%Y%m%dT%H%M%S.%f}",
            now=now,
        )


def _announce(
    *,
    session: Session,
    sprint: Sprint,
    key: str,
    change: QuarantineChange,
    now: datetime,
    parent_key: str | None = None,
    snapshot: bool,
) -> None:
    """Tell the team (or the alert's thread) of a quarantine change; with `snapshot`,
    take readiness as quarantine now counts it, announcing a decline (a failing test let
    out of quarantine lowers it)."""
    notices.post(
        session=session,
        key=key,
        spec=QUARANTINE_CHANGE,
        data=change,
        now=now,
        channel=None if parent_key else sprint.channels.team,
        parent_key=parent_key,
    )
    if snapshot:
        record_readiness(session=session, sprint=sprint, cause="quarantine", causes={}, now=now)


def quarantine_alert(
    *, session: Session, sprint: Sprint, alert_id: int, user_id: str, now: datetime
) -> Quarantined:
    """The alert's "Quarantine" button: its tests (those still failing) quarantined for the
    sprint's `[flaky] quarantine_for`, said in the alert's thread."""
    alert = queries.alert_by_id(session=session, alert_id=alert_id)
    if alert is None or alert.kind != notices.AlertKind.REGRESSION:
        raise QuarantineError("That alert no longer exists.")
    tests = queries.alert_tests(session=session, alert_id=alert_id)
    if not tests:
        raise QuarantineError("The alert's tests pass again: there is nothing to quarantine.")
    _not_held_already(session=session, tests=tests, now=now, whose="The alert's")
    done = quarantine(
        session=session,
        sprint=sprint,
        tests=tests,
        by=user_id,
        reason="flaky, said at the alert",
        now=now,
        parent_key=alert.key,
        keep_held=True,
    )
    # (Its message says it was answered so, `_alerts_say`: its button would only refuse
    # now, and the follow-up pings no one; it kept both, found by review.)
    return done


def notice_tests(*, session: Session, report: int) -> list[int]:
    """The ids of every test the flaky notice of `report` named (its button's, where they
    did not fit in it: 700 found, 527 quarantined; found by review)."""
    ids = notices.queued_data(session=session, key=f"flaky:{report}").get("test_ids")
    if not isinstance(ids, list) or not ids:
        raise QuarantineError(
            "That notice is gone (retention pruned it): `/tests quarantine` each test."
        )
    return [int(i) for i in ids]


def quarantine_flaky(
    *, session: Session, sprint: Sprint, test_ids: Sequence[int], user_id: str, now: datetime
) -> Quarantined:
    """The flaky notice's "Quarantine" button: the tests it names (those of the tracked
    branch: the value is only as good as the button it came in) quarantined for the
    sprint's `[flaky] quarantine_for`. Clicked again once they are, it says so, as the
    alert's button does (a second click extended them and announced it again, found by
    review)."""
    tests = [
        t
        for t in queries.tests_by_id(session=session, ids=test_ids)
        if t.branch == sprint.sprint.branch
    ]
    if tests:
        _not_held_already(session=session, tests=tests, now=now, whose="The notice's")
    return quarantine(
        session=session,
        sprint=sprint,
        tests=tests,
        by=user_id,
        reason="found flaky",
        now=now,
        keep_held=True,
    )


def _not_held_already(
    *, session: Session, tests: Sequence[KnownTest], now: datetime, whose: str
) -> None:
    """QuarantineError when every one of `tests` is in quarantine (a button's second click:
    nothing to add), naming who put them there."""
    held = store.open_quarantines(session=session, test_ids=[t.id or 0 for t in tests], at=now)
    if len({q.test_id for q, _ in held}) == len(tests):
        by = held[0][0].by
        who = "sprintbot" if by == BY_SPRINTBOT else f"<@{by}>"
        raise QuarantineError(
            f"{whose} tests are quarantined already, by {who}: `/tests quarantined` lists them."
        )


def unquarantine(
    *, session: Session, sprint: Sprint, test: KnownTest, by: str, now: datetime
) -> None:
    """`/tests unquarantine`: end the test's quarantine. One whose time is up is out, as
    the listing, readiness and alerts hold it (it was "released by hand", announced so and
    recorded as the lead's; found by review): the clock writes its end."""
    held = store.open_quarantines(session=session, test_ids=[test.id or 0], at=now)
    if not held:
        lapsed = store.open_quarantines(session=session, test_ids=[test.id or 0])
        if lapsed:
            [(q, _)] = lapsed[:1]
            shown = q.until.astimezone(sprint.sprint.tz).strftime("%a %d %b %H:%M")
            raise QuarantineError(
                f"`{full_name(test)}` is not in quarantine: its time was up at {shown}."
            )
        raise QuarantineError(f"`{full_name(test)}` is not in quarantine.")
    release(session=session, sprint=sprint, held=held, by=by, reason="released by hand", now=now)


def release_expired(*, session: Session, sprint: Sprint, now: datetime) -> int:
    """The clock's step: end every quarantine whose time is up; how many."""
    return release(
        session=session,
        sprint=sprint,
        held=store.expired(session=session, now=now),
        by=BY_SPRINTBOT,
        reason=TIME_UP,
        now=now,
    )


def count_runs(
    *,
    session: Session,
    sprint: Sprint,
    held: Sequence[tuple[Quarantine, KnownTest]],
    statuses: Mapping[int, str],
    run: str,
    now: datetime,
) -> int:
    """A CI run's verdict on quarantined tests (`statuses`: test id → its status in the
    run's report): a pass counts toward release, a failure starts the count again, once per
    run (its other shards count nothing more); those that passed `[flaky] release_after`
    runs in a row are released. How many were (readiness is the ingest's to snapshot)."""
    after = sprint.flaky.release_after
    counted = [(q, t) for q, t in held if q.test_id in statuses and q.last_run != run]
    passed = {q.id or 0 for q, _ in counted if statuses[q.test_id] == TestStatus.PASSED}
    # Failing or flaky: the row starts again (a run that skips it says nothing), in any
    # shard of the run — one that failed it after another shard passed it too (a run's
    # pass counted that left it passing "N runs in a row"; found by review).
    failed = [
        (q, t)
        for q, t in held
        if q.test_id in statuses
        and statuses[q.test_id] not in (TestStatus.PASSED, TestStatus.SKIPPED)
    ]
    seen = [*counted, *((q, t) for q, t in failed if q.last_run == run)]
    store.count_run(
        session=session,
        run=run,
        seen=[q.id or 0 for q, _ in seen],
        passed=list(passed),
        reset=[q.id or 0 for q, _ in failed],
    )
    for q, _ in seen:  # as stored now (the statement left the loaded rows alone)
        was = 0 if statuses[q.test_id] not in (TestStatus.PASSED, TestStatus.SKIPPED) else q.passes
        set_committed_value(q, "passes", was + (q.id in passed))
        set_committed_value(q, "last_run", run)
    done = [(q, t) for q, t in counted if q.id in passed and after and q.passes >= after]
    return release(
        session=session,
        sprint=sprint,
        held=done,
        by=BY_SPRINTBOT,
        reason=f"it passed {after} runs in a row",
        now=now,
        snapshot=False,
    )


def listing(*, session: Session, sprint: Sprint, now: datetime) -> list[Listed]:
    """The tracked branch's tests in quarantine at `now`, oldest quarantine first: one whose
    time is up is out, as readiness and alerts hold it, though the clock has yet to write
    its release (CI kept skipping a test that alerted again; found by review)."""
    held = store.open_quarantines(session=session, branch=sprint.sprint.branch, at=now)
    owner_map = OwnerMap(sprint) if sprint.owners or sprint.codeowners else None
    return [
        {
            "id": t.id or 0,
            "classname": t.classname,
            "name": t.name,
            "by": q.by,
            "reason": q.reason,
            "since": q.since.isoformat(),
            "until": q.until.isoformat(),
            "passes": q.passes,
            "owners": owner_map(t.file, t.classname) if owner_map else [],
        }
        for q, t in held
    ]

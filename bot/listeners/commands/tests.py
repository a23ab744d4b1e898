"""/tests: `show ID-or-name` (one test's history, or the tests a part of a name matches),
`slow` (the slowest tests by their latest duration), `quarantine ID-or-name [for 7d]
[because …]`, `unquarantine ID-or-name` and `quarantined`, answered privately."""

from __future__ import annotations

import re

from bot.blocks.common import code, escape, local_time
from bot.blocks.tests import (
    TESTS_USAGE,
    render_history,
    render_matches,
    render_quarantined,
    render_slow,
)
from bot.listeners.commands.subcommands import Call, Subcommand, dispatcher
from bot.people import directory
from jobs import permissions, quarantine, storable, tests_history
from jobs.config import Sprint
from jobs.errors import SprintError
from jobs.permissions import Action
from storage.models import KnownTest

# `/tests quarantine NAME [for 7d] [because why]` (or `because why for 7d`)
_QUARANTINE = re.compile(
    r"^(?P<test>.+?)(?:\s+because\s+(?P<reason>.+))?$", re.DOTALL | re.IGNORECASE
)
_PERIOD = re.compile(r"^(?P<test>.+?)\s+for\s+(?P<period>\S+)$", re.DOTALL | re.IGNORECASE)
_TRAILING_PERIOD = re.compile(
    r"^(?P<reason>.+?)\s+for\s+(?P<period>\d+[wdhms]\w*)$", re.DOTALL | re.IGNORECASE
)
MAX_REASON = 500  # (Quarantine.reason)


def _show(call: Call) -> None:
    wanted = call.rest.strip().strip("`").strip()
    if not wanted:
        raise SprintError(
            "Say which test: `/tests show 42` (its id), `/tests show test_login` (its name) "
            "or part of its name."
        )
    app = call.app
    with app.db.read() as session:
        found = tests_history.find(session=session, sprint=app.sprint, text=wanted)
        if isinstance(found, list):
            answer = render_matches(wanted, found)
        else:
            data = tests_history.history(
                session=session, sprint=app.sprint, test=found, now=app.now()
            )
            answer = render_history(data, tz=app.sprint.sprint.tz)
    call.ack(response_type="ephemeral", text=answer["text"], blocks=answer["blocks"])


def _slow(call: Call) -> None:
    call.nothing_after(TESTS_USAGE)
    app = call.app
    with app.db.read() as session:
        slow = tests_history.slowest(session=session, sprint=app.sprint)
    answer = render_slow(slow, branch=app.sprint.sprint.branch)
    call.ack(response_type="ephemeral", text=answer["text"], blocks=answer["blocks"])


def _one(call: Call, wanted: str, how: str) -> KnownTest | None:
    """The one test `wanted` names; None once it answered that several match (with their
    names and ids, to name one by its id), SprintError when it names none."""
    wanted = wanted.strip().strip("`").strip()
    if not wanted:
        raise SprintError(f"Say which test: {how}")
    app = call.app
    with app.db.read() as session:
        found = tests_history.find(session=session, sprint=app.sprint, text=wanted)
    if isinstance(found, list):
        # Answered here, not raised: a SprintError's text keeps mentions as the bot's own
        # (bot.blocks.common.reply), and these names are CI's text, escaped whole.
        names = ", ".join(f"{code(f'{t.classname}::{t.name}', 300)} (id {t.id})" for t in found[:5])
        call.answer(
            f'"{escape(wanted, 200)}" matches {len(found)}{"+" if len(found) > 5 else ""} '
            f"tests: {names}. Name one by its id: {how}"
        )
        return None
    return found


def _names_a_test(call: Call, wanted: str) -> bool:
    """Whether `wanted` names some test, or part of some tests' names."""
    with call.app.db.read() as session:
        try:
            tests_history.find(session=session, sprint=call.app.sprint, text=wanted)
        except SprintError:
            return False
    return True


_BECAUSE = re.compile(r"\s+because\s+", re.IGNORECASE)


def _named_whole(call: Call, text: str) -> tuple[str, str | None]:
    """`text` (`NAME [for TIME] [because REASON]`) as the test and the reason: split at
    the first " because " — unless the name itself holds one (Jest and vitest name tests in
    sentences, "hides the banner because the cookie expired"; found by review), found by
    a later split, or none, whose part before it names exactly one test."""
    first = _QUARANTINE.match(text)
    if first is None or first["reason"] is None or _one_named(call, first["test"]):
        return text if first is None else first["test"], None if first is None else first["reason"]
    cuts = list(_BECAUSE.finditer(text))[1:]
    for test, reason in [
        *((text[: m.start()], text[m.end() :]) for m in reversed(cuts)),
        (text, None),
    ]:
        if _one_named(call, test):
            return test, reason
    return first["test"], first["reason"]


def _one_named(call: Call, text: str) -> bool:
    """Whether `text` (less a `for TIME` after it) names exactly one test."""
    timed = _PERIOD.match(text)
    return _exactly_one(call, text) or (timed is not None and _exactly_one(call, timed["test"]))


def _exactly_one(call: Call, text: str) -> bool:
    with call.app.db.read() as session:
        try:
            found = tests_history.find(session=session, sprint=call.app.sprint, text=text)
        except SprintError:
            return False
    return not isinstance(found, list)


def _a_period(text: str, sprint: Sprint) -> bool:
    """Whether `text` is a quarantine's period: a reason ending "hangs for 30s" keeps its
    words (it was refused as a period of 30 seconds; found by review)."""
    try:
        quarantine.parse_period(text, sprint)
    except SprintError:
        return False
    return True


def _quarantine(call: Call) -> None:
    how = "`/tests quarantine 42 for 7d because times out on CI`."
    app = call.app
    # Who may, first: nobody is coached to mend a request they may not make (found by
    # review), as `unquarantine` and the buttons answer.
    permissions.require_role(app.sprint, Action.MUTE, call.user_id, directory(call.client))
    if not call.rest.strip():
        raise SprintError(f"Say which test: {how}")
    named, said = _named_whole(call, call.rest.strip())
    wanted, reason, when = named, (said or "").strip(), ""
    if (timed := _PERIOD.match(wanted)) is not None:  # `NAME for 7d`
        wanted, when = timed["test"], timed["period"]
    elif (tail := _TRAILING_PERIOD.match(reason)) is not None and _a_period(
        tail["period"], app.sprint
    ):
        reason, when = tail["reason"], tail["period"]  # `because it races for 2d`
    storable.check(reason)
    if len(reason) > MAX_REASON:
        raise SprintError(
            f"Keep the reason under {MAX_REASON} characters (this one has {len(reason)})."
        )
    try:
        period = quarantine.parse_period(when, app.sprint)
    except SprintError:
        # Jest and vitest name tests in sentences: in `renders the menu for admins`, " for
        # admins" is the name's, not a time (found by review).
        if timed is None or not _names_a_test(call, named):
            raise
        wanted, period = named, quarantine.parse_period("", app.sprint)
    test = _one(call, wanted, how)
    if test is None:
        return
    with app.write() as session:
        test = session.merge(test)
        done = quarantine.quarantine(
            session=session,
            sprint=app.sprint,
            tests=[test],
            by=call.user_id,
            reason=reason or None,  # (none given: a held one keeps its own)
            now=app.now(),
            period=period,
        )
    shown = code(f"{test.classname}::{test.name}")
    # Asked again, its quarantine ends at the new time: sooner or later than before.
    said = f"Quarantined {shown} until" if done.added else f"The quarantine of {shown} now ends"
    until = local_time(done.until, call.app.sprint.sprint.tz)
    call.answer(f"{said} {until}: its failures are reported apart and never alert.")


def _unquarantine(call: Call) -> None:
    app = call.app
    permissions.require_role(app.sprint, Action.MUTE, call.user_id, directory(call.client))
    test = _one(call, call.rest, "`/tests unquarantine 42`.")
    if test is None:
        return
    with app.write() as session:
        quarantine.unquarantine(
            session=session,
            sprint=app.sprint,
            test=session.merge(test),
            by=call.user_id,
            now=app.now(),
        )
    shown = code(f"{test.classname}::{test.name}")
    call.answer(f"{shown} left quarantine: its failures alert again.")


def _quarantined(call: Call) -> None:
    call.nothing_after(TESTS_USAGE)
    app = call.app
    with app.db.read() as session:
        rows = quarantine.listing(session=session, sprint=app.sprint, now=app.now())
    answer = render_quarantined(rows, branch=app.sprint.sprint.branch, tz=app.sprint.sprint.tz)
    call.ack(response_type="ephemeral", text=answer["text"], blocks=answer["blocks"])


def _usage(call: Call) -> None:
    call.answer(TESTS_USAGE)


SUBCOMMANDS: dict[str, Subcommand] = {
    "": _usage,
    "show": _show,
    "slow": _slow,
    "quarantine": _quarantine,
    "unquarantine": _unquarantine,
    "quarantined": _quarantined,
}


handle = dispatcher(SUBCOMMANDS, usage=TESTS_USAGE)

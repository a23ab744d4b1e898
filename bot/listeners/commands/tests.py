"""/tests: `show ID-or-name` (one test's history, or the tests a part of a name matches) and
`slow` (the slowest tests by their latest duration), answered privately."""

from __future__ import annotations

from bot.blocks.tests import TESTS_USAGE, render_history, render_matches, render_slow
from bot.listeners.commands.subcommands import Call, Subcommand, dispatcher
from jobs import tests_history
from jobs.errors import SprintError


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
            data = tests_history.history(session=session, sprint=app.sprint, test=found)
            answer = render_history(data, tz=app.sprint.sprint.tz)
    call.ack(response_type="ephemeral", text=answer["text"], blocks=answer["blocks"])


def _slow(call: Call) -> None:
    app = call.app
    with app.db.read() as session:
        slow = tests_history.slowest(session=session, sprint=app.sprint)
    answer = render_slow(slow, branch=app.sprint.sprint.branch)
    call.ack(response_type="ephemeral", text=answer["text"], blocks=answer["blocks"])


def _usage(call: Call) -> None:
    call.answer(TESTS_USAGE)


SUBCOMMANDS: dict[str, Subcommand] = {"": _usage, "show": _show, "slow": _slow}


handle = dispatcher(SUBCOMMANDS, usage=TESTS_USAGE)

"""/blocker: the form; `/blocker P0 COMPONENT: text`; `/blocker list`; `/blocker resolve ID`."""

from __future__ import annotations

from bot.blocks.blockers import blocker_form, render_blocker_list
from bot.listeners.commands.subcommands import Call, Subcommand, dispatcher
from bot.people import directory_for
from jobs import blockers, risks
from jobs.errors import SprintError
from jobs.numbers import local_date
from jobs.permissions import Action, Directory
from storage import queries
from storage.models import Blocker, Risk

USAGE = (
    "Usage: `/blocker` opens the form; `/blocker P0 Swarm Coordination: what is blocked` files "
    "one at once; `/blocker list` shows the open ones; `/blocker resolve B-007 what fixed it`; "
    "`/blocker reopen B-007 why` opens it again; `/blocker link B-007 R-002` ties it to a risk."
)


def _id(row: Blocker | Risk) -> int:
    if row.id is None:  # read from the database: never
        raise RuntimeError("a stored row without an id")
    return row.id


def _list(call: Call) -> None:
    call.nothing_after(USAGE)
    app = call.app
    now = app.now()
    with app.db.read() as session:
        found = queries.open_blockers(session=session)
        since = queries.reopened_at(session=session, blockers=found, at=now)
        linked = blockers.linked_risks(session=session, blockers=list(found))
        rows = [
            blockers.blocker_data(
                app.sprint, b, now, opened_at=since.get(b.id or 0), risk=linked.get(b.id or 0)
            )
            for b in found
        ]
    call.answer(render_blocker_list(rows))


def _form(call: Call) -> None:
    call.open_view(blocker_form(call.app.sprint))


def _named(call: Call) -> str:
    """What follows the subcommand, less a team's name before the blocker's code."""
    return call.without_team(call.rest, "blocker")


def _members(call: Call, rule: Action, code: str) -> Directory:
    """Who is in the groups `rule` consults on the named blocker, read before the write."""
    return directory_for(
        call.client,
        db=call.app.db,
        sprint=call.app.sprint,
        rule=rule,
        user_id=call.user_id,
        blockers=lambda s: [blockers.by_code(session=s, code=code)],
    )


def _resolve(call: Call) -> None:
    code, _, note = _named(call).partition(" ")
    if not code:
        raise SprintError(f"Say which blocker: `/blocker resolve B-007 what fixed it`. {USAGE}")
    app = call.app
    members = _members(call, Action.RESOLVE, code)
    with app.write() as session:
        b = blockers.resolve(
            session=session,
            sprint=app.sprint,
            blocker_id=_id(blockers.by_code(session=session, code=code)),
            user_id=call.user_id,
            note=note,
            now=app.now(),
            directory=members,
        )
    call.answer(f":white_check_mark: {b.code} resolved.")


def _reopen(call: Call) -> None:
    code, _, reason = _named(call).partition(" ")
    if not code:  # (it quoted a "?" no one typed: '"?" is not a blocker id'; found by review)
        raise SprintError(f"Say which blocker: `/blocker reopen B-007 why it is back`. {USAGE}")
    app = call.app
    members = _members(call, Action.REOPEN, code)
    with app.write() as session:
        b = blockers.reopen(
            session=session,
            sprint=app.sprint,
            blocker_id=_id(blockers.by_code(session=session, code=code)),
            user_id=call.user_id,
            now=app.now(),
            directory=members,
            reason=reason,
        )
    call.answer(f":leftwards_arrow_with_hook: {b.code} reopened.")


def _link(call: Call) -> None:
    code, _, rest = _named(call).partition(" ")
    parts = [code, *call.without_team(rest, "risk", how=False).split()] if code else []
    if len(parts) != 2:
        raise SprintError("Link a blocker to a risk: `/blocker link B-007 R-002`.")
    with call.app.write() as session:
        b = blockers.by_code(session=session, code=parts[0])
        r = risks.by_code(session=session, code=parts[1])
        risks.link_blocker(
            session=session,
            sprint=call.app.sprint,
            blocker_id=_id(b),
            risk_id=_id(r),
            user_id=call.user_id,
            now=call.app.now(),
        )
        shown = f"{b.code} is linked to {r.code}"
    call.answer(f":link: {shown}.")


def _file(call: Call) -> None:
    """`/blocker P0 COMPONENT: text`: any text that is no verb files a blocker."""
    app, user_id = call.app, call.user_id
    component, description, severity = blockers.parse_quick(call.text, sprint=app.sprint)
    with app.write() as session:
        # The same command again (a retry after a slow answer) finds this one: answered
        # "already filed", nothing filed or posted.
        b = blockers.file_blocker(
            session=session,
            sprint=app.sprint,
            component=component,
            description=description,
            severity=severity,
            reporter=user_id,
            now=app.now(),
            request_key=blockers.command_key(
                user_id=user_id, component=component, description=description, severity=severity
            ),
        )
    call.answer(
        f":no_entry: {b.code} filed in {app.sprint.channels.blockers} "
        f"({local_date(app.sprint.sprint, app.now()).isoformat()})."
    )


SUBCOMMANDS: dict[str, Subcommand] = {
    "": _form,
    "list": _list,
    "resolve": _resolve,
    "reopen": _reopen,
    "link": _link,
}


handle = dispatcher(SUBCOMMANDS, usage=USAGE, otherwise=_file)

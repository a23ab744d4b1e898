"""/risk: the form; `/risk update R-003`; `/risk list` (the register as the seed's matrix)."""

from __future__ import annotations

from bot.blocks.risks import render_risk_matrix, risk_form
from bot.listeners.commands.subcommands import Call, Subcommand, dispatcher
from jobs import risks
from jobs.errors import SprintError
from storage import queries

USAGE = (
    "Usage: `/risk` adds a risk; `/risk update R-003` edits one (status changes are "
    "announced); `/risk list` shows the register."
)


def _form(call: Call) -> None:
    call.open_view(risk_form())


def _update(call: Call) -> None:
    if not call.rest.strip():
        raise SprintError(f"Say which risk: `/risk update R-003`. {USAGE}")
    code = call.without_team(call.rest, "risk")
    with call.app.db.read() as session:
        view = risk_form(risks.by_code(session=session, code=code))
    call.open_view(view)


def _list(call: Call) -> None:
    call.nothing_after(USAGE)
    with call.app.db.read() as session:
        text = render_risk_matrix(queries.all_risks(session=session))
    call.answer(text)


SUBCOMMANDS: dict[str, Subcommand] = {"": _form, "update": _update, "list": _list}


handle = dispatcher(SUBCOMMANDS, usage=USAGE)

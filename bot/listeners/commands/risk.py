"""/risk: the form; `/risk update R-003`; `/risk list` (the register as the seed's matrix)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.context import AppContext
from bot.ids import View as ViewId
from bot.messages import render_risk_matrix
from jobs import risks
from jobs.errors import SprintError
from storage import queries
from storage.models import Risk

USAGE = (
    "Usage: `/risk` adds a risk; `/risk update R-003` edits one (status changes are "
    "announced); `/risk list` shows the register."
)


def _select(block_id: str, label: str, values: tuple[str, ...], initial: str) -> InputBlock:
    options = [Option(value=v, text=v) for v in values]
    return InputBlock(
        block_id=block_id,
        label=label,
        element=StaticSelectElement(
            action_id="value",
            options=options,
            initial_option=next(o for o in options if o.value == initial),
        ),
    )


def risk_form(risk: Risk | None = None) -> dict[str, Any]:
    """The modal for adding (or, with `risk`, editing) a risk."""
    view = View(
        type="modal",
        callback_id=ViewId.RISK,
        title=f"Edit {risks.code(risk)}" if risk else "Add a risk",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"risk": risk.id if risk else None}),
        blocks=[
            InputBlock(
                block_id="description",
                label="Risk",
                element=PlainTextInputElement(
                    action_id="value",
                    multiline=True,
                    max_length=risks.MAX_TEXT,
                    initial_value=risk.description if risk else None,
                ),
            ),
            _select("impact", "Impact", risks.LEVELS, risk.impact if risk else "Medium"),
            _select(
                "probability", "Probability", risks.LEVELS, risk.probability if risk else "Medium"
            ),
            InputBlock(
                block_id="mitigation",
                label="Mitigation strategy",
                optional=True,
                element=PlainTextInputElement(
                    action_id="value",
                    multiline=True,
                    max_length=risks.MAX_TEXT,
                    initial_value=(risk.mitigation or None) if risk else None,
                ),
            ),
            InputBlock(
                block_id="owner",
                label="Owner",
                optional=True,
                element=UserSelectElement(
                    action_id="value", initial_user=risk.owner if risk and risk.owner else None
                ),
            ),
            _select("status", "Status", risks.STATUSES, risk.status if risk else "Active"),
        ],
    )
    return view.to_dict()


def handle(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    app: AppContext = context["app"]
    verb, _, rest = (command.get("text") or "").strip().partition(" ")
    verb = verb.lower()
    if verb == "":
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=risk_form())
    elif verb == "update":
        risk_id = risks.parse_code(rest) if rest.strip() else None
        if risk_id is None:
            raise SprintError(f"Say which risk: `/risk update R-003`. {USAGE}")
        with app.db.read() as session:
            view = risk_form(risks.get(session=session, risk_id=risk_id))
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=view)
    elif verb == "list":
        with app.db.read() as session:
            text = render_risk_matrix(queries.all_risks(session=session))
        ack(response_type="ephemeral", text=text)
    elif verb == "help":
        ack(response_type="ephemeral", text=USAGE)
    else:
        raise SprintError(f'Unknown option "{verb}". {USAGE}')

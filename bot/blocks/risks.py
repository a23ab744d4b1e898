"""Block Kit of the risk register: a risk added or changed, the matrix `/risk list` shows,
and the form that adds or edits a risk."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import VALUE, Message, esc, fitted, line, mention, text_message
from bot.ids import View as ViewId
from jobs.figures import urgent_first
from jobs.risks import (
    LEVELS,
    MAX_TEXT,
    STATUS_EMOJI,
    STATUSES,
    RiskChange,
    RiskField,
    code,
)
from storage.models import Risk


def risk_change(d: RiskChange) -> Message:
    """In the team channel: a risk added, or its status changed."""
    owner = mention(who) if (who := d.get("owner")) else "no owner"
    if d["change"] == "status":
        head = f":clipboard: *{d['code']}* {d['old']} → *{d['status']}* (by <@{d['user']}>)"
    else:
        head = f":clipboard: New risk *{d['code']}* ({d['status']}, by <@{d['user']}>)"
    return text_message(
        f"{head}\n{esc(d['description'], 1500)}\nImpact {d['impact']} · "
        f"probability {d['probability']} · {owner}"
        + (f"\nMitigation: {esc(d['mitigation'], 800)}" if d.get("mitigation") else "")
    )


def render_risk_matrix(risks: list[Risk]) -> str:
    """`/risk list`: the register as the tracker's matrix, most urgent first."""
    if not risks:
        return "The risk register is empty. `/risk` adds one."
    rows = urgent_first(risks)
    return fitted("*Risk Tracking Matrix*", [_matrix_row(r) for r in rows[:40]], len(rows))


def _matrix_row(r: Risk) -> str:
    owner = f"<@{r.owner}>" if r.owner else "—"
    return (
        f"{STATUS_EMOJI.get(r.status, '')} *{code(r)}* {line(r.description, 100)} · impact "
        f"{r.impact} · probability {r.probability} · {owner} · {r.status}"
        + (f"\n      _mitigation: {line(r.mitigation, 150)}_" if r.mitigation else "")
    )


# -- the form ----------------------------------------------------------------------------


def _select(field: RiskField, label: str, values: tuple[str, ...], initial: str) -> InputBlock:
    options = [Option(value=v, text=v) for v in values]
    return InputBlock(
        block_id=field,
        label=label,
        element=StaticSelectElement(
            action_id=VALUE,
            options=options,
            initial_option=next(o for o in options if o.value == initial),
        ),
    )


def _text(
    field: RiskField, label: str, initial: str | None, *, optional: bool | None = None
) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=label,
        optional=optional,
        element=PlainTextInputElement(
            action_id=VALUE, multiline=True, max_length=MAX_TEXT, initial_value=initial
        ),
    )


def risk_form(risk: Risk | None = None) -> dict[str, Any]:
    """The modal for adding (or, with `risk`, editing) a risk."""
    view = View(
        type="modal",
        callback_id=ViewId.RISK,
        title=f"Edit {code(risk)}" if risk else "Add a risk",
        submit="Save",
        close="Cancel",
        # The edit it was opened on: a save after someone else's is refused (`risks.update`).
        private_metadata=json.dumps(
            {"risk": risk.id, "as_of": risk.updated_at.isoformat()} if risk else {"risk": None}
        ),
        blocks=[
            _text(RiskField.DESCRIPTION, "Risk", risk.description if risk else None),
            _select(RiskField.IMPACT, "Impact", LEVELS, risk.impact if risk else "Medium"),
            _select(
                RiskField.PROBABILITY,
                "Probability",
                LEVELS,
                risk.probability if risk else "Medium",
            ),
            _text(
                RiskField.MITIGATION,
                "Mitigation strategy",
                (risk.mitigation or None) if risk else None,
                optional=True,
            ),
            InputBlock(
                block_id=RiskField.OWNER,
                label="Owner",
                optional=True,
                element=UserSelectElement(
                    action_id=VALUE, initial_user=risk.owner if risk and risk.owner else None
                ),
            ),
            _select(RiskField.STATUS, "Status", STATUSES, risk.status if risk else "Active"),
        ],
    )
    return view.to_dict()

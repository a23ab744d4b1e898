"""The risk form's submission: add or edit, field errors inline."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext

from bot.blocks.common import notice_view
from bot.context import AppContext
from bot.payloads import view_values
from jobs import risks
from jobs.errors import FieldErrors
from jobs.risks import RiskField


def on_save(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    app: AppContext = context["app"]
    values = view_values(view)
    fields = risks.RiskFields(
        description=str(values.get(RiskField.DESCRIPTION) or ""),
        impact=str(values.get(RiskField.IMPACT) or ""),
        probability=str(values.get(RiskField.PROBABILITY) or ""),
        mitigation=str(values.get(RiskField.MITIGATION) or ""),
        owner=values.get(RiskField.OWNER) or None,
        status=str(values.get(RiskField.STATUS) or ""),
    )
    FieldErrors.raise_any(risks.field_errors(fields))
    metadata = json.loads(view.get("private_metadata") or "{}")
    risk_id, as_of = metadata.get("risk"), metadata.get("as_of")
    try:
        with app.write() as session:
            if risk_id:
                risks.update(
                    session=session,
                    sprint=app.sprint,
                    risk_id=int(risk_id),
                    fields=fields,
                    user_id=body["user"]["id"],
                    now=app.now(),
                    opened_on=as_of if isinstance(as_of, str) else None,
                    request_key=risks.view_key(view["id"]) if view.get("id") else None,
                )
            else:
                risks.create(
                    session=session,
                    sprint=app.sprint,
                    fields=fields,
                    user_id=body["user"]["id"],
                    now=app.now(),
                    # Slack delivers a double click (or its own retry) with the same view id.
                    request_key=risks.view_key(view["id"]) if view.get("id") else None,
                )
    except risks.AlreadyAdded as exc:
        ack(response_action="update", view=notice_view("Add a risk", str(exc)))
        return
    ack()
